"""Entry point of ``solreg``: the click group and the one global error handler."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from publisher_cli.commands import (
    build,
    check,
    download,
    info,
    init,
    keys,
    login,
    publish,
    sbom,
    search,
    status,
    verify,
    witness,
    yank,
)
from publisher_cli.errors import SolregError


@dataclass
class State:
    verbose: bool = False
    registry: str | None = None


_state = State()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and more detail.")
@click.option("--registry", "registry", metavar="NAME|URL",
              help="A registry named in config.toml, or a registry's URL (downloading and verifying "
                   "published releases needs no login).")
@click.version_option(package_name="smart-city-solution-registry", prog_name="solreg")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, registry: str | None) -> None:
    """Publish smart-city solutions to the Smart City Solution Registry."""
    _state.verbose, _state.registry = verbose, registry
    ctx.obj = _state


for module in (init, check, sbom, build, publish, status, yank, login, search, info, download, verify, witness):
    for command in module.COMMANDS:
        cli.add_command(command)
for command in keys.COMMANDS:
    cli.add_command(command)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        result = cli.main(args, prog_name="solreg", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except SolregError as exc:
        if _state.verbose:
            import traceback

            traceback.print_exc()
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        if exc.hint:
            click.echo(f"hint: {_one_line(exc.hint)}", err=True)
        code = 1
    except click.Abort:
        click.echo("error: aborted", err=True)
        code = 1
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        code = 130
    except Exception as exc:  # a bug: keep the output short unless asked for detail
        if _state.verbose:
            import traceback

            traceback.print_exc()
        click.echo(f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))}", err=True)
        click.echo("hint: rerun with --verbose and report the traceback", err=True)
        code = 1
    sys.exit(code)
