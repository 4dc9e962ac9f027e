"""Receiving uploaded files: spooled to disk and hashed while they arrive.

Flask's multipart parser writes each file part into the stream `_get_file_stream`
returns; ours hashes and counts as it writes and stops the request with 413 as soon
as the configured cap is passed, so memory does not grow with the upload.
"""

from __future__ import annotations

import hashlib
import tempfile

from flask import Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge


class HashingSpool:
    """A temporary file that knows the sha256 and size of what was written to it."""

    def __init__(self, limit: int, directory: str | None = None):
        self._file = tempfile.TemporaryFile(dir=directory)
        self._hash = hashlib.sha256()
        self.size = 0
        self.limit = limit

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise RequestEntityTooLarge(f"upload larger than {self.limit // (1024 * 1024)} MB")
        self._hash.update(data)
        return self._file.write(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def __getattr__(self, name):  # read, seek, tell, close, flush, fileno … of the temp file
        return getattr(self._file, name)

    def __iter__(self):
        return iter(self._file)


class RegistryRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        limit = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
        return HashingSpool(limit)
