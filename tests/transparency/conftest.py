"""Fixtures of the transparency tests: a log key of the test's own, and releases published by review."""

from __future__ import annotations

import pytest

from registry import create_app
from registry.db import db
from registry.review import service as review
from tests.conftest import _truncate_all, migrated_postgres_database, second_database_url
from tests.review.conftest import package, release_of, reviewer  # noqa: F401  (fixtures reused)


@pytest.fixture
def app_config(app_config, tmp_path) -> dict:
    return {**app_config, "LOG_KEY_PATH": str(tmp_path / "log_key"), "LOG_ORIGIN": "solreg.test/log"}


@pytest.fixture
def publish(release_of, reviewer):  # noqa: F811
    """Upload through the API and approve through the review service: the release is published."""

    def _publish(version: str = "1.2.0", **kw):
        release = release_of(version, **kw)
        assert review.decide(reviewer, release, "approve").published
        db.session.commit()
        return release

    return _publish


@pytest.fixture(scope="session")
def postgres_mirror_url(tmp_path_factory, worker_id) -> str:
    """The mirror's database of this test worker on the configured PostgreSQL server, migrated once."""
    return migrated_postgres_database(f"{worker_id}_mirror", tmp_path_factory)


@pytest.fixture
def mirror_app(app_config, request, tmp_path):
    """A second registry, the mirror, on the origin's engine: a database, blob storage and log key of its own."""
    url = second_database_url(request, "mirror", "postgres_mirror_url")
    mirror = create_app({**app_config, "DATABASE_URL": url, "STORAGE_PATH": str(tmp_path / "mblobs"),
                         "LOG_KEY_PATH": str(tmp_path / "mirror_key"), "LOG_ORIGIN": "mirror.test/log"})
    with mirror.app_context():
        if db.engine.dialect.name == "postgresql":
            _truncate_all(db.engine)
    yield mirror
    with mirror.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            _truncate_all(db.engine)
        engine = db.engine
    engine.dispose()  # after the context's teardown, which may still connect (tests/conftest.py `app`)
