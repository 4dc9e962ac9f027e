import click

from registry.commands import CommandGroup, failure
from registry.db import db
from registry.errors import RegistryError
from registry.transparency import witnesses
from registry.transparency.anchor import verify_audit
from registry.transparency.service import LogDamaged, verifier, verify_log

log_cli = CommandGroup("log", help="Check the transparency log.")
# Here, not in registry/audit: the chain is checked against its anchors in the log, a layer above it.
audit_cli = CommandGroup("audit", help="Check the audit log against its anchors in the transparency log.")
witness_cli = CommandGroup("witness", help="The witnesses whose cosignatures of the log's heads are kept and shown.")
log_cli.add_command(witness_cli)


def _verify_log_and_audit() -> None:
    """The log first (the anchors are worth what the log is), then the audit chain against its anchors."""
    try:
        log = verify_log()
    except LogDamaged as exc:
        raise failure(f"transparency log damaged: {exc.detail}", exc.hint) from None
    if log.copying_stalled:
        raise failure(f"{log.uncopied} checkpoints, the oldest from {log.uncopied_since:%Y-%m-%d %H:%M} UTC, are not "
                      "copied to blob storage: the worker that copies them is not running",
                      "start `flask --app registry worker`; it copies them first")
    line = f"transparency log intact: {log.leaves} leaves, {log.checkpoints} checkpoints, key {verifier().encode()}"
    if log.uncopied:
        line += f"; the {log.uncopied} newest checkpoints are not copied to blob storage yet (the worker copies them)"
    click.echo(line)
    audit = verify_audit()
    problems = audit.problems
    for problem in problems[1:]:
        click.echo(f"event {problem.event_id}: {problem.problem}", err=True)
    if problems:
        raise failure(f"audit chain broken at event {problems[0].event_id}: {problems[0].problem}"
                      + (f" (and {len(problems) - 1} more problems, listed above)" if len(problems) > 1 else ""),
                      "restore the database from the backup taken before the change; keep this copy as evidence")
    if audit.anchoring_stalled:
        raise failure(f"{audit.unanchored} audit events, the oldest from {audit.unanchored_since:%Y-%m-%d %H:%M} UTC, "
                      "are not anchored in the log: the worker that anchors them every minute is not running",
                      "start `flask --app registry worker`, or anchor now with `flask --app registry log backfill`")
    line = f"audit chain intact: {audit.events} events"
    if audit.anchor:
        line += f", anchored in the log up to event {audit.anchor.last_id}"
    if audit.unanchored:
        line += f"; the {audit.unanchored} newest are not anchored yet (the worker anchors them within a minute)"
    click.echo(line)


@log_cli.command("verify")
def log_verify():
    """Rebuild the Merkle tree and check it against every checkpoint; then the audit chain against its anchors."""
    _verify_log_and_audit()


@audit_cli.command("verify")
def audit_verify():
    """Re-hash the audit chain and check it against its anchors in the (verified) log; exit 1 on any difference."""
    _verify_log_and_audit()


@log_cli.command("key")
def log_key():
    """Print the log's verifier key, for clients to pin (`solreg login --log-key`)."""
    click.echo(verifier().encode())


@witness_cli.command("add")
@click.argument("name")
@click.argument("key")
def witness_add(name: str, key: str):
    """Accept cosignatures by KEY (from `solreg witness init`) and show them as NAME's, e.g. 경기도."""
    try:
        witness = witnesses.add_witness(name, key)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from None
    click.echo(f"witness {witness.name} added: cosignatures by {witness.key} are kept and shown")


@witness_cli.command("list")
def witness_list():
    """The witnesses, and the latest head each one cosigned."""
    status = witnesses.log_status()
    if not status.witnesses:
        click.echo("no witnesses; add one with `flask log witness add NAME KEY`")
    for row in status.witnesses:
        seen = (f"cosigned {row.cosigned_size} leaves at {row.signed_at.isoformat()}"
                f"{' (the latest head)' if row.on_head else ''}" if row.signed_at else "has cosigned nothing yet")
        click.echo(f"{row.name}  {row.key}  {seen}")
