"""Checking an upload's provenance statement and DSSE signature against the org's keys."""

from __future__ import annotations

import json
from dataclasses import dataclass

from registry.accounts.models import Organization, SigningKey
from registry.accounts.service import org_signing_keys
from registry.errors import Unprocessable
from registry.spec.provenance import (
    ProvenanceError,
    ProvenanceInfo,
    SignatureError,
    load_public_key_pem,
    parse_statement,
    release_tags,
    tag_names_release,
    verify_envelope,
)

MAX_STATEMENT_BYTES = 256 * 1024


@dataclass
class VerifiedProvenance:
    info: ProvenanceInfo | None
    signer: SigningKey | None
    statement: bytes | None = None  # the statement's bytes, sent alone or inside the envelope


def verify_provenance(org: Organization, name: str, version: str, archive_sha256: str, provenance: bytes | None,
                      signature: bytes | None) -> VerifiedProvenance:
    """Both parts are optional; whatever is sent must be valid and about this very archive and version."""
    for what, data in (("provenance", provenance), ("signature", signature)):
        if data is not None and len(data) > MAX_STATEMENT_BYTES:
            raise Unprocessable(f"{what} is larger than {MAX_STATEMENT_BYTES // 1024} KB", field=what)
    signer = None
    statement_bytes = provenance
    if signature is not None:
        keys = {k.keyid: k for k in org_signing_keys(org) if k.revoked_at is None}
        try:
            envelope = json.loads(signature)
            verified = verify_envelope(envelope, {kid: load_public_key_pem(k.public_key_pem) for kid, k in keys.items()})
        except (ValueError, SignatureError) as exc:
            raise Unprocessable(f"signature refused: {exc}. Register your key with 'solreg keys register' "
                                f"and sign with it.", field="signature", code="bad-signature") from None
        signer = keys[verified.keyid]
        if provenance is not None and provenance != verified.payload_bytes:
            raise Unprocessable("the signed statement differs from the provenance file sent with it",
                                field="provenance", code="provenance-mismatch")
        statement_bytes = verified.payload_bytes
    if statement_bytes is None:
        return VerifiedProvenance(None, None)
    try:
        info = parse_statement(statement_bytes)
    except ProvenanceError as exc:
        raise Unprocessable(f"provenance refused: {exc}", field="provenance", code="bad-provenance") from None
    if info.subject_sha256 != archive_sha256:
        raise Unprocessable("the provenance statement is about another file: its subject sha256 "
                            f"{info.subject_sha256[:12]}… is not the archive's {archive_sha256[:12]}…",
                            field="provenance", code="provenance-subject-mismatch")
    if not tag_names_release(info.tag, name, version):
        raise Unprocessable(f"the provenance says the archive was built from tag {info.tag}, which does not name "
                            f"version {version}; tag the release {' or '.join(release_tags(name, version)[:2])}",
                            field="provenance", code="provenance-tag-mismatch")
    return VerifiedProvenance(info, signer, statement_bytes)
