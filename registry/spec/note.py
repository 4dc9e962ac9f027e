"""Signed notes and log checkpoints in the C2SP formats (`signed-note`, `tlog-checkpoint`).

A note is UTF-8 text ending in a newline, then a blank line, then one line per signature:
"— <key name> <base64(4-byte key hash || Ed25519 signature)>". Keys are written as
"<name>+<hex key hash>+<base64(0x01 || public key)>" (verifier) and
"PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 || seed)>" (signer), as the Go checksum
database writes them, so its tools and ours read each other's notes.
A checkpoint is a note whose text is "<origin>\\n<tree size>\\n<base64 root hash>\\n" plus
optional extension lines.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from registry.spec.problems import SpecError

ALG_ED25519 = 0x01
SIG_PREFIX = "— "  # an em dash and a space
MAX_NOTE = 1 << 20


class NoteError(SpecError):
    """A note, key or checkpoint that cannot be read or does not verify; the message says why."""

    code = "bad-note"


def _key_hash(name: str, key_bytes: bytes) -> int:
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + key_bytes).digest()[:4], "big")


def _check_name(name: str) -> None:
    if not name or any(c in name for c in "+ \n\t") or not name.isprintable():
        raise NoteError(f"{name!r} is not a key name (no spaces, '+' or control characters)")


@dataclass(frozen=True)
class Verifier:
    name: str
    key_hash: int
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        name, sep1, rest = vkey.strip().partition("+")
        hash_hex, sep2, b64 = rest.partition("+")
        if not (sep1 and sep2) or len(hash_hex) != 8:
            raise NoteError("a verifier key reads <name>+<8 hex digits>+<base64 key>")
        _check_name(name)
        try:
            key_hash, raw = int(hash_hex, 16), base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"the verifier key is not well formed: {exc}") from None
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("only Ed25519 verifier keys (algorithm 1, 32 bytes) are supported")
        if _key_hash(name, raw) != key_hash:
            raise NoteError("the verifier key's hash does not match its name and key")
        return cls(name, key_hash, Ed25519PublicKey.from_public_bytes(raw[1:]))

    def encode(self) -> str:
        raw = bytes([ALG_ED25519]) + self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.name}+{self.key_hash:08x}+{base64.b64encode(raw).decode()}"

    def verifies(self, text: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, text)
            return True
        except InvalidSignature:
            return False


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> Signer:
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key reads PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>")
        name, hash_hex, b64 = parts[2:]
        _check_name(name)
        try:
            raw = base64.b64decode(b64, validate=True)
            key_hash = int(hash_hex, 16)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"the signer key is not well formed: {exc}") from None
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("only Ed25519 signer keys are supported")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.key_hash != key_hash:
            raise NoteError("the signer key's hash does not match its name and key")
        return signer

    def encode(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        raw = bytes([ALG_ED25519]) + seed
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_hash:08x}+{base64.b64encode(raw).decode()}"

    @property
    def verifier(self) -> Verifier:
        public = self.private_key.public_key()
        raw = bytes([ALG_ED25519]) + public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, _key_hash(self.name, raw), public)


@dataclass(frozen=True)
class Signature:
    name: str
    key_hash: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_hash.to_bytes(4, "big") + self.signature
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...] = ()

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    if any(not (c.isprintable() or c == "\n") for c in text):
        raise NoteError("a note's text holds no control characters")
    if "\n\n" in text:
        raise NoteError("a note's text holds no blank line")


def sign(text: str, *signers: Signer, existing: tuple[Signature, ...] = ()) -> Note:
    """Sign `text` with each signer; signatures of other keys already on the note are kept (cosigning)."""
    _check_text(text)
    own = {(s.name, s.verifier.key_hash) for s in signers}
    kept = tuple(s for s in existing if (s.name, s.key_hash) not in own)
    fresh = tuple(Signature(s.name, s.verifier.key_hash, s.private_key.sign(text.encode())) for s in signers)
    return Note(text, kept + fresh)


def parse(message: str) -> Note:
    """Split a signed note into its text and signatures, without checking any of them."""
    if len(message.encode()) > MAX_NOTE:
        raise NoteError("the note is too large")
    text, sep, block = message.rpartition("\n\n")
    if not sep or not block.endswith("\n"):
        raise NoteError("a signed note is its text, a blank line and signature lines")
    text += "\n"
    _check_text(text)
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"not a signature line: {line[:60]!r}")
        name, space, b64 = line[len(SIG_PREFIX):].rpartition(" ")
        _check_name(name)
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise NoteError(f"signature of {name} is not base64") from None
        if len(blob) < 5:
            raise NoteError(f"signature of {name} is too short")
        signatures.append(Signature(name, int.from_bytes(blob[:4], "big"), blob[4:]))
    return Note(text, tuple(signatures))


def open_note(message: str, verifier: Verifier) -> Note:
    """Parse and check that `verifier` signed the note; raise NoteError otherwise."""
    note = parse(message)
    mine = [s for s in note.signatures if s.name == verifier.name and s.key_hash == verifier.key_hash]
    if not mine:
        raise NoteError(f"the note is not signed by {verifier.name}+{verifier.key_hash:08x}")
    if not all(verifier.verifies(note.text.encode(), s.signature) for s in mine):
        raise NoteError(f"invalid signature for key {verifier.name}+{verifier.key_hash:08x}")
    return note


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin line, a tree size and a root hash")
        origin, size, root, *extensions = lines[:-1]
        if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("a checkpoint's second line is its tree size in decimal")
        try:
            digest = base64.b64decode(root, validate=True)
        except binascii.Error:
            digest = b""
        if len(digest) != 32:
            raise NoteError("a checkpoint's third line is a base64 SHA-256 root hash")
        return cls(origin, int(size), digest, tuple(extensions))


def open_checkpoint(message: str, verifier: Verifier, origin: str | None = None) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint and, when given, that it belongs to the log `origin`."""
    note = open_note(message, verifier)
    checkpoint = Checkpoint.from_text(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for the log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint, note
