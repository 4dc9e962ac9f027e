"""A required text that is empty or only spaces is refused like a missing one (docs/manifest.md)."""

from __future__ import annotations

import pytest
import yaml

from registry.spec.files import MappingFiles
from registry.spec.validator import validate_manifest
from tests.spec.spec_support import baseline_files

FULL_EXAMPLE = yaml.safe_load(baseline_files()["solution.yaml"])


def _set(document: dict, path: str, value: str) -> None:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value


@pytest.mark.parametrize("path", [
    "maintenance.contacts.0.name", "maintenance.contacts.0.email", "legal.copyrightOwner", "funding.municipality",
    "dataHub.entities.0.type", "dataHub.entities.0.attributes.0.name", "deploy.targets.0.path", "sbom",
])
@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_required_text_is_missing(path, blank, catalogue) -> None:
    document = yaml.safe_load(yaml.safe_dump(FULL_EXAMPLE))
    _set(document, path, blank)
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    report = validate_manifest(text.encode(), files=MappingFiles(baseline_files()), catalogue=catalogue)
    yaml_path = path.replace(".0.", "[0].").replace(".0", "[0]")
    assert [(p.code, p.path) for p in report.errors] == [("missing-field", yaml_path)], [str(p) for p in report.problems]
    problem = report.errors[0]
    assert "required but empty" in problem.message and problem.line is not None
    assert text.splitlines()[problem.line - 1].strip().split(":")[0].lstrip("- ") == path.rsplit(".", 1)[-1]
