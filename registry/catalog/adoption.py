"""What municipalities record: the versions they deployed, their alert webhook, the solutions they follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from registry import events
from registry.accounts.models import MemberRole, Membership, Organization, OrgKind, User
from registry.accounts.service import require_member
from registry.audit import service as audit
from registry.catalog.models import Adoption, AdoptionStage, DataHubProfile, Subscription
from registry.db import db, utcnow
from registry.errors import Forbidden, InvalidInput
from registry.notifications import webhooks
from registry.releases.models import Release, Solution
from registry.releases.states import VISIBLE_TO_PUBLIC


def require_municipality(org: Organization) -> None:
    if org.kind != OrgKind.MUNICIPALITY:
        raise Forbidden(f"{org.name} is not a municipality; only municipalities record deployments and data hubs",
                        field="org")


def parse_date(value: str | date | None, field: str = "deployed_on") -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput(f"{field} must be a date like 2024-05-31", field=field) from None


def record_adoption(user: User, org: Organization, release: Release, stage: str, deployed_on: date) -> Adoption:
    """Record (or update) that `org` runs `release`."""
    require_member(user, org)
    require_municipality(org)
    if stage not in tuple(AdoptionStage):
        raise InvalidInput(f"unknown stage {stage!r}; choose one of {', '.join(AdoptionStage)}", field="stage")
    if release.state not in VISIBLE_TO_PUBLIC:
        raise InvalidInput(f"{release.solution.name} {release.version} is not published", field="version")
    # A day of slack: the reader's "today" may be ahead of the server's UTC date.
    if deployed_on > utcnow().date() + timedelta(days=1):
        raise InvalidInput("the deployment date is in the future", field="deployed_on")
    adoption = db.session.scalar(select(Adoption).where(Adoption.org_id == org.id, Adoption.release_id == release.id))
    if adoption is None:
        adoption = Adoption(org_id=org.id, solution_id=release.solution_id, release_id=release.id,
                            created_by_id=user.id, stage=stage, deployed_on=deployed_on)
        db.session.add(adoption)
    else:
        adoption.stage, adoption.deployed_on = stage, deployed_on
    db.session.flush()
    events.emit(events.EventName.ADOPTION_CHANGED, solution_id=release.solution_id)
    audit.record("adoption.record", actor=user, org_id=org.id, solution_id=release.solution_id,
                 details={"version": release.version, "stage": stage, "deployed_on": deployed_on.isoformat()})
    return adoption


@dataclass
class Adopter:
    org: Organization
    version: str
    stage: str
    deployed_on: date


def adopters(solution: Solution) -> list[Adopter]:
    """Each adopting organization once, with its most recent deployment of the solution."""
    rows = db.session.execute(select(Adoption, Release.version).join(Release, Release.id == Adoption.release_id)
                              .where(Adoption.solution_id == solution.id)
                              .order_by(Adoption.deployed_on.desc(), Adoption.id.desc())).all()
    latest: dict[int, Adopter] = {}
    for adoption, version in rows:
        latest.setdefault(adoption.org_id, Adopter(adoption.org, version, adoption.stage, adoption.deployed_on))
    return sorted(latest.values(), key=lambda a: (a.stage == AdoptionStage.RETIRED, a.org.name))


def org_adoptions(org: Organization) -> list[Adoption]:
    return list(db.session.scalars(select(Adoption).where(Adoption.org_id == org.id)
                                   .order_by(Adoption.deployed_on.desc(), Adoption.id.desc())))


def user_municipalities(user: User | None) -> list[Organization]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [m.org for m in user.memberships if m.org.kind == OrgKind.MUNICIPALITY]


def set_webhook(user: User, org: Organization, url: str | None, *, new_secret: bool = False) -> str | None:
    """Set or clear (empty url) the org's alert webhook; owners only.

    The registry makes the signing secret (the first time, or when asked) and returns it, so that the
    owner sees it once; otherwise returns None."""
    require_member(user, org, owner=True)
    url = (url or "").strip()
    made = None
    if url:
        webhooks.check_url(url)
        if new_secret or not org.webhook_secret:
            made = org.webhook_secret = webhooks.new_secret()
        org.webhook_url, org.webhook_disabled_at = url, None
    else:
        org.webhook_url = org.webhook_secret = None
    audit.record("org.webhook", actor=user, org_id=org.id,
                 details={"url": org.webhook_url, "new_secret": made is not None})
    return made


def save_profile(user: User, org: Organization, spec_version: str | None, entity_types: list[dict]) -> DataHubProfile:
    """Replace the org's data-hub profile."""
    require_member(user, org)
    require_municipality(org)
    profile = db.session.scalar(select(DataHubProfile).where(DataHubProfile.org_id == org.id))
    if profile is None:
        profile = DataHubProfile(org_id=org.id)
        db.session.add(profile)
    profile.spec_version = spec_version
    profile.entity_types = entity_types
    profile.updated_at = utcnow()
    db.session.flush()
    audit.record("datahub.profile", actor=user, org_id=org.id,
                 details={"spec_version": spec_version, "entity_types": [e["type"] for e in entity_types]})
    return profile


def is_subscribed(user: User | None, solution: Solution) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(select(Subscription.id).where(Subscription.user_id == user.id,
                                                           Subscription.solution_id == solution.id)) is not None


def set_subscription(user: User, solution: Solution, subscribed: bool) -> bool:
    """Follow or stop following a solution's new releases; returns the new state."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise Forbidden("sign in to follow a solution")
    existing = db.session.scalar(select(Subscription).where(Subscription.user_id == user.id,
                                                            Subscription.solution_id == solution.id))
    if subscribed and existing is None:
        db.session.add(Subscription(user_id=user.id, solution_id=solution.id))
    elif not subscribed and existing is not None:
        db.session.delete(existing)
    return subscribed


def owner_orgs(user: User | None) -> set[int]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return {m.org_id for m in db.session.scalars(select(Membership).where(Membership.user_id == user.id,
                                                                          Membership.role == MemberRole.OWNER))}
