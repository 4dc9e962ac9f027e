import click
from flask.cli import AppGroup

from registry.audit.service import verify_chain

audit_cli = AppGroup("audit", help="Inspect the audit log.")


@audit_cli.command("verify")
def audit_verify():
    """Re-hash the whole audit chain; exit 1 if any event was edited or deleted."""
    count, problems = verify_chain()
    for p in problems:
        click.echo(f"event {p.event_id}: {p.problem}", err=True)
    if problems:
        raise click.ClickException(f"audit chain broken: {len(problems)} problem(s) in {count} events")
    click.echo(f"audit chain intact: {count} events")
