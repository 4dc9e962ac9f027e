"""``solreg sbom``: generate (Python) or validate the solution's CycloneDX SBOM."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from publisher_cli.manifest import Manifest

DEFAULT_SBOM = "sbom.cdx.json"
SPEC_VERSION = "1.6"

# Ecosystems solreg does not generate SBOMs for, and the generator to use instead.
OTHER_GENERATORS: dict[str, str] = {
    "package.json": "cdxgen (`npx @cyclonedx/cdxgen -o sbom.cdx.json`)",
    "pom.xml": "cyclonedx-maven-plugin (`mvn org.cyclonedx:cyclonedx-maven-plugin:makeAggregateBom`)",
    "go.mod": "cyclonedx-gomod (`cyclonedx-gomod app -json -output sbom.cdx.json`)",
    "Cargo.toml": "cargo-cyclonedx (`cargo cyclonedx --format json`)",
}


def sbom_problems(directory: Path, relative: str, manifest: Manifest) -> list[str]:
    """Messages for everything wrong with the SBOM at ``relative``; empty when it is fine."""
    from registry.spec.files import DirectoryFiles
    from registry.spec.sbomfile import check_sbom_file

    messages = [f"{p.severity}: {p.message}" for p in
                check_sbom_file(relative, DirectoryFiles(directory), manifest.name, manifest.version)]
    path = directory / relative
    if not messages and path.suffix == ".json":
        messages += _schema_problems(path)
    return messages


def _schema_problems(path: Path) -> list[str]:
    from cyclonedx.schema import OutputFormat, SchemaVersion
    from cyclonedx.validation import make_schemabased_validator

    text = path.read_text(encoding="utf-8")
    try:
        schema = SchemaVersion.from_version(str(json.loads(text).get("specVersion")))
    except ValueError as exc:
        return [f"error: unsupported CycloneDX specVersion: {exc}"]
    error = make_schemabased_validator(OutputFormat.JSON, schema).validate_str(text)
    return [f"error: not valid CycloneDX {schema.to_version()}: {str(error).splitlines()[0]}"] if error else []


def _python_requirements(directory: Path, scratch: Path) -> Path:
    """requirements.txt, or one written from pyproject.toml's [project] dependencies."""
    import tomllib

    from publisher_cli.errors import SbomBuildError

    requirements = directory / "requirements.txt"
    if requirements.is_file():
        return requirements
    try:
        project = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except tomllib.TOMLDecodeError as exc:
        raise SbomBuildError(f"pyproject.toml is not valid TOML: {exc}") from None
    generated = scratch / "requirements.txt"
    generated.write_text("\n".join(project.get("dependencies", [])) + "\n", encoding="utf-8")
    return generated


def generate_python_sbom(directory: Path, output: Path, manifest: Manifest) -> Path:
    """Run cyclonedx-py and make metadata.component name this solution and release."""
    from publisher_cli.errors import SbomBuildError

    pyproject = directory / "pyproject.toml"
    with tempfile.TemporaryDirectory() as scratch:
        requirements = _python_requirements(directory, Path(scratch))
        command = [sys.executable, "-m", "cyclonedx_py", "requirements", str(requirements),
                   "--sv", SPEC_VERSION, "--of", "JSON", "--output-reproducible", "--mc-type", "application",
                   "-o", str(output)]
        if pyproject.is_file():
            command[4:4] = ["--pyproject", str(pyproject)]
        completed = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        hint = ("install it: pip install 'cyclonedx-bom>=4,<8'" if "No module named" in completed.stderr
                else "run with --verbose or run cyclonedx-py yourself to see the full output")
        raise SbomBuildError(f"cyclonedx-py failed: {last}", hint=hint)
    document = json.loads(output.read_text(encoding="utf-8"))
    component = document.setdefault("metadata", {}).setdefault("component", {"type": "application"})
    component["name"], component["version"] = manifest.name, manifest.version
    component.setdefault("bom-ref", f"{manifest.name}@{manifest.version}")
    output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return output


def run_sbom(path: Path, output: Path | None) -> tuple[str, Path]:
    """Returns ("validated" | "generated", sbom path); raises SbomBuildError on any problem."""
    from publisher_cli.errors import SbomBuildError
    from publisher_cli.manifest import load_manifest, solution_dir

    directory = solution_dir(path)
    manifest = load_manifest(directory)
    declared = manifest.data.get("sbom") if isinstance(manifest.data.get("sbom"), str) else None

    python = (directory / "pyproject.toml").is_file() or (directory / "requirements.txt").is_file()
    if output is None and declared and (directory / declared).is_file():
        problems = sbom_problems(directory, declared, manifest)
        errors = [p for p in problems if p.startswith("error")]
        if not errors:
            for problem in problems:
                click.echo(problem, err=True)
            return "validated", directory / declared
        if not python:
            raise SbomBuildError(f"{declared}: {errors[0].removeprefix('error: ')}",
                                 hint="regenerate it with your ecosystem's SBOM generator")
        # A stale SBOM (e.g. the version was bumped) is what `solreg sbom` is for: write it anew.
        click.echo(f"note: {declared} is out of date ({errors[0].removeprefix('error: ')}); regenerating it", err=True)

    if python:
        target = (output or directory / (declared or DEFAULT_SBOM)).resolve()
        generate_python_sbom(directory, target, manifest)
        try:
            relative = target.relative_to(directory).as_posix()
        except ValueError:
            return "generated", target  # written outside the package: nothing to check against it
        problems = [p for p in sbom_problems(directory, relative, manifest) if p.startswith("error")]
        if problems:
            raise SbomBuildError(f"generated SBOM is not valid: {problems[0]}")
        if declared != relative:
            click.echo(f"note: set `sbom: {relative}` in solution.yaml", err=True)
        return "generated", target

    for marker, generator in OTHER_GENERATORS.items():
        if (directory / marker).is_file():
            raise SbomBuildError(f"found {marker}; solreg generates SBOMs for Python projects only",
                                 hint=f"use {generator}, then set `sbom:` in solution.yaml")
    raise SbomBuildError("no pyproject.toml, requirements.txt, package.json, pom.xml, go.mod or Cargo.toml found",
                         hint="write a CycloneDX SBOM with your ecosystem's generator and set `sbom:` in solution.yaml")


@click.command("sbom")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a new SBOM here (default: the manifest's `sbom` path, else sbom.cdx.json).")
def sbom_command(path: Path, output: Path | None) -> None:
    """Generate a CycloneDX 1.6 SBOM (Python) or validate the existing one."""
    action, target = run_sbom(path, output)
    click.echo(f"{action} {target}")


COMMANDS = [sbom_command]
