"""The review workflow: the queue, claims, decisions and the reasons reviewers pick from.

Concurrency: a claim and a decision each start with one conditional UPDATE of the release row
(`... WHERE state = 'pending_review' AND <not held by someone else>`). On PostgreSQL that row
lock makes a second decider wait and then find nothing to update; on SQLite the UPDATE takes the
database's write lock. Either way exactly one of two concurrent decisions applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from registry.accounts.models import Organization, User
from registry.audit import service as audit
from registry.db import db, utcnow
from registry.errors import Conflict, Forbidden, InvalidInput, NotFound
from registry.notifications.models import NotificationKind
from registry.notifications.service import notify_org
from registry.releases import states
from registry.releases.models import Check, CheckStatus, Release, ReleaseState, Solution
from registry.releases.service import queue_position, release_link
from registry.review.models import Review, ReviewDecision, ReviewReason
from registry.spec.vocabulary import PROGRAMMES
from registry.transparency import service as transparency

DEFAULT_CLAIM_MINUTES = 30
# Worst first: a check that could not say (error, timed out) or has not said yet (running) is not a pass.
CHECK_ORDER = {CheckStatus.FAIL: 0, CheckStatus.ERROR: 1, CheckStatus.TIMED_OUT: 2, CheckStatus.RUNNING: 3,
               CheckStatus.WARN: 4, CheckStatus.PASS: 5}
CHECK_FILTERS = (CheckStatus.FAIL, CheckStatus.WARN, CheckStatus.PASS)
KIND_FILTERS = ("first", "update")
NEEDS_COMMENT = (ReviewDecision.REQUEST_CHANGES, ReviewDecision.REJECT)
MAX_COMMENT = 10_000


# --- who may review -------------------------------------------------------------------------

def require_reviewer(user: User | None) -> User:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_reviewer:
        raise Forbidden("only reviewers can review releases")
    return user


def require_independent(user: User, release: Release) -> None:
    """A reviewer never reviews their own organization's release."""
    if user.member_of(release.solution.org_id):
        raise Forbidden(f"you belong to {release.solution.org.name}, which published this release; "
                        "another reviewer has to review it")


def get_release(release_id: int) -> Release:
    release = db.session.get(Release, release_id)
    if release is None:
        raise NotFound(f"no release with id {release_id}", field="release_id")
    return release


# --- checks ---------------------------------------------------------------------------------

def sorted_checks(release: Release) -> list[Check]:
    """Failing first, then warnings, then passes; by name within each."""
    return sorted(release.checks, key=lambda c: (CHECK_ORDER.get(c.status, -1), c.name))


def running_checks(release: Release) -> list[str]:
    """Names of the release's checks still running as jobs (registry/review/checks.py)."""
    return sorted(c.name for c in release.checks if c.status == CheckStatus.RUNNING)


def refuse_while_running(release: Release) -> None:
    running = running_checks(release)
    if running:
        raise Conflict(f"checks are still running: {', '.join(running)}; approve once they have finished",
                       code="checks-running",
                       hint="reload the review page in a minute; a check that stays running long after its budget "
                            "can be run again")


def check_status(release: Release) -> str:
    """The worst status among the release's checks (pass when none ran)."""
    return min((c.status for c in release.checks), key=lambda s: CHECK_ORDER.get(s, -1), default=CheckStatus.PASS)


# --- first release and approvals -----------------------------------------------------------

def is_first_release(release: Release) -> bool:
    """True while no other release of the solution has ever been published."""
    return not any(r.published_at is not None for r in release.solution.releases if r.id != release.id)


def needs_two_approvals(release: Release) -> bool:
    return bool(current_app.config.get("REVIEW_TWO_APPROVALS_FOR_FIRST_RELEASE")) and is_first_release(release)


def approvals(release: Release) -> list[Review]:
    return [review for review in release.reviews if review.decision == ReviewDecision.APPROVE]


# --- claims ---------------------------------------------------------------------------------

def claim_duration() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("REVIEW_CLAIM_MINUTES", DEFAULT_CLAIM_MINUTES)))


def claim_expires_at(release: Release) -> datetime | None:
    return release.claimed_at + claim_duration() if release.claimed_at else None


def active_claim_holder(release: Release, now: datetime | None = None) -> User | None:
    """Who holds the release right now, or None when nobody does or the claim expired."""
    if release.claimed_by_id is None or release.claimed_at is None:
        return None
    if release.claimed_at + claim_duration() <= (now or utcnow()):
        return None
    return release.claimed_by


def _free_for(user: User, now: datetime):
    """SQL condition: the release is unclaimed, claimed by `user`, or the claim has expired."""
    return or_(Release.claimed_by_id.is_(None), Release.claimed_by_id == user.id,
               Release.claimed_at <= now - claim_duration())


def _held_conflict(release: Release) -> Conflict:
    holder = active_claim_holder(release)
    if holder is None:  # released or expired between the UPDATE and this read
        return Conflict("the release changed while you acted; reload and try again", code="claim-changed")
    until = claim_expires_at(release)
    return Conflict(f"{holder.username} is reviewing this release (claimed until {until:%Y-%m-%d %H:%M} UTC)",
                    code="claimed")


def _reload(release: Release) -> Release:
    return db.session.scalars(select(Release).where(Release.id == release.id)
                              .execution_options(populate_existing=True)).one()


def claim(user: User, release: Release) -> Release:
    """Take the review lock on a pending release; claiming again renews it. Exactly one of
    concurrent claimants wins (conditional UPDATE); the others get 409 naming the holder."""
    require_reviewer(user)
    require_independent(user, release)
    now = utcnow()
    result = db.session.execute(
        update(Release).where(Release.id == release.id, Release.state == ReleaseState.PENDING_REVIEW,
                              _free_for(user, now))
        .values(claimed_by_id=user.id, claimed_at=now).execution_options(synchronize_session=False))
    release = _reload(release)
    if result.rowcount != 1:
        db.session.rollback()
        release = _reload(release)
        if release.state != ReleaseState.PENDING_REVIEW:
            raise Conflict(f"this release is {release.state.replace('_', ' ')}, not waiting for review",
                           code="invalid-state")
        raise _held_conflict(release)
    return release


def unclaim(user: User, release: Release) -> Release:
    """Give the lock back; only its holder (or an admin) can."""
    require_reviewer(user)
    condition = Release.id == release.id
    if not user.is_admin:
        condition = and_(condition, Release.claimed_by_id == user.id)
    result = db.session.execute(update(Release).where(condition).values(claimed_by_id=None, claimed_at=None)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict("you do not hold this release's claim", code="not-claimed")
    return _reload(release)


# --- reasons --------------------------------------------------------------------------------

def active_reasons() -> list[ReviewReason]:
    return list(db.session.scalars(select(ReviewReason).where(ReviewReason.active.is_(True)).order_by(ReviewReason.id)))


def all_reasons() -> list[ReviewReason]:
    return list(db.session.scalars(select(ReviewReason).order_by(ReviewReason.id)))


def _reason_snapshots(reason_ids: list[int]) -> list[dict]:
    """The chosen reasons' texts as they read today, so later edits do not rewrite history."""
    try:
        wanted = sorted({int(i) for i in reason_ids})
    except (TypeError, ValueError):
        raise InvalidInput("reasons must be a list of reason ids", field="reasons") from None
    if not wanted:
        return []
    found = {r.id: r for r in db.session.scalars(select(ReviewReason).where(ReviewReason.id.in_(wanted),
                                                                            ReviewReason.active.is_(True)))}
    unknown = [i for i in wanted if i not in found]
    if unknown:
        raise InvalidInput(f"unknown or retired reason id(s): {', '.join(map(str, unknown))}", field="reasons")
    return [{"id": i, "ko": found[i].text_ko, "en": found[i].text_en} for i in wanted]


def save_reason(actor: User, text_ko: str, text_en: str, active: bool = True,
                reason: ReviewReason | None = None) -> ReviewReason:
    if not actor.is_admin:
        raise Forbidden("only admins edit review reasons")
    text_ko, text_en = (text_ko or "").strip(), (text_en or "").strip()
    if not text_ko:
        raise InvalidInput("a reason needs its Korean text", field="text_ko")
    if not text_en:
        raise InvalidInput("a reason needs its English text", field="text_en")
    created = reason is None
    reason = reason or ReviewReason()
    reason.text_ko, reason.text_en, reason.active = text_ko, text_en, active
    db.session.add(reason)
    db.session.flush()
    audit.record("review_reason.create" if created else "review_reason.update", actor=actor,
                 details={"reason_id": reason.id, "ko": text_ko, "en": text_en, "active": active})
    return reason


# --- decisions ------------------------------------------------------------------------------

@dataclass
class Decision:
    review: Review
    release: Release
    published: bool  # False when a first approval was recorded and a second one is still needed


def decide(user: User, release: Release, decision: str, comment: str = "",
           reason_ids: list[int] | None = None) -> Decision:
    """Approve, request changes or reject a pending release, as one transaction."""
    require_reviewer(user)
    if decision not in tuple(ReviewDecision):
        raise InvalidInput(f"unknown decision {decision!r}; choose one of {', '.join(ReviewDecision)}",
                           field="decision")
    comment = (comment or "").strip()
    if decision in NEEDS_COMMENT and not comment:
        raise InvalidInput("say what has to change: a comment is required to request changes or reject",
                           field="comment")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"the comment is longer than {MAX_COMMENT} characters", field="comment")
    require_independent(user, release)
    if decision == ReviewDecision.APPROVE:
        refuse_while_running(release)  # before anything is written: a refusal changes nothing
    reasons = _reason_snapshots(reason_ids or [])

    # The lock: only a pending release not held by another reviewer matches.
    now = utcnow()
    result = db.session.execute(
        update(Release).where(Release.id == release.id, Release.state == ReleaseState.PENDING_REVIEW,
                              _free_for(user, now))
        .values(claimed_by_id=None, claimed_at=None).execution_options(synchronize_session=False))
    release = _reload(release)
    if result.rowcount != 1:
        db.session.rollback()
        release = _reload(release)
        if release.state == ReleaseState.PENDING_REVIEW:
            raise _held_conflict(release)
        states.transition_release(release, decision)  # not pending: the state machine raises its 409
        raise AssertionError("unreachable: no decision applies to a release that is not pending")

    event = decision
    if decision == ReviewDecision.APPROVE and needs_two_approvals(release):
        earlier = approvals(release)
        if any(a.reviewer_id == user.id for a in earlier):
            db.session.rollback()
            raise Conflict("you already approved this first release; a second, different reviewer must approve it",
                           code="already-approved")
        if not earlier:
            event = "first_approval"
    review = Review(release=release, reviewer_id=user.id, decision=decision, comment=comment, reasons=reasons,
                    created_at=now)
    db.session.add(review)
    previous_state = release.state
    if event != "first_approval":
        states.transition_release(release, decision)
    db.session.flush()
    solution = release.solution
    audit.record(f"review.{event}", actor=user, org_id=solution.org_id, solution_id=solution.id,
                 details={"version": release.version, "release_id": release.id, "review_id": review.id,
                          "from": previous_state, "to": release.state, "comment": comment,
                          "reasons": [r["id"] for r in reasons]})
    transparency.release_published(release, approver=user)
    _notify(release, review, event)
    return Decision(review=review, release=release, published=release.state == ReleaseState.PUBLISHED)


def _notify(release: Release, review: Review, event: str) -> None:
    # One stored message serves every member, so it is written in the registry's default language
    # (also outside a request, where the reader's locale is unknown).
    with force_locale(current_app.config.get("DEFAULT_LOCALE") or "ko"):
        _notify_in_locale(release, review, event)


def _notify_in_locale(release: Release, review: Review, event: str) -> None:
    label = f"{release.solution.name} {release.version}"
    message = {
        "approve": _("%(release)s was approved and is published.", release=label),
        "first_approval": _("%(release)s received its first approval; a second reviewer still has to approve it.",
                            release=label),
        "request_changes": _("Changes were requested for %(release)s: %(comment)s", release=label,
                             comment=review.comment),
        "reject": _("%(release)s was rejected: %(comment)s", release=label, comment=review.comment),
    }[event]
    notify_org(release.solution.org, NotificationKind(f"review.{event}"), message, release_link(release),
               email_subject=_("Review of %(release)s", release=label),
               webhook_payload={"solution": release.solution.name, "version": release.version,
                                "decision": review.decision, "state": release.state, "review_id": review.id,
                                "comment": review.comment, "reasons": review.reasons})


# --- the queue ------------------------------------------------------------------------------

QUEUE_PAGE_SIZE = 50


def _programme_of(release=Release):
    return release.manifest["funding"]["programme"].as_string()


@dataclass
class QueueFilters:
    programme: str | None = None
    org: str | None = None
    checks: str | None = None  # fail: any check fails | warn: any warns | pass: all pass
    kind: str | None = None  # first | update

    @classmethod
    def parse(cls, args) -> QueueFilters:
        """From query arguments; empty values mean 'any', unknown ones are a 400."""
        filters = cls(**{k: (args.get(k) or "").strip() or None for k in ("programme", "org", "checks", "kind")})
        for name, allowed in (("programme", PROGRAMMES), ("checks", CHECK_FILTERS), ("kind", KIND_FILTERS)):
            value = getattr(filters, name)
            if value is not None and value not in allowed:
                raise InvalidInput(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}", field=name)
        return filters

    def conditions(self) -> list:
        """The filters as SQL conditions on `Release`, so the database filters and pages the queue."""
        where = []
        if self.programme:
            where.append(_programme_of() == self.programme)
        if self.org:
            where.append(Release.solution_id.in_(
                select(Solution.id).join(Organization).where(Organization.slug == self.org.lower())))
        if self.checks:
            with_status = select(Check.id).where(Check.release_id == Release.id)
            if self.checks == CheckStatus.PASS:
                where.append(~with_status.where(Check.status != CheckStatus.PASS).exists())
            else:
                where.append(with_status.where(Check.status == self.checks).exists())
        if self.kind:
            where.append(_has_published_sibling() if self.kind == "update" else ~_has_published_sibling())
        return where


def _has_published_sibling():
    # A pending release has never been published itself (no state leads back to pending), so
    # "another release of its solution was published" is "its solution has a published release".
    return Release.solution_id.in_(select(Release.solution_id).where(Release.published_at.is_not(None)))


@dataclass
class QueueEntry:
    release: Release
    position: int
    waited: timedelta
    check_status: str
    first_release: bool
    holder: User | None
    claim_expires_at: datetime | None
    approvals: int

    @property
    def programme(self) -> str | None:
        return ((self.release.manifest or {}).get("funding") or {}).get("programme")


@dataclass
class QueuePage:
    entries: list[QueueEntry]
    total: int  # pending releases that match the filters
    pending: int  # all pending releases
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def queue(filters: QueueFilters | None = None, *, page: int = 1, per_page: int | None = None) -> QueuePage:
    """One page of pending releases, oldest first; `position` is the place in the whole queue
    (what publishers see), whatever the filters. The database filters, counts and pages."""
    filters = filters or QueueFilters()
    per_page = per_page or QUEUE_PAGE_SIZE
    now = utcnow()
    position = func.row_number().over(order_by=(Release.created_at, Release.id)).label("position")
    ranked = select(Release.id, position).where(Release.state == ReleaseState.PENDING_REVIEW).subquery()
    matching = (select(ranked.c.id, ranked.c.position).join(Release, Release.id == ranked.c.id)
                .where(*filters.conditions()))
    total = db.session.scalar(select(func.count()).select_from(matching.subquery()))
    pending = db.session.scalar(select(func.count()).select_from(ranked))
    rows = db.session.execute(matching.order_by(ranked.c.position)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    ids = [row.id for row in rows]
    releases = {r.id: r for r in db.session.scalars(
        select(Release).where(Release.id.in_(ids))
        .options(selectinload(Release.checks), selectinload(Release.solution).selectinload(Solution.org),
                 selectinload(Release.claimed_by)))}
    updates = set(db.session.scalars(select(Release.id).where(Release.id.in_(ids), _has_published_sibling())))
    approval_counts = dict(db.session.execute(
        select(Review.release_id, func.count(Review.id))
        .where(Review.release_id.in_(ids), Review.decision == ReviewDecision.APPROVE)
        .group_by(Review.release_id)).all())
    entries = []
    for row in rows:
        release = releases[row.id]
        holder = active_claim_holder(release, now)
        entries.append(QueueEntry(release=release, position=row.position, waited=now - release.created_at,
                                  check_status=check_status(release), first_release=release.id not in updates,
                                  holder=holder, claim_expires_at=claim_expires_at(release) if holder else None,
                                  approvals=approval_counts.get(release.id, 0)))
    return QueuePage(entries=entries, total=total, pending=pending, page=page, per_page=per_page)


def queue_orgs() -> list[Organization]:
    """Organizations with a release waiting for review (the queue's organization filter)."""
    return list(db.session.scalars(
        select(Organization).where(Organization.id.in_(
            select(Solution.org_id).join(Release).where(Release.state == ReleaseState.PENDING_REVIEW)))
        .order_by(Organization.slug)))


# --- the publisher's side -------------------------------------------------------------------

@dataclass
class PublisherStatus:
    release: Release
    queue_position: int | None
    reviews: list[Review]
    answers: Review | None


def publisher_status(release: Release) -> PublisherStatus:
    return PublisherStatus(release=release, queue_position=queue_position(release), reviews=release.reviews,
                           answers=release.answers_review)


def org_releases(user: User) -> list[PublisherStatus]:
    """Every release of the user's organizations, newest first, with its review status."""
    org_ids = [m.org_id for m in user.memberships]
    if not org_ids:
        return []
    releases = db.session.scalars(select(Release).join(Solution).where(Solution.org_id.in_(org_ids))
                                  .order_by(Release.created_at.desc(), Release.id.desc())
                                  .options(selectinload(Release.reviews), selectinload(Release.checks)))
    return [publisher_status(r) for r in releases]
