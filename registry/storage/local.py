"""Blobs in a local directory; writes are temp file + fsync + atomic rename."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from registry.storage.base import (
    BlobStorage,
    StorageError,
    blob_key,
    document_key,
    failures_as_storage_error,
    public_key,
)


class LocalStorage(BlobStorage):
    def __init__(self, root: str, public_root: str | None = None):
        self.root = Path(root)
        # The tree nginx serves /files/ from (REGISTRY_PUBLIC_FILES_PATH): hard links to published blobs.
        self.public_root = Path(public_root) if public_root else self.root / "public"

    def _path(self, digest: str) -> Path:
        return self.root / blob_key(digest)

    def spool_directory(self) -> str:
        spool = self.root / ".incoming"
        with failures_as_storage_error("cannot make the upload spool directory"):
            spool.mkdir(parents=True, exist_ok=True)
        return str(spool)

    def clean_spool(self, max_age_seconds: int) -> int:
        cutoff = time.time() - max_age_seconds
        removed = 0
        for leftover in Path(self.spool_directory()).glob(".upload-*"):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    removed += 1
            except FileNotFoundError:  # its request finished (stored or closed it) meanwhile
                continue
        return removed

    def put(self, fileobj: BinaryIO, digest: str) -> bool:
        with failures_as_storage_error(f"cannot store blob {digest}"):
            return self._put(fileobj, digest)

    def _put(self, fileobj: BinaryIO, digest: str) -> bool:
        target = self._path(digest)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        spooled = getattr(fileobj, "path", None)
        if spooled and Path(spooled).parent == Path(self.spool_directory()):
            # An upload spooled beside us: make it durable (its fsync may have started when the body
            # was in, registry/publishing/uploads.py) and rename it into place, no copy.
            fileobj.sync()
            os.chmod(spooled, 0o444)
            os.replace(spooled, target)
            return True
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            fileobj.seek(0)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(fileobj, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def exists(self, digest: str) -> bool:
        with failures_as_storage_error(f"cannot look up blob {digest}"):
            return self._path(digest).exists()

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self._path(digest), "rb")
        except FileNotFoundError as exc:
            raise StorageError(f"blob {digest} is missing") from exc
        except OSError as exc:
            raise StorageError(f"cannot read blob {digest}: {exc.strerror}") from exc

    def delete(self, digest: str) -> None:
        with failures_as_storage_error(f"cannot delete blob {digest}"):
            self._path(digest).unlink(missing_ok=True)

    def digests(self) -> Iterator[str]:
        base = self.root / "sha256"
        with failures_as_storage_error("cannot list the blobs"):
            if base.exists():
                for p in sorted(base.glob("??/??/*")):
                    if not p.name.startswith("."):
                        yield p.name

    def put_document(self, name: str, data: bytes) -> None:
        with failures_as_storage_error(f"cannot store document {name}"):
            self._put_document(name, data)

    def _put_document(self, name: str, data: bytes) -> None:
        target = self.root / document_key(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_document(self, name: str) -> bytes | None:
        try:
            return (self.root / document_key(name)).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read document {name}: {exc.strerror}") from exc

    def delete_document(self, name: str) -> None:
        with failures_as_storage_error(f"cannot delete document {name}"):
            (self.root / document_key(name)).unlink(missing_ok=True)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".health-"):
                pass
        except OSError as exc:
            raise StorageError(f"blob directory {self.root} is not writable: {exc.strerror}") from exc

    def local_path(self, digest: str) -> str | None:
        """The blob's path; a blob that is gone or unreadable is a StorageError here, before anything is sent."""
        path = self._path(digest)
        if not os.access(path, os.R_OK):
            raise StorageError(f"blob {digest} is missing or unreadable")
        return str(path)

    def publish(self, digest: str, filename: str, media_type: str) -> bool:
        key = public_key(digest, filename)
        with failures_as_storage_error(f"cannot publish blob {digest}"):
            return self._publish(digest, key)

    def _publish(self, digest: str, key: str) -> bool:
        source, target = self.local_path(digest), self.public_root / key
        if target.exists() and (target.samefile(source) or target.stat().st_size == os.stat(source).st_size):
            return False  # the link, or the copy made across file systems
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".incoming-{os.getpid()}-{target.name}"
        tmp.unlink(missing_ok=True)
        try:
            try:
                os.link(source, tmp)  # a hard link: no copy, the same immutable (0444) inode
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                    raise
                shutil.copyfile(source, tmp)  # another file system: a copy
                os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return True

    def unpublish(self, key: str) -> bool:
        target = self.public_root / key
        with failures_as_storage_error(f"cannot take {key} out of the public tree"):
            try:
                target.unlink()
            except FileNotFoundError:
                return False
            for parent in list(target.parents)[:3]:  # <digest>/, cd/, ab/ when they are empty now
                try:
                    parent.rmdir()
                except OSError:
                    break
        return True

    def public_keys(self) -> Iterator[str]:
        with failures_as_storage_error("cannot list the public tree"):
            if self.public_root.exists():
                for p in sorted(self.public_root.glob("??/??/*/*")):
                    if not p.name.startswith("."):
                        yield p.relative_to(self.public_root).as_posix()
