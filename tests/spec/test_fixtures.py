"""Every rule has a fixture in tests/fixtures/manifests/invalid/<code>.yaml that
breaks it and nothing else. Its header says what to expect:

    # expect: <severity> <code> <path>

and the offending line ends with ``# <-- here``, so the expected line number is
read from the file, not written into the test. Files in ``<code>.files/``
replace files of the otherwise valid baseline package."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from registry.spec import MappingFiles, validate_manifest
from tests.spec.spec_support import INVALID, baseline_files

EXPECT = re.compile(rb"^# expect: (error|warning) ([a-z0-9-]+) ?(\S*)$", re.MULTILINE)
MARKER = b"# <-- here"
# The position where an alias bomb exhausts the budget is an implementation detail.
NO_MARKER_NEEDED = {"yaml-alias-budget"}


@dataclass(frozen=True)
class Expectation:
    severity: str
    code: str
    path: str
    line: int | None


def expectation(fixture: Path) -> Expectation:
    data = fixture.read_bytes()
    match = EXPECT.search(data)
    assert match, f"{fixture.name} has no '# expect:' header"
    lines = data.split(b"\n")
    marked = [number for number, text in enumerate(lines, start=1) if text.rstrip().endswith(MARKER)]
    assert len(marked) <= 1, f"{fixture.name} marks more than one line"
    return Expectation(match[1].decode(), match[2].decode(), match[3].decode(), marked[0] if marked else None)


def package_files(fixture: Path) -> MappingFiles:
    files = baseline_files()
    overlay = fixture.with_suffix(".files")
    if overlay.is_dir():
        for path in overlay.rglob("*"):
            if path.is_file():
                files[path.relative_to(overlay).as_posix()] = path.read_bytes()
    return MappingFiles(files)


RULE_FIXTURES = sorted(p for p in INVALID.glob("*.yaml") if EXPECT.search(p.read_bytes()))


def test_fixture_file_name_is_the_rule_code() -> None:
    assert len(RULE_FIXTURES) >= 70
    for fixture in RULE_FIXTURES:
        assert expectation(fixture).code == fixture.stem


@pytest.mark.parametrize("fixture", RULE_FIXTURES, ids=lambda p: p.stem)
def test_fixture_breaks_exactly_its_rule(fixture: Path, catalogue) -> None:
    expected = expectation(fixture)
    report = validate_manifest(fixture.read_bytes(), files=package_files(fixture), catalogue=catalogue)

    found = [p for p in report.problems if p.code == expected.code and p.path == expected.path]
    assert found, f"expected {expected.code} at {expected.path!r}, got {[str(p) for p in report.problems]}"
    problem = found[0]
    assert problem.severity == expected.severity
    assert problem.message and problem.hint
    if expected.line is None:
        assert expected.code in NO_MARKER_NEEDED, f"{fixture.name} needs a '# <-- here' marker"
        assert problem.line is not None
    else:
        assert problem.line == expected.line, str(problem)
    # The fixture breaks this rule only: no other error creeps in.
    assert {p.code for p in report.errors} == ({expected.code} if expected.severity == "error" else set())
    if expected.severity == "error":
        assert not report.ok
        assert report.manifest is None if expected.code.startswith(("yaml-", "manifest-not")) else report.manifest is not None


def test_full_example_alone_is_valid(catalogue) -> None:
    report = validate_manifest((INVALID.parent / "full-example.yaml").read_bytes(), catalogue=catalogue)
    assert report.problems == []
    assert report.ok


def test_full_example_with_its_package_files_is_valid(catalogue) -> None:
    report = validate_manifest(baseline_files()["solution.yaml"], files=MappingFiles(baseline_files()), catalogue=catalogue)
    assert report.problems == []
