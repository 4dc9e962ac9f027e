"""``solreg check``: the registry's own inspection of the built package, plus the git state a release needs.

The package is built as ``solreg build`` builds it (from the release tag; before there is
one, from the tracked files as they are in the work tree) into a temporary directory and
inspected with registry/spec/package.py under the default ``Limits``: whatever the
registry would refuse, check refuses first, with the registry's code and message.

Then the offline code checks the registry runs after an upload (registry/spec/codechecks.py:
licence files, binaries, secrets, bandit, deploy files) run on the same built archive, each
printed with pass / warn / fail; a fail makes the command exit 1 (``--no-code-checks`` skips them).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from registry.spec.limits import Limits

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
class CodeCheck:
    name: str
    status: str  # pass | warn | fail | timed_out | error
    summary: str
    findings: list[dict[str, Any]]


@dataclass(frozen=True)
class CheckResult:
    directory: Path
    findings: list[Finding]
    code_checks: list[CodeCheck] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def failed_code_checks(self) -> list[CodeCheck]:
        return [c for c in self.code_checks if c.status == "fail"]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok and not self.failed_code_checks, "problems": [asdict(f) for f in self.findings],
                "code_checks": [asdict(c) for c in self.code_checks]}


def manifest_findings(directory: Path) -> list[Finding]:
    from registry.spec import validate_directory

    report = validate_directory(directory)
    return [Finding.from_problem(problem) for problem in report.problems]


def inspect_archive_file(archive: Path, limits: Limits | None = None) -> list[Finding]:
    """The registry's verdict on a built archive: its refusal as findings, else the warnings."""
    from registry.spec.package import PackageRefused, inspect_package

    try:
        with archive.open("rb") as fileobj:
            inspected = inspect_package(fileobj, limits)
    except PackageRefused as exc:
        verdict = Finding("error", exc.code, exc.detail, exc.field)
        if exc.report:  # the manifest's own problems, with their lines
            return [verdict, *(Finding.from_problem(p) for p in exc.report.problems)]
        return [verdict, *(Finding("error", e["code"], e["detail"], e["field"] or "") for e in exc.extra_errors)]
    return [Finding.from_problem(problem) for problem in inspected.warnings]


def code_checks_of(archive: Path) -> list[CodeCheck]:
    """The registry's offline code checks (registry/spec/codechecks.py) on a built archive."""
    import yaml

    from registry.spec.archive import ArchiveLimits
    from registry.spec.codechecks import code_input, read_for_checks, run_code_checks

    contents = read_for_checks(lambda: open(archive, "rb"), ArchiveLimits())
    manifest = yaml.safe_load(contents.files.get("solution.yaml") or b"{}") or {}
    return [CodeCheck(r.name, r.status, r.summary, [asdict(f) for f in r.findings])
            for r in run_code_checks(code_input(contents, manifest))]


def package_findings(directory: Path, limits: Limits | None = None,
                     code_checks: list[CodeCheck] | None = None) -> list[Finding] | None:
    """Build the package into a temporary directory and inspect it; None if it cannot be built
    (no git repository or commit yet, no readable manifest: the other checks say why). With a
    `code_checks` list, the code checks of a package the registry would take are added to it."""
    import tempfile

    from publisher_cli.errors import BuildError, GitError, ManifestError
    from publisher_cli.gitinfo import find_release_tag, open_repo, subdirectory_of
    from publisher_cli.manifest import load_manifest
    from publisher_cli.packaging import build_archive

    try:
        manifest = load_manifest(directory)
        repo = open_repo(directory)
        try:
            commit = find_release_tag(repo, manifest.name, manifest.version, require_head=False).commit
        except GitError:
            # No tag yet: a commit object (named by no ref) of the tracked files as they are now.
            commit = repo.git.stash("create") or repo.head.commit.hexsha
    except (ManifestError, GitError, ValueError):
        return None
    with tempfile.TemporaryDirectory(prefix="solreg-check-") as out:
        try:
            built = build_archive(repo, commit, top_level=manifest.archive_stem, out_dir=Path(out),
                                  subdirectory=subdirectory_of(repo, directory))
        except BuildError as exc:
            return [Finding("error", "build-failed", str(exc), hint=exc.hint or "")]
        findings = inspect_archive_file(built.path, limits)
        if code_checks is not None and not any(f.severity == "error" for f in findings):
            code_checks.extend(code_checks_of(built.path))
        return findings


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


def run_check(path: Path, *, include_manifest: bool = True, code_checks: bool = False) -> CheckResult:
    from publisher_cli.manifest import solution_dir

    directory = solution_dir(path)
    findings: list[Finding] = []
    ran: list[CodeCheck] = []
    if include_manifest:
        inspected = package_findings(directory, code_checks=ran if code_checks else None)
        findings = manifest_findings(directory) if inspected is None else inspected
    findings += git_findings(directory)
    return CheckResult(directory, findings, ran)


def print_code_checks(result: CheckResult) -> None:
    from publisher_cli.output import console

    out = console()
    colours = {"pass": "green", "warn": "yellow", "fail": "red", "timed_out": "yellow", "error": "red"}
    if result.code_checks:
        out.print("code checks:")
    for check in result.code_checks:
        colour = colours.get(check.status, "white")
        out.print(f"  [{colour}]{check.status:<9}[/{colour}] {check.name:<14} {check.summary}", highlight=False)
        for finding in check.findings[:20] if check.status in ("fail", "warn") else []:
            where = f"{finding['path']}:{finding['line']}" if finding.get("line") else finding["path"]
            out.print(f"      {where}  {finding['message']}", highlight=False, markup=False)


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
@click.option("--code-checks/--no-code-checks", default=True, show_default=True,
              help="Run the registry's offline code checks (licence files, binaries, secrets, bandit, deploy files) "
                   "on the built package.")
@click.pass_context
def check_command(ctx: click.Context, path: Path, output_format: str, code_checks: bool) -> None:
    """Inspect the built package as the registry will, and the git release state."""
    from publisher_cli.errors import CheckFailed

    result = run_check(path, code_checks=code_checks)
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_findings(result)
        print_code_checks(result)
    if not result.ok:
        ctx.exit(1)
    if result.failed_code_checks:
        names = ", ".join(c.name for c in result.failed_code_checks)
        raise CheckFailed(f"code check(s) failed: {names}",
                          hint="fix the findings listed above (reviewers see the same results after upload), "
                               "commit, tag and run `solreg check` again")


COMMANDS = [check_command]
