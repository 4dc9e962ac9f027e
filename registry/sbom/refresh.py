"""The scheduled OSV refresh: REGISTRY_OSV_SOURCE imported again every REGISTRY_OSV_REFRESH_HOURS.

The source is a directory or an all.zip on this machine (a share something else keeps current), or an
http(s) URL of an OSV zip: OSV's own (https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip,
or /all.zip for every ecosystem) or a mirror inside a separated network. A download is streamed into a
temporary file in the instance folder within REGISTRY_OSV_DOWNLOAD_MAX_MB and
REGISTRY_OSV_DOWNLOAD_TIMEOUT, follows redirects only to http(s), must be a zip, and is removed whatever
happens. The import is `import_osv` (it commits file by file); every release's findings are recomputed
only when a record changed. The job (registry/jobs) records the outcome; a failure raises OsvSourceError.
"""

from __future__ import annotations

import http.client
import logging
import os
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from flask import current_app

from registry.errors import ServiceUnavailable
from registry.jobs import runs
from registry.sbom.osv import ImportReport, import_osv

log = logging.getLogger("registry.sbom")
JOB = "refresh_osv"
HOLD = timedelta(hours=6)  # a refresh still marked running after this was lost with its worker
CHUNK = 1024 * 1024
READ_TIMEOUT = 60  # seconds for connecting and for each read, within the whole download's time
TEMP_PREFIX = ".osv-download-"
MAX_FAILURES_LOGGED = 20


class OsvSourceError(ServiceUnavailable):
    """REGISTRY_OSV_SOURCE could not be read; the message says why, in one line."""

    code = "osv-source-unreadable"
    hint = "check REGISTRY_OSV_SOURCE (a directory, an all.zip or an http(s) URL of an OSV zip) and that it answers"


def refresh_if_due(now: datetime | None = None) -> dict | None:
    """Refresh when it is on, due and no other worker is at it; returns what it did, or None."""
    source = str(current_app.config["OSV_SOURCE"] or "")
    hours = int(current_app.config["OSV_REFRESH_HOURS"])
    if not source or not hours or not runs.claim(JOB, timedelta(hours=hours), HOLD, now):
        return None
    report = refresh(source)
    for name, reason in report.failed[:MAX_FAILURES_LOGGED]:
        log.warning("OSV refresh: %s skipped: %s", name, reason)
    summary = {"records": report.imported + report.updated + report.unchanged + report.withdrawn
               + report.duplicates, "imported": report.imported, "updated": report.updated,
               "unchanged": report.unchanged, "withdrawn": report.withdrawn, "duplicates": report.duplicates,
               "failed_files": len(report.failed)}
    log.info("OSV refresh from %s: %s", shown(source), summary)
    return summary


def refresh(source: str) -> ImportReport:
    """Import the source once; OsvSourceError when it cannot be read at all."""
    if source.startswith(("http://", "https://")):
        with downloaded(source) as path:
            return _import(path)
    path = Path(source)
    if not path.exists():
        raise OsvSourceError(f"{source}: no such file or directory (REGISTRY_OSV_SOURCE)")
    return _import(path)


def _import(path: Path) -> ImportReport:
    from registry.sbom.service import rematch_all

    report = import_osv(path, rematch=False)
    if report.imported or report.updated or report.withdrawn or report.duplicates:
        rematch_all()  # commits, then queues the batches of re-matching jobs
    return report


def shown(url: str) -> str:
    """The URL without credentials or query (a signed URL's token), for logs and errors."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("http"):
        return url
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@contextmanager
def downloaded(url: str) -> Iterator[Path]:
    """The zip at `url` in a temporary file of the instance folder, removed afterwards."""
    folder = Path(current_app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    # Left by a worker killed mid-download; the claim means no other download is running.
    for stale in folder.glob(TEMP_PREFIX + "*"):
        stale.unlink(missing_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX, suffix=".zip")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch(url, out, int(current_app.config["OSV_DOWNLOAD_MAX_MB"]),
                   int(current_app.config["OSV_DOWNLOAD_TIMEOUT"]))
        if not zipfile.is_zipfile(path):
            raise OsvSourceError(f"{shown(url)}: the answer is not a zip file")
        yield path
    finally:
        path.unlink(missing_ok=True)


class _FollowHttpOnly(urllib.request.HTTPRedirectHandler):
    """Redirects to http(s) only (urllib would follow ftp:// too)."""

    def http_error_302(self, req, fp, code, msg, headers):
        target = urljoin(req.full_url, headers.get("location") or headers.get("uri") or "")
        scheme = urlsplit(target).scheme
        if scheme not in ("http", "https"):
            fp.close()
            raise OsvSourceError(f"{shown(req.full_url)}: redirected to {scheme or 'no'} URL; "
                                 "only http and https are followed")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _fetch(url: str, out: BinaryIO, max_mb: int, timeout: int) -> None:
    limit, deadline = max_mb * 1024 * 1024, time.monotonic() + timeout
    too_large = OsvSourceError(f"{shown(url)}: larger than {max_mb} MB (REGISTRY_OSV_DOWNLOAD_MAX_MB)")
    opener = urllib.request.build_opener(_FollowHttpOnly)
    request = urllib.request.Request(url, headers={"User-Agent": "smart-city-solution-registry (OSV refresh)"})
    try:
        with opener.open(request, timeout=min(timeout, READ_TIMEOUT)) as response:
            declared = response.headers.get("Content-Length") or ""
            if declared.isdigit() and int(declared) > limit:
                raise too_large
            size = 0
            while chunk := response.read1(CHUNK):  # whatever arrived, so the deadline holds for a slow drip
                size += len(chunk)
                if size > limit:
                    raise too_large
                if time.monotonic() > deadline:
                    raise OsvSourceError(f"{shown(url)}: not downloaded within {timeout} s "
                                         "(REGISTRY_OSV_DOWNLOAD_TIMEOUT)")
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise OsvSourceError(f"{shown(url)}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise OsvSourceError(f"{shown(url)}: cannot connect: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:  # a timeout, a reset, a body cut short
        raise OsvSourceError(f"{shown(url)}: the download broke off: {type(exc).__name__}: {exc}") from None
