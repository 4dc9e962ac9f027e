"""`flask mirror pull URL`: an online mirror for connected networks.

The mirror asks the origin for its signed head (only to learn the log's name and how much of it this
mirror has), fetches the bundle of what is new since then from `GET /api/v1/mirror/bundle?since=N` into a
spool file, and imports it exactly as `flask mirror import` does: every check first, then all or nothing.
The download is capped in size and time, and follows redirects to http and https only.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO
from urllib.parse import urljoin, urlsplit

from flask import current_app
from sqlalchemy import select

from registry.db import db
from registry.mirror.service import ImportSummary, MirrorRefused, import_bundle
from registry.spec import note
from registry.storage import storage
from registry.transparency import mirrored
from registry.transparency.models import MirrorOrigin

CHECKPOINT = "/api/v1/log/checkpoint"
BUNDLE = "/api/v1/mirror/bundle"
MAX_REDIRECTS = 5
BLOCK = 1 << 20
SCHEMES = ("http", "https")


class _HttpRedirectsOnly(urllib.request.HTTPRedirectHandler):
    """urllib follows redirects to ftp: too; a mirror follows http and https alone, a few hops at most."""

    max_redirections = MAX_REDIRECTS

    def http_error_302(self, req, fp, code, msg, headers):
        target = urljoin(req.full_url, headers.get("Location") or headers.get("URI") or "")
        if urlsplit(target).scheme not in SCHEMES:
            raise MirrorRefused(f"{req.full_url} redirects to {target[:100]!r}: only http and https are followed")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


_opener = urllib.request.build_opener(_HttpRedirectsOnly)


def pull(url: str, *, origin_key: str | None = None, max_bytes: int | None = None,
         timeout: float | None = None, deadline: float | None = None) -> ImportSummary:
    """Fetch what is new at the origin `url` and import it (import_bundle commits, or writes nothing)."""
    config = current_app.config
    max_bytes = max_bytes or int(config["MIRROR_PULL_MAX_MB"]) << 20
    timeout = timeout or float(config["MIRROR_PULL_TIMEOUT"])
    ends = time.monotonic() + (deadline or float(config["MIRROR_PULL_DEADLINE"]))
    base = url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in SCHEMES or not parts.netloc:
        raise MirrorRefused(f"{url[:100]!r} is not an http:// or https:// address of a registry")
    origin = _origin_name(base, timeout, ends)
    if origin_key is None and not db.session.scalar(select(MirrorOrigin.id).where(MirrorOrigin.origin == origin)):
        raise MirrorRefused(f"the first pull of {origin} needs its log key: give --origin-key (from the origin's "
                            "operator, `flask --app registry log key`)")
    since = mirrored.log_size(origin)
    with tempfile.TemporaryDirectory(prefix="pull-", dir=storage().spool_directory()) as staging:
        bundle = Path(staging) / "bundle.tar"
        with bundle.open("wb") as out:
            _fetch(f"{base}{BUNDLE}?since={since}", out, max_bytes=max_bytes, timeout=timeout, ends=ends)
        return import_bundle(bundle, origin_key=origin_key)


def _origin_name(base: str, timeout: float, ends: float) -> str:
    """The log's name on the origin's signed head; nothing is trusted yet (the import checks the signature)."""
    with tempfile.SpooledTemporaryFile(max_size=note.MAX_NOTE) as head:
        _fetch(base + CHECKPOINT, head, max_bytes=note.MAX_NOTE, timeout=timeout, ends=ends)
        head.seek(0)
        try:
            return note.Checkpoint.from_text(note.parse(head.read().decode("utf-8")).text).origin
        except (note.NoteError, UnicodeDecodeError) as exc:
            raise MirrorRefused(f"{base}{CHECKPOINT} is not a signed checkpoint: {exc}") from None


def _fetch(url: str, out: IO[bytes], *, max_bytes: int, timeout: float, ends: float) -> int:
    """Copy `url` into `out`, refusing more than `max_bytes` or a download running past `ends`."""
    request = urllib.request.Request(url, headers={"User-Agent": "smart-city-registry-mirror"})
    try:
        with _opener.open(request, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            if announced and announced.isdigit() and int(announced) > max_bytes:
                raise MirrorRefused(f"{url} is {announced} bytes, more than the {max_bytes} this mirror fetches "
                                    "(REGISTRY_MIRROR_PULL_MAX_MB)")
            length = 0
            while block := response.read1(BLOCK):  # what one read brings: a drip cannot hold a block back
                length += len(block)
                if length > max_bytes:
                    raise MirrorRefused(f"{url} sends more than the {max_bytes} bytes this mirror fetches "
                                        "(REGISTRY_MIRROR_PULL_MAX_MB)")
                if time.monotonic() > ends:
                    raise MirrorRefused(f"fetching {url} took longer than REGISTRY_MIRROR_PULL_DEADLINE")
                out.write(block)
            return length
    except urllib.error.HTTPError as exc:
        raise MirrorRefused(f"{url} answered {exc.code}: {_detail(exc)}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise MirrorRefused(f"cannot fetch {url}: {reason}") from None


def _detail(error: urllib.error.HTTPError) -> str:
    """The registry's own one-line reason, when the answer is its JSON error."""
    try:
        errors = json.loads(error.read(64 << 10)).get("errors") or []
        return str(errors[0].get("detail")) if errors else str(error.reason)
    except (ValueError, AttributeError, TypeError, OSError):
        return str(error.reason)
