"""Fixtures of the review tests: reviewers with tokens, and releases uploaded through the real API."""

from __future__ import annotations

import pytest

from registry.db import db
from registry.releases.models import Release
from tests.publishing.packages import build_archive, package_files, sbom


@pytest.fixture
def reviewer(make_user):
    return make_user("reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")


@pytest.fixture
def reviewer2(make_user):
    return make_user("reviewer2", role="reviewer", org="agency", org_kind="agency", member_role="member")


@pytest.fixture
def reviewer_token(reviewer, make_token):
    return make_token(reviewer, "agency", ["review"])


def package(name: str = "parking-share", version: str = "1.2.0", components=None, **changes) -> bytes:
    """A real package; `components` [(name, version, licence)] replace the SBOM's default two."""
    files = package_files(name, version, **changes)
    if components is not None:
        files["sbom.cdx.json"] = sbom(name, version, components)
    return build_archive(files, root=f"{name}-{version}")


@pytest.fixture
def release_of(upload, vendor_token):
    """Upload a version through the real API (manifest changes as keywords) and return its Release row."""

    def _release(version: str = "1.2.0", components=None, *, name: str = "parking-share", token: str | None = None,
                 **changes) -> Release:
        response = upload(token or vendor_token, package(name, version, components, **changes), name=name)
        assert response.status_code == 201, response.json
        return db.session.get(Release, response.json["release"]["id"])

    return _release


@pytest.fixture
def pending(release_of) -> Release:
    return release_of()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
