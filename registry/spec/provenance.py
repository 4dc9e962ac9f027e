"""Build provenance (in-toto Statement v1 + SLSA provenance v1) and DSSE signing.

Shared by the ``solreg`` CLI, which builds and signs, and the registry, which
verifies. Pure Python on top of ``cryptography``; only Ed25519 keys are used so
that a key id is simply the SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from registry.spec.problems import SpecError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://solreg.dev/build/git-archive/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# SHA-1 object ids today, SHA-256 ones for repositories in the new object format.
_GIT_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_RFC3339_UTC = "%Y-%m-%dT%H:%M:%SZ"


class ProvenanceError(SpecError):
    """A provenance statement is malformed or cannot be built."""

    code = "bad-provenance"


class SignatureError(SpecError):
    """A DSSE envelope (or a key) does not verify.

    ``reason`` is one of ``malformed``, ``unknown-key`` or ``bad-signature``.
    """

    code = "bad-signature"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ProvenanceInfo:
    subject_name: str
    subject_sha256: str
    repository: str
    tag: str
    commit: str
    builder_id: str
    started_on: datetime


@dataclass(frozen=True)
class VerifiedEnvelope:
    keyid: str
    payload_bytes: bytes


# --------------------------------------------------------------------------- statement


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ProvenanceError("started_on must be timezone-aware (use the commit time in UTC)")
    return moment.astimezone(timezone.utc).strftime(_RFC3339_UTC)


def build_statement(
    *,
    archive_name: str,
    archive_sha256: str,
    repository: str,
    tag: str,
    commit: str,
    builder_id: str,
    started_on: datetime,
    manifest_path: str = "solution.yaml",
    subdirectory: str = "",
) -> dict[str, Any]:
    """Describe how ``archive_name`` was built from ``repository`` at ``tag``.

    ``started_on`` should be the commit time, not the wall clock, so that
    building the same tag twice yields byte-identical statements.
    """
    if not _SHA256.match(archive_sha256):
        raise ProvenanceError(f"archive_sha256 must be 64 lowercase hex digits, got {archive_sha256!r}")
    if not _GIT_COMMIT.match(commit):
        raise ProvenanceError(f"commit must be a full lowercase git object id, got {commit!r}")
    for label, value in (("archive_name", archive_name), ("repository", repository),
                         ("tag", tag), ("builder_id", builder_id)):
        if not value:
            raise ProvenanceError(f"{label} must not be empty")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": archive_name, "digest": {"sha256": archive_sha256}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "repository": repository,
                    "ref": tag,
                    "subdirectory": subdirectory,
                    "manifestPath": manifest_path,
                },
                "resolvedDependencies": [
                    {"uri": f"git+{repository}@refs/tags/{tag}", "digest": {"gitCommit": commit}}
                ],
            },
            "runDetails": {
                "builder": {"id": builder_id},
                "metadata": {"startedOn": _rfc3339(started_on)},
            },
        },
    }


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _get(mapping: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(mapping, dict):
        raise ProvenanceError(f"{where} must be an object")
    value = mapping.get(key)
    if not isinstance(value, kind) or (kind is str and not value):
        expected = {str: "a non-empty string", dict: "an object", list: "a list"}[kind]
        raise ProvenanceError(f"{where}.{key} must be {expected}")
    return value


def parse_statement(data: bytes | str) -> ProvenanceInfo:
    """Read the fields the registry cares about; raise ProvenanceError if malformed."""
    try:
        statement = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProvenanceError(f"provenance is not valid JSON: {exc}") from None
    if not isinstance(statement, dict):
        raise ProvenanceError("provenance must be a JSON object")
    if statement.get("_type") != STATEMENT_TYPE:
        raise ProvenanceError(f"_type must be {STATEMENT_TYPE!r}, got {statement.get('_type')!r}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise ProvenanceError(
            f"predicateType must be {PREDICATE_TYPE!r}, got {statement.get('predicateType')!r}"
        )
    subjects = _get(statement, "subject", list, "statement")
    if len(subjects) != 1:
        raise ProvenanceError(f"subject must name exactly one archive, got {len(subjects)}")
    subject_name = _get(subjects[0], "name", str, "subject[0]")
    digest = _get(subjects[0], "digest", dict, "subject[0]")
    sha256 = _get(digest, "sha256", str, "subject[0].digest")
    if not _SHA256.match(sha256):
        raise ProvenanceError("subject[0].digest.sha256 must be 64 lowercase hex digits")

    predicate = _get(statement, "predicate", dict, "statement")
    definition = _get(predicate, "buildDefinition", dict, "predicate")
    params = _get(definition, "externalParameters", dict, "buildDefinition")
    repository = _get(params, "repository", str, "externalParameters")
    tag = _get(params, "ref", str, "externalParameters")
    dependencies = _get(definition, "resolvedDependencies", list, "buildDefinition")
    if not dependencies:
        raise ProvenanceError("buildDefinition.resolvedDependencies must name the source commit")
    commit = _get(_get(dependencies[0], "digest", dict, "resolvedDependencies[0]"),
                  "gitCommit", str, "resolvedDependencies[0].digest")
    if not _GIT_COMMIT.match(commit):
        raise ProvenanceError("resolvedDependencies[0].digest.gitCommit must be a full git object id")

    run = _get(predicate, "runDetails", dict, "predicate")
    builder_id = _get(_get(run, "builder", dict, "runDetails"), "id", str, "runDetails.builder")
    started = _get(_get(run, "metadata", dict, "runDetails"), "startedOn", str, "runDetails.metadata")
    try:
        started_on = datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        raise ProvenanceError(f"runDetails.metadata.startedOn is not an RFC 3339 time: {started!r}") from None
    if started_on.tzinfo is None:
        raise ProvenanceError("runDetails.metadata.startedOn must carry a time zone")
    return ProvenanceInfo(subject_name, sha256, repository, tag, commit, builder_id, started_on)


# --------------------------------------------------------------------------- release tags


def release_tags(name: str, version: str) -> tuple[str, ...]:
    """The git tags that may name ``version`` of solution ``name``, in the order ``solreg`` looks for them:
    ``v1.2.0``, ``1.2.0``, and in a monorepo ``parking-share-v1.2.0`` or ``parking-share/v1.2.0``."""
    bare = version.removeprefix("v")  # "v1.0.0" written as the version must not suggest the tag vv1.0.0
    return tuple(dict.fromkeys((f"v{bare}", version, f"{name}-v{bare}", f"{name}/v{bare}")))


def tag_names_release(tag: str, name: str, version: str) -> bool:
    """Whether ``tag`` (short, or in full as ``refs/tags/…``) names exactly this release: never a suffix match,
    so ``v11.0.0`` does not name 1.0.0."""
    return tag.removeprefix("refs/tags/") in release_tags(name, version)


# --------------------------------------------------------------------------- DSSE


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sign_envelope(
    payload: bytes, private_key: Ed25519PrivateKey, payload_type: str = PAYLOAD_TYPE
) -> dict[str, Any]:
    signature = private_key.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": key_id(private_key.public_key()), "sig": base64.b64encode(signature).decode("ascii")}
        ],
    }


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise SignatureError("malformed", f"envelope {what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("malformed", f"envelope {what} is not valid base64") from None


def verify_envelope(
    envelope: Mapping[str, Any] | bytes | str, trusted_keys: Mapping[str, Ed25519PublicKey]
) -> VerifiedEnvelope:
    """Return the payload signed by one of ``trusted_keys`` (keyed by key id)."""
    if isinstance(envelope, (bytes, str)):
        try:
            envelope = json.loads(envelope)
        except (ValueError, UnicodeDecodeError):
            raise SignatureError("malformed", "signature envelope is not valid JSON") from None
    if not isinstance(envelope, Mapping):
        raise SignatureError("malformed", "signature envelope must be a JSON object")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise SignatureError("malformed", "envelope payloadType is missing")
    payload = _b64(envelope.get("payload"), "payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise SignatureError("malformed", "envelope has no signatures")

    message = pae(payload_type, payload)
    seen_keyids: list[str] = []
    for entry in signatures:
        if not isinstance(entry, Mapping):
            raise SignatureError("malformed", "envelope signature entries must be objects")
        keyid = entry.get("keyid")
        signature = _b64(entry.get("sig"), "signature")
        if not isinstance(keyid, str):
            continue
        seen_keyids.append(keyid)
        public_key = trusted_keys.get(keyid)
        if public_key is None:
            continue
        try:
            public_key.verify(signature, message)
        except InvalidSignature:
            raise SignatureError(
                "bad-signature", f"signature by key {keyid} does not match the payload"
            ) from None
        return VerifiedEnvelope(keyid=keyid, payload_bytes=payload)
    named = ", ".join(seen_keyids) or "no key id"
    raise SignatureError("unknown-key", f"envelope is signed by an unknown key ({named})")


# --------------------------------------------------------------------------- keys


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_to_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def private_key_to_pem(private_key: Ed25519PrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _pem_bytes(text: str | bytes) -> bytes:
    return text.encode("ascii", "replace") if isinstance(text, str) else text


def load_public_key_pem(text: str | bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_pem_bytes(text))
    except (ValueError, TypeError) as exc:
        raise SignatureError("malformed", f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("malformed", f"public key must be Ed25519, got {type(key).__name__}")
    return key


def load_private_key_pem(text: str | bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_pem_bytes(text), password=None)
    except (ValueError, TypeError) as exc:
        raise SignatureError("malformed", f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("malformed", f"private key must be Ed25519, got {type(key).__name__}")
    return key
