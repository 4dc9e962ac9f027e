"""Online mirrors: `flask mirror pull URL` fetches the origin's bundle over HTTP and imports it, all or nothing.

The origin is the test's `app`, served by a threaded werkzeug server on 127.0.0.1; the mirror is a second
app on the same engine (tests/transparency/conftest.py). Hostile origins first: redirects off http(s), too
large, too slow, a changed byte; then the first pull and an incremental one.
"""

from __future__ import annotations

import io
import socket
import tarfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from registry.db import db
from registry.mirror.pull import pull
from registry.mirror.service import MirrorRefused
from registry.releases.service import yank
from registry.storage import storage
from registry.transparency import service
from tests.transparency.test_mirror import _flip_first_blob_byte, _rewrite, _vendor_api_token, mirror_state

NOTHING = {"MirrorOrigin": 0, "MirrorLeaf": 0, "MirrorCheckpoint": 0, "Solution": 0, "Release": 0, "blobs": []}


@contextmanager
def serving(wsgi):
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class Recorder:
    """The origin app, recording each path and query it was asked for."""

    def __init__(self, app):
        self.app, self.asked = app, []

    def __call__(self, environ, start_response):
        self.asked.append(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
        return self.app(environ, start_response)


@pytest.fixture
def origin(app):
    recorder = Recorder(app)
    with serving(recorder) as url:
        recorder.url = url
        yield recorder


def pull_into(mirror_app, url: str, *args: str):
    with mirror_app.app_context():
        return mirror_app.test_cli_runner().invoke(args=["mirror", "pull", url, *args])


def _refused(result, text: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: pull refused: ") and text in result.output, result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/bundle.tar", "file:///etc/passwd"])
def test_a_redirect_off_http_is_not_followed(app, publish, mirror_app, target):
    publish()

    @Request.application
    def elsewhere(request):
        return Response(status=302, headers={"Location": target})

    with serving(elsewhere) as url:
        result = pull_into(mirror_app, url, "--origin-key", service.verifier().encode())
    _refused(result, "only http and https are followed")
    assert mirror_state(mirror_app) == NOTHING


def test_a_bundle_larger_than_the_cap_is_refused(app, publish, mirror_app, origin):
    publish()
    with mirror_app.app_context(), pytest.raises(MirrorRefused, match="more than the 4096 this mirror fetches"):
        pull(origin.url, origin_key=service.verifier().encode(), max_bytes=4096)
    head = app.test_client().get("/api/v1/log/checkpoint").data

    @Request.application
    def unannounced(request):  # no Content-Length: the cap is counted while reading
        return Response(iter([head]) if request.path.endswith("/checkpoint") else (b"x" * 1024 for _ in range(64)))

    with serving(unannounced) as url, mirror_app.app_context(), \
            pytest.raises(MirrorRefused, match="sends more than the 4096 bytes"):
        pull(url, origin_key=service.verifier().encode(), max_bytes=4096)
    assert mirror_state(mirror_app) == NOTHING


def test_an_origin_that_does_not_answer_or_drips_times_out(mirror_app):
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        with mirror_app.app_context(), pytest.raises(MirrorRefused, match="cannot fetch .*timed out"):
            pull(f"http://127.0.0.1:{silent.getsockname()[1]}", origin_key="k", timeout=0.5)

    def drip():
        for _ in range(20):
            time.sleep(0.1)
            yield b"x" * 16

    @Request.application
    def slow(request):  # each read in time, the whole far too slow
        return Response(drip())

    with serving(slow) as url, mirror_app.app_context(), \
            pytest.raises(MirrorRefused, match="took longer than REGISTRY_MIRROR_PULL_DEADLINE"):
        pull(url, origin_key="k", timeout=5, deadline=0.3)


def test_a_bundle_with_one_changed_byte_is_refused_and_nothing_is_written(app, publish, mirror_app, origin, tmp_path):
    publish()
    bundle = tmp_path / "bundle.tar"
    bundle.write_bytes(app.test_client().get("/api/v1/mirror/bundle").data)
    tampered = _rewrite(bundle, tmp_path / "bad.tar", _flip_first_blob_byte).read_bytes()
    head = app.test_client().get("/api/v1/log/checkpoint").data

    @Request.application
    def lying(request):
        return Response(head if request.path == "/api/v1/log/checkpoint" else tampered)

    with serving(lying) as url:
        result = pull_into(mirror_app, url, "--origin-key", service.verifier().encode())
    _refused(result, "its content does not have that sha256")
    assert mirror_state(mirror_app) == NOTHING


def test_the_first_pull_needs_the_origins_key(app, publish, mirror_app, origin):
    publish()
    _refused(pull_into(mirror_app, origin.url), "the first pull of solreg.test/log needs its log key")
    assert not any(path.startswith("/api/v1/mirror/") for path in origin.asked)
    _refused(pull_into(mirror_app, "ftp://127.0.0.1/"), "is not an http:// or https:// address")


def test_pulls_bring_the_origins_releases_then_only_what_is_new(app, publish, mirror_app, origin):
    first = publish("1.2.0")
    pulled = pull_into(mirror_app, origin.url + "/", "--origin-key", service.verifier().encode())
    assert pulled.exit_code == 0, pulled.output
    assert "pulled 1 releases and 1 leaves of solreg.test/log (signed head of 1 leaves)" in pulled.output
    assert "/api/v1/mirror/bundle?since=0" in origin.asked

    yank(_vendor_api_token(), first, "개인정보 노출 취약점")
    db.session.commit()
    publish("1.3.0")
    again = pull_into(mirror_app, origin.url)
    assert again.exit_code == 0, again.output
    assert "pulled 1 releases and 2 leaves of solreg.test/log (signed head of 3 leaves)" in again.output
    assert origin.asked[-1] == "/api/v1/mirror/bundle?since=1"

    web = mirror_app.test_client()
    old = web.get("/api/v1/solutions/parking-share/releases/1.2.0").json["release"]
    assert old["state"] == "yanked" and old["yank_reason"] == "개인정보 노출 취약점"
    new = web.get("/api/v1/solutions/parking-share/releases/1.3.0").json["release"]
    assert new["state"] == "published" and new["mirrored_from"] == "solreg.test/log"

    nothing_new = pull_into(mirror_app, origin.url)
    assert nothing_new.exit_code == 0 and "pulled 0 releases and 0 leaves" in nothing_new.output


def test_a_redirect_to_http_is_followed(app, publish, mirror_app, origin):
    publish()

    @Request.application
    def moved(request):
        return Response(status=301, headers={"Location": f"{origin.url}{request.full_path.rstrip('?')}"})

    with serving(moved) as url:
        result = pull_into(mirror_app, url, "--origin-key", service.verifier().encode())
    assert result.exit_code == 0 and "pulled 1 releases" in result.output, result.output


# --- the origin's endpoint ------------------------------------------------------------------------

def test_the_bundle_endpoint_streams_the_export_and_leaves_no_file(app, client, publish):
    assert client.get("/api/v1/mirror/bundle").status_code == 404  # the log is empty
    publish()
    response = client.get("/api/v1/mirror/bundle?since=0")
    assert response.status_code == 200 and response.mimetype == "application/x-tar"
    assert response.headers["X-Log-Tree-Size"] == "1" and int(response.headers["Content-Length"]) == len(response.data)
    with tarfile.open(fileobj=io.BytesIO(response.data)) as tar:
        names = tar.getnames()
    assert names[:2] == ["manifest.json", "leaves.jsonl"] and any(n.startswith("blobs/") for n in names)
    assert list(Path(storage().spool_directory()).iterdir()) == []
    for since, field in (("abc", "since"), ("9", "since")):
        refused = client.get(f"/api/v1/mirror/bundle?since={since}")
        assert refused.status_code == 400 and refused.json["errors"][0]["field"] == field
