"""The consequences of events, each a named handler run as its own job after the event's commit, and
the periodic work the worker runs on its own (registry/jobs registers them)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from registry.db import db
from registry.events import RELEASE_EVENTS, STRAGGLER_AGE, EventName, EventOutbox, dispatch_pending

# Events that change what search shows.
_REINDEX = (EventName.RELEASE_PUBLISHED, EventName.RELEASE_YANKED, EventName.RELEASE_UNYANKED,
            EventName.SOLUTION_STATE_CHANGED, EventName.ADOPTION_CHANGED)


def reindex(event: EventOutbox) -> None:
    from registry.catalog.service import reindex_solution

    reindex_solution(event.payload["solution_id"])


def alerts(event: EventOutbox) -> None:
    """Adopters and followers hear about it (notifications, mail and webhooks, each queued as events)."""
    from registry.catalog import alerts as catalog_alerts
    from registry.releases.models import Release, Solution

    if event.name == EventName.SOLUTION_STATE_CHANGED:
        solution = db.session.get(Solution, event.payload["solution_id"])
        successor_id = event.payload.get("successor_id")
        if solution is not None:
            # The state and successor the change set, even if the solution has moved on since.
            catalog_alerts.notify_solution_state(solution, event.payload["state"],
                                                 db.session.get(Solution, successor_id) if successor_id else None,
                                                 event.payload.get("reason") or "")
        return
    release = db.session.get(Release, event.payload["release_id"])
    if release is None:
        return
    if event.name == EventName.RELEASE_PUBLISHED:
        catalog_alerts.on_release_published(release)
    elif event.name == EventName.RELEASE_YANKED:
        catalog_alerts.notify_yank(release)
    elif event.name == EventName.VULNERABILITIES_FOUND:
        catalog_alerts.notify_new_findings(release, event.payload["findings"])


def webhooks(event: EventOutbox) -> None:
    deliver_webhook(event.payload["delivery_id"])


def mail(event: EventOutbox) -> None:
    from registry.notifications.service import deliver_outbox

    deliver_outbox([event.payload["email_id"]])


def run_checks(event: EventOutbox) -> None:
    """The heavy checks of a release (code checks, SBOM analysis), after its upload or a reviewer's re-run."""
    from registry.review.checks import run_job_checks

    run_job_checks(event.payload["release_id"], list(event.payload.get("checks") or []))


def public_files(event: EventOutbox) -> None:
    """The release's files into the public tree (/files/) or out of it, as its new state says."""
    from registry.releases.files import sync_release

    sync_release(event.payload["release_id"])


def checkpoint_copies(event: EventOutbox) -> None:
    from registry.transparency.service import copy_new_checkpoints

    copy_new_checkpoints()


HANDLER_FUNCTIONS: dict[str, Callable[[EventOutbox], None]] = {
    "reindex": reindex, "alerts": alerts, "webhooks": webhooks, "mail": mail, "checkpoint_copies": checkpoint_copies,
    "run_checks": run_checks, "public_files": public_files}
HANDLERS: dict[str, tuple[str, ...]] = {name.value: () for name in EventName}
for _name in _REINDEX:
    HANDLERS[_name] += ("reindex",)
for _name in (EventName.RELEASE_PUBLISHED, EventName.RELEASE_YANKED, EventName.VULNERABILITIES_FOUND,
              EventName.SOLUTION_STATE_CHANGED):
    HANDLERS[_name] += ("alerts",)
for _name in RELEASE_EVENTS.values():
    HANDLERS[_name] += ("public_files",)
HANDLERS[EventName.WEBHOOK_QUEUED] += ("webhooks",)
HANDLERS[EventName.MAIL_QUEUED] += ("mail",)
HANDLERS[EventName.LOG_APPENDED] += ("checkpoint_copies",)
HANDLERS[EventName.RELEASE_UPLOADED] += ("run_checks",)
HANDLERS[EventName.CHECK_RERUN] += ("run_checks",)


def run(event_id: int, handler: str) -> None:
    event = db.session.get(EventOutbox, event_id)
    if event is not None:
        HANDLER_FUNCTIONS[handler](event)


def rematch(release_ids: list[int]) -> None:
    """One batch of releases matched again against the OSV index (queued by an OSV import)."""
    from registry.sbom.service import rematch_releases

    rematch_releases(release_ids)


def deliver_webhook(delivery_id: int) -> None:
    from registry.notifications import deliveries

    deliveries.attempt(delivery_id)


def drain() -> None:
    """Periodic, every minute: events whose dispatch was lost, then `sweep`."""
    dispatch_pending(older_than=STRAGGLER_AGE)
    sweep()


def anchor_audit() -> None:
    """Periodic, every minute: the audit chain's head into the transparency log, when it grew."""
    from registry.transparency.anchor import anchor_audit_head

    anchor_audit_head()


def sweep() -> None:
    """Periodic: deliveries whose job was lost, and mail that could not be sent yet."""
    from registry.notifications import deliveries
    from registry.notifications.service import deliver_outbox

    deliveries.requeue_lost()
    deliver_outbox()


# --- scheduled work: each returns what it did for registry/jobs/runs.py, or None when nothing was due ---


def refresh_osv() -> dict | None:
    """Periodic, hourly: import REGISTRY_OSV_SOURCE again once REGISTRY_OSV_REFRESH_HOURS have passed
    since the last successful refresh."""
    from registry.sbom.refresh import refresh_if_due

    return refresh_if_due()


def clean_spool() -> dict:
    """Periodic, hourly: upload spool files older than REGISTRY_SPOOL_MAX_AGE_HOURS. Age is enough to
    know nobody uses one: a request never takes hours, so such a file is left by one that was killed."""
    from registry.storage import storage

    hours = current_app.config["SPOOL_MAX_AGE_HOURS"]
    return {"removed": storage().clean_spool(max_age_seconds=hours * 3600)}


def count_downloads() -> dict | None:
    """Periodic, every minute: downloads nginx served from /files/, read from REGISTRY_DOWNLOAD_LOG_PATH
    since the last run (registry/releases/download_log.py); one worker at a time (the run's claim)."""
    from datetime import timedelta
    from pathlib import Path

    from registry.jobs import runs
    from registry.releases import download_log

    path = current_app.config["DOWNLOAD_LOG_PATH"]
    if not path or not runs.claim("count_downloads", timedelta(0), timedelta(minutes=10)):
        return None
    state = db.session.get(runs.ScheduledRun, "count_downloads").summary or {}
    return download_log.count(Path(path), state)  # recorded with the counts: the place and the counts commit together


def remind_reviewers() -> dict | None:
    """Periodic, hourly: reviewers hear of releases pending longer than REGISTRY_REVIEW_REMIND_DAYS,
    each release at most once a day."""
    from registry.review.reminders import remind_reviewers as remind

    return remind()
