"""What the operator commands (`flask --app registry …`) print for a known failure: one line and a hint."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from registry.errors import RegistryError


def failure(message: str, hint: str | None = None) -> click.ClickException:
    """Click prints it as `Error: <message>`, then `Hint: <hint>` on a line of its own, and exits 1."""
    return click.ClickException(f"{message}\nHint: {hint}" if hint else message)


class CommandGroup(AppGroup):
    """A group of operator commands: a RegistryError that ends one is printed as a `failure`, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RegistryError as exc:
            raise failure(exc.detail, exc.hint) from None
