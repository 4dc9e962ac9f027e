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
MAX_REASON = 500
SOLUTION_STATES = tuple(SolutionState)
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
    reason = one_line_reason(reason)
    if not reason:
        raise InvalidInput("a yank needs a reason that adopters can read", field="reason")
    return reason


def one_line_reason(reason: str) -> str:
    """A reason adopters read (of a yank, of a solution's new state): one line, stripped, maybe empty."""
    if any(unicodedata.category(char) in _NOT_IN_A_REASON for char in reason):
        raise InvalidInput("the reason must be one line of text without control characters", field="reason")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is longer than {MAX_REASON} characters", field="reason")
    return reason


def next_solution_states(solution) -> list[str]:
    """The states the solution may go to from where it is, in SOLUTION_STATES order."""
    return [to for to in SOLUTION_STATES if (solution.state, to) in SOLUTION_TRANSITIONS]


def check_solution_transition(solution, target: str, successor=None, reason: str = "") -> str:
    """Raise unless the solution may go to `target`, pointing adopters at `successor`; changes nothing.
    Returns the reason as it is kept."""
    if target not in SOLUTION_STATES:
        raise InvalidInput(f"unknown solution state {target!r}; choose one of {', '.join(SOLUTION_STATES)}", field="state")
    if (solution.state, target) not in SOLUTION_TRANSITIONS:
        raise Conflict(f"a solution cannot go from {solution.state} to {target}", code="invalid-state", field="state")
    if successor is not None:
        if target != SolutionState.DEPRECATED:
            raise InvalidInput("only a deprecated solution names a successor", field="successor")
        if successor is solution:
            raise InvalidInput(f"{solution.name} cannot be its own successor", field="successor")
        if successor.state != SolutionState.ACTIVE:
            # An archived or deprecated successor sends adopters to another dead end, or round in a circle.
            raise InvalidInput(f"the successor {successor.name} is {successor.state}; name an active solution",
                               field="successor")
    return one_line_reason(reason)


def transition_solution(solution, target: str, *, successor=None, reason: str = "") -> str:
    """Move the solution to `target`; returns the previous state. The event carries what adopters are told."""
    reason = check_solution_transition(solution, target, successor, reason)
    previous, solution.state = solution.state, target
    solution.successor = successor  # None unless deprecated (checked): another state clears it
    events.emit(events.EventName.SOLUTION_STATE_CHANGED, solution_id=solution.id, state=target,
                successor_id=successor.id if successor else None, reason=reason)
    return previous
