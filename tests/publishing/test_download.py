"""Handing published downloads to the front proxy (X-Accel-Redirect) or to object storage (presigned URL)."""

from __future__ import annotations

import hashlib

import boto3
import pytest
import requests
from sqlalchemy import select

from registry.db import db
from registry.releases import states
from registry.releases.models import Release
from registry.releases.service import get_release
from registry.storage.base import blob_key
from tests.publishing.packages import archive

URL = "/api/v1/solutions/parking-share/releases/1.2.0/archive"


def _published(upload, token) -> bytes:
    data = archive()
    assert upload(token, data).status_code == 201
    states.transition_release(get_release("parking-share", "1.2.0"), "approve")
    db.session.commit()
    return data


def test_a_published_archive_is_handed_to_nginx_with_its_headers(app, client, upload, vendor_token):
    app.config["ACCEL_REDIRECT_PREFIX"] = "/_blobs/"
    data = _published(upload, vendor_token)
    digest = hashlib.sha256(data).hexdigest()
    with client.get(URL) as response:
        assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Accel-Redirect"] == f"/_blobs/{blob_key(digest)}"
    assert response.headers["Content-Disposition"] == "attachment; filename=parking-share-1.2.0.tar.gz"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Repr-Digest"].startswith("sha-256=:")
    assert db.session.scalar(select(Release.download_count)) == 1  # still counted


def test_pending_and_yanked_archives_are_never_handed_off(app, client, upload, vendor_token):
    app.config["ACCEL_REDIRECT_PREFIX"] = "/_blobs/"
    data = archive()
    upload(vendor_token, data)
    pending = client.get(URL, headers={"Authorization": f"Bearer {vendor_token}"})
    assert pending.status_code == 200 and pending.data == data and "X-Accel-Redirect" not in pending.headers
    release = get_release("parking-share", "1.2.0")
    states.transition_release(release, "approve")
    db.session.commit()
    response = client.post("/api/v1/solutions/parking-share/releases/1.2.0/yank",
                           json={"reason": "보안 결함"}, headers={"Authorization": f"Bearer {vendor_token}"})
    assert response.status_code == 200, response.json
    yanked = client.get(URL)
    assert yanked.data == data and "X-Accel-Redirect" not in yanked.headers and yanked.headers["Yank-Reason"]


def test_a_download_is_counted_after_its_last_byte_never_before_the_first(client, upload, vendor_token):
    data = _published(upload, vendor_token)
    response = client.get(URL)
    assert response.status_code == 200 and response.data == data
    db.session.rollback()
    assert db.session.scalar(select(Release.download_count)) == 0  # nothing written while the body is sent
    response.close()
    db.session.rollback()  # a fresh read, past the snapshot of the one above
    assert db.session.scalar(select(Release.download_count)) == 1


def test_a_count_that_cannot_be_written_leaves_the_download_intact(app, client, upload, vendor_token, monkeypatch, caplog):
    from registry.publishing import api

    data = _published(upload, vendor_token)

    def broken(statement):
        raise RuntimeError("데이터베이스 잠김")
    monkeypatch.setattr(api, "write_apart", broken)
    with client.get(URL) as response:
        assert response.status_code == 200 and response.data == data
    assert "not counted" in caplog.text


def test_without_the_setting_the_worker_sends_the_bytes(client, upload, vendor_token):
    data = _published(upload, vendor_token)
    response = client.get(URL)
    assert response.data == data and "X-Accel-Redirect" not in response.headers


def test_a_blob_storage_cannot_read_is_503_and_no_download(app, client, upload, vendor_token):
    from pathlib import Path

    data = _published(upload, vendor_token)
    (Path(app.config["STORAGE_PATH"]) / blob_key(hashlib.sha256(data).hexdigest())).unlink()
    response = client.get(URL)
    assert response.status_code == 503 and response.mimetype == "application/json"
    error = response.json["errors"][0]
    assert error["code"] == "storage-unavailable" and "is missing or unreadable" in error["detail"] and error["hint"]
    assert db.session.scalar(select(Release.download_count)) == 0


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def app_config(app_config, s3_endpoint, request):
    if "s3" not in request.node.name:
        return app_config
    bucket = "downloads-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=bucket)
    return {**app_config, "STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": s3_endpoint, "S3_BUCKET": bucket,
            "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test",
            "S3_PRESIGNED_DOWNLOADS": True}


def test_s3_published_archive_redirects_to_a_presigned_url(client, upload, vendor_token):
    data = _published(upload, vendor_token)
    response = client.get(URL)
    assert response.status_code == 302 and response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Repr-Digest"].startswith("sha-256=:")
    fetched = requests.get(response.headers["Location"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == data
    assert fetched.headers["Content-Disposition"] == "attachment; filename=parking-share-1.2.0.tar.gz"


def test_s3_pending_archive_is_sent_by_the_worker(client, upload, vendor_token):
    data = archive()
    upload(vendor_token, data)
    response = client.get(URL, headers={"Authorization": f"Bearer {vendor_token}"})
    assert response.status_code == 200 and response.data == data


def test_s3_public_files_are_copied_into_the_bucket_and_the_fallback_redirects_there(app, client, upload, vendor_token):
    from registry.storage import storage
    from registry.storage.base import public_key

    data = _published(upload, vendor_token)
    key = public_key(hashlib.sha256(data).hexdigest(), "parking-share-1.2.0.tar.gz")
    assert key in set(storage().public_keys())  # the public_files handler copied it to files/ in the bucket
    assert client.get("/api/v1/solutions/parking-share/releases/1.2.0").json["release"]["archive_url"] == \
        f"http://localhost/files/{key}"
    response = client.get(f"/files/{key}")
    assert response.status_code == 302 and response.headers["Cache-Control"] == "public, max-age=300"
    fetched = requests.get(response.headers["Location"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == data
    response.close()
    db.session.rollback()
    assert db.session.scalar(select(Release.download_count)) == 1  # counted as the API route's redirect is
    states.transition_release(get_release("parking-share", "1.2.0"), "yank", reason="개인정보 노출")
    db.session.commit()
    assert key in set(storage().public_keys())  # yanked: still downloadable
