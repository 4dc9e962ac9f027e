"""Signed notes and checkpoints, checked against the Go checksum database's golden note."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from registry.spec.note import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteError,
    Signer,
    Verifier,
    cosign,
    cosignature_time,
    open_checkpoint,
    open_note,
    parse,
    sign,
)
from registry.spec.tlog import leaf_hash

# The key pair and signed note of golang.org/x/mod/sumdb/note's tests.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def test_signing_reproduces_the_go_golden_note():
    signer = Signer.parse(GO_SKEY)
    assert signer.verifier.encode() == GO_VKEY
    assert signer.encode() == GO_SKEY
    assert sign(GO_TEXT, signer).encode() == GO_TEXT + "\n" + GO_SIG


def test_the_go_note_opens_with_its_key_and_not_with_another():
    note = open_note(GO_TEXT + "\n" + GO_SIG, Verifier.parse(GO_VKEY))
    assert note.text == GO_TEXT
    other = Signer.generate("PeterNeumann").verifier
    with pytest.raises(NoteError, match="not signed by"):
        open_note(GO_TEXT + "\n" + GO_SIG, other)


def test_a_changed_text_does_not_verify():
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(GO_TEXT.replace("problem,", "problem;") + "\n" + GO_SIG, Verifier.parse(GO_VKEY))


@pytest.mark.parametrize("vkey", [
    GO_VKEY[:-1], GO_VKEY.replace("c74f20a3", "c74f20a4"), "PeterNeumann+c74f20a3", GO_VKEY.replace("ARpc", "ZRpc"),
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
])
def test_mangled_verifier_keys_are_refused(vkey):
    with pytest.raises(NoteError):
        Verifier.parse(vkey)


def test_cosigning_keeps_the_first_signature():
    origin, witness = Signer.generate("solreg.example.kr"), Signer.generate("경기도-witness")
    note = sign("본문\n", origin)
    cosigned = sign(note.text, witness, existing=note.signatures)
    message = cosigned.encode()
    assert open_note(message, origin.verifier) and open_note(message, witness.verifier)
    assert len(parse(message).signatures) == 2


@pytest.mark.parametrize("text", ["no newline", "a\n\nb\n", "bell\x07\n"])
def test_bad_note_texts_are_refused(text):
    with pytest.raises(NoteError):
        sign(text, Signer.generate("k"))


def test_checkpoint_round_trip_and_origin_check():
    signer = Signer.generate("solreg.example.kr")
    checkpoint = Checkpoint("solreg.example.kr/log", 123456789012, leaf_hash(b"hello world"))
    assert checkpoint.text() == "solreg.example.kr/log\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
    message = sign(checkpoint.text(), signer).encode()
    opened, _ = open_checkpoint(message, signer.verifier, origin="solreg.example.kr/log")
    assert opened == checkpoint
    with pytest.raises(NoteError, match="not 'other/log'"):
        open_checkpoint(message, signer.verifier, origin="other/log")


@pytest.mark.parametrize("text", [
    "origin\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    "origin\n12\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
    "origin\n012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    "origin\n12\n",
])
def test_bad_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        Checkpoint.from_text(text)


# --- cosignatures (C2SP tlog-cosignature v1) --------------------------------------------------

LOG = Signer.generate("solreg.example.kr/log")
WITNESS = Signer.generate("witness.gg.go.kr/w1", ALG_COSIGNATURE_V1)
HEAD = Checkpoint("solreg.example.kr/log", 20852163, leaf_hash(b"root")).text()
OTHER_HEAD = Checkpoint("solreg.example.kr/log", 20852164, leaf_hash(b"root")).text()


def _cosigned(text: str, line) -> Note:
    return parse(Note(text, (*sign(text, LOG).signatures, line)).encode())


def test_a_cosignature_is_what_the_c2sp_spec_spells_out():
    """Rebuilt by hand from the spec: key ID over 0x04 || key, line = key ID || u64 time || Ed25519 signature
    of "cosignature/v1\\ntime <t>\\n" + the checkpoint."""
    line = cosign(HEAD, WITNESS, 1679315147)
    public = WITNESS.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(b"witness.gg.go.kr/w1\n\x04" + public).digest()[:4]
    blob = base64.b64decode(line.line().rsplit(" ", 1)[1])
    assert blob[:4] == key_id and int.from_bytes(blob[4:12], "big") == 1679315147
    WITNESS.private_key.public_key().verify(blob[12:], b"cosignature/v1\ntime 1679315147\n" + HEAD.encode())
    assert base64.b64decode(WITNESS.verifier.encode().split("+", 2)[2]) == b"\x04" + public
    assert Verifier.parse(WITNESS.verifier.encode()).is_cosigner
    assert Signer.parse(WITNESS.encode()).verifier == WITNESS.verifier


def test_a_cosignature_over_another_checkpoint_does_not_verify():
    line = cosign(OTHER_HEAD, WITNESS, 1679315147)
    with pytest.raises(NoteError, match="does not verify over this checkpoint"):
        cosignature_time(_cosigned(HEAD, line), WITNESS.verifier)


def test_a_changed_time_does_not_verify():
    line = cosign(HEAD, WITNESS, 1679315147)
    forged = type(line)(line.name, line.key_hash, (1679315148).to_bytes(8, "big") + line.signature[8:])
    with pytest.raises(NoteError, match="does not verify"):
        cosignature_time(_cosigned(HEAD, forged), WITNESS.verifier)


def test_a_note_signature_of_the_witness_key_is_no_cosignature():
    """Domain separation: the witness key never signs a note, and a plain signature line is refused."""
    with pytest.raises(NoteError, match="signs only cosignatures"):
        sign(HEAD, WITNESS)
    raw = WITNESS.private_key.sign(HEAD.encode())  # what a note signature of the witness key would be
    line = cosign(HEAD, WITNESS, 0)
    with pytest.raises(NoteError, match="8-byte time and a 64-byte signature"):
        cosignature_time(_cosigned(HEAD, type(line)(line.name, line.key_hash, raw)), WITNESS.verifier)


def test_keys_of_the_wrong_kind_are_refused_for_each_use():
    with pytest.raises(NoteError, match="not a witness key"):
        cosign(HEAD, LOG, 1)
    with pytest.raises(NoteError, match="not a witness key"):
        cosignature_time(parse(sign(HEAD, LOG).encode()), LOG.verifier)
    with pytest.raises(NoteError, match="is a witness key"):
        open_note(sign(HEAD, LOG).encode(), WITNESS.verifier)
    with pytest.raises(NoteError, match="not cosigned by"):
        cosignature_time(parse(sign(HEAD, LOG).encode()), WITNESS.verifier)


@pytest.mark.parametrize("timestamp", [-1, 1 << 63])
def test_a_time_out_of_range_is_refused(timestamp):
    with pytest.raises(NoteError, match="POSIX timestamp"):
        cosign(HEAD, WITNESS, timestamp)


def test_only_checkpoints_are_cosigned():
    with pytest.raises(NoteError):
        cosign(GO_TEXT, WITNESS, 1)


def test_cosignature_time_is_read_back():
    assert cosignature_time(_cosigned(HEAD, cosign(HEAD, WITNESS, 1700000000)), WITNESS.verifier) == 1700000000
