"""Scheduled work: the OSV refresh's interval, the spool clean-up, reminders to reviewers, and what each
run leaves on /healthz. The periodic tasks are called as the worker's scheduler would start them."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from registry.accounts.models import User
from registry.db import db, utcnow
from registry.jobs.runs import ScheduledRun
from registry.notifications.models import Notification, OutboxEmail
from registry.releases.models import Release
from registry.review.models import ReviewReminder
from registry.review.reminders import _mark_reminded, remind_reviewers
from registry.sbom.models import Vulnerability
from registry.sbom.refresh import OsvSourceError, refresh_if_due
from registry.storage import storage
from tests.sbom.conftest import OSV


@pytest.fixture
def queue_url(tmp_path) -> str:
    """The tasks are called directly here: the queue's kind does not matter, one is enough."""
    return f"sqlite:///{tmp_path / 'queue.db'}"


@pytest.fixture
def jobs(app):
    return app.extensions["jobs"]


def run_of(name: str) -> ScheduledRun | None:
    db.session.rollback()  # see what the job committed in its own app context
    return db.session.get(ScheduledRun, name)


def stored_ids() -> list[str]:
    return sorted(db.session.scalars(select(Vulnerability.id)))


# --- what runs when ---------------------------------------------------------------------------


def test_the_worker_schedules_each_task_at_its_minute(jobs):
    def due_at(minute: int) -> set[str]:
        return {task.name for task in jobs.huey.read_periodic(datetime(2025, 3, 4, 10, minute))}

    assert due_at(5) == {"drain", "anchor_audit", "count_downloads", "refresh_osv"}
    assert due_at(25) == {"drain", "anchor_audit", "count_downloads", "clean_spool"}
    assert due_at(45) == {"drain", "anchor_audit", "count_downloads", "remind_reviewers"}
    assert due_at(6) == {"drain", "anchor_audit", "count_downloads"}


# --- the OSV refresh's interval --------------------------------------------------------------


@pytest.fixture
def osv_source(app, tmp_path):
    """A local OSV directory as REGISTRY_OSV_SOURCE, refreshed every 24 hours."""
    source = tmp_path / "osv-share"
    source.mkdir()
    shutil.copy(OSV / "refresh" / "GHSA-9hjg-9r4m-mvj7.json", source)
    app.config.update(OSV_SOURCE=str(source), OSV_REFRESH_HOURS=24)
    return source


def test_a_refresh_not_due_does_nothing_and_a_due_one_imports(app, jobs, osv_source):
    jobs.refresh_osv.call_local()
    first = run_of("refresh_osv")
    assert first.status == "ok" and first.summary["imported"] == 1 and stored_ids() == ["GHSA-9hjg-9r4m-mvj7"]

    shutil.copy(OSV / "refresh" / "GHSA-cpwx-vrp4-4pq7.json", osv_source)  # the share got a new record
    jobs.refresh_osv.call_local()  # an hour later: not due
    assert stored_ids() == ["GHSA-9hjg-9r4m-mvj7"]
    assert run_of("refresh_osv").finished_at == first.finished_at  # not due is not a run

    db.session.execute(update(ScheduledRun).values(succeeded_at=utcnow() - timedelta(hours=24, minutes=1)))
    db.session.commit()
    jobs.refresh_osv.call_local()  # a day after the last success: due
    assert stored_ids() == ["GHSA-9hjg-9r4m-mvj7", "GHSA-cpwx-vrp4-4pq7"]
    again = run_of("refresh_osv")
    assert again.summary == {"records": 2, "imported": 1, "updated": 0, "unchanged": 1, "withdrawn": 0,
                             "duplicates": 0, "failed_files": 0}


@pytest.mark.parametrize("setting", [{"OSV_REFRESH_HOURS": 0}, {"OSV_SOURCE": ""}])
def test_a_refresh_turned_off_does_nothing(app, jobs, osv_source, setting):
    app.config.update(setting)
    jobs.refresh_osv.call_local()
    assert stored_ids() == [] and run_of("refresh_osv").finished_at is None


def test_a_refresh_another_worker_is_running_is_not_started_twice(app, osv_source):
    assert refresh_if_due() is not None  # claimed and imported; its job has not recorded the end yet
    db.session.commit()
    assert refresh_if_due() is None  # another worker's scheduler fires meanwhile: held since a moment ago
    assert refresh_if_due(now=utcnow() + timedelta(hours=7)) is not None  # the holder was lost with its worker


def test_a_failed_refresh_is_recorded_and_tried_again_next_hour(app, jobs, client, tmp_path):
    app.config["OSV_SOURCE"] = str(tmp_path / "unmounted-share")
    with pytest.raises(OsvSourceError):
        jobs.refresh_osv.call_local()
    run = run_of("refresh_osv")
    assert run.status == "failed" and run.succeeded_at is None and run.started_at is None
    assert run.error == f"OsvSourceError: {tmp_path / 'unmounted-share'}: no such file or directory (REGISTRY_OSV_SOURCE)"
    shown = client.get("/healthz").json["scheduled"]["refresh_osv"]
    assert shown["status"] == "failed" and "unmounted" not in str(shown)  # /healthz is public: no reason

    app.config["OSV_SOURCE"] = str(OSV / "refresh")  # the share is mounted again
    jobs.refresh_osv.call_local()
    shown = client.get("/healthz").json["scheduled"]["refresh_osv"]
    assert shown["status"] == "ok" and shown["succeeded_at"] == shown["finished_at"] and shown["records"] == 2


# --- the spool clean-up ------------------------------------------------------------------------


def test_spool_files_older_than_the_setting_are_removed(app, jobs):
    spool = storage().spool_directory()
    hours_ago = time.time() - 7 * 3600
    for name in (".upload-interrupted", "kept-not-a-spool-file"):
        path = os.path.join(spool, name)
        open(path, "wb").close()
        os.utime(path, (hours_ago, hours_ago))
    open(os.path.join(spool, ".upload-arriving"), "wb").close()  # a request writing it now

    jobs.clean_spool.call_local()
    assert sorted(os.listdir(spool)) == [".upload-arriving", "kept-not-a-spool-file"]
    assert run_of("clean_spool").summary == {"removed": 1}

    app.config["SPOOL_MAX_AGE_HOURS"] = 8  # an operator who allows longer uploads
    os.utime(os.path.join(spool, ".upload-arriving"), (hours_ago, hours_ago))
    jobs.clean_spool.call_local()
    assert ".upload-arriving" in os.listdir(spool) and run_of("clean_spool").summary == {"removed": 0}


# --- reminders to reviewers -------------------------------------------------------------------


@pytest.fixture
def reviewers(make_user) -> list[User]:
    return [make_user("simsa", role="reviewer"), make_user("simsa2", role="reviewer"), make_user("gwanri", role="admin")]


def waiting_since(release: Release, days: float) -> Release:
    release.created_at = utcnow() - timedelta(days=days)
    db.session.commit()
    return release


@pytest.fixture
def queue(publish, reviewers):
    """parking-share 1.1.0 waiting 4 days, 1.2.0 waiting 1 day, 1.0.0 published 10 days ago."""
    waiting_since(publish("parking-share", "1.0.0"), 10)
    old = waiting_since(publish("parking-share", "1.1.0", pending=True), 4)
    waiting_since(publish("parking-share", "1.2.0", pending=True), 1)
    return old


def reminders() -> list[tuple[str, str]]:
    db.session.rollback()
    query = (select(User.username, Notification.message).join(User, User.id == Notification.user_id)
             .where(Notification.kind == "review.reminder").order_by(Notification.id))
    return [tuple(row) for row in db.session.execute(query)]


def test_each_reviewer_is_reminded_once_of_a_release_waiting_four_days(app, jobs, queue):
    jobs.remind_reviewers.call_local()
    expected = "3일 넘게 심사를 기다리는 릴리스 1개: parking-share 1.1.0"  # not 1.2.0 (1 day), not 1.0.0 (published)
    assert reminders() == [("simsa", expected), ("simsa2", expected), ("gwanri", expected)]
    mails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.subject.startswith("심사 알림"))).all()
    assert sorted(m.to for m in mails) == ["gwanri@example.org", "simsa2@example.org", "simsa@example.org"]
    assert {m.subject for m in mails} == {"심사 알림: 기다리는 릴리스 1개"}
    assert all("/review/" in m.body and "--- English ---" in m.body for m in mails)
    assert run_of("remind_reviewers").summary == {"releases": 1, "reviewers": 3}

    jobs.remind_reviewers.call_local()  # an hour later, the same day: nothing
    assert len(reminders()) == 3 and run_of("remind_reviewers").summary == {"releases": 0, "reviewers": 0}


def test_a_release_still_waiting_a_day_later_is_reminded_again(app, queue):
    remind_reviewers()
    db.session.commit()
    assert remind_reviewers(now=utcnow() + timedelta(days=1, minutes=1)) == {"releases": 1, "reviewers": 3}
    db.session.commit()
    # Two days on, 1.2.0 has waited more than 3 days too.
    assert remind_reviewers(now=utcnow() + timedelta(days=2, hours=1)) == {"releases": 2, "reviewers": 3}
    db.session.commit()
    assert [message for user, message in reminders() if user == "simsa"][-1] == \
        "3일 넘게 심사를 기다리는 릴리스 2개: parking-share 1.1.0, parking-share 1.2.0"


def test_a_run_that_lost_the_race_to_another_worker_reminds_nobody(app, queue):
    stale = utcnow() - timedelta(days=2)
    db.session.add(ReviewReminder(release_id=queue.id, reminded_at=utcnow()))  # the other worker's reminder
    db.session.commit()
    assert _mark_reminded(queue.id, stale, utcnow()) is False  # what this run read before the other wrote


def test_decided_releases_and_reminders_turned_off_remind_nobody(app, queue):
    app.config["REVIEW_REMIND_DAYS"] = 0
    assert remind_reviewers() is None
    app.config["REVIEW_REMIND_DAYS"] = 3
    db.session.execute(update(Release).values(state="rejected"))
    db.session.commit()
    assert remind_reviewers() == {"releases": 0, "reviewers": 0}
    assert reminders() == [] and db.session.scalar(select(func.count()).select_from(ReviewReminder)) == 0


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("variable, value, says", [
    ("REGISTRY_OSV_REFRESH_HOURS", "daily", "REGISTRY_OSV_REFRESH_HOURS='daily': expected a whole number"),
    ("REGISTRY_SPOOL_MAX_AGE_HOURS", "0", "REGISTRY_SPOOL_MAX_AGE_HOURS=0: a whole number of at least 1"),
    ("REGISTRY_REVIEW_REMIND_DAYS", "-1", "REGISTRY_REVIEW_REMIND_DAYS=-1: a whole number of at least 0"),
    ("REGISTRY_OSV_SOURCE", "ftp://mirror/all.zip", "REGISTRY_OSV_SOURCE='ftp://mirror/all.zip': an http(s) URL"),
])
def test_a_bad_setting_stops_the_start_in_one_line(monkeypatch, tmp_path, variable, value, says):
    from registry.config import load_settings

    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError) as refused:
        load_settings(str(tmp_path), {"SECRET_KEY": "x"})
    assert str(refused.value).startswith(says) and "\n" not in str(refused.value)


def test_the_default_schedule(tmp_path):
    from registry.config import load_settings

    settings = load_settings(str(tmp_path), {"SECRET_KEY": "x"})
    assert (settings["OSV_SOURCE"], settings["OSV_REFRESH_HOURS"], settings["SPOOL_MAX_AGE_HOURS"],
            settings["REVIEW_REMIND_DAYS"]) == ("", 24, 6, 3)
