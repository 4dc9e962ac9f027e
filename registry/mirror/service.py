"""Offline mirrors: a bundle (one tar) of published releases with the origin's signed log, and its import.

A bundle holds `manifest.json` (origin, log key, signed checkpoint, base size, consistency proof, and per
release its metadata, leaf index and inclusion proof), `leaves.jsonl` (the origin's leaves from the base
size up to the checkpoint) and `blobs/<sha256>` (every artifact). The importing registry checks all of
it before writing anything, then keeps the origin's leaves and checkpoints in tables of their own, so
its `/api/v1/log/*?origin=…` serves the origin's signed history and `solreg verify` checks the ORIGIN's
key. Release states (yanks) are replayed from the origin's leaves, never taken from the metadata.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select

from registry.accounts.models import MemberRole, Membership, Organization, OrgKind, SigningKey, User
from registry.db import begin_write, db
from registry.errors import InvalidInput, NotFound, Unprocessable
from registry.releases.files import sync_all
from registry.releases.models import Artifact, ArtifactKind, Release, ReleaseState, Solution
from registry.releases.states import VISIBLE_TO_PUBLIC
from registry.spec import note
from registry.spec.names import artifact_filename, normalize_name
from registry.spec.tlog import ProofError, TreeHashes, leaf_hash, verify_consistency, verify_inclusion
from registry.storage import StorageError, storage
from registry.transparency import service
from registry.transparency.models import (
    Checkpoint,
    LeafKind,
    LogLeaf,
    MirrorCheckpoint,
    MirrorLeaf,
    MirrorOrigin,
)

log = logging.getLogger(__name__)
FORMAT = "solreg-mirror/1"
MAX_JSON_MEMBER = 256 << 20  # manifest.json and leaves.jsonl are read into memory
_BLOB = re.compile(r"^blobs/([0-9a-f]{64})$")
_KINDS = {kind.value for kind in LeafKind}


class MirrorRefused(Unprocessable):
    """A bundle this registry will not import (or export); the message is the one-line reason."""

    code = "mirror-refused"


@dataclass(frozen=True)
class ExportSummary:
    tree_size: int
    leaves: int
    releases: int
    blob_bytes: int


@dataclass(frozen=True)
class ImportSummary:
    origin: str
    tree_size: int
    new_leaves: int
    releases: int
    blobs: int


def _hexes(hashes: Sequence[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


# --- export --------------------------------------------------------------------------------

def export_bundle(out: Path, *, since: int = 0, solutions: Sequence[str] = ()) -> ExportSummary:
    """Write the bundle of releases published in leaves since..head (all of them when since is 0)."""
    head_row = db.session.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))
    if head_row is None:
        raise MirrorRefused("the log is empty: there is nothing to export")
    size = head_row.tree_size
    if not 0 <= since <= size:
        raise MirrorRefused(f"--since must be between 0 and the log's {size} leaves, not {since}")
    wanted = {normalize_name(name) for name in solutions}
    leaves = list(db.session.scalars(select(LogLeaf).where(LogLeaf.index >= since, LogLeaf.index < size)
                                     .order_by(LogLeaf.index)))
    entries, blobs = [], {}
    for leaf in leaves:
        if leaf.kind != LeafKind.RELEASE_PUBLISHED.value or leaf.release_id is None:
            continue
        release = db.session.get(Release, leaf.release_id)
        if release is None or release.state not in VISIBLE_TO_PUBLIC:
            continue
        if wanted and release.solution.normalized_name not in wanted:
            continue
        entries.append(_release_entry(release, leaf.index, service.inclusion_proof(leaf.index, size)))
        blobs.update((a.sha256, a.size) for a in release.artifacts)
    manifest = {
        "format": FORMAT, "origin": service.origin(), "key": service.verifier().encode(),
        "checkpoint": head_row.note, "base_size": since,
        "consistency": _hexes(service.consistency_proof(since, size)) if since else [],
        "releases": entries,
    }
    leaf_lines = "".join(json.dumps({"index": leaf.index, "data": leaf.data}, ensure_ascii=False) + "\n"
                         for leaf in leaves)
    store = storage()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        _add_bytes(tar, "leaves.jsonl", leaf_lines.encode())
        for digest, length in sorted(blobs.items()):
            info = tarfile.TarInfo(f"blobs/{digest}")
            info.size, info.mode = length, 0o644
            with store.open(digest) as blob:
                tar.addfile(info, blob)
    return ExportSummary(size, len(leaves), len(entries), sum(blobs.values()))


@dataclass(frozen=True)
class SpooledBundle:
    file: IO[bytes]  # open for reading; its name is gone already, so closing it frees the space
    size: int
    summary: ExportSummary


def spool_bundle(since: int) -> SpooledBundle:
    """The bundle since tree size `since` in a temporary file, for the origin to serve to `mirror pull`."""
    size = service.log_size()
    if size == 0:
        raise NotFound("this registry's log is empty: there is nothing to mirror yet", field="since")
    if since > size:
        raise InvalidInput(f"since is at most the log's {size} leaves, not {since}", field="since")
    handle, name = tempfile.mkstemp(prefix="bundle-", suffix=".tar", dir=storage().spool_directory())
    os.close(handle)
    path = Path(name)
    try:
        summary = export_bundle(path, since=since)
        spooled = path.open("rb")
    finally:
        path.unlink()
    return SpooledBundle(spooled, os.fstat(spooled.fileno()).st_size, summary)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def _release_entry(release: Release, index: int, proof: list[bytes]) -> dict[str, Any]:
    org = release.solution.org
    return {
        "solution": release.solution.name, "org": {"slug": org.slug, "name": org.name, "kind": org.kind},
        "version": release.version, "manifest": release.manifest, "readme": release.readme,
        "sha256": release.sha256, "size": release.size,
        "created_at": release.created_at.isoformat(),
        "published_at": release.published_at.isoformat() if release.published_at else None,
        "provenance": {"repository": release.provenance_repository, "tag": release.provenance_tag,
                       "commit": release.provenance_commit},
        "signer_keyid": release.signer_key.keyid if release.signer_key else None,
        "artifacts": [{"kind": a.kind, "media_type": a.media_type, "sha256": a.sha256, "size": a.size}
                      for a in release.artifacts],
        "leaf_index": index, "inclusion": _hexes(proof),
    }


# --- reading a bundle (nothing is trusted yet) --------------------------------------------------

@dataclass
class _Bundle:
    manifest: dict[str, Any]
    leaves: list[str]
    blobs: dict[str, Path]  # sha256 -> staged file, hashed while staged


def _read_bundle(path: Path, staging: Path) -> _Bundle:
    """Every member checked by name and type, blobs hashed into `staging`; raises MirrorRefused."""
    manifest = leaves = None
    blobs: dict[str, Path] = {}
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                name = member.name
                if not member.isfile():
                    raise MirrorRefused(f"member {name[:80]!r} is not a regular file; a bundle holds only files")
                blob = _BLOB.match(name)
                if name in ("manifest.json", "leaves.jsonl"):
                    if member.size > MAX_JSON_MEMBER:
                        raise MirrorRefused(f"{name} is larger than {MAX_JSON_MEMBER} bytes")
                    if (manifest if name == "manifest.json" else leaves) is not None:
                        raise MirrorRefused(f"{name} appears twice in the bundle")
                    data = tar.extractfile(member).read()  # type: ignore[union-attr]
                    if len(data) != member.size:
                        raise MirrorRefused(f"{name} is truncated")
                    if name == "manifest.json":
                        manifest = data
                    else:
                        leaves = data
                elif blob:
                    digest = blob.group(1)
                    if digest in blobs:
                        raise MirrorRefused(f"blob {digest} appears twice in the bundle")
                    blobs[digest] = _stage(tar, member, digest, staging)
                else:
                    raise MirrorRefused(f"member {name[:80]!r} is not part of a mirror bundle "
                                        "(only manifest.json, leaves.jsonl and blobs/<sha256>; no other paths)")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise MirrorRefused(f"the bundle is not a complete tar file: {exc}") from None
    if manifest is None or leaves is None:
        raise MirrorRefused("the bundle lacks manifest.json or leaves.jsonl (truncated?)")
    try:
        parsed = json.loads(manifest)
        lines = [json.loads(line) for line in leaves.decode().splitlines()]
    except (ValueError, UnicodeDecodeError) as exc:
        raise MirrorRefused(f"the bundle's manifest or leaves are not JSON: {exc}") from None
    if not isinstance(parsed, dict) or parsed.get("format") != FORMAT:
        raise MirrorRefused(f"manifest.json is not a {FORMAT} manifest")
    base = parsed.get("base_size")
    if not isinstance(base, int) or base < 0:
        raise MirrorRefused("manifest.json has no base_size")
    texts = []
    for offset, line in enumerate(lines):
        if not isinstance(line, dict) or line.get("index") != base + offset or not isinstance(line.get("data"), str):
            raise MirrorRefused(f"leaves.jsonl line {offset + 1} is not leaf {base + offset}")
        texts.append(line["data"])
    return _Bundle(parsed, texts, blobs)


def _stage(tar: tarfile.TarFile, member: tarfile.TarInfo, digest: str, staging: Path) -> Path:
    target = staging / digest
    source = tar.extractfile(member)
    hasher, length = hashlib.sha256(), 0
    with target.open("wb") as out:
        while block := source.read(1 << 20):  # type: ignore[union-attr]
            hasher.update(block)
            length += len(block)
            out.write(block)
    if length != member.size or hasher.hexdigest() != digest:
        raise MirrorRefused(f"blob {digest}: its content does not have that sha256 (changed or truncated)")
    return target


# --- checking a bundle against the mirror's own record of the origin ----------------------------------

@dataclass
class _Checked:
    origin: str
    key: str
    pinned: bool
    signed: str
    tree: TreeHashes
    texts: list[str]  # every leaf of the origin's log up to the checkpoint
    known: int  # leaves this mirror had before
    releases: list[dict[str, Any]]


def _check(bundle: _Bundle, expected_key: str | None) -> _Checked:
    manifest = bundle.manifest
    origin, key_text, signed = manifest.get("origin"), manifest.get("key"), manifest.get("checkpoint")
    if not all(isinstance(v, str) for v in (origin, key_text, signed)):
        raise MirrorRefused("manifest.json lacks the origin, its key or the checkpoint")
    if origin == service.origin():
        raise MirrorRefused(f"the bundle is from this registry's own log {origin!r}")
    try:
        key = note.Verifier.parse(key_text)
    except note.NoteError as exc:
        raise MirrorRefused(f"the bundle's log key is not usable: {exc}") from None
    pinned = db.session.scalar(select(MirrorOrigin).where(MirrorOrigin.origin == origin))
    trusted = pinned.verifier_key if pinned else expected_key
    if trusted is not None and trusted.strip() != key.encode():
        raise MirrorRefused(f"the bundle is signed by the unknown key {key.encode()}; this mirror trusts "
                            f"{trusted.strip()} for {origin}")
    try:
        head = note.open_checkpoint(signed, key, origin)[0]
    except note.NoteError as exc:
        raise MirrorRefused(f"the bundle's checkpoint does not verify with the origin's key: {exc}") from None

    stored = list(db.session.scalars(select(MirrorLeaf).where(MirrorLeaf.origin == origin)
                                     .order_by(MirrorLeaf.index)))
    known, base = len(stored), manifest["base_size"]
    if base > known:
        raise MirrorRefused(f"the bundle starts at leaf {base} but this mirror has only {known} leaves of "
                            f"{origin}: import the bundles in between first")
    if base + len(bundle.leaves) != head.size:
        raise MirrorRefused(f"the bundle carries leaves {base}..{base + len(bundle.leaves) - 1} but its "
                            f"checkpoint signs {head.size} (truncated)")
    if head.size < known:
        raise MirrorRefused(f"the bundle's checkpoint ({head.size} leaves) is older than the {known} this "
                            "mirror has")
    texts = [leaf.data for leaf in stored[:base]] + bundle.leaves
    tree = TreeHashes()
    for index, text in enumerate(texts):
        _check_leaf(index, text)
        digest = leaf_hash(text.encode())
        if index < known and digest.hex() != stored[index].leaf_hash:
            raise MirrorRefused(f"leaf {index} differs from the one this mirror imported before (forked history)")
        tree.append(digest)
    if tree.root() != head.root:
        raise MirrorRefused("the bundle's leaves do not make the root its checkpoint signs "
                            "(a leaf was changed or is missing)")
    last = db.session.scalar(select(MirrorCheckpoint).where(MirrorCheckpoint.origin == origin)
                             .order_by(MirrorCheckpoint.tree_size.desc()).limit(1))
    if last is not None and tree.root(last.tree_size) != bytes.fromhex(last.root_hash):
        raise MirrorRefused(f"the origin's log of {head.size} leaves does not extend the {last.tree_size} "
                            "this mirror imported before (forked history)")
    _check_consistency(manifest, origin, base, head)
    releases = manifest.get("releases")
    if not isinstance(releases, list):
        raise MirrorRefused("manifest.json has no list of releases")
    for entry in releases:
        _check_release(entry, texts, head, bundle.blobs)
    return _Checked(origin, key.encode(), pinned is None, signed, tree, texts, known, releases)


def _check_leaf(index: int, text: str) -> None:
    try:
        body = json.loads(text)
    except ValueError:
        raise MirrorRefused(f"leaf {index} is not JSON") from None
    if not isinstance(body, dict) or service.canonical_json(body) != text or body.get("kind") not in _KINDS:
        raise MirrorRefused(f"leaf {index} is not a canonical leaf of a known kind")


def _check_consistency(manifest: dict, origin: str, base: int, head: note.Checkpoint) -> None:
    """The exporter's proof from the base size, against the checkpoint this mirror kept of that size."""
    if not base:
        return
    at_base = db.session.scalar(select(MirrorCheckpoint).where(MirrorCheckpoint.origin == origin,
                                                               MirrorCheckpoint.tree_size == base))
    if at_base is None:
        return  # the rebuilt tree was already held against the last checkpoint kept
    try:
        proof = [bytes.fromhex(h) for h in manifest.get("consistency") or []]
        verify_consistency(base, head.size, bytes.fromhex(at_base.root_hash), head.root, proof)
    except (ValueError, TypeError, ProofError) as exc:
        raise MirrorRefused(f"the bundle's consistency proof from {base} leaves does not hold: {exc}") from None


def _check_release(entry: Any, texts: list[str], head: note.Checkpoint, blobs: dict[str, Path]) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("leaf_index"), int):
        raise MirrorRefused("a release in manifest.json has no leaf index")
    index = entry["leaf_index"]
    label = f"{entry.get('solution')}@{entry.get('version')}"
    if not all(isinstance(entry.get(k), str) for k in ("solution", "version")) or not isinstance(entry.get("org"), dict):
        raise MirrorRefused(f"{label}: its solution, version or organization is missing")
    if _org_kind(entry["org"]) not in tuple(OrgKind):
        raise MirrorRefused(f"{label}: its organization is of a kind this registry does not know")
    if not 0 <= index < head.size:
        raise MirrorRefused(f"{label}: leaf {index} is not in the signed log")
    try:
        proof = [bytes.fromhex(h) for h in entry.get("inclusion") or []]
        verify_inclusion(index, head.size, leaf_hash(texts[index].encode()), proof, head.root)
    except (ValueError, TypeError, ProofError) as exc:
        raise MirrorRefused(f"{label}: the inclusion proof of leaf {index} does not hold: {exc}") from None
    body = json.loads(texts[index])
    artifacts = entry.get("artifacts")
    if not isinstance(artifacts, list) or not all(isinstance(a, dict) for a in artifacts):
        raise MirrorRefused(f"{label}: its artifacts are not listed")
    by_kind = {a.get("kind"): a.get("sha256") for a in artifacts}
    expected = {"kind": LeafKind.RELEASE_PUBLISHED.value, "solution": entry.get("solution"),
                "version": entry.get("version"), "sha256": entry.get("sha256"),
                "provenance_sha256": by_kind.get(ArtifactKind.PROVENANCE),
                "signature_sha256": by_kind.get(ArtifactKind.SIGNATURE),
                "signer_keyid": entry.get("signer_keyid")}
    wrong = [k for k, v in expected.items() if body.get(k) != v]
    if wrong or by_kind.get(ArtifactKind.ARCHIVE) != entry.get("sha256"):
        raise MirrorRefused(f"{label}: leaf {index} does not describe this release ({', '.join(wrong) or 'archive'})")
    for artifact in artifacts:
        if artifact.get("kind") not in tuple(ArtifactKind) or artifact.get("sha256") not in blobs:
            raise MirrorRefused(f"{label}: the {artifact.get('kind')} blob {artifact.get('sha256')} is not in the bundle")


# --- import -----------------------------------------------------------------------------------------

def import_bundle(path: Path, *, origin_key: str | None = None) -> ImportSummary:
    """Check everything in the bundle, then write it in one transaction (blobs removed again on failure)."""
    store = storage()
    with tempfile.TemporaryDirectory(prefix="mirror-", dir=store.spool_directory()) as staging:
        bundle = _read_bundle(path, Path(staging))
        checked = _check(bundle, origin_key)
        created: list[str] = []
        try:
            begin_write()
            releases = _write_rows(checked)
            for digest, staged in bundle.blobs.items():
                with staged.open("rb") as handle:
                    if store.put(handle, digest):
                        created.append(digest)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            for digest in created:
                if not db.session.scalar(select(func.count(Artifact.id)).where(Artifact.sha256 == digest)):
                    store.delete(digest)
            raise
    _public_tree_after_import()
    return ImportSummary(checked.origin, checked.tree.size, checked.tree.size - checked.known, releases,
                         len(created))


def _public_tree_after_import() -> None:
    """Imported releases arrive published or yanked without the origin's events (no alerts for a copy):
    the public tree (/files/, registry/releases/files.py) is made to match here, after the commit. The
    import stands if that fails; `flask --app registry storage public-tree` finishes it."""
    try:
        sync_all()
    except StorageError as exc:
        log.warning("public tree not updated after the import (%s); run `flask --app registry storage "
                    "public-tree`", exc)


def _write_rows(checked: _Checked) -> int:
    origin, session = checked.origin, db.session
    if checked.pinned:
        session.add(MirrorOrigin(origin=origin, verifier_key=checked.key))
    for index in range(checked.known, checked.tree.size):
        text = checked.texts[index]
        session.add(MirrorLeaf(origin=origin, index=index, kind=json.loads(text)["kind"], data=text,
                               leaf_hash=checked.tree.leaf(index).hex()))
    size = checked.tree.size
    if not session.scalar(select(MirrorCheckpoint.id).where(MirrorCheckpoint.origin == origin,
                                                           MirrorCheckpoint.tree_size == size)):
        session.add(MirrorCheckpoint(origin=origin, tree_size=size, root_hash=checked.tree.root().hex(),
                                     note=checked.signed))
    session.flush()
    added = sum(_add_release(origin, entry, checked.texts) for entry in checked.releases)
    _replay_states(origin, checked.texts)
    return added


def _add_release(origin: str, entry: dict[str, Any], texts: list[str]) -> bool:
    label = f"{entry['solution']}@{entry['version']}"
    solution = db.session.scalar(select(Solution).where(Solution.normalized_name == normalize_name(entry["solution"])))
    if solution is not None and solution.mirrored_from != origin:
        raise MirrorRefused(f"{label}: this registry has a solution {solution.name} of its own")
    if solution is None:
        solution = Solution(name=entry["solution"], normalized_name=normalize_name(entry["solution"]),
                            org=_org(entry["org"]), mirrored_from=origin)
        db.session.add(solution)
    existing = next((r for r in solution.releases if r.version == entry["version"]), None)
    if existing is not None:
        if existing.sha256 != entry["sha256"]:
            raise MirrorRefused(f"{label}: the mirror holds another archive for this version (forked history)")
        return False
    provenance = entry.get("provenance") or {}
    release = Release(
        solution=solution, version=entry["version"], state=ReleaseState.PUBLISHED, manifest=entry.get("manifest") or {},
        readme=entry.get("readme"), sha256=entry["sha256"], size=int(entry.get("size") or 0),
        created_at=_time(entry.get("created_at")), published_at=_time(entry.get("published_at")),
        provenance_repository=provenance.get("repository"), provenance_tag=provenance.get("tag"),
        provenance_commit=provenance.get("commit"),
        signer_key=_signing_key(origin, entry.get("signer_keyid"), solution.org, texts),
        artifacts=[Artifact(kind=a["kind"], media_type=str(a.get("media_type")), sha256=a["sha256"],
                            size=int(a.get("size") or 0),
                            filename=artifact_filename(entry["solution"], entry["version"], a["kind"],
                                                       str(a.get("media_type"))))
                   for a in entry["artifacts"]])
    db.session.add(release)
    db.session.flush()
    leaf = db.session.scalar(select(MirrorLeaf).where(MirrorLeaf.origin == origin,
                                                      MirrorLeaf.index == entry["leaf_index"]))
    leaf.release_id = release.id
    return True


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        raise MirrorRefused(f"{value[:40]!r} is not a time") from None


def _org(data: dict[str, Any]) -> Organization:
    slug = str(data.get("slug"))
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        name = str(data.get("name") or slug)
        if db.session.scalar(select(Organization.id).where(Organization.name == name)):
            name = f"{name} ({slug})"
        org = Organization(slug=slug, name=name, kind=_org_kind(data))
        db.session.add(org)
    return org


def _org_kind(data: dict[str, Any]) -> str:
    return str(data.get("kind") or OrgKind.VENDOR)


def _signing_key(origin: str, keyid: str | None, org: Organization, texts: list[str]) -> SigningKey | None:
    """The origin's signer key, from its "key.registered" leaf, held by a user that cannot sign in.

    `solreg verify` trusts an org's member keys; that user is a member of the mirrored org for that alone.
    """
    if not keyid:
        return None
    key = db.session.scalar(select(SigningKey).where(SigningKey.keyid == keyid))
    if key is not None:
        return key
    events = [json.loads(t) for t in texts]
    registered = next((e for e in events if e.get("kind") == LeafKind.KEY_REGISTERED.value and e.get("keyid") == keyid),
                      None)
    if registered is None:
        raise MirrorRefused(f"the origin's log never registered the signing key {keyid}")
    revoked = next((e for e in events if e.get("kind") == LeafKind.KEY_REVOKED.value and e.get("keyid") == keyid), None)
    tag = hashlib.sha256(f"{origin}\n{registered.get('username')}".encode()).hexdigest()[:12]
    username = f"{str(registered.get('username'))[:40]}.mirror-{tag}"
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        # "!" is no password hash: nobody can sign in as this user.
        user = User(username=username, email=f"{tag}@mirror.invalid", password_hash="!")
        db.session.add(user)
    if not any(m.org_id == org.id and org.id is not None for m in user.memberships):
        db.session.add(Membership(user=user, org=org, role=MemberRole.MEMBER))
    key = SigningKey(user=user, keyid=keyid, name=f"mirrored from {origin}"[:100],
                     public_key_pem=str(registered.get("public_key")),
                     revoked_at=_time(revoked.get("time")) if revoked else None)
    db.session.add(key)
    return key


def _replay_states(origin: str, texts: list[str]) -> None:
    """Yanks, unyanks and solution states as the origin's leaves say, in their order."""
    solutions = {s.name: s for s in db.session.scalars(select(Solution).where(Solution.mirrored_from == origin))}
    for text in texts:
        event = json.loads(text)
        solution = solutions.get(event.get("solution"))
        if solution is None:
            continue
        kind = event["kind"]
        if kind.startswith("solution."):
            solution.state = kind.removeprefix("solution.")
            solution.successor = solutions.get(event.get("successor"))
            continue
        release = next((r for r in solution.releases if r.version == event.get("version")), None)
        if release is None:
            continue
        if kind == LeafKind.RELEASE_YANKED.value:
            release.state, release.yank_reason = ReleaseState.YANKED, event.get("reason")
        elif kind in (LeafKind.RELEASE_UNYANKED.value, LeafKind.RELEASE_PUBLISHED.value):
            release.state, release.yank_reason = ReleaseState.PUBLISHED, None
