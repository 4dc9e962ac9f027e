"""Operator commands: users, orgs and tokens, without a web browser."""

from __future__ import annotations

import sys
from enum import StrEnum

import click

from registry.accounts import service
from registry.accounts.models import MemberRole, OrgKind, SiteRole, TokenScope
from registry.commands import CommandGroup, failure
from registry.db import db
from registry.errors import RegistryError
from registry.spec.vocabulary import PROVINCE_LABELS, PROVINCES, label

users_cli = CommandGroup("users", help="Manage user accounts.")
orgs_cli = CommandGroup("orgs", help="Manage organizations and their members.")
tokens_cli = CommandGroup("tokens", help="Issue API tokens.")


def run_in_transaction(fn):
    """Commit on success; on a RegistryError roll back and exit 1 with its one-line reason and hint."""
    try:
        result = fn()
        db.session.commit()
        return result
    except RegistryError as exc:
        db.session.rollback()
        raise failure(exc.detail, exc.hint) from None


def _values(choices: type[StrEnum]) -> list[str]:
    # Given the Enum itself, click would offer and match the member names (ADMIN), not the values.
    return [member.value for member in choices]


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.ClickException("no password on standard input; pipe it in or run in a terminal")
    return password


@users_cli.command("create")
@click.argument("username")
@click.option("--email", required=True, help="The user's e-mail address.")
@click.option("--role", type=click.Choice(_values(SiteRole)), default=None, help="Site role, if any.")
def users_create(username: str, email: str, role: str | None):
    """Create USERNAME; the password is read from stdin or prompted without echo."""
    password = _read_password()
    user = run_in_transaction(lambda: service.create_user(username, email, password, role))
    click.echo(f"created user {user.username}" + (f" ({role})" if role else ""))


@orgs_cli.command("create")
@click.argument("slug")
@click.option("--kind", type=click.Choice(_values(OrgKind)), required=True)
@click.option("--name", required=True, help="Display name, e.g. 천안시.")
@click.option("--province", type=click.Choice(PROVINCES), default=None,
              help="The 시·도 it is in, e.g. south-chungcheong (충청남도); the reuse dashboard counts by it.")
def orgs_create(slug: str, kind: str, name: str, province: str | None):
    """Create an organization SLUG."""
    org = run_in_transaction(lambda: service.create_org(slug, name, kind, province))
    where = f", {label(PROVINCE_LABELS, org.province)}" if org.province else ""
    click.echo(f"created {org.kind} organization {org.slug} ({org.name}{where})")


@orgs_cli.command("add-member")
@click.argument("slug")
@click.argument("username")
@click.option("--role", type=click.Choice(_values(MemberRole)), default=MemberRole.MEMBER.value, show_default=True)
def orgs_add_member(slug: str, username: str, role: str):
    """Add USERNAME to organization SLUG."""
    run_in_transaction(lambda: service.add_member(service.get_org(slug), service.get_user(username), role))
    click.echo(f"{username} is now {role} of {slug}")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--org", "org_slug", required=True, help="Organization the token acts for.")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(_values(TokenScope)))
@click.option("--solution", default=None, help="Limit the token to one solution.")
@click.option("--expires-days", type=click.IntRange(min=1), default=None)
@click.option("--name", default="", help="A label to recognise the token by.")
def tokens_create(username: str, org_slug: str, scopes: tuple[str, ...], solution: str | None,
                  expires_days: int | None, name: str):
    """Issue an API token for USERNAME; it is printed once, alone on the last line."""
    issued = run_in_transaction(lambda: service.issue_token(
        service.get_user(username), service.get_org(org_slug), list(scopes),
        name=name, solution=solution, expires_days=expires_days))
    click.echo(f"token for {username}@{org_slug}, scopes {', '.join(issued.token.scopes)}; it is shown only now:", err=True)
    click.echo(issued.raw)
