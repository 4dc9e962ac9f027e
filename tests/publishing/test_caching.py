"""Cache-Control on what serves a release: only a public release's bytes may sit in a shared cache."""

import pytest
from sqlalchemy import select

from registry.db import db
from registry.releases import states
from registry.releases.models import Release
from tests.helpers import login
from tests.publishing.packages import archive
from tests.publishing.test_signatures import envelope, registered_key, statement_for

BASE = "/api/v1/solutions/parking-share/releases/1.2.0"
KINDS = ("archive", "sbom", "provenance", "signature")
PRIVATE = {"private", "no-store"}
# Everything the API serves about one release, besides its files.
RELEASE_ROUTES = (BASE, f"{BASE}/components.csv", f"{BASE}/publiccode.yml", "/api/v1/solutions/parking-share",
                  "/api/v1/solutions/parking-share/overview")


def directives(response) -> set[str]:
    return {d.strip() for d in response.headers["Cache-Control"].split(",")}


@pytest.fixture
def release(upload, vendor_token) -> Release:
    """A signed release, so that it has all four artifacts."""
    key = registered_key()
    data = archive(summary={"ko": "캐시 시험용 주차 공유", "en": "parking share for the cache tests"})
    statement = statement_for(data)
    assert upload(vendor_token, data, provenance=statement, signature=envelope(key, statement)).status_code == 201
    return db.session.scalar(select(Release))


def move(release: Release, *events: str) -> None:
    for event in events:
        states.transition_release(release, event, reason="CVE-2026-1234")
    db.session.commit()


@pytest.mark.parametrize("events", [(), ("request_changes",), ("reject",)],
                         ids=["pending_review", "changes_requested", "rejected"])
def test_unpublished_releases_are_kept_by_no_cache(client, release, vendor_token, make_user, events):
    move(release, *events)
    auth = {"Authorization": f"Bearer {vendor_token}"}
    for kind in KINDS:
        response = client.get(f"{BASE}/{kind}", headers=auth)
        assert response.status_code == 200 and directives(response) == PRIVATE, kind
        again = client.get(f"{BASE}/{kind}", headers={**auth, "If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and directives(again) == PRIVATE, kind
    for path in RELEASE_ROUTES:
        response = client.get(path, headers=auth)
        assert response.status_code == 200 and directives(response) == PRIVATE, path
    assert client.get(f"{BASE}/archive").status_code == 404  # the public does not see it at all
    make_user("reviewer", role="reviewer")
    login(client, "reviewer")
    response = client.get(f"{BASE}/archive")
    assert response.status_code == 200 and directives(response) == PRIVATE


def test_published_files_are_public_and_immutable(client, release):
    move(release, "approve")
    for kind in KINDS:
        response = client.get(f"{BASE}/{kind}")
        assert response.status_code == 200 and directives(response) == {"public", "max-age=31536000", "immutable"}
    for path in RELEASE_ROUTES:  # what the registry says about a release changes (a yank, a new version)
        response = client.get(path)
        assert response.status_code == 200 and directives(response) == PRIVATE, path


def test_yanked_files_are_revalidated_on_every_use(client, release):
    move(release, "approve", "yank")
    for kind in KINDS:
        response = client.get(f"{BASE}/{kind}")
        assert response.status_code == 200 and directives(response) == {"public", "no-cache"}, kind
        again = client.get(f"{BASE}/{kind}", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and directives(again) == {"public", "no-cache"}, kind
    move(release, "unyank")
    assert directives(client.get(f"{BASE}/archive")) == {"public", "max-age=31536000", "immutable"}
