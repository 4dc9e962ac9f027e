"""Releases and solutions once recorded: finding them, who may see them, yanking and lifecycle."""

from __future__ import annotations

from flask import has_request_context, url_for
from sqlalchemy import func, select

from registry.accounts.models import ApiToken, User
from registry.accounts.service import require_scope, token_grants
from registry.audit import service as audit
from registry.db import db
from registry.errors import Conflict, Forbidden, NotFound
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


def queue_position(release: Release) -> int | None:
    if release.state != ReleaseState.PENDING_REVIEW:
        return None
    return 1 + db.session.scalar(select(func.count(Release.id)).where(
        Release.state == ReleaseState.PENDING_REVIEW, Release.created_at < release.created_at))


def set_solution_state(actor: User, solution: Solution, target: str, successor: Solution | None = None) -> None:
    refuse_mirrored(solution)
    if not (actor.is_admin or actor.member_of(solution.org_id)):
        raise Forbidden("only the owning organization or an admin can change a solution's state")
    previous = states.transition_solution(solution, target, successor=successor)
    audit.record("solution.state", actor=actor, org_id=solution.org_id, solution_id=solution.id,
                 details={"from": previous, "to": target, "successor": successor.name if successor else None})
    transparency.solution_state_changed(solution)
