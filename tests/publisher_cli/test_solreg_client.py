import hashlib
import time

import pytest

from publisher_cli.client import FilePart, MultipartBody, RegistryClient
from publisher_cli.errors import NetworkError, RegistryAnswerError

RELEASE = {"name": "parking-share", "version": "1.2.0", "state": "pending_review"}
UPLOAD = "/api/v1/solutions/parking-share/releases"


def client_for(stub, **kwargs):
    return RegistryClient(stub.url, "solreg_testtoken", backoff=0.01, **kwargs)


def test_sends_bearer_token_and_parses_json(stub):
    stub.on("GET", "/api/v1/whoami", (200, {"user": {"username": "kim"}}))
    assert client_for(stub).whoami() == {"user": {"username": "kim"}}
    assert stub.requests[0].headers["Authorization"] == "Bearer solreg_testtoken"


def test_retries_5xx_then_succeeds(stub, tmp_path):
    archive = tmp_path / "parking-share-1.2.0.tar.gz"
    archive.write_bytes(b"archive-bytes" * 1000)
    stub.on("POST", UPLOAD, (503, b"busy"), (503, b"busy"), (201, {"created": True, "release": RELEASE}))
    restarts = []
    created, release = client_for(stub).upload_release(
        "parking-share", archive, sha256="ab" * 32, on_restart=lambda: restarts.append(1))
    assert created is True and release == RELEASE
    uploads = stub.hits("POST", UPLOAD)
    assert len(uploads) == 3
    # Every attempt carried the complete body, not what was left of a consumed stream.
    assert len({len(u.body) for u in uploads}) == 1 and len(uploads[0].body) > 13000
    assert len(restarts) == 2


def test_gives_up_after_five_tries(stub):
    stub.on("GET", "/api/v1/whoami", (502, b"bad gateway"))
    with pytest.raises(NetworkError, match="502.*5 tries"):
        client_for(stub).whoami()
    assert len(stub.requests) == 5


def test_backoff_grows_exponentially(stub):
    stub.on("GET", "/api/v1/whoami", (500, b""))
    started = time.monotonic()
    with pytest.raises(NetworkError):
        RegistryClient(stub.url, backoff=0.05, max_tries=4).whoami()
    # Sleeps of 0.05 + 0.1 + 0.2 between the four tries.
    assert time.monotonic() - started >= 0.35


def test_no_retry_on_4xx_and_error_json_is_one_line(stub):
    stub.on("POST", UPLOAD, (400, {"errors": [
        {"code": "invalid-manifest", "detail": "version is not\nSemVer", "field": "version"},
        {"code": "missing-file", "detail": "sbom.cdx.json is missing", "field": None}]}))
    with pytest.raises(RegistryAnswerError) as caught:
        client_for(stub).json("POST", UPLOAD, json={})
    assert len(stub.requests) == 1
    error = caught.value
    assert str(error) == ("registry refused (400): version: version is not SemVer; "
                          "sbom.cdx.json is missing")
    assert (error.status, error.code, error.field) == (400, "invalid-manifest", "version")


def test_non_json_error_body(stub):
    stub.on("GET", "/api/v1/whoami", (401, b"<html>nope</html>"))
    with pytest.raises(RegistryAnswerError, match=r"\(401\): HTTP 401") as caught:
        client_for(stub).whoami()
    assert "account page" in caught.value.hint  # not "run `solreg login`": login itself asks whoami


def test_redirect_is_refused_not_followed(stub):
    stub.on("POST", UPLOAD, (301, b"", {"Location": "https://elsewhere.example/api"}))
    with pytest.raises(RegistryAnswerError, match="redirect to https://elsewhere.example/api"):
        client_for(stub).json("POST", UPLOAD, json={})
    assert len(stub.requests) == 1


def test_connection_errors_are_retried_then_reported():
    import socket

    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = RegistryClient(f"http://127.0.0.1:{port}", backoff=0.001, max_tries=3)
    with pytest.raises(NetworkError, match="cannot reach 127.0.0.1.*3 tries"):
        client.whoami()


def test_token_is_not_sent_to_other_origins(stub):
    stub.on("GET", "/blob", (200, b"x"))
    client = RegistryClient("http://localhost:1", "solreg_secret", backoff=0.001)
    client.fetch_bytes(f"{stub.url}/blob")
    assert "Authorization" not in stub.requests[0].headers


def test_relative_urls_resolve_against_the_registry(stub):
    stub.on("GET", "/files/a", (200, b"payload"))
    assert client_for(stub).fetch_bytes("/files/a") == b"payload"


def test_upload_is_valid_multipart_with_all_parts(stub, tmp_path, multipart):
    archive = tmp_path / "parking-share-1.2.0.tar.gz"
    archive.write_bytes(bytes(range(256)) * 300)
    provenance = tmp_path / "parking-share-1.2.0.provenance.json"
    provenance.write_bytes(b'{"p":1}')
    signature = tmp_path / "parking-share-1.2.0.provenance.dsse.json"
    signature.write_bytes(b'{"s":1}')
    stub.on("POST", UPLOAD, (200, {"created": False, "release": RELEASE}))
    progress = []
    created, _ = client_for(stub).upload_release(
        "parking-share", archive, sha256="cd" * 32, provenance=provenance, signature=signature,
        on_progress=progress.append)
    assert created is False
    recorded = stub.requests[0]
    assert "chunked" not in recorded.headers.get("Transfer-Encoding", "")
    assert int(recorded.headers["Content-Length"]) == len(recorded.body) == sum(progress)
    parts = multipart(recorded)
    assert parts["archive"] == (archive.name, archive.read_bytes())
    assert parts["provenance"] == (provenance.name, b'{"p":1}')
    assert parts["signature"] == (signature.name, b'{"s":1}')
    assert parts["sha256"] == (None, b"cd" * 32)


def test_multipart_body_streams_in_bounded_reads(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"z" * (3 * 1024 * 1024))
    body = MultipartBody({"a": "b"}, [FilePart("archive", big)])
    sizes = []
    while block := body.read(8192):
        sizes.append(len(block))
    assert max(sizes) == 8192
    assert sum(sizes) == len(body)


def test_download_streams_and_hashes(stub, tmp_path):
    data = b"tarball" * 50000
    stub.on("GET", "/dl", (200, data))
    target = tmp_path / "out" / "a.tar.gz"
    digest = client_for(stub).download("/dl", target)
    assert digest == hashlib.sha256(data).hexdigest()
    assert target.read_bytes() == data
    assert not list(target.parent.glob(".*part"))


def test_answer_missing_its_member_is_a_clear_error(stub):
    stub.on("GET", "/api/v1/solutions/parking-share/releases/1.2.0", (200, {"unexpected": True}))
    with pytest.raises(RegistryAnswerError, match="has no 'release'"):
        client_for(stub).release("parking-share", "1.2.0")


def test_non_json_success_is_a_clear_error(stub):
    stub.on("GET", "/api/v1/whoami", (200, b"<html>login page</html>"))
    with pytest.raises(RegistryAnswerError, match="non-JSON answer"):
        client_for(stub).whoami()
