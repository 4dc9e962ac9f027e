import click

from registry.commands import CommandGroup, failure
from registry.db import db
from registry.errors import RegistryError
from registry.transparency import witnesses
from registry.transparency.service import LogDamaged, verifier, verify_log

log_cli = CommandGroup("log", help="Check the transparency log.")
witness_cli = CommandGroup("witness", help="The witnesses whose cosignatures of the log's heads are kept and shown.")
log_cli.add_command(witness_cli)


@log_cli.command("verify")
def log_verify():
    """Rebuild the Merkle tree from the stored leaves and check it against every signed checkpoint."""
    try:
        leaves, checkpoints = verify_log()
    except LogDamaged as exc:
        raise failure(f"transparency log damaged: {exc.detail}", exc.hint) from None
    click.echo(f"transparency log intact: {leaves} leaves, {checkpoints} checkpoints, key {verifier().encode()}")


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
