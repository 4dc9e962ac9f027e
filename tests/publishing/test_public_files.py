"""The public tree /files/ab/cd/<sha256>/<name>: what is in it, what is never, and the fallback route."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from registry.db import db
from registry.releases import states
from registry.releases.files import sync_all, sync_release
from registry.releases.models import Release, ReleaseState
from registry.releases.service import get_release
from registry.storage.base import blob_key, public_key
from tests.publishing.packages import archive

NAME = "parking-share-1.2.0.tar.gz"
API = "/api/v1/solutions/parking-share/releases/1.2.0"


def _tree(app) -> Path:
    return Path(app.config["PUBLIC_FILES_PATH"])


def _keys(app) -> set[str]:
    return {p.relative_to(_tree(app)).as_posix() for p in _tree(app).glob("??/??/*/*")}


def _upload(upload, token) -> bytes:
    data = archive()
    response = upload(token, data)
    assert response.status_code == 201, response.json
    return data


def _approve():
    states.transition_release(get_release("parking-share", "1.2.0"), "approve")
    db.session.commit()  # the public_files handler runs after the commit (immediate queue)


def _published(upload, token) -> tuple[bytes, str]:
    data = _upload(upload, token)
    _approve()
    return data, hashlib.sha256(data).hexdigest()


def test_publishing_links_every_file_of_the_release_into_the_tree(app, client, upload, vendor_token):
    data, digest = _published(upload, vendor_token)
    key = public_key(digest, NAME)
    path = _tree(app) / key
    assert path.read_bytes() == data
    assert os.stat(path).st_ino == os.stat(Path(app.config["STORAGE_PATH"]) / blob_key(digest)).st_ino  # a hard link
    assert {k.rsplit("/", 1)[1] for k in _keys(app)} == {
        a.download_name for a in get_release("parking-share", "1.2.0").artifacts}
    release = client.get(API).json["release"]
    assert release["archive_url"] == f"http://localhost/files/{key}"  # what `solreg download` fetches


def test_the_fallback_route_serves_the_public_url_and_counts_after_the_last_byte(app, client, upload, vendor_token):
    data, digest = _published(upload, vendor_token)
    response = client.get(f"/files/{public_key(digest, NAME)}")
    assert response.status_code == 200 and response.data == data
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Disposition"] == f"attachment; filename={NAME}"
    assert response.headers["Repr-Digest"].startswith("sha-256=:")
    db.session.rollback()
    assert db.session.scalar(select(Release.download_count)) == 0  # not while the body is being sent
    response.close()
    db.session.rollback()
    assert db.session.scalar(select(Release.download_count)) == 1


def test_public_files_url_points_links_elsewhere(app, client, upload, vendor_token):
    app.config["PUBLIC_FILES_URL"] = "https://files.example.go.kr/files/"
    _, digest = _published(upload, vendor_token)
    assert client.get(API).json["release"]["archive_url"] == \
        f"https://files.example.go.kr/files/{public_key(digest, NAME)}"


@pytest.mark.parametrize("path", [
    "/files/../../registry.db", "/files/..%2F..%2Fregistry.db", "/files/%2e%2e/%2e%2e/secret_key",
    "/files/sha256", "/files/public", "/files/",
])
def test_paths_outside_the_tree_are_404(app, client, upload, vendor_token, path):
    _published(upload, vendor_token)
    response = client.get(path)
    assert response.status_code == 404


def test_a_key_that_is_not_exactly_the_registrys_is_404(app, client, upload, vendor_token):
    _, digest = _published(upload, vendor_token)
    sbom = next(a for a in get_release("parking-share", "1.2.0").artifacts if a.kind == "sbom")
    forged = [
        f"/files/{digest[:2]}/{digest[2:4]}/{digest}/parking-share-9.9.9.tar.gz",  # another name, same bytes
        f"/files/{digest[:2]}/{digest[2:4]}/{digest}/{sbom.download_name}",  # the SBOM's name on the archive
        f"/files/{sbom.sha256[:2]}/{sbom.sha256[2:4]}/{sbom.sha256}/{NAME}",  # the archive's name on the SBOM
        f"/files/00/00/{digest}/{NAME}",  # fan-out dirs that do not match
        f"/files/{digest[:2].upper()}/{digest[2:4]}/{digest.upper()}/{NAME}",
        f"/files/{digest[:2]}/{digest[2:4]}/{digest}/{NAME}/extra",
        f"/files/{digest[:2]}/{digest[2:4]}/{digest}/.{NAME}",
        f"/files/{digest[:2]}/{digest[2:4]}/{digest}/..",
        f"/files/{digest[:2]}/{digest[2:4]}/{digest}/{NAME}%00.json",
    ]
    for path in forged:
        assert client.get(path).status_code == 404, path


def test_unpublished_releases_are_never_in_the_tree_nor_served(app, client, upload, vendor_token):
    pending = _upload(upload, vendor_token)
    digest = hashlib.sha256(pending).hexdigest()
    url = f"/files/{public_key(digest, NAME)}"
    assert _keys(app) == set() and client.get(url).status_code == 404  # pending review
    # Even its own vendor, signed in with a token, does not get it here: /files/ is for public files only.
    assert client.get(url, headers={"Authorization": f"Bearer {vendor_token}"}).status_code == 404
    states.transition_release(get_release("parking-share", "1.2.0"), "reject")
    db.session.commit()
    assert _keys(app) == set() and client.get(url).status_code == 404  # rejected


def test_a_yanked_release_stays_downloadable_and_its_links_carry_the_warning(app, client, upload, vendor_token):
    data, digest = _published(upload, vendor_token)
    response = client.post(f"{API}/yank", json={"reason": "보안 결함"},
                           headers={"Authorization": f"Bearer {vendor_token}"})
    assert response.status_code == 200, response.json
    assert client.get(f"/files/{public_key(digest, NAME)}").data == data  # a URL handed out keeps working
    assert public_key(digest, NAME) in _keys(app)
    release = client.get(API).json["release"]
    assert release["archive_url"] == f"http://localhost{API}/archive"  # the route with the Yank-Reason header
    assert client.get(release["archive_url"]).headers["Yank-Reason"]


def test_a_release_that_is_no_longer_public_leaves_the_tree(app, client, upload, vendor_token):
    _, digest = _published(upload, vendor_token)
    assert _keys(app)
    # No transition takes a release out of the public states today (a yank keeps it public); whatever
    # later does (a takedown) goes through the same handler, which follows the state.
    release = get_release("parking-share", "1.2.0")
    release.state = ReleaseState.REJECTED.value
    db.session.commit()
    assert sync_release(release.id) == {"added": 0, "removed": len(release.artifacts)}
    assert _keys(app) == set() and not (_tree(app) / digest[:2]).exists()  # empty directories go too
    assert client.get(f"/files/{public_key(digest, NAME)}").status_code == 404


def test_the_tree_is_rebuilt_from_the_database(app, client, upload, vendor_token):
    _, digest = _published(upload, vendor_token)
    wanted = _keys(app)
    (_tree(app) / public_key(digest, NAME)).unlink()  # a lost job
    stray = _tree(app) / public_key("0" * 64, "stray-1.0.0.tar.gz")
    stray.parent.mkdir(parents=True)
    stray.write_bytes("남은 파일".encode())
    assert sync_all() == {"added": 1, "removed": 1, "files": len(wanted)}
    assert _keys(app) == wanted
    assert sync_all() == {"added": 0, "removed": 0, "files": len(wanted)}
