"""``solreg verify FILE``: is this archive what the publisher built, signed and the registry reviewed?"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from publisher_cli.output import make_client, parse_ref

if TYPE_CHECKING:
    from publisher_cli.client import RegistryClient
    from publisher_cli.config import RegistryConfig
    from registry.spec.note import Verifier
    from registry.spec.provenance import ProvenanceInfo

# Names are slugs without dots, so the first "-<digits>.<digits>.<digits>" starts the version.
_ARCHIVE_NAME = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9-]*?)-(?P<version>\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)\.tar\.gz$"
)
_APPROVING = {"approve", "approved", "accept", "accepted"}


@dataclass(frozen=True)
class Verified:
    release: dict[str, Any]
    sha256: str
    provenance: ProvenanceInfo | None
    signer_keyid: str | None
    signer_username: str | None
    approved_by: str | None


def release_ref_from_filename(path: Path) -> tuple[str, str]:
    from publisher_cli.errors import VerificationError

    match = _ARCHIVE_NAME.match(path.name)
    if not match:
        raise VerificationError(f"cannot tell the release from the file name {path.name!r}",
                                hint="pass it explicitly: --release NAME@VERSION")
    return match["name"], match["version"]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _local_or_remote(client: RegistryClient, local: Path, url: str | None) -> bytes | None:
    if local.is_file():
        return local.read_bytes()
    return client.fetch_bytes(url) if url else None


def _trusted_keys(client: RegistryClient, org: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Non-revoked org keys whose advertised key id really is their key id."""
    from registry.spec.provenance import SignatureError, key_id, load_public_key_pem

    trusted, owners = {}, {}
    for entry in client.org_keys(org):
        if entry.get("revoked"):
            continue
        try:
            public_key = load_public_key_pem(entry.get("public_key") or "")
        except SignatureError:
            continue
        if key_id(public_key) == entry.get("keyid"):
            trusted[entry["keyid"]] = public_key
            owners[entry["keyid"]] = str(entry.get("username") or "?")
    return trusted, owners


def verify_archive(client: RegistryClient, archive: Path, *, ref: tuple[str, str] | None = None,
                   allow_unsigned: bool = False) -> Verified:
    from publisher_cli.commands.download import sibling_paths
    from publisher_cli.errors import VerificationError
    from registry.spec.provenance import (
        ProvenanceError,
        SignatureError,
        parse_statement,
        tag_names_release,
        verify_envelope,
    )

    name, version = ref or release_ref_from_filename(archive)
    release = client.release(name, version)
    sha256 = file_sha256(archive)
    if sha256 != release.get("sha256"):
        raise VerificationError(
            f"{archive.name} has sha256 {sha256} but the registry recorded {release.get('sha256')} "
            f"for {name}@{version}: the file was altered or is not this release")

    provenance_path, signature_path = sibling_paths(archive)
    provenance_bytes = _local_or_remote(client, provenance_path, release.get("provenance_url"))
    envelope_bytes = _local_or_remote(client, signature_path, release.get("signature_url"))

    signer_keyid = signer_username = None
    if envelope_bytes is not None:
        trusted, owners = _trusted_keys(client, str(release.get("org")))
        try:
            verified = verify_envelope(envelope_bytes, trusted)
        except SignatureError as exc:
            raise VerificationError(f"signature does not verify against {release.get('org')}'s "
                                    f"registered keys: {exc}") from None
        signer_keyid, signer_username = verified.keyid, owners.get(verified.keyid)
        recorded = (release.get("signer") or {}).get("keyid")
        if recorded and recorded != signer_keyid:
            raise VerificationError(f"signed by key {signer_keyid}, but the registry says {recorded} signed it")
        if provenance_bytes is not None and provenance_bytes != verified.payload_bytes:
            raise VerificationError(f"{provenance_path.name} differs from the signed provenance")
        provenance_bytes = verified.payload_bytes
    elif not allow_unsigned:
        raise VerificationError(f"{name}@{version} has no provenance signature",
                                hint="ask the publisher to sign releases, or accept "
                                     "checksum-only verification with --allow-unsigned")

    provenance = None
    if provenance_bytes is not None:
        try:
            provenance = parse_statement(provenance_bytes)
        except ProvenanceError as exc:
            raise VerificationError(f"provenance is malformed: {exc}") from None
        if provenance.subject_sha256 != sha256:
            raise VerificationError(
                f"provenance is for sha256 {provenance.subject_sha256}, not this file's {sha256}")
        if provenance.subject_name != f"{name}-{version}.tar.gz":
            raise VerificationError(f"provenance describes {provenance.subject_name}, not {name}-{version}.tar.gz")
        if not tag_names_release(provenance.tag, name, version):
            raise VerificationError(f"provenance says it was built from tag {provenance.tag}, "
                                    f"which does not name version {version}")
        recorded = release.get("provenance") or {}
        for field in ("repository", "tag", "commit"):
            if recorded.get(field) and recorded[field] != getattr(provenance, field):
                raise VerificationError(f"provenance {field} {getattr(provenance, field)!r} differs from "
                                        f"the registry's record {recorded[field]!r}")

    approvals = [r for r in release.get("reviews") or [] if str(r.get("decision", "")).lower() in _APPROVING]
    approved_by = approvals[-1].get("reviewer") if approvals else None
    return Verified(release, sha256, provenance, signer_keyid, signer_username, approved_by)


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--release", "release_ref", metavar="NAME@VERSION",
              help="Which release FILE should be (default: from the file name).")
@click.option("--allow-unsigned", is_flag=True, help="Accept releases without a signature.")
@click.option("--no-log", is_flag=True,
              help="Skip the transparency log checks (a registry without a log, or a release published before it).")
@click.option("--origin-key", metavar="KEY",
              help="For a release served by a mirror: the origin registry's log key (default: pinned on first use).")
@click.option("--require-witness", "witness_keys", metavar="KEY", multiple=True,
              help="Also demand this witness's cosignature of the registry's signed head (repeatable).")
@click.pass_context
def verify_command(ctx: click.Context, file: Path, release_ref: str | None, allow_unsigned: bool,
                   no_log: bool, origin_key: str | None, witness_keys: tuple[str, ...]) -> None:
    """Check a downloaded archive against the registry, its signature, provenance and transparency log."""
    from publisher_cli import transparency
    from publisher_cli.output import print_rows

    if no_log and witness_keys:
        raise click.UsageError("--require-witness checks the transparency log: leave out --no-log")
    transparency.witness_verifiers(witness_keys)  # a mistyped key is refused before anything is fetched
    ref = parse_ref(release_ref, require_version=True) if release_ref else None
    client = make_client(ctx, need_token=False)
    result = verify_archive(client, file, ref=ref, allow_unsigned=allow_unsigned)  # type: ignore[arg-type]
    release = result.release
    log_rows = [("in the log", "not checked (--no-log)")] if no_log else \
        _check_log(ctx, client, result, origin_key, witness_keys)
    rows = [("verified", f"{file.name} is {release.get('name')}@{release.get('version')}"),
            ("sha256", result.sha256)]
    if result.signer_keyid:
        rows.append(("signed by", f"{result.signer_username} (key {result.signer_keyid})"))
    else:
        rows.append(("signed by", "nobody (unsigned release)"))
    if result.provenance:
        rows += [("built by", result.provenance.builder_id),
                 ("repository", result.provenance.repository),
                 ("tag", result.provenance.tag),
                 ("commit", result.provenance.commit)]
    rows += [("review state", str(release.get("state"))),
             ("approved by", result.approved_by or "nobody yet"),
             *log_rows]
    print_rows(rows)
    if release.get("state") == "yanked":
        click.echo(f"warning: this release is yanked: {release.get('yank_reason')}", err=True)


def _pinned(ctx: click.Context, client: RegistryClient) -> tuple[RegistryConfig, Verifier]:
    from publisher_cli import transparency
    from publisher_cli.config import resolve_registry
    from publisher_cli.output import registry_name

    registry = resolve_registry(registry_name(ctx))
    key, notice = transparency.pinned_verifier(registry, client)
    if notice:
        click.echo(notice, err=True)
    return registry, key


def _check_log(ctx: click.Context, client: RegistryClient, result: Verified, origin_key: str | None,
               witness_keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """Inclusion of the release in the signed head, that head's consistency with the last one seen, and
    the cosignatures of the witnesses required; the rows to show.

    A mirrored release is checked in its origin's log, with the origin's key (the mirror signs nothing).
    """
    from publisher_cli import transparency
    from publisher_cli.config import resolve_registry
    from publisher_cli.errors import VerificationError
    from publisher_cli.output import registry_name

    if result.release.get("state") not in ("published", "yanked"):
        if witness_keys:
            raise VerificationError(f"{result.release.get('name')}@{result.release.get('version')} is not "
                                    "published: no witness can have cosigned it", hint="verify it once it is published")
        return [("in the log", "not in the log yet (not published)")]
    origin = (result.release.get("transparency") or {}).get("origin")
    if origin:
        registry = resolve_registry(registry_name(ctx))
        key, notice = transparency.origin_verifier(client, origin, origin_key)
        if notice:
            click.echo(notice, err=True)
    else:
        registry, key = _pinned(ctx, client)
    head, signed = transparency.latest_checkpoint(client, key, origin)
    index = transparency.check_release(client, key, head, result.release, result.sha256, origin)
    transparency.check_consistency(registry, client, key, head, signed, origin)
    where = f" of {origin} (mirrored)" if origin else ""
    rows = [("in the log", f"leaf {index} of {head.size}{where}, signed by {key.name}+{key.key_hash:08x}, "
                           "consistent with the last head seen")]
    if witness_keys:
        rows.append(("witnessed by", "; ".join(transparency.check_witnesses(signed, witness_keys))))
    return rows


@click.group("log")
def log_group() -> None:
    """The registry's transparency log."""


@log_group.command("verify")
@click.pass_context
def log_verify_command(ctx: click.Context) -> None:
    """Fetch every leaf, rebuild the tree and check it against the registry's signed head."""
    from publisher_cli import transparency

    client = make_client(ctx, need_token=False)
    registry, key = _pinned(ctx, client)
    head, signed = transparency.latest_checkpoint(client, key)
    count = transparency.check_whole_log(client, head)
    transparency.check_consistency(registry, client, key, head, signed)
    click.echo(f"transparency log verified: {count} leaves make the head signed by {key.name}+{key.key_hash:08x}")


COMMANDS = [verify_command, log_group]
