"""Content-addressed blob storage: a blob's name is its sha256, so bytes never change."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from registry.errors import ServiceUnavailable

CHUNK = 1024 * 1024


class StorageError(ServiceUnavailable):
    """The blob storage cannot do what was asked (disk full, directory unwritable, S3 unreachable)."""

    code = "storage-unavailable"
    hint = ("the registry's file storage is full or unreachable; try again later. Operators: check free space and "
            "permissions of REGISTRY_STORAGE_PATH, or that the S3 bucket answers; /healthz names what fails")


@contextmanager
def failures_as_storage_error(what: str, kinds: tuple[type[Exception], ...] = (OSError,)) -> Iterator[None]:
    """The backend's own failures (disk full, permission denied, S3 errors) as a StorageError saying what failed."""
    try:
        yield
    except kinds as exc:
        raise StorageError(f"{what}: {getattr(exc, 'strerror', None) or exc}") from exc


def blob_key(digest: str) -> str:
    """sha256/ab/cd/<digest>: two fan-out levels keep directories small."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a sha256 hex digest: {digest!r}")  # callers pass digests they computed or checked
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


# One to four '/'-separated parts (e.g. transparency/checkpoints/42), none starting with a dot.
DOCUMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}(/[a-z0-9][a-z0-9._-]{0,99}){0,3}$")


# A public file's name: the registry's own (registry/spec/names.py artifact_filename), never a client's.
PUBLIC_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+_-]*(\.[A-Za-z0-9+_-]+)*$")
PUBLIC_CACHE_CONTROL = "public, max-age=31536000, immutable"


def public_key(digest: str, filename: str) -> str:
    """ab/cd/<digest>/<filename>: a published file's place in the public tree (and its URL below /files/).

    Content-addressed like the blob, plus the name it is downloaded under, so two releases with the same
    bytes (an identical SBOM) each have their own name, and a URL once handed out never changes."""
    blob_key(digest)  # raises on anything but a sha256 hex digest
    if len(filename) > 200 or not PUBLIC_FILENAME.match(filename):
        raise ValueError(f"not a public file name: {filename!r}")
    return f"{digest[:2]}/{digest[2:4]}/{digest}/{filename}"


def document_key(name: str) -> str:
    """meta/<name>: small named documents (signed heads, checkpoints) live apart from the blobs."""
    if not DOCUMENT_NAME.match(name):
        raise ValueError(f"not a document name: {name!r}")  # names are the registry's own constants
    return f"meta/{name}"


def sha256_file(fileobj: BinaryIO) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(CHUNK), b""):
        h.update(chunk)
    return h.hexdigest()


class BlobStorage(ABC):
    @abstractmethod
    def put(self, fileobj: BinaryIO, digest: str) -> bool:
        """Store the bytes of `fileobj` (from its start) under `digest`; False if already there.

        The caller vouches that `digest` is the sha256 of those bytes (it hashed them on arrival).
        """

    @abstractmethod
    def exists(self, digest: str) -> bool: ...

    @abstractmethod
    def open(self, digest: str) -> BinaryIO: ...

    @abstractmethod
    def delete(self, digest: str) -> None: ...

    @abstractmethod
    def digests(self) -> Iterator[str]:
        """Every stored digest."""

    @abstractmethod
    def put_document(self, name: str, data: bytes) -> None:
        """Replace the small named document `name` whole (not content-addressed: it changes)."""

    @abstractmethod
    def get_document(self, name: str) -> bytes | None:
        """The document's bytes, or None when there is none."""

    @abstractmethod
    def delete_document(self, name: str) -> None: ...

    @abstractmethod
    def check(self) -> None:
        """Raise StorageError when the storage cannot be written; used by /healthz."""

    def spool_directory(self) -> str | None:
        """Where uploads are spooled; None means the system's temp directory."""
        return None

    def clean_spool(self, max_age_seconds: int) -> int:
        """Remove upload spool files left by interrupted requests; returns how many."""
        return 0

    def local_path(self, digest: str) -> str | None:
        """A filesystem path for efficient sending, when the backend has one; StorageError if it cannot be read."""
        return None

    def presigned_url(self, digest: str, download_name: str, media_type: str, seconds: int) -> str | None:
        """A URL the object storage answers itself for `seconds`, when the backend has one."""
        return None

    @abstractmethod
    def publish(self, digest: str, filename: str, media_type: str) -> bool:
        """Put the blob `digest` into the public tree as `filename` (at `public_key`); False if it was there."""

    @abstractmethod
    def unpublish(self, key: str) -> bool:
        """Take `key` out of the public tree; False if it was not there. The blob itself stays."""

    @abstractmethod
    def public_keys(self) -> Iterator[str]:
        """Every key in the public tree."""

    def verify(self, digest: str) -> bool:
        with self.open(digest) as f:
            return sha256_file(f) == digest
