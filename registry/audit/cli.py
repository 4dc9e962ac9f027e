import click

from registry.audit.head import HeadUnreadable, head_problem, publish_head, read_signed_head
from registry.audit.service import verify_chain
from registry.db import db
from registry.commands import CommandGroup, failure

audit_cli = CommandGroup("audit", help="Inspect the audit log.")


@audit_cli.command("verify")
def audit_verify():
    """Re-hash the whole audit chain and check it against the signed head; exit 1 on any difference."""
    count, problems = verify_chain()
    for p in problems:
        click.echo(f"event {p.event_id}: {p.problem}", err=True)
    if problems:
        raise click.ClickException(f"audit chain broken: {len(problems)} problem(s) in {count} events")
    try:
        signed = read_signed_head()
    except HeadUnreadable as exc:
        raise failure(f"audit head {exc.detail}", exc.hint) from None
    if signed is None:
        if count:
            raise click.ClickException(
                f"no signed head in storage although the database holds {count} events: it was deleted, or the "
                "events predate signed heads (then check them and run `audit sign-head` once)")
        click.echo("audit chain intact: 0 events")
        return
    with db.engine.connect() as conn:
        problem = head_problem(conn, signed)
    if problem:
        raise click.ClickException(problem)
    click.echo(f"audit chain intact: {count} events; signed head at {signed.count} events "
               f"({signed.statement['time']}) verified")


@audit_cli.command("sign-head")
def audit_sign_head():
    """Sign the current chain head, e.g. once after upgrading; refused when the chain is broken."""
    count, problems = verify_chain()
    if problems:
        raise click.ClickException(f"audit chain broken: {len(problems)} problem(s); run `audit verify`")
    publish_head()
    signed = read_signed_head()
    click.echo(f"signed head: {signed.count} events" if signed else "no events to sign")
