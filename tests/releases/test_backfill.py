"""`flask log backfill`: what an upgraded registry published before it had a log is logged once, marked
as learnt late, and the audit chain is anchored."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from registry.db import db
from registry.review.models import Review
from registry.transparency.models import LeafKind, LogLeaf
from registry.transparency.service import published_leaf_index
from tests.review.conftest import package, release_of, reviewer  # noqa: F401  (fixtures reused)

BEFORE_THE_LOG = datetime(2025, 3, 2, 9, 30, tzinfo=UTC)


def _published_before_the_log(release, reviewer, *, state: str = "published", reason: str | None = None):  # noqa: F811
    """As rows a registry without a log holds: published by a decision that appended no leaf."""
    db.session.add(Review(release_id=release.id, reviewer_id=reviewer.id, decision="approve", comment="승인합니다"))
    release.state, release.published_at, release.yank_reason = state, BEFORE_THE_LOG, reason
    db.session.commit()
    return release


def _leaves() -> list[dict]:
    return [json.loads(leaf.data) for leaf in db.session.scalars(select(LogLeaf).order_by(LogLeaf.index))]


def test_releases_published_before_the_log_are_logged_once_and_marked_backfilled(app, release_of, reviewer):  # noqa: F811
    old = _published_before_the_log(release_of("1.0.0"), reviewer)
    yanked = _published_before_the_log(release_of("1.1.0"), reviewer, state="yanked",
                                       reason="개인정보 노출 위험이 있어 회수합니다")
    assert published_leaf_index(old.id) is None  # `solreg verify` could not prove it
    runner = app.test_cli_runner()

    result = runner.invoke(args=["log", "backfill"])
    assert result.exit_code == 0, result.output
    assert "backfilled: 2 releases, 1 yanks" in result.output

    leaves = _leaves()
    assert [leaf["kind"] for leaf in leaves] == ["release.published", "release.published", "release.yanked",
                                                 "audit.anchor"]
    first = leaves[0]
    assert (first["solution"], first["version"], first["sha256"]) == ("parking-share", "1.0.0", old.sha256)
    assert first["backfilled"] is True and first["happened_at"].startswith("2025-03-02T09:30")
    assert first["approver"] == reviewer.username
    assert leaves[2]["reason"] == "개인정보 노출 위험이 있어 회수합니다" and leaves[2]["happened_at"] is None
    assert published_leaf_index(old.id) == 0 and published_leaf_index(yanked.id) == 1

    again = runner.invoke(args=["log", "backfill"])
    assert again.exit_code == 0 and "nothing to backfill" in again.output
    assert len(_leaves()) == 4  # nothing appended twice, not even an anchor

    verified = runner.invoke(args=["log", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "transparency log intact: 4 leaves" in verified.output and "audit chain intact" in verified.output


def test_releases_the_log_already_has_are_left_alone(app, release_of, reviewer):  # noqa: F811
    from registry.review import service as review

    release = release_of("1.2.0")
    assert review.decide(reviewer, release, "approve").published
    db.session.commit()
    before = _leaves()
    assert [leaf["kind"] for leaf in before] == [LeafKind.RELEASE_PUBLISHED.value]

    result = app.test_cli_runner().invoke(args=["log", "backfill"])
    assert result.exit_code == 0, result.output
    assert "nothing to backfill" in result.output
    assert [leaf["kind"] for leaf in _leaves()] == ["release.published", "audit.anchor"]  # the chain is anchored
