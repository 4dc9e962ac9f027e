"""Signed notes and log checkpoints in the C2SP formats (`signed-note`, `tlog-checkpoint`).

A note is UTF-8 text ending in a newline, then a blank line, then one line per signature:
"— <key name> <base64(4-byte key hash || Ed25519 signature)>". Keys are written as
"<name>+<hex key hash>+<base64(0x01 || public key)>" (verifier) and
"PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 || seed)>" (signer), as the Go checksum
database writes them, so its tools and ours read each other's notes.
A checkpoint is a note whose text is "<origin>\\n<tree size>\\n<base64 root hash>\\n" plus
optional extension lines.

A witness cosigns a checkpoint as C2SP `tlog-cosignature` v1 says: its key is of type 0x04, and its
signature line holds an 8-byte time before the Ed25519 signature of "cosignature/v1\\ntime <time>\\n"
followed by the checkpoint's text, so a cosignature can never be taken for a signature of a note.
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
ALG_COSIGNATURE_V1 = 0x04  # an Ed25519 key that signs only cosignatures (C2SP tlog-cosignature)
ALGORITHMS = (ALG_ED25519, ALG_COSIGNATURE_V1)
COSIGNATURE_HEADER = "cosignature/v1"
MAX_TIMESTAMP = (1 << 63) - 1
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


def _key_bytes(algorithm: int, public_key: Ed25519PublicKey) -> bytes:
    return bytes([algorithm]) + public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    name: str
    key_hash: int
    public_key: Ed25519PublicKey
    algorithm: int = ALG_ED25519

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
        if len(raw) != 33 or raw[0] not in ALGORITHMS:
            raise NoteError("only Ed25519 verifier keys (algorithm 1, or 4 for a witness; 32 bytes) are supported")
        if _key_hash(name, raw) != key_hash:
            raise NoteError("the verifier key's hash does not match its name and key")
        return cls(name, key_hash, Ed25519PublicKey.from_public_bytes(raw[1:]), raw[0])

    def encode(self) -> str:
        raw = _key_bytes(self.algorithm, self.public_key)
        return f"{self.name}+{self.key_hash:08x}+{base64.b64encode(raw).decode()}"

    @property
    def is_cosigner(self) -> bool:
        return self.algorithm == ALG_COSIGNATURE_V1

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
    algorithm: int = ALG_ED25519

    @classmethod
    def generate(cls, name: str, algorithm: int = ALG_ED25519) -> Signer:
        _check_name(name)
        if algorithm not in ALGORITHMS:
            raise NoteError(f"unknown key algorithm {algorithm}")
        return cls(name, Ed25519PrivateKey.generate(), algorithm)

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
        if len(raw) != 33 or raw[0] not in ALGORITHMS:
            raise NoteError("only Ed25519 signer keys are supported")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]), raw[0])
        if signer.verifier.key_hash != key_hash:
            raise NoteError("the signer key's hash does not match its name and key")
        return signer

    def encode(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        raw = bytes([self.algorithm]) + seed
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_hash:08x}+{base64.b64encode(raw).decode()}"

    @property
    def verifier(self) -> Verifier:
        public = self.private_key.public_key()
        return Verifier(self.name, _key_hash(self.name, _key_bytes(self.algorithm, public)), public, self.algorithm)


@dataclass(frozen=True)
class Signature:
    name: str
    key_hash: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_hash.to_bytes(4, "big") + self.signature
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"

    def made_by(self, verifier: Verifier) -> bool:
        """The line names this key (whether it verifies is another question)."""
        return self.name == verifier.name and self.key_hash == verifier.key_hash


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
    if any(s.algorithm != ALG_ED25519 for s in signers):
        raise NoteError("a witness key signs only cosignatures of checkpoints (note.cosign)")
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
    if verifier.algorithm != ALG_ED25519:
        raise NoteError(f"{verifier.name} is a witness key: it cosigns checkpoints and signs no notes")
    note = parse(message)
    mine = [s for s in note.signatures if s.made_by(verifier)]
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


# --- cosignatures (C2SP tlog-cosignature v1) ---------------------------------------------------

def cosigned_message(text: str, timestamp: int) -> bytes:
    """What a witness signs: the header line, its time line, then the checkpoint's whole text."""
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{text}".encode()


def cosign(text: str, signer: Signer, timestamp: int) -> Signature:
    """The witness `signer`'s cosignature of the checkpoint `text` at `timestamp` (POSIX seconds)."""
    if signer.algorithm != ALG_COSIGNATURE_V1:
        raise NoteError(f"{signer.name} is not a witness key (algorithm 4)")
    _check_text(text)
    Checkpoint.from_text(text)
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError("a cosignature's time is a POSIX timestamp below 2**63")
    signature = signer.private_key.sign(cosigned_message(text, timestamp))
    return Signature(signer.name, signer.verifier.key_hash, timestamp.to_bytes(8, "big") + signature)


def cosignature_time(note: Note, verifier: Verifier) -> int:
    """The time of the witness `verifier`'s cosignature of this note's checkpoint; NoteError unless it verifies.

    A cosignature made over any other checkpoint (another size, root or origin) does not verify here.
    """
    if not verifier.is_cosigner:
        raise NoteError(f"{verifier.name}+{verifier.key_hash:08x} is not a witness key (algorithm 4)")
    mine = [s for s in note.signatures if s.made_by(verifier)]
    if not mine:
        raise NoteError(f"the checkpoint is not cosigned by {verifier.name}+{verifier.key_hash:08x}")
    times = []
    for line in mine:
        if len(line.signature) != 8 + 64:
            raise NoteError(f"the cosignature of {verifier.name} is not an 8-byte time and a 64-byte signature")
        timestamp = int.from_bytes(line.signature[:8], "big")
        if timestamp > MAX_TIMESTAMP or not verifier.verifies(cosigned_message(note.text, timestamp),
                                                              line.signature[8:]):
            raise NoteError(f"the cosignature of {verifier.name}+{verifier.key_hash:08x} does not verify over "
                            "this checkpoint (it was made over another one, or changed)")
        times.append(timestamp)
    return max(times)
