"""Signed notes and checkpoints, checked against the Go checksum database's golden note."""

from __future__ import annotations

import pytest

from registry.spec.note import Checkpoint, NoteError, Signer, Verifier, open_checkpoint, open_note, parse, sign
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
