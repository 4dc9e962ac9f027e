"""HTTP client for the registry API (``/api/v1``).

* ``Authorization: Bearer <token>``, sent only to the registry's own origin, and no
  Authorization header at all without a token (anyone may read published releases);
* redirects are never followed — a 3xx means a wrong URL (http vs https, a
  proxy) and following it could leak the token or turn POST into GET;
* connection errors and 5xx are retried with exponential backoff, at most
  ``max_tries`` attempts in all; 4xx answers are final. Retrying an upload is
  safe because the registry treats an identical re-upload as a no-op;
* ``{"errors": [{"code", "detail", "field", "hint"}]}`` becomes a one-line ``RegistryAnswerError``
  with the registry's hint (else one for the status);
* uploads stream a multipart body from disk, so memory does not grow with the archive.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from publisher_cli.errors import ConfigError, NetworkError, RegistryAnswerError

API = "/api/v1"
CHUNK = 64 * 1024
ProgressCallback = Callable[[int], None]

_HINTS = {
    401: "your token is missing or expired: run `solreg login`",
    403: "your token may not do this: check its scopes with `solreg whoami`",
    404: "check the solution name and version (`solreg info NAME`)",
    409: "a release's bytes never change: bump `version` in solution.yaml, commit, tag and publish again",
    413: "the archive is too large for this registry",
    429: "the registry is rate limiting you: wait a minute and try again",
}
# Without a token only published (and yanked) releases are visible: a pending one answers 404 too.
_ANONYMOUS_404_HINT = ("check the solution name and version (`solreg info NAME`); a release still in review is "
                       "seen only by its publisher: log in with `solreg login` to see yours")


# --------------------------------------------------------------------------- multipart


@dataclass(frozen=True)
class FilePart:
    field: str
    path: Path
    content_type: str = "application/octet-stream"


def _quote_header_value(value: str) -> str:
    if any(char in value for char in "\r\n\0"):
        raise ValueError(f"illegal character in multipart header value {value!r}")
    return value.replace("\\", "\\\\").replace('"', '\\"')


class MultipartBody:
    """A ``multipart/form-data`` body read lazily from files.

    ``requests`` sees ``__len__`` (so it sends Content-Length instead of chunked
    encoding, which some WSGI servers reject) and ``read`` (so urllib3 pulls the
    body block by block).
    """

    def __init__(self, fields: dict[str, str], files: list[FilePart],
                 on_progress: ProgressCallback | None = None) -> None:
        self.boundary = f"solreg-{uuid.uuid4().hex}"
        self._segments: list[bytes | Path] = []
        for name, value in fields.items():
            self._segments.append(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote_header_value(name)}"'
                f"\r\n\r\n{value}\r\n".encode()
            )
        for part in files:
            self._segments.append(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote_header_value(part.field)}";'
                f' filename="{_quote_header_value(part.path.name)}"\r\n'
                f"Content-Type: {part.content_type}\r\n\r\n".encode()
            )
            self._segments.append(part.path)
            self._segments.append(b"\r\n")
        self._segments.append(f"--{self.boundary}--\r\n".encode())
        self._length = sum(s.stat().st_size if isinstance(s, Path) else len(s) for s in self._segments)
        self._on_progress = on_progress
        self._chunks = self._generate()
        self._pending = b""

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def _generate(self) -> Iterator[bytes]:
        for segment in self._segments:
            if isinstance(segment, bytes):
                yield segment
                continue
            with segment.open("rb") as handle:
                while block := handle.read(CHUNK):
                    yield block

    def read(self, size: int = -1) -> bytes:
        out = bytearray(self._pending)
        self._pending = b""
        while size < 0 or len(out) < size:
            block = next(self._chunks, None)
            if block is None:
                break
            out += block
        if size >= 0 and len(out) > size:
            self._pending = bytes(out[size:])
            del out[size:]
        if out and self._on_progress:
            self._on_progress(len(out))
        return bytes(out)

    def __iter__(self) -> Iterator[bytes]:
        while block := self.read(CHUNK):
            yield block


# --------------------------------------------------------------------------- client


def _error_from_response(response: requests.Response) -> RegistryAnswerError:
    status = response.status_code
    code = field = hint = None
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        errors = None
    if isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
        first = errors[0]
        code, field, hint = first.get("code"), first.get("field"), first.get("hint")
        details = []
        for error in errors:
            detail = str(error.get("detail") or error.get("code") or "unknown error")
            details.append(f"{error['field']}: {detail}" if error.get("field") else detail)
        message = "; ".join(details)
    else:
        message = f"HTTP {status} {response.reason or ''}".strip()
    message = " ".join(f"registry refused ({status}): {message}".split())  # keep it one line
    # The registry's own hint knows this very failure; ours only its status.
    hint = " ".join(hint.split()) if isinstance(hint, str) and hint.strip() else _HINTS.get(status)
    return RegistryAnswerError(message, hint, status=status, code=code, field=field)


class RegistryClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        max_tries: int = 5,
        backoff: float = 0.5,
        timeout: float = 60.0,
        session: requests.Session | None = None,
    ) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ConfigError(f"registry URL {base_url!r} has no http:// or https://",
                              hint=f"write it in full, e.g. `solreg login --url https://{base_url.split('://')[-1]}`")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.max_tries = max(1, max_tries)
        self.backoff = backoff
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = _user_agent()

    # -- plumbing -----------------------------------------------------------

    def url(self, path: str) -> str:
        """API paths go below the base URL; URLs the registry hands out are resolved against it."""
        if path.startswith(API):
            return self.base_url + path
        return urljoin(self.base_url + "/", path)

    def _same_origin(self, url: str) -> bool:
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        return (mine.scheme, mine.netloc) == (theirs.scheme, theirs.netloc)

    def request(
        self,
        method: str,
        path: str,
        *,
        body_factory: Callable[[], tuple[Any, dict[str, str]]] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries; ``body_factory`` makes a fresh (body, headers) per attempt."""
        url = self.url(path)
        headers = dict(kwargs.pop("headers", {}))
        if self.token and self._same_origin(url):
            headers["Authorization"] = f"Bearer {self.token}"
        last_problem = ""
        for attempt in range(self.max_tries):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            if body_factory:
                body, extra = body_factory()
                kwargs["data"] = body
                headers.update(extra)
            try:
                response = self.session.request(
                    method, url, headers=headers, allow_redirects=False, timeout=self.timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_problem = f"cannot reach {urlsplit(url).netloc}: {type(exc).__name__}"
                continue
            if response.status_code >= 500:
                last_problem = f"registry error {response.status_code} from {method} {urlsplit(url).path}"
                response.close()
                continue
            if 300 <= response.status_code < 400:
                location = response.headers.get("Location", "?")
                raise RegistryAnswerError(
                    f"registry answered {response.status_code} redirect to {location}; refusing to follow",
                    hint="use the registry's final URL (https? trailing path?) in `solreg login --url`",
                    status=response.status_code,
                )
            if response.status_code >= 400:
                error = _error_from_response(response)
                if response.status_code == 404 and not self.token:
                    error.hint = _ANONYMOUS_404_HINT
                raise error
            return response
        raise NetworkError(f"{last_problem} (gave up after {self.max_tries} tries)")

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, **kwargs)
        try:
            data = response.json()
        except ValueError:
            raise RegistryAnswerError(
                f"registry sent a non-JSON answer to {method} {path}",
                hint="check that the URL points at a solreg registry", status=response.status_code,
            ) from None
        if not isinstance(data, dict):
            raise RegistryAnswerError(f"registry sent an unexpected answer to {method} {path}")
        return data

    def _member(self, method: str, path: str, key: str, **kwargs: Any) -> Any:
        """``data[key]`` of a JSON answer; a registry that leaves it out gets a clear error."""
        data = self.json(method, path, **kwargs)
        if key not in data:
            raise RegistryAnswerError(f"registry answer to {method} {path} has no {key!r}",
                                      hint="the registry may speak another API version; upgrade solreg")
        return data[key]

    # -- API ----------------------------------------------------------------

    def text(self, path: str, **params: Any) -> str:
        return self.request("GET", path, params=params).text

    def log_leaves(self, start: int, limit: int) -> dict[str, Any]:
        return self.json("GET", f"{API}/log/leaves", params={"start": start, "limit": limit})

    def whoami(self) -> dict[str, Any]:
        try:
            return self.json("GET", f"{API}/whoami")
        except RegistryAnswerError as exc:
            if exc.status != 401:
                raise
            # Also the check inside `solreg login`, so the generic "run `solreg login`" would be wrong here.
            exc.hint = "the registry does not accept this token: create a new one on your account page (/account)"
            raise

    def solution(self, name: str) -> dict[str, Any]:
        return self._member("GET", f"{API}/solutions/{quote(name)}", "solution")

    def release(self, name: str, version: str) -> dict[str, Any]:
        return self._member("GET", f"{API}/solutions/{quote(name)}/releases/{quote(version)}", "release")

    def search(self, query: str, page: int = 1) -> dict[str, Any]:
        return self.json("GET", f"{API}/solutions", params={"q": query, "page": page})

    def yank(self, name: str, version: str, reason: str) -> dict[str, Any]:
        path = f"{API}/solutions/{quote(name)}/releases/{quote(version)}/yank"
        return self._member("POST", path, "release", json={"reason": reason})

    def unyank(self, name: str, version: str) -> dict[str, Any]:
        return self._member("POST", f"{API}/solutions/{quote(name)}/releases/{quote(version)}/unyank", "release")

    def register_key(self, public_key_pem: str, name: str) -> dict[str, Any]:
        return self._member("POST", f"{API}/keys", "key", json={"public_key": public_key_pem, "name": name})

    def org_keys(self, org: str) -> list[dict[str, Any]]:
        return self._member("GET", f"{API}/orgs/{quote(org)}/keys", "keys")

    def upload_release(
        self,
        name: str,
        archive: Path,
        *,
        sha256: str,
        provenance: Path | None = None,
        signature: Path | None = None,
        on_progress: ProgressCallback | None = None,
        on_restart: Callable[[], None] | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """POST the release; returns (created, release). ``on_restart`` fires before each retry."""
        files = [FilePart("archive", archive, "application/gzip")]
        if provenance:
            files.append(FilePart("provenance", provenance, "application/json"))
        if signature:
            files.append(FilePart("signature", signature, "application/json"))
        attempts = 0

        def body() -> tuple[MultipartBody, dict[str, str]]:
            nonlocal attempts
            if attempts and on_restart:
                on_restart()
            attempts += 1
            multipart = MultipartBody({"sha256": sha256}, files, on_progress)
            return multipart, {"Content-Type": multipart.content_type}

        path = f"{API}/solutions/{quote(name)}/releases"
        data = self.json("POST", path, body_factory=body)
        if not isinstance(data.get("release"), dict):
            raise RegistryAnswerError(f"registry answer to POST {path} has no 'release'")
        return bool(data.get("created")), data["release"]

    def download(self, url: str, target: Path, on_progress: ProgressCallback | None = None) -> str:
        """Stream ``url`` to ``target`` (atomically); returns the content's sha256."""
        response = self.request("GET", url, stream=True)
        digest = hashlib.sha256()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        try:
            with response, partial.open("wb") as handle:
                for block in response.iter_content(CHUNK):
                    digest.update(block)
                    handle.write(block)
                    if on_progress:
                        on_progress(len(block))
            os.replace(partial, target)
        except requests.RequestException as exc:
            partial.unlink(missing_ok=True)
            raise NetworkError(f"download of {url} broke off: {type(exc).__name__}") from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return digest.hexdigest()

    def fetch_bytes(self, url: str, limit: int = 16 * 1024 * 1024) -> bytes:
        """Small documents (provenance, signatures); refuses anything over ``limit``."""
        response = self.request("GET", url, stream=True)
        with response:
            data = bytearray()
            for block in response.iter_content(CHUNK):
                data += block
                if len(data) > limit:
                    raise RegistryAnswerError(f"{url} is larger than {limit} bytes; refusing it")
        return bytes(data)


def _user_agent() -> str:
    from publisher_cli import package_version

    return f"solreg/{package_version()} requests/{requests.__version__}"
