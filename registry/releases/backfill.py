"""`flask log backfill`: log what happened before the registry had a transparency log.

A registry upgraded to the log holds releases, keys and solution states the log never saw, so
`solreg verify` cannot prove them. The backfill appends their leaves once, in the order things
happened, each marked `backfilled` (with when it happened, where the database knows): the log
then covers them from now on, and says honestly that it learnt of them late. Running it again
appends nothing. It ends by anchoring the audit chain, which an upgraded registry has not done yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from registry.accounts.models import SigningKey
from registry.audit import service as audit
from registry.db import db
from registry.releases.models import Release, ReleaseState, Solution, SolutionState
from registry.transparency import service as transparency
from registry.transparency.anchor import anchor_audit_head
from registry.transparency.models import LeafKind


@dataclass
class Backfill:
    releases: list[Release]
    yanks: list[Release]
    keys: list[SigningKey]
    revocations: list[SigningKey]
    solutions: list[Solution]

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in vars(self).items()}


def missing() -> Backfill:
    """What the log lacks: read only, so the audit event can name the counts before any leaf is appended."""
    by_release = transparency.logged((LeafKind.RELEASE_PUBLISHED, LeafKind.RELEASE_YANKED), "sha256")
    by_key = transparency.logged((LeafKind.KEY_REGISTERED, LeafKind.KEY_REVOKED), "keyid")
    by_solution = transparency.logged(tuple(LeafKind(f"solution.{s.value}") for s in SolutionState), "solution")
    shown = db.session.scalars(select(Release).where(Release.published_at.is_not(None),
                                                     Release.state.in_([ReleaseState.PUBLISHED.value,
                                                                        ReleaseState.YANKED.value]))
                               .order_by(Release.published_at, Release.id)).all()
    keys = db.session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.id)).all()
    retired = db.session.scalars(select(Solution).where(Solution.state != SolutionState.ACTIVE.value,
                                                        Solution.mirrored_from.is_(None))
                                 .order_by(Solution.id)).all()
    return Backfill(
        releases=[r for r in shown if r.solution.mirrored_from is None
                  and (LeafKind.RELEASE_PUBLISHED.value, r.sha256) not in by_release],
        yanks=[r for r in shown if r.solution.mirrored_from is None and r.state == ReleaseState.YANKED.value
               and (LeafKind.RELEASE_YANKED.value, r.sha256) not in by_release],
        keys=[k for k in keys if (LeafKind.KEY_REGISTERED.value, k.keyid) not in by_key],
        revocations=[k for k in keys if k.revoked_at is not None and (LeafKind.KEY_REVOKED.value, k.keyid) not in by_key],
        solutions=[s for s in retired if (f"solution.{s.state}", s.name) not in by_solution],
    )


def _approver(release: Release) -> str | None:
    approvals = [r for r in release.reviews if r.decision == "approve"]
    return approvals[-1].reviewer.username if approvals else None


def backfill() -> Backfill:
    """Append the missing leaves in one transaction (the caller commits), keys first: a release names its signer."""
    todo = missing()
    if any(todo.counts.values()):
        audit.record("log.backfill", details=todo.counts)
    for key in todo.keys:
        transparency.key_registered(key, backfilled=True)
    for release in todo.releases:
        transparency.release_approved(release, _approver(release), backfilled=True)
    for release in todo.yanks:
        transparency.release_yanked(release, backfilled=True)
    for key in todo.revocations:
        transparency.key_revoked(key, backfilled=True)
    for solution in todo.solutions:
        transparency.solution_state_changed(solution, backfilled=True)
    anchor_audit_head()
    return todo


@click.command("backfill")
@with_appcontext
def backfill_command():
    """Log the releases, keys and solution states that predate the log, once (after upgrading); then anchor
    the audit chain."""
    done = backfill()
    db.session.commit()
    counts = done.counts
    if not any(counts.values()):
        click.echo("nothing to backfill: the log already records every release, key and solution state")
    else:
        click.echo("backfilled: " + ", ".join(f"{n} {what}" for what, n in counts.items() if n))
    click.echo(f"the log has {transparency.log_size()} leaves; check it with `flask --app registry log verify`")
