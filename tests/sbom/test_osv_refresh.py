"""The scheduled OSV refresh's reading of its source: a real HTTP server on 127.0.0.1 serving an OSV zip,
and every way a download can go wrong. Each leaves nothing in the instance folder and says what happened."""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from registry.db import db
from registry.sbom.models import Finding, Vulnerability
from registry.sbom.refresh import TEMP_PREFIX, OsvSourceError, refresh

from .conftest import OSV

ROOT = Path(__file__).resolve().parents[2]
PARKING_SHARE_SBOM = ROOT / "sample_solutions" / "parking-share" / "sbom.cdx.json"
# A real advisory for requests 2.32.3, which parking-share ships, and one for jinja2 below the 3.1.6 it ships.
ADVISORIES = sorted((OSV / "refresh").glob("*.json"))
MB = 1024 * 1024


def osv_zip() -> bytes:
    """An OSV all.zip as osv.dev publishes it: one JSON record per file at the top."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in ADVISORIES:
            archive.write(record, record.name)
    return buffer.getvalue()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        route = {
            "/PyPI/all.zip": lambda: self.send(200, osv_zip()),
            "/missing.zip": lambda: self.send(404, b"Not Found"),
            "/not-a-zip": lambda: self.send(200, "<html><body>점검 중입니다</body></html>".encode(), "text/html"),
            "/huge-declared.zip": lambda: self.send(200, b"\0" * (2 * MB)),
            "/huge-streamed.zip": lambda: self.send(200, b"\0" * (2 * MB), length=False),
            "/drip.zip": self.drip,
            "/moved": lambda: self.redirect("/PyPI/all.zip"),
            "/to-ftp": lambda: self.redirect("ftp://127.0.0.1/all.zip"),
            "/to-file": lambda: self.redirect("file:///etc/passwd"),
        }.get(self.path)
        if route is None:
            self.send(500, b"no such route in the test server")
        else:
            route()

    def send(self, status: int, body: bytes, content_type: str = "application/zip", length: bool = True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")  # the body ends when the connection does
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the registry stopped reading at its cap: what the test wants
        self.close_connection = True

    def redirect(self, location: str):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def drip(self):
        """A server that never finishes: one byte every 50 ms, far within any read timeout."""
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b"P")
                self.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def app_config(app_config):
    return {**app_config, "OSV_DOWNLOAD_MAX_MB": 1, "OSV_DOWNLOAD_TIMEOUT": 1}


@pytest.fixture
def instance(app, tmp_path) -> Path:
    """The app's instance folder, the test's own (downloads go there)."""
    folder = tmp_path / "instance"
    folder.mkdir()
    app.instance_path = str(folder)
    return folder


@pytest.fixture
def parking_share(make_release, ingest):
    release = make_release("parking-share", "1.0.0")
    ingest(release, PARKING_SHARE_SBOM.read_bytes())
    return release


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_url_is_downloaded_imported_matched_and_removed(app, server, instance, parking_share):
    report = refresh(f"{server}/PyPI/all.zip")
    db.session.commit()
    assert (report.imported, report.failed) == (2, [])
    findings = db.session.scalars(select(Finding).where(Finding.release_id == parking_share.id)).all()
    assert [(f.vulnerability_id, f.severity, f.fixed_versions) for f in findings] == [
        ("GHSA-9hjg-9r4m-mvj7", "medium", ["2.32.4"])]  # jinja2 3.1.6 is the fixed version: no finding
    assert leftovers(instance) == []


def test_a_redirect_to_http_is_followed(app, server, instance):
    assert refresh(f"{server}/moved").imported == 2
    assert leftovers(instance) == []


@pytest.mark.parametrize("path, says", [
    ("/missing.zip", "/missing.zip: HTTP 404 Not Found"),
    ("/not-a-zip", "/not-a-zip: the answer is not a zip file"),
    ("/huge-declared.zip", "larger than 1 MB (REGISTRY_OSV_DOWNLOAD_MAX_MB)"),
    ("/huge-streamed.zip", "larger than 1 MB (REGISTRY_OSV_DOWNLOAD_MAX_MB)"),
    ("/drip.zip", "not downloaded within 1 s (REGISTRY_OSV_DOWNLOAD_TIMEOUT)"),
    ("/to-ftp", "/to-ftp: redirected to ftp URL; only http and https are followed"),
    ("/to-file", "/to-file: redirected to file URL; only http and https are followed"),
])
def test_a_bad_download_says_why_and_leaves_nothing(app, server, instance, path, says):
    with pytest.raises(OsvSourceError) as refused:
        refresh(f"{server}{path}")
    assert says in str(refused.value) and str(refused.value).startswith(server)
    assert leftovers(instance) == []
    assert db.session.scalars(select(Vulnerability)).all() == []


def test_an_unreachable_server_says_so(app, instance):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OsvSourceError, match=rf"^http://127\.0\.0\.1:{port}/all\.zip: cannot connect: .*refused"):
        refresh(f"http://127.0.0.1:{port}/all.zip")
    assert leftovers(instance) == []


def test_credentials_and_query_stay_out_of_the_message(app, server, instance):
    with pytest.raises(OsvSourceError) as refused:
        refresh(server.replace("http://", "http://mirror:s3cret@") + "/missing.zip?token=abc")
    assert "s3cret" not in str(refused.value) and "token" not in str(refused.value)


def test_a_download_left_by_a_killed_worker_is_removed_by_the_next(app, server, instance):
    (instance / f"{TEMP_PREFIX}killed.zip").write_bytes(b"PK half a zip")
    (instance / "queue.db").write_bytes(b"")  # the instance folder's other files are not touched
    refresh(f"{server}/PyPI/all.zip")
    assert leftovers(instance) == ["queue.db"]


def test_a_local_directory_and_zip_are_sources_too(app, instance, tmp_path, parking_share):
    assert refresh(str(OSV / "refresh")).imported == 2
    db.session.commit()
    archive = tmp_path / "all.zip"
    archive.write_bytes(osv_zip())
    assert refresh(str(archive)).unchanged == 2


def test_a_missing_local_source_says_so(app, instance, tmp_path):
    with pytest.raises(OsvSourceError, match=r"osv-share: no such file or directory \(REGISTRY_OSV_SOURCE\)"):
        refresh(str(tmp_path / "osv-share"))
