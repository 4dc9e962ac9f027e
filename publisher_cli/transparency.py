"""Checking the registry's transparency log: pinned key, signed heads, inclusion and consistency.

Uses registry.spec only (no Flask). The last head seen from each registry is kept, so a registry
that later shows a history not extending it (rewritten or forked) is caught.

A mirror serves another registry's (the origin's) log under `?origin=NAME`: every check then uses
the origin's key, pinned once per origin whichever mirror served it, and the last head seen of that
origin, so two mirrors cannot show different histories of one origin either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from publisher_cli.errors import VerificationError

if TYPE_CHECKING:
    from publisher_cli.client import RegistryClient
    from publisher_cli.config import RegistryConfig
    from registry.spec.note import Checkpoint, Verifier

API = "/api/v1/log"
PAGE = 1000
WITNESS_KEY_HINT = ("a witness key reads <name>+<8 hex digits>+<base64 key> (type 4); the registry's "
                    "/transparency page lists its witnesses' keys")


def served_key(client: RegistryClient) -> str:
    return client.text(f"{API}/key").strip()


def pinned_verifier(registry: RegistryConfig, client: RegistryClient) -> tuple[Verifier, str | None]:
    """The pinned log key; on first use the served one is pinned, and returned with a notice."""
    from publisher_cli.config import pin_log_key
    from registry.spec.note import NoteError, Verifier

    notice = None
    key = registry.log_key
    if key is None:
        key = served_key(client)
        pin_log_key(registry.name, registry.url, key)
        notice = f"pinned the registry's log key on first use: {key}"
    try:
        return Verifier.parse(key), notice
    except NoteError as exc:
        raise VerificationError(f"the log key {key!r} is not usable: {exc}") from None


def _origin_file(kind: str, origin: str) -> Path:
    from publisher_cli.config import config_dir

    return config_dir() / kind / quote(origin, safe="")


def origin_verifier(client: RegistryClient, origin: str, given: str | None) -> tuple[Verifier, str | None]:
    """The origin's log key for a mirrored release: given, pinned before, or pinned now on first use."""
    from publisher_cli.config import write_private_file
    from registry.spec.note import NoteError, Verifier

    path = _origin_file("origin-keys", origin)
    pinned = path.read_text(encoding="utf-8").strip() if path.exists() else None
    key, notice = given or pinned, None
    if key is None:
        key = client.text(f"{API}/key", origin=origin).strip()
        notice = f"pinned the log key of {origin}, served by this mirror, on first use: {key}"
    try:
        verifier = Verifier.parse(key)
    except NoteError as exc:
        raise VerificationError(f"the log key {key!r} of {origin} is not usable: {exc}") from None
    if pinned and pinned != verifier.encode():
        raise VerificationError(f"the log key {verifier.encode()} is not the one pinned for {origin} ({pinned})")
    if not pinned:
        write_private_file(path, (verifier.encode() + "\n").encode("utf-8"))
    return verifier, notice


def _hashes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def _scope(origin: str | None) -> dict[str, str]:
    return {"origin": origin} if origin else {}


def latest_checkpoint(client: RegistryClient, key: Verifier, origin: str | None = None) -> tuple[Checkpoint, str]:
    """The registry's signed head (or the origin's, served by a mirror), checked against the key, and its text."""
    from registry.spec.note import NoteError, open_checkpoint

    text = client.text(f"{API}/checkpoint", **_scope(origin))
    try:
        return open_checkpoint(text, key, origin)[0], text
    except NoteError as exc:
        raise VerificationError(f"the registry's log checkpoint does not verify with the pinned key: {exc}",
                                hint="if the registry really changed its log key: solreg login --replace-log-key"
                                ) from None


def check_consistency(registry: RegistryConfig, client: RegistryClient, key: Verifier, head: Checkpoint,
                      signed: str, origin: str | None = None) -> None:
    """The head must extend the last one seen from this registry (or origin); then it becomes the last one."""
    from publisher_cli.config import checkpoint_path, write_private_file
    from registry.spec.note import NoteError, open_checkpoint

    path = _origin_file("origin-checkpoints", origin) if origin else checkpoint_path(registry.name)
    if not path.exists():
        write_private_file(path, signed.encode("utf-8"))
        return
    try:
        seen = open_checkpoint(path.read_text(encoding="utf-8"), key)[0]
    except NoteError as exc:
        raise VerificationError(f"the stored checkpoint {path} does not verify: {exc}") from None
    check_extends(client, seen, head, origin)
    if head.size > seen.size:
        write_private_file(path, signed.encode("utf-8"))


def check_extends(client: RegistryClient, seen: Checkpoint, head: Checkpoint, origin: str | None = None) -> None:
    """The head is no smaller than the one seen before, and the registry proves it extends that one."""
    from registry.spec.tlog import ProofError, verify_consistency

    if seen.size > head.size:
        raise VerificationError(f"the registry's log shrank from {seen.size} to {head.size} leaves "
                                "since this computer last checked it (history rewritten)")
    proof = client.json("GET", f"{API}/proof/consistency", params={"old": seen.size, "new": head.size,
                                                                   **_scope(origin)})["proof"] if seen.size else []
    try:
        verify_consistency(seen.size, head.size, seen.root, head.root, _hashes(proof))
    except ProofError as exc:
        raise VerificationError(f"the registry's log of {head.size} leaves is not consistent with the one of "
                                f"{seen.size} leaves seen before: {exc}") from None


def check_witnesses(signed: str, keys: Sequence[str]) -> list[str]:
    """Each witness key must have cosigned exactly this head; returns "<witness> at <time>" for each."""
    from registry.spec.note import NoteError, cosignature_time, parse

    note = parse(signed)
    cosigned = []
    for verifier in witness_verifiers(keys):
        try:
            timestamp = cosignature_time(note, verifier)
        except NoteError as exc:
            raise VerificationError(f"the registry's signed head is not cosigned by the witness: {exc}",
                                    hint="witnesses cosign the head every few minutes: try again later; the "
                                         "registry's /transparency page shows when each one last did") from None
        cosigned.append(f"{verifier.name} at {datetime.fromtimestamp(timestamp, timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
    return cosigned


def witness_verifiers(keys: Sequence[str]) -> list[Verifier]:
    """Witness keys as given on the command line: cosignature/v1 verifier keys, or a ConfigError."""
    from publisher_cli.errors import ConfigError
    from registry.spec.note import NoteError, Verifier

    verifiers = []
    for key in keys:
        try:
            verifier = Verifier.parse(key)
        except NoteError as exc:
            raise ConfigError(f"{key[:80]!r} is not a witness key: {exc}", hint=WITNESS_KEY_HINT) from None
        if not verifier.is_cosigner:
            raise ConfigError(f"{verifier.name}+{verifier.key_hash:08x} is a log key, not a witness key",
                              hint=WITNESS_KEY_HINT)
        verifiers.append(verifier)
    return verifiers


def check_release(client: RegistryClient, key: Verifier, head: Checkpoint, release: dict[str, Any],
                  sha256: str, origin: str | None = None) -> int:
    """The release's "published" leaf is in the head's tree and names this archive; returns its index."""
    from registry.spec.tlog import ProofError, leaf_hash, verify_inclusion

    label = f"{release.get('name')}@{release.get('version')}"
    index = (release.get("transparency") or {}).get("leaf_index")
    if not isinstance(index, int):
        raise VerificationError(f"the registry's transparency log does not record {label}",
                                hint="if it was published before the registry had a log, pass --no-log")
    if index >= head.size:
        raise VerificationError(f"{label} is leaf {index}, beyond the signed log of {head.size} leaves")
    leaves = client.json("GET", f"{API}/leaves", params={"start": index, "limit": 1, **_scope(origin)}).get("leaves") or []
    if not leaves or leaves[0].get("index") != index:
        raise VerificationError(f"the registry did not serve leaf {index} of its log")
    data = str(leaves[0].get("data"))
    try:
        body = json.loads(data)
    except ValueError:
        raise VerificationError(f"leaf {index} of the log is not JSON") from None
    expected = {"kind": "release.published", "solution": release.get("name"), "version": release.get("version"),
                "sha256": sha256}
    wrong = [k for k, v in expected.items() if body.get(k) != v]
    if wrong:
        raise VerificationError(f"leaf {index} of the log does not describe this archive ({', '.join(wrong)} differ)")
    proof = client.json("GET", f"{API}/proof/inclusion", params={"index": index, "size": head.size,
                                                                 **_scope(origin)})["proof"]
    try:
        verify_inclusion(index, head.size, leaf_hash(data.encode("utf-8")), _hashes(proof), head.root)
    except ProofError as exc:
        raise VerificationError(f"{label} is not in the registry's signed log: {exc}") from None
    return index


def check_whole_log(client: RegistryClient, head: Checkpoint) -> int:
    """Fetch every leaf up to the head, re-hash it and rebuild the tree; returns how many."""
    from registry.spec.tlog import TreeHashes, leaf_hash

    tree = TreeHashes()
    while tree.size < head.size:
        page = client.log_leaves(tree.size, min(PAGE, head.size - tree.size)).get("leaves") or []
        if not page:
            raise VerificationError(f"the registry served only {tree.size} of the {head.size} signed leaves")
        for leaf in page:
            digest = leaf_hash(str(leaf.get("data")).encode("utf-8"))
            if leaf.get("index") != tree.size or digest.hex() != leaf.get("hash"):
                raise VerificationError(f"leaf {tree.size} of the log is not what its hash says")
            tree.append(digest)
            if tree.size == head.size:
                break
    if tree.root() != head.root:
        raise VerificationError(f"the {head.size} leaves served do not make the signed root hash")
    return tree.size
