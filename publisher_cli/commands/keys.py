"""``solreg keygen`` and ``solreg keys register``: the Ed25519 release-signing key."""

from __future__ import annotations

import socket
from pathlib import Path

import click


def generate_signing_key(*, force: bool = False) -> tuple[Path, str]:
    """Create the key pair in the config dir; returns (private key path, key id)."""
    from publisher_cli.config import private_key_path, public_key_path, write_private_file
    from publisher_cli.errors import KeyFileError
    from registry.spec.provenance import generate_key, key_id, private_key_to_pem, public_key_to_pem

    private_path = private_key_path()
    if private_path.exists() and not force:
        raise KeyFileError(
            f"a signing key already exists at {private_path}",
            hint="keep it, or replace it with `solreg keygen --force` (then register the new key)",
        )
    key = generate_key()
    write_private_file(private_path, private_key_to_pem(key).encode("ascii"), mode=0o600)
    write_private_file(public_key_path(), public_key_to_pem(key.public_key()).encode("ascii"), mode=0o644)
    return private_path, key_id(key.public_key())


def load_signing_key():  # -> Ed25519PrivateKey | None
    from publisher_cli.config import private_key_path, read_private_key_pem
    from publisher_cli.errors import KeyFileError
    from registry.spec.provenance import SignatureError, load_private_key_pem

    pem = read_private_key_pem()
    if pem is None:
        return None
    try:
        return load_private_key_pem(pem)
    except SignatureError as exc:
        raise KeyFileError(f"{private_key_path()}: {exc}",
                           hint="replace it with `solreg keygen --force`") from None


@click.command("keygen")
@click.option("--force", is_flag=True, help="Replace an existing key.")
def keygen_command(force: bool) -> None:
    """Create an Ed25519 key pair for signing release provenance."""
    path, keyid = generate_signing_key(force=force)
    click.echo(f"created signing key {path} (mode 0600)")
    click.echo(f"key id {keyid}")
    click.echo("next: `solreg keys register` so the registry trusts your signatures")


@click.group("keys")
def keys_group() -> None:
    """Manage release-signing keys."""


@keys_group.command("register")
@click.option("--name", help="Label for the key (default: this machine's host name).")
@click.pass_context
def register_command(ctx: click.Context, name: str | None) -> None:
    """Register your public key with your organisation on the registry."""
    from publisher_cli.errors import KeyFileError
    from publisher_cli.output import make_client
    from registry.spec.provenance import key_id, public_key_to_pem

    key = load_signing_key()
    if key is None:
        raise KeyFileError("no signing key yet")
    client = make_client(ctx)
    registered = client.register_key(public_key_to_pem(key.public_key()), name or socket.gethostname())
    local_id = key_id(key.public_key())
    if registered.get("keyid") != local_id:
        from publisher_cli.errors import RegistryAnswerError

        raise RegistryAnswerError(f"registry recorded key id {registered.get('keyid')}, expected {local_id}",
                                  hint="the registry computes key ids differently; report this")
    click.echo(f"registered key {local_id} as {registered.get('name')!r}")


COMMANDS = [keygen_command, keys_group]
