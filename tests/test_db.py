"""Reads of the public catalog go to the read replica (REGISTRY_DATABASE_REPLICA_URL) when one is
configured: anonymous GETs of views marked `replica_reads`, and only their SELECTs. Everything else
reads and writes the primary.

Two databases of the test's engine stand for primary and replica; they differ on purpose (the
replica holds a published solution the primary does not), so each answer shows which one served it.
"""

from __future__ import annotations

import pytest

from registry.accounts import service as accounts
from registry.db import REPLICA, db
from registry.review import service as review
from tests.conftest import _truncate_all, migrated_postgres_database, second_database_url
from tests.helpers import login
from tests.review.conftest import package, release_of, reviewer  # noqa: F401  (fixtures reused)


@pytest.fixture(scope="session")
def postgres_primary_url(tmp_path_factory, worker_id) -> str:
    return migrated_postgres_database(f"{worker_id}_primary", tmp_path_factory)


@pytest.fixture
def routed(app, app_config, db_url, make_app, request, release_of, reviewer):  # noqa: F811
    """The test's `app` database becomes the replica, holding parking-share 1.2.0 published; the routed
    app's primary is an empty database of the same engine."""
    release = release_of("1.2.0")
    assert review.decide(reviewer, release, "approve").published
    db.session.commit()
    primary_url = second_database_url(request, "primary", "postgres_primary_url")
    routed_app = make_app({**app_config, "DATABASE_URL": primary_url, "DATABASE_REPLICA_URL": db_url})
    yield routed_app
    with routed_app.app_context():
        if db.engine.dialect.name == "postgresql":
            _truncate_all(db.engine)


def test_anonymous_catalog_reads_come_from_the_replica(routed):
    client = routed.test_client()
    found = client.get("/api/v1/solutions?q=주차").json
    assert [hit["name"] for hit in found["results"]] == ["parking-share"]
    assert client.get("/solutions/parking-share").status_code == 200
    # Not a catalog read: the release endpoint reads the primary, which has no such solution.
    assert client.get("/api/v1/solutions/parking-share/releases/1.2.0").status_code == 404


def test_signed_in_users_and_tokens_read_the_primary(routed):
    with routed.app_context():
        kim = accounts.create_user("kim", "kim@example.org", "correct-horse-1")
        org = accounts.create_org("suwon", "수원시", "municipality")
        accounts.add_member(org, kim, "owner")
        token = accounts.issue_token(kim, org, ["read"]).raw
        db.session.commit()
    client = routed.test_client()
    assert login(client, "kim").status_code == 302
    assert client.get("/solutions/parking-share").status_code == 404  # what the primary holds
    tokened = routed.test_client().get("/api/v1/solutions?q=주차", headers={"Authorization": f"Bearer {token}"})
    assert tokened.status_code == 200 and tokened.json["total"] == 0
    assert routed.test_client().get("/api/v1/solutions?q=주차").json["total"] == 1  # anonymous: the replica


def test_without_a_replica_everything_reads_the_primary(app, release_of, reviewer):  # noqa: F811
    release = release_of("1.2.0")
    assert review.decide(reviewer, release, "approve").published
    db.session.commit()
    assert REPLICA not in db.engines
    assert app.test_client().get("/api/v1/solutions?q=주차").json["total"] == 1
