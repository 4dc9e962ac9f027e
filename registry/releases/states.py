"""The one place where release and solution states may change. Anything else is a 409."""

from __future__ import annotations

import unicodedata

from registry import events
from registry.db import utcnow
from registry.errors import Conflict, InvalidInput
from registry.releases.models import ReleaseState, SolutionState

# (from, to) -> the event that causes it
RELEASE_TRANSITIONS = {
    (ReleaseState.PENDING_REVIEW, ReleaseState.PUBLISHED): "approve",
    (ReleaseState.PENDING_REVIEW, ReleaseState.CHANGES_REQUESTED): "request_changes",
    (ReleaseState.PENDING_REVIEW, ReleaseState.REJECTED): "reject",
    (ReleaseState.PUBLISHED, ReleaseState.YANKED): "yank",
    (ReleaseState.YANKED, ReleaseState.PUBLISHED): "unyank",
}
SOLUTION_TRANSITIONS = {
    (SolutionState.ACTIVE, SolutionState.DEPRECATED), (SolutionState.DEPRECATED, SolutionState.ACTIVE),
    (SolutionState.ACTIVE, SolutionState.ARCHIVED), (SolutionState.DEPRECATED, SolutionState.ARCHIVED),
    (SolutionState.ARCHIVED, SolutionState.ACTIVE),
}

VISIBLE_TO_PUBLIC = (ReleaseState.PUBLISHED, ReleaseState.YANKED)
MAX_YANK_REASON = 500
# Control characters (C0, DEL, C1) and line/paragraph separators: a reason is one line of text.
_NOT_IN_A_REASON = ("Cc", "Zl", "Zp")


def transition_release(release, event: str, *, reason: str | None = None) -> str:
    """Apply `event` to the release; returns the previous state."""
    target = next((to for (frm, to), ev in RELEASE_TRANSITIONS.items() if ev == event and frm == release.state), None)
    if target is None:
        raise Conflict(f"cannot {event.replace('_', ' ')} a release that is {release.state.replace('_', ' ')}",
                       code="invalid-state")
    if event == "yank":
        release.yank_reason = _yank_reason(reason or "")
    if event == "unyank":
        release.yank_reason = None
    if target == ReleaseState.PUBLISHED and release.published_at is None:
        release.published_at = utcnow()
    previous, release.state = release.state, target
    events.emit(events.RELEASE_EVENTS[event], release_id=release.id, solution_id=release.solution_id)
    return previous


def _yank_reason(reason: str) -> str:
    if any(unicodedata.category(char) in _NOT_IN_A_REASON for char in reason):
        raise InvalidInput("the yank reason must be one line of text without control characters", field="reason")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("a yank needs a reason that adopters can read", field="reason")
    if len(reason) > MAX_YANK_REASON:
        raise InvalidInput(f"the yank reason is longer than {MAX_YANK_REASON} characters", field="reason")
    return reason


def transition_solution(solution, target: str, *, successor=None) -> str:
    if target not in tuple(SolutionState):
        raise InvalidInput(f"unknown solution state {target!r}; choose one of {', '.join(SolutionState)}",
                           field="state")
    if (solution.state, target) not in SOLUTION_TRANSITIONS:
        raise Conflict(f"a solution cannot go from {solution.state} to {target}", code="invalid-state")
    if successor is not None and target != SolutionState.DEPRECATED:
        raise InvalidInput("only a deprecated solution names a successor", field="successor")
    previous, solution.state = solution.state, target
    solution.successor = successor if target == SolutionState.DEPRECATED else None
    events.emit(events.EventName.SOLUTION_STATE_CHANGED, solution_id=solution.id, state=target)
    return previous
