"""``solreg login`` and ``solreg whoami``."""

from __future__ import annotations

import sys
from typing import Any

import click


def check_token(url: str, token: str) -> dict[str, Any]:
    from publisher_cli.client import RegistryClient

    return RegistryClient(url, token).whoami()


def read_token() -> str:
    """No-echo prompt on a terminal, first line of stdin otherwise."""
    if sys.stdin.isatty():
        token = click.prompt("API token", hide_input=True)
    else:
        token = sys.stdin.readline()
    return token.strip()


def describe_identity(identity: dict[str, Any]) -> str:
    user = (identity.get("user") or {}).get("username", "?")
    org = identity.get("org") or {}
    scopes = ", ".join(identity.get("scopes") or []) or "none"
    text = f"{user} @ {org.get('slug', '?')} ({org.get('name', '')}), scopes: {scopes}"
    if identity.get("solution"):
        text += f", limited to solution {identity['solution']}"
    return text


@click.command("login")
@click.option("--url", help="Registry base URL, e.g. https://registry.example.org")
@click.option("--log-key", metavar="KEY", help="Pin this transparency log key instead of the one the registry serves.")
@click.option("--replace-log-key", is_flag=True, help="Accept a log key that differs from the one pinned before.")
@click.pass_context
def login_command(ctx: click.Context, url: str | None, log_key: str | None, replace_log_key: bool) -> None:
    """Store an API token (read from a hidden prompt or stdin) after checking it, and pin the log key."""
    import os

    from publisher_cli.config import is_registry_url, load_config, pin_log_key, registry_at, store_login
    from publisher_cli.errors import ConfigError
    from publisher_cli.output import registry_name

    name = registry_name(ctx)
    config = load_config()
    if name and is_registry_url(name):  # `solreg --registry URL login`: saved under that URL's entry
        url, name = url or name, registry_at(name, config).name
    chosen = name or config.default or "default"
    known = config.registries.get(chosen)
    target = url or (known.url if known else None) or os.environ.get("SOLREG_REGISTRY_URL")
    if not target:
        raise ConfigError(f"registry {chosen!r} has no URL yet", hint="pass it: `solreg login --url URL`")
    token = read_token()
    if not token:
        raise ConfigError("no token given", hint="create a token on the registry web site, then paste it")
    if not token.startswith("solreg_"):
        click.echo("warning: registry tokens normally start with solreg_", err=True)
    identity = check_token(target, token)
    key = pick_log_key(target, known.log_key if known else None, log_key, replace_log_key)
    entry, path = store_login(chosen, target, token)
    click.echo(f"logged in to {entry.name} ({entry.url}) as {describe_identity(identity)}")
    click.echo(f"token saved in {path} (mode 0600)")
    if key:
        pin_log_key(entry.name, entry.url, key)
        click.echo(f"transparency log key pinned: {key}")
    else:
        click.echo("warning: this registry serves no transparency log key; none pinned", err=True)


def pick_log_key(url: str, pinned: str | None, given: str | None, replace: bool) -> str | None:
    """Trust on first use: the served key (or --log-key); a different one later needs --replace-log-key.

    None when the registry has no log (an older server): then nothing is pinned.
    """
    from publisher_cli.client import RegistryClient
    from publisher_cli.errors import ConfigError, RegistryAnswerError
    from publisher_cli.transparency import served_key
    from registry.spec.note import NoteError, Verifier

    try:
        key = (given or served_key(RegistryClient(url))).strip()
    except RegistryAnswerError as exc:
        if exc.status == 404:
            return None
        raise
    try:
        Verifier.parse(key)
    except NoteError as exc:
        raise ConfigError(f"not a log key: {exc}", hint="a log key reads <name>+<8 hex digits>+<base64 key>") from None
    if pinned and key != pinned and not replace:
        raise ConfigError(f"the registry's log key {key} differs from the one pinned before, {pinned}",
                          hint="if the registry really changed its key, run again with --replace-log-key")
    return key


@click.command("whoami")
@click.pass_context
def whoami_command(ctx: click.Context) -> None:
    """Show who the stored token belongs to."""
    from publisher_cli.output import make_client

    click.echo(describe_identity(make_client(ctx).whoami()))


COMMANDS = [login_command, whoami_command]
