"""Reminders to reviewers of releases waiting too long (the hourly `remind_reviewers` job, registry/handlers.py).

A release pending review for longer than REGISTRY_REVIEW_REMIND_DAYS is due for a reminder when none
was sent for it in the last day. A run sends each reviewer (site role reviewer or admin, who may both
review) one notification and mail listing every release due, so a long queue is one message, not one
per release. `review_reminders` remembers when each release was last reminded. Its row is written
before anyone is told, by a conditional UPDATE (or the first INSERT), so two workers running the job
at once cannot remind twice: the later one updates nothing, or fails on the primary key and rolls back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_ngettext
from sqlalchemy import or_, select, update

from registry.accounts.models import User
from registry.db import db, utcnow
from registry.notifications.models import NotificationKind
from registry.notifications.service import notify_user
from registry.releases.models import Release
from registry.review.models import ReviewReminder
from registry.web import absolute

REMIND_EVERY = timedelta(days=1)
REVIEWING_ROLES = ("reviewer", "admin")  # as User.is_reviewer
MAX_LISTED = 20  # releases named in one reminder; the count says how many there are


def remind_reviewers(now: datetime | None = None) -> dict | None:
    """Remind every reviewer of the releases due; returns how many releases and reviewers (None: off)."""
    days = int(current_app.config["REVIEW_REMIND_DAYS"])
    if not days:
        return None
    now = now or utcnow()
    candidates = db.session.execute(
        select(Release, ReviewReminder.reminded_at)
        .outerjoin(ReviewReminder, ReviewReminder.release_id == Release.id)
        .where(Release.state == "pending_review", Release.created_at < now - timedelta(days=days),
               or_(ReviewReminder.reminded_at.is_(None), ReviewReminder.reminded_at <= now - REMIND_EVERY))
        .order_by(Release.created_at, Release.id)).all()
    due = [release for release, reminded_at in candidates if _mark_reminded(release.id, reminded_at, now)]
    if not due:
        return {"releases": 0, "reviewers": 0}
    reviewers = db.session.scalars(select(User).where(User.site_role.in_(REVIEWING_ROLES)).order_by(User.id)).all()
    listed = ", ".join(f"{r.solution.name} {r.version}" for r in due[:MAX_LISTED]) + (", …" if len(due) > MAX_LISTED else "")
    message = lazy_ngettext("%(num)d release has waited for review longer than %(days)d days: %(list)s",
                            "%(num)d releases have waited for review longer than %(days)d days: %(list)s",
                            len(due), days=days, list=listed)
    subject = lazy_ngettext("Review reminder: %(num)d release waiting", "Review reminder: %(num)d releases waiting",
                            len(due))
    for reviewer in reviewers:
        notify_user(reviewer, NotificationKind.REVIEW_REMINDER, message, absolute("/review/"), email_subject=subject)
    return {"releases": len(due), "reviewers": len(reviewers)}


def _mark_reminded(release_id: int, reminded_at: datetime | None, now: datetime) -> bool:
    """Record the reminder; False when another run recorded one since this run looked."""
    if reminded_at is None:
        db.session.add(ReviewReminder(release_id=release_id, reminded_at=now))
        db.session.flush()
        return True
    return db.session.execute(
        update(ReviewReminder).where(ReviewReminder.release_id == release_id,
                                     ReviewReminder.reminded_at <= now - REMIND_EVERY)
        .values(reminded_at=now)).rowcount == 1
