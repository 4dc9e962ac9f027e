"""Receiving uploaded files: spooled to disk and hashed while they arrive.

Flask's multipart parser writes each file part into the stream `_get_file_stream`
returns; ours hashes and counts as it writes and stops the request with 413 as soon
as the configured cap is passed, so memory does not grow with the upload. The spool
lives beside the blob store when it is local, so storing the archive is a rename,
not a second copy; its fsync then starts as soon as the body is in (`start_sync`), so the
disk writes while the archive is inspected.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading

from flask import Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser

from registry.storage.base import failures_as_storage_error

# Werkzeug reads 64 KiB at a time; gunicorn copies its remaining buffer on every read,
# so small reads cost quadratic copying (measured in bench/bench_publishing.py). Keep it
# below Flask's in-memory form field limit (500 kB).
MULTIPART_BUFFER = 256 * 1024


class HashingSpool:
    """A temporary file that knows the sha256 and size of what was written to it."""

    def __init__(self, limit: int, directory: str | None = None):
        with failures_as_storage_error("cannot spool the upload"):
            self._file = tempfile.NamedTemporaryFile(dir=directory, prefix=".upload-", delete=False)
        self.path = self._file.name
        self._hash = hashlib.sha256()
        self.size = 0
        self.limit = limit
        # In blob storage's own directory (local storage) the spool becomes the blob; elsewhere it is copied out.
        self._kept = directory is not None
        self._syncing: threading.Thread | None = None
        self._sync_error: OSError | None = None

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise RequestEntityTooLarge(f"upload larger than {self.limit // (1024 * 1024)} MB")
        self._hash.update(data)
        with failures_as_storage_error("cannot spool the upload"):  # the disk filled while it arrived
            return self._file.write(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def start_sync(self) -> None:
        """The upload is complete: start its fsync in the background, if blob storage will keep this file.
        fsync releases the GIL, so the disk writes while the request inspects the archive."""
        if not self._kept or self._syncing is not None:
            return
        self._file.flush()
        self._syncing = threading.Thread(target=self._fsync, name="upload-fsync", daemon=True)
        self._syncing.start()

    def _fsync(self) -> None:
        try:
            os.fsync(self._file.fileno())
        except OSError as exc:  # raised in the request's thread, by `sync`
            self._sync_error = exc

    def sync(self) -> None:
        """Make the spool durable: wait for the fsync `start_sync` began, or fsync now."""
        self._file.flush()
        if self._syncing is None:
            os.fsync(self._file.fileno())
            return
        self._syncing.join()
        self._syncing = None
        error, self._sync_error = self._sync_error, None
        if error is not None:
            raise error

    def close(self) -> None:
        if self._syncing is not None:  # not while the fsync still uses the file descriptor
            self._syncing.join()
        self._file.close()
        # Gone already when blob storage adopted the file by renaming it.
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __del__(self):
        if "_file" in vars(self):  # not when making the temporary file failed
            self.close()

    def __getattr__(self, name):  # read, seek, tell, flush, fileno … of the temp file
        return getattr(self._file, name)

    def __iter__(self):
        return iter(self._file)


class _UploadFormParser(FormDataParser):
    def _parse_multipart(self, stream, mimetype, content_length, options):
        parser = MultiPartParser(stream_factory=self.stream_factory, max_form_memory_size=self.max_form_memory_size,
                                 max_form_parts=self.max_form_parts, cls=self.cls, buffer_size=MULTIPART_BUFFER)
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class RegistryRequest(Request):
    form_data_parser_class = _UploadFormParser

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        from registry.storage import storage

        limit = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
        return HashingSpool(limit, storage().spool_directory())
