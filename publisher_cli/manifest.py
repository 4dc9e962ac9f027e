"""Just enough of solution.yaml for the CLI: where it is, its name and version.

Full validation is ``registry.spec.validate_directory``'s job (see ``solreg check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher_cli.errors import ManifestError

MANIFEST_NAME = "solution.yaml"


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    data: dict[str, Any]

    @property
    def archive_stem(self) -> str:
        return f"{self.name}-{self.version}"


def parse_manifest(text: str | bytes, source: str = MANIFEST_NAME) -> Manifest:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source} is not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise ManifestError(f"{source} must be a YAML mapping")
    name, version = data.get("name"), data.get("version")
    if not isinstance(name, str) or not name:
        raise ManifestError(f"{source} has no `name`")
    if not isinstance(version, str) or not version:
        raise ManifestError(
            f"{source} has no `version` string (quote versions like \"1.0\" that YAML reads as numbers)"
        )
    return Manifest(name, version, data)


def solution_dir(path: str | Path) -> Path:
    """The directory holding solution.yaml; ``path`` may be the directory or the file."""
    candidate = Path(path).resolve()
    if candidate.is_file() and candidate.name == MANIFEST_NAME:
        candidate = candidate.parent
    if not candidate.is_dir():
        raise ManifestError(f"{path} is not a directory", hint="pass the solution's directory")
    if not (candidate / MANIFEST_NAME).is_file():
        raise ManifestError(f"no {MANIFEST_NAME} in {candidate}", hint="run `solreg init` to create one")
    return candidate


def load_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}") from None
    return parse_manifest(text, str(path))
