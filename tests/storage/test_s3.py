"""The S3 backend against a real S3 API served on loopback by moto's server."""

import hashlib
import io

import boto3
import pytest

from registry.storage.s3 import S3Storage


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_settings(s3_endpoint, monkeypatch, request):
    bucket = "registry-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    settings = {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": s3_endpoint, "S3_BUCKET": bucket,
                "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test"}
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=bucket)
    return settings


def store(settings) -> S3Storage:
    return S3Storage(bucket=settings["S3_BUCKET"], endpoint_url=settings["S3_ENDPOINT_URL"],
                     region=settings["S3_REGION"], access_key_id="test", secret_access_key="test")


def test_content_addressed_round_trip(s3_settings):
    blobs = store(s3_settings)
    data = b"solution archive bytes" * 1000
    digest = hashlib.sha256(data).hexdigest()
    assert blobs.put(io.BytesIO(data), digest) is True
    assert blobs.put(io.BytesIO(data), digest) is False
    assert blobs.exists(digest)
    assert blobs.open(digest).read() == data
    assert blobs.verify(digest)
    assert list(blobs.digests()) == [digest]
    blobs.check()
    blobs.delete(digest)
    assert not blobs.exists(digest)


def test_unreachable_bucket_fails_the_health_check(s3_settings):
    blobs = S3Storage(bucket="no-such-bucket", endpoint_url=s3_settings["S3_ENDPOINT_URL"], region="us-east-1",
                      access_key_id="test", secret_access_key="test")
    from registry.storage import StorageError

    with pytest.raises(StorageError):
        blobs.check()


def test_s3_down_is_a_storage_error_for_every_operation():
    from registry.storage import StorageError

    down = S3Storage(bucket="registry", endpoint_url="http://127.0.0.1:1", region="us-east-1",
                     access_key_id="test", secret_access_key="test")
    digest = hashlib.sha256(b"x").hexdigest()
    for operation in (lambda: down.put(io.BytesIO(b"x"), digest), lambda: down.open(digest),
                      lambda: down.get_document("audit-head.json"), lambda: list(down.digests())):
        with pytest.raises(StorageError) as caught:
            operation()
        assert caught.value.status == 503 and caught.value.code == "storage-unavailable"
        assert "127.0.0.1:1" in caught.value.detail


def test_upload_and_download_through_the_api_on_s3(app_config, s3_settings, make_user, make_app):
    from registry.accounts import service
    from registry.db import db
    from tests.publishing.packages import archive

    app = make_app({**app_config, **s3_settings})
    with app.app_context():
        from tests.conftest import _truncate_all

        if db.engine.dialect.name == "postgresql":
            _truncate_all(db.engine)
        user = service.create_user("vendor", "v@example.org", "correct-horse-1")
        service.add_member(service.create_org("hanbit", "Hanbit", "vendor"), user, "owner")
        raw = service.issue_token(user, service.get_org("hanbit"), ["publish", "read"]).raw
        db.session.commit()
        db.session.commit()
        client = app.test_client()
        data = archive()
        response = client.post("/api/v1/solutions/parking-share/releases", data={"archive": (io.BytesIO(data), "a.tar.gz")},
                               headers={"Authorization": f"Bearer {raw}"})
        assert response.status_code == 201, response.json
        download = client.get("/api/v1/solutions/parking-share/releases/1.2.0/archive",
                              headers={"Authorization": f"Bearer {raw}"})
        assert download.status_code == 200 and download.data == data
        assert client.get("/healthz").json["storage"] == "ok"
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            _truncate_all(db.engine)


def test_named_documents_round_trip_apart_from_blobs(s3_settings):
    blobs = store(s3_settings)
    assert blobs.get_document("audit-head.json") is None
    blobs.put_document("audit-head.json", "첫 번째".encode())
    blobs.put_document("audit-head.json", "두 번째".encode())
    assert blobs.get_document("audit-head.json") == "두 번째".encode()
    assert list(blobs.digests()) == []
    blobs.delete_document("audit-head.json")
    assert blobs.get_document("audit-head.json") is None


def test_nested_documents_round_trip_and_stay_out_of_the_digests(s3_settings):
    blobs = store(s3_settings)
    assert blobs.get_document("transparency/checkpoints/latest") is None
    blobs.put_document("transparency/checkpoints/latest", "서명된 체크포인트\n".encode())
    blobs.put_document("transparency/checkpoints/latest", b"newer\n")
    assert blobs.get_document("transparency/checkpoints/latest") == b"newer\n"
    assert list(blobs.digests()) == []
    for bad in ("../escape", "transparency/../../x", ".hidden", "a//b", "/absolute"):
        with pytest.raises(ValueError):
            blobs.put_document(bad, b"")


def test_the_public_tree_is_a_prefix_of_the_bucket_with_its_download_headers(s3_settings):
    import requests

    blobs = store(s3_settings)
    data = "천안시 주차 공유".encode() * 100
    digest = hashlib.sha256(data).hexdigest()
    blobs.put(io.BytesIO(data), digest)
    assert blobs.publish(digest, "cheonan-parking-1.0.0.tar.gz", "application/gzip") is True
    assert blobs.publish(digest, "cheonan-parking-1.0.0.tar.gz", "application/gzip") is False
    key = f"{digest[:2]}/{digest[2:4]}/{digest}/cheonan-parking-1.0.0.tar.gz"
    assert list(blobs.public_keys()) == [key] and list(blobs.digests()) == [digest]
    # What docs/operations.md tells the operator: files/ (only) readable by anyone.
    import json

    boto3.client("s3", endpoint_url=s3_settings["S3_ENDPOINT_URL"], region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").put_bucket_policy(Bucket=s3_settings["S3_BUCKET"], Policy=json.dumps({
                     "Version": "2012-10-17", "Statement": [{
                         "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": f"arn:aws:s3:::{s3_settings['S3_BUCKET']}/files/*"}]}))
    fetched = requests.get(f"{s3_settings['S3_ENDPOINT_URL']}/{s3_settings['S3_BUCKET']}/files/{key}", timeout=10)
    assert fetched.content == data
    blob = requests.get(f"{s3_settings['S3_ENDPOINT_URL']}/{s3_settings['S3_BUCKET']}/sha256/{digest[:2]}/{digest[2:4]}/"
                        f"{digest}", timeout=10)
    assert blob.status_code == 403  # the blobs (of drafts too) stay private
    assert fetched.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert fetched.headers["Content-Disposition"] == "attachment; filename=cheonan-parking-1.0.0.tar.gz"
    assert fetched.headers["Content-Type"] == "application/gzip"
    assert blobs.unpublish(key) is True and blobs.unpublish(key) is False
    assert list(blobs.public_keys()) == [] and blobs.exists(digest)
    with pytest.raises(ValueError):
        blobs.publish(digest, "../x.tar.gz", "application/gzip")
