
import click

from registry.commands import CommandGroup, failure
from registry.transparency.service import LogDamaged, verifier, verify_log

log_cli = CommandGroup("log", help="Check the transparency log.")


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
