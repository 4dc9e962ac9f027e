"""The one place where release and solution states may change. Anything else is a 409."""

from __future__ import annotations

from registry import events
from registry.db import utcnow
from registry.errors import Conflict, InvalidInput

RELEASE_STATES = ("pending_review", "published", "changes_requested", "rejected", "yanked")
SOLUTION_STATES = ("active", "deprecated", "archived")

# (from, to) -> the event that causes it
RELEASE_TRANSITIONS = {
    ("pending_review", "published"): "approve",
    ("pending_review", "changes_requested"): "request_changes",
    ("pending_review", "rejected"): "reject",
    ("published", "yanked"): "yank",
    ("yanked", "published"): "unyank",
}
SOLUTION_TRANSITIONS = {
    ("active", "deprecated"), ("deprecated", "active"),
    ("active", "archived"), ("deprecated", "archived"), ("archived", "active"),
}

VISIBLE_TO_PUBLIC = ("published", "yanked")


def transition_release(release, event: str, *, reason: str | None = None) -> str:
    """Apply `event` to the release; returns the previous state."""
    target = next((to for (frm, to), ev in RELEASE_TRANSITIONS.items() if ev == event and frm == release.state), None)
    if target is None:
        raise Conflict(f"cannot {event.replace('_', ' ')} a release that is {release.state.replace('_', ' ')}",
                       code="invalid-state")
    if event == "yank":
        if not (reason or "").strip():
            raise InvalidInput("a yank needs a reason that adopters can read", field="reason")
        release.yank_reason = reason.strip()
    if event == "unyank":
        release.yank_reason = None
    if target == "published" and release.published_at is None:
        release.published_at = utcnow()
    previous, release.state = release.state, target
    events.emit(events.RELEASE_EVENTS[event], release_id=release.id, solution_id=release.solution_id)
    return previous


def transition_solution(solution, target: str, *, successor=None) -> str:
    if target not in SOLUTION_STATES:
        raise InvalidInput(f"unknown solution state {target!r}; choose one of {', '.join(SOLUTION_STATES)}", field="state")
    if (solution.state, target) not in SOLUTION_TRANSITIONS:
        raise Conflict(f"a solution cannot go from {solution.state} to {target}", code="invalid-state")
    if successor is not None and target != "deprecated":
        raise InvalidInput("only a deprecated solution names a successor", field="successor")
    previous, solution.state = solution.state, target
    solution.successor = successor if target == "deprecated" else None
    events.emit(events.EventName.SOLUTION_STATE_CHANGED, solution_id=solution.id, state=target)
    return previous
