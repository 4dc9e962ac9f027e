"""Versions: SemVer precedence decides what is the same version and which release is latest; provenance tags
must name the very version uploaded."""

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.releases.models import Artifact, Release
from registry.releases.versions import latest_published
from registry.spec.provenance import build_statement, statement_bytes
from tests.publishing.packages import archive


def blobs(app) -> set[Path]:
    return {p for p in Path(app.config["STORAGE_PATH"]).rglob("*") if p.is_file() and not p.name.startswith(".")}


@pytest.mark.parametrize("first,second", [
    ("1.1.0", "1.1.0+evil"), ("1.1.0+build.7", "1.1.0"), ("2.0.0-rc.1", "2.0.0-rc.1+b2"),
])
def test_build_metadata_does_not_make_a_new_version(app, upload, vendor_token, first, second):
    assert upload(vendor_token, archive("parking-share", first)).status_code == 201
    before = blobs(app)
    response = upload(vendor_token, archive("parking-share", second, summary={"ko": "다른 내용의 바이트"}))
    assert response.status_code == 409
    [error] = response.json["errors"]
    assert (error["code"], error["field"]) == ("version-exists", "version")
    assert error["detail"].startswith(f"{second} has the same precedence as {first}, which exists")
    assert db.session.scalar(select(func.count()).select_from(Release)) == 1
    assert db.session.scalar(select(func.count()).select_from(Artifact)) == 2
    assert blobs(app) == before


def test_other_versions_are_still_new(upload, vendor_token):
    for version in ("1.1.0", "1.1.1", "1.1.1-rc.1", "1.10.0"):
        assert upload(vendor_token, archive("parking-share", version)).status_code == 201, version


def releases(*pairs: tuple[str, str]) -> list[Release]:
    return [Release(version=version, state=state) for version, state in pairs]


@pytest.mark.parametrize("pairs,latest", [
    ([("1.0.0", "published"), ("1.1.0", "yanked"), ("2.0.0-rc.1", "published"), ("2.1.0", "pending_review"),
      ("1.9.0", "rejected"), ("1.8.0", "changes_requested")], "1.0.0"),
    ([("1.2.0", "published"), ("1.10.0", "published"), ("1.9.0", "published")], "1.10.0"),
    # Nothing stable yet: the highest published pre-release is what there is to run.
    ([("0.9.0-beta.2", "published"), ("0.9.0-beta.10", "published"), ("1.0.0", "pending_review")], "0.9.0-beta.10"),
    ([("1.0.0", "yanked"), ("1.1.0", "pending_review")], None),
    ([], None),
])
def test_latest_is_the_highest_published_stable_release(pairs, latest):
    found = latest_published(releases(*pairs))
    assert (found.version if found else None) == latest


def test_the_api_reports_that_latest(client, upload, vendor_token):
    from registry.releases import states

    for version in ("1.0.0", "1.1.0", "2.0.0-rc.1", "2.1.0"):
        assert upload(vendor_token, archive("parking-share", version)).status_code == 201
    by_version = {r.version: r for r in db.session.scalars(select(Release))}
    for version in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        states.transition_release(by_version[version], "approve")
    states.transition_release(by_version["1.1.0"], "yank", reason="예약 오류")
    db.session.commit()
    assert client.get("/api/v1/solutions/parking-share").json["solution"]["latest_version"] == "1.0.0"
    assert client.get("/api/v1/solutions/parking-share/overview").json["version"] == "1.0.0"
    assert client.get("/api/v1/solutions?q=parking").json["results"][0]["latest_version"] == "1.0.0"


def statement(data: bytes, tag: str, name: str = "parking-share", version: str = "1.0.0") -> bytes:
    return statement_bytes(build_statement(
        archive_name=f"{name}-{version}.tar.gz", archive_sha256=hashlib.sha256(data).hexdigest(),
        repository="https://git.example.org/cheonan/parking-share", tag=tag, commit="a" * 40,
        builder_id="solreg/test", started_on=datetime(2026, 1, 2, tzinfo=timezone.utc)))


@pytest.mark.parametrize("tag", ["v11.0.0", "11.0.0", "v1.0.0-rc.1", "other-v1.0.0", "xparking-share-v1.0.0",
                                 "refs/tags/v11.0.0", "v1.0.0.1", "V1.0.0"])
def test_a_provenance_tag_for_another_version_is_refused(app, upload, vendor_token, tag):
    data = archive("parking-share", "1.0.0")
    response = upload(vendor_token, data, provenance=statement(data, tag))
    assert response.status_code == 422, tag
    [error] = response.json["errors"]
    assert (error["code"], error["field"]) == ("provenance-tag-mismatch", "provenance")
    assert tag in error["detail"] and "1.0.0" in error["detail"]
    assert db.session.scalar(select(Release)) is None and blobs(app) == set()


@pytest.mark.parametrize("tag", ["v1.0.0", "1.0.0", "parking-share-v1.0.0", "parking-share/v1.0.0",
                                 "refs/tags/v1.0.0"])
def test_a_provenance_tag_naming_the_version_is_accepted(upload, vendor_token, tag):
    data = archive("parking-share", "1.0.0")
    response = upload(vendor_token, data, provenance=statement(data, tag))
    assert response.status_code == 201, response.json
    assert response.json["release"]["provenance"]["tag"] == tag
