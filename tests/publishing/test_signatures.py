"""Uploads with provenance statements and DSSE signatures."""

import hashlib
from datetime import datetime, timezone

from sqlalchemy import select

from registry.accounts import service as accounts
from registry.db import db
from registry.releases.models import Check, Release
from registry.spec.provenance import build_statement, generate_key, public_key_to_pem, sign_envelope, statement_bytes
from tests.publishing.packages import archive


def statement_for(data: bytes, tag: str = "v1.2.0") -> bytes:
    return statement_bytes(build_statement(
        archive_name="parking-share-1.2.0.tar.gz", archive_sha256=hashlib.sha256(data).hexdigest(),
        repository="https://git.example.org/cheonan/parking-share", tag=tag, commit="a" * 40,
        builder_id="solreg/test", started_on=datetime(2026, 1, 2, tzinfo=timezone.utc)))


def registered_key(username="vendor"):
    key = generate_key()
    accounts.register_signing_key(accounts.get_user(username), public_key_to_pem(key.public_key()))
    db.session.commit()
    db.session.commit()
    return key


def envelope(key, payload: bytes) -> bytes:
    import json

    return json.dumps(sign_envelope(payload, key)).encode()


def test_signed_upload_records_signer_and_provenance(upload, vendor_token):
    key = registered_key()
    data = archive()
    statement = statement_for(data)
    response = upload(vendor_token, data, provenance=statement, signature=envelope(key, statement))
    assert response.status_code == 201, response.json
    release = response.json["release"]
    assert release["signer"]["username"] == "vendor"
    assert release["provenance"] == {"repository": "https://git.example.org/cheonan/parking-share",
                                     "tag": "v1.2.0", "commit": "a" * 40}
    check = db.session.scalar(select(Check).where(Check.name == "provenance"))
    assert check.status == "pass" and check.details["signed"] is True
    assert {a.kind for a in db.session.scalar(select(Release)).artifacts} == {"archive", "sbom", "provenance", "signature"}


def test_unsigned_provenance_is_accepted_and_marked(upload, vendor_token):
    data = archive()
    response = upload(vendor_token, data, provenance=statement_for(data))
    assert response.status_code == 201
    assert response.json["release"]["signer"] is None
    assert db.session.scalar(select(Check).where(Check.name == "provenance")).status == "warn"


def test_bad_signature_is_refused(app, upload, vendor_token):
    key = registered_key()
    data = archive()
    statement = statement_for(data)
    forged = envelope(key, statement).replace(b'"sig": "', b'"sig": "AAAA')
    response = upload(vendor_token, data, provenance=statement, signature=forged)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "signature"
    assert db.session.scalar(select(Release)) is None


def test_signature_by_unregistered_key_is_refused(upload, vendor_token):
    data = archive()
    statement = statement_for(data)
    response = upload(vendor_token, data, signature=envelope(generate_key(), statement))
    assert response.status_code == 422 and response.json["errors"][0]["code"] == "bad-signature"


def test_signature_by_revoked_key_is_refused(upload, vendor_token):
    key = registered_key()
    stored = accounts.get_user("vendor")
    accounts.revoke_signing_key(accounts.org_signing_keys(accounts.get_org("hanbit"))[0], stored)
    db.session.commit()
    db.session.commit()
    data = archive()
    response = upload(vendor_token, data, signature=envelope(key, statement_for(data)))
    assert response.status_code == 422


def test_provenance_for_another_file_is_refused(upload, vendor_token):
    key = registered_key()
    statement = statement_for(b"some other archive")
    data = archive()
    response = upload(vendor_token, data, provenance=statement, signature=envelope(key, statement))
    assert response.status_code == 422 and response.json["errors"][0]["code"] == "provenance-subject-mismatch"
    response = upload(vendor_token, data, provenance=statement)
    assert response.status_code == 422
    assert db.session.scalar(select(Release)) is None


def test_signed_statement_must_equal_the_provenance_sent(upload, vendor_token):
    key = registered_key()
    data = archive()
    response = upload(vendor_token, data, provenance=statement_for(data, tag="v9.9.9"),
                      signature=envelope(key, statement_for(data)))
    assert response.status_code == 422 and response.json["errors"][0]["code"] == "provenance-mismatch"


def test_malformed_provenance_is_refused(upload, vendor_token):
    response = upload(vendor_token, provenance=b"{not json")
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "provenance"
