"""Shared helpers for commands: consoles, the registry client, NAME@VERSION parsing."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from publisher_cli.client import RegistryClient

_REF = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*)(?:@(?P<version>[0-9A-Za-z.+-]+))?$")


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def registry_name(ctx: click.Context) -> str | None:
    root = ctx.find_root()
    return root.obj.registry if root.obj else None


def make_client(ctx: click.Context, *, need_token: bool = True) -> RegistryClient:
    from publisher_cli.client import RegistryClient
    from publisher_cli.config import resolve_registry

    registry = resolve_registry(registry_name(ctx), need_token=need_token)
    return RegistryClient(registry.url, registry.token)


def parse_ref(text: str, *, require_version: bool) -> tuple[str, str | None]:
    """``NAME`` or ``NAME@VERSION``; a usage error (exit 2) otherwise."""
    match = _REF.match(text.strip())
    if not match or (require_version and not match["version"]):
        form = "NAME@VERSION" if require_version else "NAME[@VERSION]"
        raise click.BadParameter(f"expected {form}, e.g. parking-share@1.2.0, got {text!r}")
    return match["name"], match["version"]


def describe_release(release: dict[str, Any]) -> list[tuple[str, str]]:
    """Label/value rows shared by status, publish and verify."""
    rows = [("release", f"{release.get('name')}@{release.get('version')}"),
            ("state", str(release.get("state")))]
    if release.get("queue_position") is not None:
        rows.append(("queue position", str(release["queue_position"])))
    if release.get("yank_reason"):
        rows.append(("yank reason", str(release["yank_reason"])))
    if release.get("url"):
        rows.append(("url", str(release["url"])))
    return rows


def reader_language() -> str:
    """ko unless the terminal's locale says otherwise (LC_ALL, LC_MESSAGES, LANG)."""
    import os

    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value and value.split(".")[0] not in ("C", "POSIX"):
            return "ko" if value.lower().startswith("ko") else "en"
    return "ko"


def localized_for_reader(value: Any) -> str:
    """A manifest text ({"ko": …, "en": …}) in the reader's language, else the other one."""
    from registry.spec.vocabulary import localized

    return localized(value, reader_language())


def print_rows(rows: list[tuple[str, str]]) -> None:
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        click.echo(f"{label + ':':<{width + 1}} {value}")
