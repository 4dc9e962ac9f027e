"""Uploads whose SBOM is larger than what the archive reader keeps in memory (1 MiB), up to the cap.

The two accepted cases go through a real server process (tests/e2e/conftest.py's Registry);
the refusals run in-process, where the settings are changed per test.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
import requests
import yaml
from sqlalchemy import func, select

from registry.db import db
from registry.releases.models import Artifact, Release, Solution
from registry.sbom.models import Component
from tests.e2e.conftest import Registry
from tests.publishing.packages import build_archive, package_files
from tests.spec.sbom.realsbom import multiplied, xml_multiplied

ROOT = ("parking-share", "1.2.0")


def package_with(sbom: bytes, name: str = "sbom.cdx.json") -> bytes:
    files = package_files(*ROOT)
    del files["sbom.cdx.json"]
    manifest = yaml.safe_load(files.pop("solution.yaml"))
    manifest["sbom"] = name
    files.update({"solution.yaml": yaml.safe_dump(manifest, allow_unicode=True).encode(), name: sbom})
    return build_archive(files, root="parking-share-1.2.0")


@pytest.fixture
def server(tmp_path):
    registry = Registry(tmp_path / "registry", f"sqlite:///{tmp_path / 'registry.db'}")
    registry.flask("db", "upgrade")
    registry.flask("users", "create", "vendor", "--email", "vendor@example.org", input="vendor-password\n")
    registry.flask("orgs", "create", "hanbit", "--kind", "vendor", "--name", "한빛소프트")
    registry.flask("orgs", "add-member", "hanbit", "vendor", "--role", "owner")
    registry.token = registry.flask("tokens", "create", "vendor", "--org", "hanbit", "--scope", "publish").strip().splitlines()[-1]
    registry.database = tmp_path / "registry.db"
    registry.start()
    yield registry
    registry.stop()


def upload_to(server, archive: bytes) -> requests.Response:
    return requests.post(f"{server.url}/api/v1/solutions/parking-share/releases",
                         files={"archive": ("parking-share.tar.gz", archive)},
                         headers={"Authorization": f"Bearer {server.token}"}, timeout=300)


def stored_components(server) -> int:
    with sqlite3.connect(server.database) as connection:
        return connection.execute("select count(*) from components").fetchone()[0]


@pytest.mark.parametrize(("fixture", "copies", "at_least"), [
    ("cyclonedx-npm-1.4.cdx.json.gz", 3, 1024 * 1024),  # URL-heavy, spec 1.4: 2 MB
    ("cyclonedx-npm-1.7.cdx.json.gz", 31, 20 * 1024 * 1024),  # 21 MB
])
def test_large_sbom_is_accepted_by_the_real_server(server, fixture, copies, at_least):
    sbom = multiplied(fixture, copies, root=ROOT)
    assert len(sbom) > at_least
    response = upload_to(server, package_with(sbom))
    assert response.status_code == 201, response.text
    assert stored_components(server) == 482 * copies
    with sqlite3.connect(server.database) as connection:
        assert connection.execute("select size from artifacts where kind = 'sbom'").fetchone()[0] == len(sbom)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_nothing_left(app):
    assert count(Release) == count(Artifact) == count(Solution) == count(Component) == 0
    assert [p for p in Path(app.config["STORAGE_PATH"]).rglob("*") if p.is_file()] == []


def test_sbom_over_the_cap_is_refused_naming_the_cap(app, upload, vendor_token):
    app.config["SBOM_MAX_MB"] = 1
    response = upload(vendor_token, package_with(multiplied("cyclonedx-npm-1.4.cdx.json.gz", 2, root=ROOT)))
    assert response.status_code == 422, response.json
    error = response.json["errors"][0]
    assert error["code"] == "manifest-invalid" and error["field"] == "sbom"
    assert "at most 1,048,576 bytes" in error["detail"]
    assert_nothing_left(app)


def test_sbom_over_its_time_budget_is_refused(app, upload, vendor_token, monkeypatch):
    from registry.spec.sbom import budget

    app.config["SBOM_TIME_BUDGET_S"] = 30
    clock = iter(range(0, 1_000_000, 10))  # every look at the thread's CPU clock is ten seconds later
    monkeypatch.setattr(budget.time, "thread_time", lambda: next(clock))
    response = upload(vendor_token, package_with(multiplied("cyclonedx-npm-1.4.cdx.json.gz", 2, root=ROOT)))
    assert response.status_code == 422, response.json
    error = response.json["errors"][0]
    assert (error["code"], error["field"]) == ("sbom-time-budget", "sbom")
    assert "30 s" in error["detail"]
    assert_nothing_left(app)


def test_a_large_sbom_is_streamed_once_not_kept_in_memory(app, upload, vendor_token, monkeypatch):
    from registry.spec import package

    passes = []
    original = package.copy_member
    monkeypatch.setattr(package, "copy_member", lambda *args: passes.append(args[1]) or original(*args))
    sbom = multiplied("cyclonedx-npm-1.4.cdx.json.gz", 2, root=ROOT)
    response = upload(vendor_token, package_with(sbom))
    assert response.status_code == 201, response.json
    assert passes == ["sbom.cdx.json"]  # the manifest check and the SBOM parse share one spooled copy
    assert count(Component) == 964


def test_a_large_xml_sbom_is_stored_as_uploaded(app, upload, vendor_token):
    from registry.storage import storage

    sbom = xml_multiplied("cyclonedx-npm-1.7.cdx.xml.gz", 3, root=ROOT)  # 2 MB: read from its spool
    assert len(sbom) > 1024 * 1024
    response = upload(vendor_token, package_with(sbom, "sbom.cdx.xml"))
    assert response.status_code == 201, response.json
    artifact = db.session.scalar(select(Artifact).where(Artifact.kind == "sbom"))
    assert (artifact.sha256, artifact.size, artifact.media_type) == (
        hashlib.sha256(sbom).hexdigest(), len(sbom), "application/vnd.cyclonedx+xml")
    with storage().open(artifact.sha256) as stored:
        assert stored.read() == sbom
    assert count(Component) == 3 * 482
