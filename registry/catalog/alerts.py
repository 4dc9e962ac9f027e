"""Alerts to the municipalities running a release, and to people following a solution.

Adopters (organizations with a non-retired adoption of the release, or of any release of a
solution that is deprecated or archived) are told through `notify_org`: an in-app notification,
an e-mail to every member, and the org's webhook (Standard Webhooks signed) when one is set. Each
function adds to the current transaction; the caller commits. Yanks, publications, new findings and
solution states reach here through their events' "alerts" handler (registry/handlers.py), in the worker.
"""

from __future__ import annotations

from collections.abc import Iterable

# Lazy: the notification is stored in the default language, mail carries an English part too.
from flask import has_request_context, url_for
from flask_babel import lazy_gettext as _
from sqlalchemy import select

from registry.accounts.models import Organization, User
from registry.catalog.models import Adoption, AdoptionStage, Subscription
from registry.db import db
from registry.notifications.models import NotificationKind
from registry.notifications.service import notify_org, notify_user
from registry.releases.models import Release, ReleaseState, Solution
from registry.releases.service import release_link
from registry.releases.versions import is_prerelease, latest_published, precedence
from registry.web import absolute


def solution_link(solution: Solution) -> str:
    if has_request_context():
        return url_for("catalog.solution_page", name=solution.name, _external=True)
    return absolute(f"/solutions/{solution.name}")


def _running(release_ids: Iterable[int]) -> list[Adoption]:
    """Adoptions still deployed (piloting or production) of these releases, one per org and release."""
    ids = list(release_ids)
    if not ids:
        return []
    return list(db.session.scalars(select(Adoption).where(Adoption.release_id.in_(ids),
                                                          Adoption.stage != AdoptionStage.RETIRED)
                                   .order_by(Adoption.org_id, Adoption.id)))


def _orgs(adoptions: list[Adoption]) -> list[Organization]:
    seen: dict[int, Organization] = {}
    for adoption in adoptions:
        seen.setdefault(adoption.org_id, adoption.org)
    return list(seen.values())


def _payload(event: str, release: Release, **extra) -> dict:
    return {"event": event, "solution": release.solution.name, "version": release.version, **extra}


def notify_yank(release: Release) -> int:
    """Tell every municipality running this release that it was yanked, and why; returns how many orgs."""
    orgs = _orgs(_running([release.id]))
    label = f"{release.solution.name} {release.version}"
    for org in orgs:
        notify_org(org, NotificationKind.ADOPTION_YANKED,
                   _("%(release)s, which you run, was yanked: %(reason)s", release=label, reason=release.yank_reason),
                   release_link(release), email_subject=_("Yanked: %(release)s", release=label),
                   webhook_payload=_payload("release.yanked", release, reason=release.yank_reason))
    return len(orgs)


def notify_new_findings(release: Release, findings: Iterable[dict]) -> int:
    """Tell the release's adopters about newly known vulnerabilities ({vulnerability_id, severity}, as the
    "vulnerabilities.found" event carries them after an OSV import)."""
    items = [(f["vulnerability_id"], f.get("severity")) for f in findings if f.get("vulnerability_id")]
    if not items:
        return 0
    orgs = _orgs(_running([release.id]))
    label = f"{release.solution.name} {release.version}"
    listed = ", ".join(f"{vid} ({severity or 'unknown'})" for vid, severity in items)
    for org in orgs:
        notify_org(org, NotificationKind.ADOPTION_VULNERABILITY,
                   _("%(release)s, which you run, has newly known vulnerabilities: %(list)s", release=label,
                     list=listed),
                   release_link(release), email_subject=_("Vulnerabilities in %(release)s", release=label),
                   webhook_payload=_payload("release.vulnerabilities", release,
                                            vulnerabilities=[{"id": v, "severity": s} for v, s in items]))
    return len(orgs)


def solution_adopters(solution: Solution) -> list[Organization]:
    """The organizations running any version of the solution: those its new state is told to."""
    return _orgs(_running([r.id for r in solution.releases]))


def notify_solution_state(solution: Solution, state: str, successor: Solution | None, reason: str = "") -> int:
    """Tell every municipality running any version of the solution that it was deprecated (naming the
    successor to move to) or archived; returns how many orgs. Reactivation is no alert."""
    if state not in ("deprecated", "archived"):
        return 0
    running = _running([r.id for r in solution.releases])
    orgs = _orgs(running)
    name = solution.name
    if state == "archived":
        subject = _("Archived: %(solution)s", solution=name)
        news = _("%(solution)s, which you run, is archived: it takes no new releases.", solution=name)
    else:
        subject = _("Deprecated: %(solution)s", solution=name)
        news = _("%(solution)s, which you run, is deprecated; its successor is %(successor)s.", solution=name,
                 successor=successor.name) if successor else _("%(solution)s, which you run, is deprecated.",
                                                               solution=name)
    message = _("%(news)s Reason: %(reason)s", news=news, reason=reason) if reason else news
    for org in orgs:
        yours = sorted({a.release.version for a in running if a.org_id == org.id}, key=precedence)
        notify_org(org, NotificationKind(f"adoption.{state}"), message, solution_link(solution), email_subject=subject,
                   webhook_payload={"event": f"solution.{state}", "solution": name, "running": yours,
                                    "successor": successor.name if successor else None,
                                    "successor_link": solution_link(successor) if successor else None,
                                    "reason": reason or None})
    return len(orgs)


def notify_superseded(release: Release) -> int:
    """Tell municipalities running an older version of the solution that this newer one is published.

    A pre-release is no reason to move off a stable version: it is news only while the solution has
    nothing stable, i.e. when it is the solution's latest release.
    """
    if release.state != ReleaseState.PUBLISHED:
        return 0
    siblings = list(db.session.scalars(select(Release).where(Release.solution_id == release.solution_id)))
    if is_prerelease(release.version) and latest_published(siblings) is not release:
        return 0
    newer = precedence(release.version)
    older_ids = [r.id for r in siblings if r.id != release.id and precedence(r.version) < newer]
    running = _running(older_ids)
    # An org that already runs this or a newer version somewhere does not need telling.
    current = {a.org_id for a in _running([r.id for r in siblings if precedence(r.version) >= newer])}
    orgs = [org for org in _orgs(running) if org.id not in current]
    label = f"{release.solution.name} {release.version}"
    for org in orgs:
        yours = sorted({a.release.version for a in running if a.org_id == org.id})
        notify_org(org, NotificationKind.ADOPTION_SUPERSEDED,
                   _("%(release)s is published; you run %(versions)s.", release=label, versions=", ".join(yours)),
                   release_link(release), email_subject=_("New version: %(release)s", release=label),
                   webhook_payload=_payload("release.superseded", release, running=yours))
    return len(orgs)


def notify_subscribers(release: Release) -> int:
    """Tell everyone following the solution that a release was published."""
    users = db.session.scalars(select(User).join(Subscription, Subscription.user_id == User.id)
                               .where(Subscription.solution_id == release.solution_id).order_by(User.id)).all()
    label = f"{release.solution.name} {release.version}"
    for user in users:
        notify_user(user, NotificationKind.SUBSCRIPTION_RELEASE, _("New release: %(release)s", release=label),
                    release_link(release))
    return len(users)


def on_release_published(release: Release) -> None:
    """A release passed review: alert adopters of older versions and the solution's subscribers."""
    notify_superseded(release)
    notify_subscribers(release)
