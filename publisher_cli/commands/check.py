"""``solreg check``: manifest validation plus the git state a release needs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

GIT_CODES = ("not-a-git-repo", "git-dirty", "git-untagged")


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    code: str
    message: str
    path: str = ""
    line: int | None = None
    column: int | None = None
    hint: str = ""

    @classmethod
    def from_problem(cls, problem: Any) -> Finding:
        severity = getattr(problem.severity, "value", problem.severity)
        return cls(str(severity), problem.code, problem.message, problem.path or "",
                   problem.line, problem.column, problem.hint or "")


@dataclass(frozen=True)
class CheckResult:
    directory: Path
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": [asdict(f) for f in self.findings]}


def manifest_findings(directory: Path) -> list[Finding]:
    try:
        from registry.spec import validate_directory
    except ImportError as exc:
        from publisher_cli.errors import SolregError

        raise SolregError(f"the manifest validator is not available: {exc}",
                          hint="reinstall solreg: pip install smart-city-solution-registry") from None
    report = validate_directory(directory)
    return [Finding.from_problem(problem) for problem in report.problems]


def git_findings(directory: Path) -> list[Finding]:
    """The release must be committed and HEAD tagged for the manifest's version."""
    from publisher_cli.errors import GitError, ManifestError, NotAGitRepository, UntaggedRelease
    from publisher_cli.gitinfo import dirty_paths, find_release_tag, open_repo, subdirectory_of
    from publisher_cli.manifest import load_manifest

    try:
        repo = open_repo(directory)
    except NotAGitRepository as exc:
        return [Finding("error", "not-a-git-repo", str(exc), hint=exc.hint or "")]
    findings = []
    subdirectory = subdirectory_of(repo, directory)
    dirty = dirty_paths(repo, subdirectory)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        findings.append(Finding("error", "git-dirty", f"uncommitted changes: {shown}",
                                hint="commit them (or add build output such as dist/ to .gitignore)"))
    try:
        manifest = load_manifest(directory)
    except ManifestError:
        return findings  # the manifest validator already explains why
    try:
        find_release_tag(repo, manifest.name, manifest.version, require_head=True)
    except UntaggedRelease as exc:
        findings.append(Finding("error", "git-untagged", str(exc), hint=exc.hint or ""))
    except GitError as exc:
        findings.append(Finding("error", "git-untagged", str(exc), hint=exc.hint or ""))
    return findings


def run_check(path: Path, *, include_manifest: bool = True) -> CheckResult:
    from publisher_cli.manifest import solution_dir

    directory = solution_dir(path)
    findings = manifest_findings(directory) if include_manifest else []
    findings += git_findings(directory)
    return CheckResult(directory, findings)


def print_findings(result: CheckResult, *, stderr: bool = False) -> None:
    from rich.table import Table

    from publisher_cli.output import console

    out = console(stderr=stderr)
    if not result.findings:
        out.print(f"[green]ok[/green]: {result.directory} is ready to publish")
        return
    table = Table(show_lines=False)
    for column in ("severity", "where", "message", "hint"):
        table.add_column(column, overflow="fold")
    for finding in result.findings:
        where = finding.path or "-"
        if finding.line is not None:
            where = f"solution.yaml:{finding.line}:{finding.column or 1} {finding.path}".strip()
        colour = "red" if finding.severity == "error" else "yellow"
        table.add_row(f"[{colour}]{finding.severity}[/{colour}]", where,
                      f"{finding.message} [dim]({finding.code})[/dim]", finding.hint)
    out.print(table)
    warnings = len(result.findings) - len(result.errors)
    out.print(f"{len(result.errors)} error(s), {warnings} warning(s)")


@click.command("check")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def check_command(ctx: click.Context, path: Path, output_format: str) -> None:
    """Validate solution.yaml, referenced files and the git release state."""
    result = run_check(path)
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_findings(result)
    if not result.ok:
        ctx.exit(1)


COMMANDS = [check_command]
