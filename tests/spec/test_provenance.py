import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from registry.spec.provenance import (
    PAYLOAD_TYPE,
    ProvenanceError,
    SignatureError,
    build_statement,
    generate_key,
    key_id,
    load_private_key_pem,
    load_public_key_pem,
    pae,
    parse_statement,
    private_key_to_pem,
    public_key_to_pem,
    release_tags,
    sign_envelope,
    statement_bytes,
    tag_names_release,
    verify_envelope,
)

SHA = hashlib.sha256(b"archive").hexdigest()
COMMIT = "a" * 40
KST = timezone(timedelta(hours=9))


def make_statement(**overrides):
    args = dict(
        archive_name="parking-share-1.2.0.tar.gz",
        archive_sha256=SHA,
        repository="https://git.example.org/cheonan/parking-share",
        tag="v1.2.0",
        commit=COMMIT,
        builder_id="solreg/0.1.0",
        started_on=datetime(2024, 3, 1, 18, 30, tzinfo=KST),
        subdirectory="apps/parking",
    )
    args.update(overrides)
    return build_statement(**args)


def test_statement_shape_and_round_trip():
    statement = make_statement()
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    definition = statement["predicate"]["buildDefinition"]
    assert definition["externalParameters"]["subdirectory"] == "apps/parking"
    assert definition["resolvedDependencies"][0]["uri"] == (
        "git+https://git.example.org/cheonan/parking-share@refs/tags/v1.2.0"
    )
    # Commit time is normalised to UTC.
    assert statement["predicate"]["runDetails"]["metadata"]["startedOn"] == "2024-03-01T09:30:00Z"

    info = parse_statement(statement_bytes(statement))
    assert info.subject_name == "parking-share-1.2.0.tar.gz"
    assert info.subject_sha256 == SHA
    assert (info.repository, info.tag, info.commit) == (
        "https://git.example.org/cheonan/parking-share", "v1.2.0", COMMIT)
    assert info.builder_id == "solreg/0.1.0"
    assert info.started_on == datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)


def test_statement_bytes_are_canonical():
    one = statement_bytes(make_statement())
    two = statement_bytes(json.loads(json.dumps(make_statement(), indent=4)))
    assert one == two
    assert b": " not in one and b", " not in one
    assert one != statement_bytes(make_statement(commit="b" * 40))


def test_build_statement_rejects_bad_input():
    with pytest.raises(ProvenanceError, match="timezone-aware"):
        make_statement(started_on=datetime(2024, 1, 1))
    with pytest.raises(ProvenanceError, match="archive_sha256"):
        make_statement(archive_sha256="ABC")
    with pytest.raises(ProvenanceError, match="commit"):
        make_statement(commit="deadbeef")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: s.update(_type="https://in-toto.io/Statement/v0.1"), "_type"),
        (lambda s: s.update(predicateType="x"), "predicateType"),
        (lambda s: s.update(subject=[]), "exactly one"),
        (lambda s: s["subject"][0]["digest"].update(sha256="00"), "sha256"),
        (lambda s: s["predicate"]["buildDefinition"].pop("externalParameters"), "externalParameters"),
        (lambda s: s["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"].update(
            gitCommit="xyz"), "gitCommit"),
        (lambda s: s["predicate"]["runDetails"]["metadata"].update(startedOn="yesterday"), "RFC 3339"),
        (lambda s: s["predicate"]["runDetails"]["builder"].update(id=""), "builder.id"),
    ],
)
def test_parse_statement_rejects_malformed(mutate, message):
    statement = make_statement()
    mutate(statement)
    with pytest.raises(ProvenanceError, match=message):
        parse_statement(statement_bytes(statement))


def test_parse_statement_rejects_non_json():
    with pytest.raises(ProvenanceError, match="not valid JSON"):
        parse_statement(b"\xff not json")
    with pytest.raises(ProvenanceError, match="JSON object"):
        parse_statement(b"[1, 2]")


def test_pae_matches_dsse_spec_example():
    # Example from the DSSE protocol description.
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_sign_verify_round_trip():
    key = generate_key()
    payload = statement_bytes(make_statement())
    envelope = sign_envelope(payload, key)
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert base64.b64decode(envelope["payload"]) == payload
    kid = key_id(key.public_key())
    assert envelope["signatures"][0]["keyid"] == kid

    verified = verify_envelope(json.dumps(envelope).encode(), {kid: key.public_key()})
    assert verified.keyid == kid
    assert verified.payload_bytes == payload


def test_tampered_payload_is_a_bad_signature():
    key = generate_key()
    envelope = sign_envelope(b'{"a":1}', key)
    envelope["payload"] = base64.b64encode(b'{"a":2}').decode()
    with pytest.raises(SignatureError) as caught:
        verify_envelope(envelope, {key_id(key.public_key()): key.public_key()})
    assert caught.value.reason == "bad-signature"


def test_payload_type_is_covered_by_the_signature():
    key = generate_key()
    envelope = sign_envelope(b"{}", key)
    envelope["payloadType"] = "text/plain"
    with pytest.raises(SignatureError, match="does not match"):
        verify_envelope(envelope, {key_id(key.public_key()): key.public_key()})


def test_wrong_key_under_the_same_keyid_fails():
    signer, other = generate_key(), generate_key()
    envelope = sign_envelope(b"{}", signer)
    with pytest.raises(SignatureError) as caught:
        verify_envelope(envelope, {key_id(signer.public_key()): other.public_key()})
    assert caught.value.reason == "bad-signature"


def test_unknown_keyid():
    signer, other = generate_key(), generate_key()
    envelope = sign_envelope(b"{}", signer)
    with pytest.raises(SignatureError) as caught:
        verify_envelope(envelope, {key_id(other.public_key()): other.public_key()})
    assert caught.value.reason == "unknown-key"
    assert key_id(signer.public_key()) in str(caught.value)


@pytest.mark.parametrize(
    "envelope",
    [
        b"not json",
        b"[]",
        {"payload": "e30=", "signatures": [{"keyid": "k", "sig": "AA=="}]},
        {"payloadType": PAYLOAD_TYPE, "payload": "%%%", "signatures": [{"keyid": "k", "sig": "AA=="}]},
        {"payloadType": PAYLOAD_TYPE, "payload": "e30=", "signatures": []},
        {"payloadType": PAYLOAD_TYPE, "payload": "e30=", "signatures": ["x"]},
        {"payloadType": PAYLOAD_TYPE, "payload": "e30=", "signatures": [{"keyid": "k", "sig": 5}]},
    ],
)
def test_malformed_envelopes(envelope):
    with pytest.raises(SignatureError) as caught:
        verify_envelope(envelope, {})
    assert caught.value.reason == "malformed"


def test_key_pem_round_trip_and_key_id():
    key = generate_key()
    public = load_public_key_pem(public_key_to_pem(key.public_key()))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id(public) == hashlib.sha256(raw).hexdigest()
    assert len(key_id(public)) == 64 and key_id(public) == key_id(public).lower()
    again = load_private_key_pem(private_key_to_pem(key))
    assert key_id(again.public_key()) == key_id(key.public_key())


def test_non_ed25519_keys_are_refused():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_pub = ec.generate_private_key(ec.SECP256R1()).public_key()
    rsa_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    ec_pem = ec_pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(SignatureError, match="must be Ed25519"):
        load_public_key_pem(ec_pem.decode())
    with pytest.raises(SignatureError, match="must be Ed25519"):
        load_private_key_pem(rsa_pem)
    with pytest.raises(SignatureError, match="not a PEM public key"):
        load_public_key_pem("-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n")


@pytest.mark.parametrize("tag", ["v1.0.0", "1.0.0", "parking-share-v1.0.0", "parking-share/v1.0.0",
                                 "refs/tags/v1.0.0", "refs/tags/parking-share-v1.0.0"])
def test_a_tag_naming_the_version_exactly(tag):
    assert tag_names_release(tag, "parking-share", "1.0.0")


@pytest.mark.parametrize("tag", ["v11.0.0", "11.0.0", "v21.0.0", "release-v1.0.0", "xparking-share-v1.0.0",
                                 "parking-share-1.0.0", "vv1.0.0", "V1.0.0", "v1.0.0-rc.1", "v1.0.0+빌드",
                                 "refs/tags/v11.0.0", "refs/heads/v1.0.0", " v1.0.0", "v1.0", ""])
def test_a_tag_for_another_version_or_solution_does_not_name_it(tag):
    assert not tag_names_release(tag, "parking-share", "1.0.0")


def test_solreg_looks_for_the_accepted_tags_in_order():
    assert release_tags("주차", "2.0.0-rc.1") == ("v2.0.0-rc.1", "2.0.0-rc.1", "주차-v2.0.0-rc.1", "주차/v2.0.0-rc.1")
