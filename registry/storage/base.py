"""Content-addressed blob storage: a blob's name is its sha256, so bytes never change."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 1024 * 1024


class StorageError(Exception):
    pass


def object_key(name: str) -> str:
    """A named (not content-addressed) object such as a signed log checkpoint; never under sha256/."""
    parts = name.split("/")
    if parts[0] == "sha256" or any(not p or p.startswith(".") or not all(c.isalnum() or c in "-_." for c in p)
                                   for p in parts):
        raise StorageError(f"not an object name: {name!r}")
    return name


def blob_key(digest: str) -> str:
    """sha256/ab/cd/<digest>: two fan-out levels keep directories small."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise StorageError(f"not a sha256 hex digest: {digest!r}")
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


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
    def size(self, digest: str) -> int: ...

    @abstractmethod
    def delete(self, digest: str) -> None: ...

    @abstractmethod
    def digests(self) -> Iterator[str]:
        """Every stored digest."""

    @abstractmethod
    def check(self) -> None:
        """Raise StorageError when the storage cannot be written; used by /healthz."""

    @abstractmethod
    def put_object(self, name: str, data: bytes) -> None:
        """Write (or replace, atomically) the small named object `name`."""

    @abstractmethod
    def get_object(self, name: str) -> bytes | None:
        """The named object's bytes, or None when there is none."""

    def spool_directory(self) -> str | None:
        """Where uploads are spooled; None means the system's temp directory."""
        return None

    def clean_spool(self, max_age_seconds: int) -> int:
        """Remove upload spool files left by interrupted requests; returns how many."""
        return 0

    def local_path(self, digest: str) -> str | None:
        """A filesystem path for efficient sending, when the backend has one."""
        return None

    def verify(self, digest: str) -> bool:
        with self.open(digest) as f:
            return sha256_file(f) == digest
