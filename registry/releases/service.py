"""Releases and solutions once recorded: finding them, who may see them, yanking and lifecycle."""

from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context, url_for
from sqlalchemy import func, select

from registry.accounts.models import ApiToken, User
from registry.accounts.service import require_scope, token_grants
from registry.audit import service as audit
from registry.db import db
from registry.errors import Conflict, Forbidden, InvalidInput, NotFound
from registry.releases import states
from registry.releases.models import Release, ReleaseState, Solution
from registry.spec.names import normalize_name
from registry.transparency import service as transparency
from registry.web import absolute


def find_solution(name: str) -> Solution | None:
    return db.session.scalar(select(Solution).where(Solution.normalized_name == normalize_name(name)))


def get_solution(name: str) -> Solution:
    solution = find_solution(name)
    if solution is None:
        raise NotFound(f"no solution named {name!r}", field="name")
    return solution


def get_release(name: str, version: str) -> Release:
    solution = get_solution(name)
    release = db.session.scalar(select(Release).where(Release.solution_id == solution.id, Release.version == version))
    if release is None:
        raise NotFound(f"{solution.name} has no version {version!r}", field="version")
    return release


def release_link(release: Release) -> str:
    """The full address of the release's page, for JSON, feeds and messages (also from the worker)."""
    name, version = release.solution.name, release.version
    if has_request_context():
        return url_for("catalog.release_page", name=name, version=version, _external=True)
    return absolute(f"/solutions/{name}/{version}")


def refuse_mirrored(solution: Solution) -> None:
    """A mirrored solution changes only by importing the origin's next bundle."""
    if solution.mirrored_from:
        raise Conflict(f"{solution.name} is mirrored read-only from {solution.mirrored_from}; change it there",
                       code="mirrored-read-only")


def _authorise_owner(token: ApiToken, solution: Solution, scope: str) -> None:
    refuse_mirrored(solution)
    require_scope(token, scope, org_id=solution.org_id, solution=solution.name)


def yank(token: ApiToken, release: Release, reason: str) -> Release:
    _authorise_owner(token, release.solution, "yank")
    states.transition_release(release, "yank", reason=reason)
    audit.record("release.yank", actor=token.user, org_id=release.solution.org_id, solution_id=release.solution_id,
                 details={"version": release.version, "reason": release.yank_reason})
    transparency.release_yanked(release)
    return release


def unyank(token: ApiToken, release: Release) -> Release:
    _authorise_owner(token, release.solution, "yank")
    states.transition_release(release, "unyank")
    audit.record("release.unyank", actor=token.user, org_id=release.solution.org_id, solution_id=release.solution_id,
                 details={"version": release.version})
    transparency.release_unyanked(release)
    return release


def can_see(release: Release, user: User | None, token: ApiToken | None) -> bool:
    """Pending and refused releases are visible only to their org and to reviewers."""
    if release.state in states.VISIBLE_TO_PUBLIC:
        return True
    org_id = release.solution.org_id
    if token is not None and token.user.member_of(token.org_id) and (
            token.org_id == org_id or token_grants(token, "review")):
        return True
    return user is not None and getattr(user, "is_authenticated", False) and (user.is_reviewer or user.member_of(org_id))


def may_see_checks(release: Release, user: User | None, token: ApiToken | None) -> bool:
    """A release's check results (with their findings) are for its organization and reviewers only,
    whatever state the release is in."""
    org_id = release.solution.org_id
    if token is not None and token.user.member_of(token.org_id) and (
            token.org_id == org_id or token_grants(token, "review")):
        return True
    return user is not None and getattr(user, "is_authenticated", False) and (user.is_reviewer or user.member_of(org_id))


def queue_position(release: Release) -> int | None:
    if release.state != ReleaseState.PENDING_REVIEW:
        return None
    return 1 + db.session.scalar(select(func.count(Release.id)).where(
        Release.state == ReleaseState.PENDING_REVIEW, Release.created_at < release.created_at))


@dataclass(frozen=True)
class StateChange:
    """A solution's next state, checked: what the web's confirm step shows and what is then made."""

    solution: Solution
    target: str
    successor: Solution | None
    reason: str


def authorise_state_change(actor: User, solution: Solution) -> None:
    refuse_mirrored(solution)
    if not (actor.is_admin or actor.member_of(solution.org_id)):
        raise Forbidden("only the owning organization or an admin can change a solution's state")


def possible_successors(solution: Solution) -> list[Solution]:
    """Where a deprecated solution may send its adopters: other active solutions with a published release."""
    published = select(Release.id).where(Release.solution_id == Solution.id, Release.state == "published").exists()
    return list(db.session.scalars(select(Solution).where(Solution.id != solution.id, Solution.state == "active",
                                                          published).order_by(Solution.name)))


def plan_solution_state(actor: User, solution: Solution, target: str, successor: str | None = None,
                        reason: str = "") -> StateChange:
    """Check a state change (successor named by its solution name) without writing anything."""
    authorise_state_change(actor, solution)
    found = None
    if successor:
        found = find_solution(successor)
        if found is None:
            raise NotFound(f"no solution named {successor!r} to succeed {solution.name}", field="successor")
    reason = states.check_solution_transition(solution, target, found, reason)
    if found is not None and not any(r.state == "published" for r in found.releases):
        raise InvalidInput(f"the successor {found.name} has no published release to move to", field="successor")
    return StateChange(solution, target, found, reason)


def set_solution_state(actor: User, solution: Solution, target: str, successor: str | None = None,
                       reason: str = "") -> StateChange:
    """Deprecate (naming a successor), archive or reactivate the solution; its adopters are told."""
    change = plan_solution_state(actor, solution, target, successor, reason)
    previous = states.transition_solution(solution, target, successor=change.successor, reason=change.reason)
    successor_name = change.successor.name if change.successor else None
    audit.record("solution.state", actor=actor, org_id=solution.org_id, solution_id=solution.id,
                 details={"from": previous, "to": target, "successor": successor_name, "reason": change.reason or None})
    transparency.solution_state_changed(solution)
    return change


def set_solution_state_with_token(token: ApiToken, solution: Solution, target: str, successor: str | None = None,
                                  reason: str = "") -> StateChange:
    """The API's way in: a token with the "yank" scope of the owning organization (an admin's, of any)."""
    refuse_mirrored(solution)  # before the token: a copy is refused to everyone alike, as yanks are
    require_scope(token, "yank", org_id=None if token.user.is_admin else solution.org_id, solution=solution.name)
    return set_solution_state(token.user, solution, target, successor, reason)
