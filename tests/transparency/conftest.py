"""Fixtures of the transparency tests: a log key of the test's own, and releases published by review."""

from __future__ import annotations

import pytest

from registry.db import db
from registry.review import service as review
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
