"""Validator rules beyond the one-fixture-per-rule table: licence logic, grapheme
counting, normalisation, ordering, directory validation and the import budget."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from registry.spec import Report, check_license, validate_directory, validate_manifest
from tests.spec.spec_support import FULL_EXAMPLE, cyclonedx_json, write_package

EXAMPLE = FULL_EXAMPLE.read_text(encoding="utf-8")


def validate(text: str, catalogue=None) -> Report:
    return validate_manifest(text, catalogue=catalogue)


def edited(old: str, new: str) -> str:
    assert EXAMPLE.count(old) == 1, old
    return EXAMPLE.replace(old, new)


LICENSE_LINE = "  license: Apache-2.0                  # SPDX expression"


@pytest.mark.parametrize(
    ("expression", "codes", "normalised"),
    [
        ("MIT OR CC-BY-NC-4.0", [], "MIT OR CC-BY-NC-4.0"),
        ("CC-BY-NC-4.0 OR LicenseRef-Proprietary", ["license-not-osi"], None),
        ("MIT AND CC-BY-NC-4.0", ["license-not-osi"], "MIT AND CC-BY-NC-4.0"),
        ("(MIT OR CC-BY-NC-4.0) AND Apache-2.0", [], "(MIT OR CC-BY-NC-4.0) AND Apache-2.0"),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", [], "GPL-2.0-or-later WITH Classpath-exception-2.0"),
        ("EUPL-1.2", [], "EUPL-1.2"),
        ("EUPL-1.0", [], "EUPL-1.0"),  # not OSI-approved, but the EUPL is accepted
        ("LicenseRef-Cheonan-1.0", ["license-not-osi"], None),
        ("MIT/Apache-2.0", ["license-invalid"], None),
        ("MIT WITH Apache-2.0", ["license-invalid"], None),
        ("mit or apache-2.0", ["license-case"], "MIT OR Apache-2.0"),
        ("Apache 2.0", ["license-unknown"], None),
    ],
)
def test_licence_rules(expression: str, codes: list[str], normalised: str | None) -> None:
    result = check_license(expression)
    assert [code for _, code, _, _ in result.findings] == codes
    assert result.normalised == normalised


def test_unknown_licence_suggests_the_closest_id() -> None:
    report = validate(edited(LICENSE_LINE, "  license: Apache-2"))
    assert "Did you mean 'Apache-2.0'?" in report.errors[0].hint


def test_normalised_licence_and_language_in_the_manifest() -> None:
    report = validate(edited(LICENSE_LINE, "  license: apache-2.0").replace("  en: Smart Parking Sharing", "  en-US: Smart Parking Sharing"))
    assert report.ok
    assert report.manifest["legal"]["license"] == "Apache-2.0"
    assert report.manifest["title"] == {"ko": "스마트 주차 공유", "en": "Smart Parking Sharing"}
    assert report.manifest["maintenance"]["contractors"][0]["until"] == "2027-12-31"
    json.dumps(report.to_dict())  # the whole report is JSON-ready


def test_summary_counts_grapheme_clusters_not_code_points() -> None:
    summary_line = "  ko: 비어 있는 공공·민간 주차면을 시민과 실시간으로 나눠 쓰는 주차 공유 서비스"
    decomposed = unicodedata.normalize("NFD", "주차" * 75)  # 150 syllables, 300 code points (jamo)
    assert len(decomposed) == 300
    assert validate(edited(summary_line, f"  ko: {decomposed}")).ok
    too_long = validate(edited(summary_line, f"  ko: {decomposed}차"))
    assert [p.code for p in too_long.errors] == ["summary-too-long"]
    assert "151 characters" in too_long.errors[0].message


def test_problems_are_sorted_by_position() -> None:
    text = edited("developmentStatus: stable", "developmentStatus: done").replace("name: parking-share", "name: X")
    text = text.replace("categories: [mobility, parking]", "categories: [mobility, parkin]")
    report = validate(text)
    positions = [(p.line, p.column) for p in report.problems]
    assert positions == sorted(positions)
    assert [p.code for p in report.errors] == ["name-not-slug", "category-unknown", "status-unknown"]
    assert "Did you mean 'parking'?" in report.errors[1].hint


def test_unknown_top_level_key_suggests_the_field() -> None:
    report = validate(EXAMPLE.replace("developmentStatus: stable", "developmentStatus: stable\ncategorie: [x]"))
    assert [(p.code, p.path) for p in report.errors] == [("unknown-key", "categorie")]
    assert report.errors[0].hint == "Did you mean 'categories'?"


def test_version_as_number_says_quote_it() -> None:
    report = validate(edited("version: 1.2.0", "version: 1.2"))
    assert [(p.code, p.path) for p in report.errors] == [("wrong-type", "version")]
    assert 'Write three numbers in quotes: "1.2.0"' in report.errors[0].hint  # "1.2" is no SemVer either


def test_title_as_plain_text_explains_the_language_map() -> None:
    report = validate(edited("title:\n  ko: 스마트 주차 공유\n  en: Smart Parking Sharing", "title: 스마트 주차 공유"))
    assert [(p.code, p.path, p.line) for p in report.errors] == [("wrong-type", "title", 5)]
    assert "{ko: ..., en: ...}" in report.errors[0].hint


def test_contract_end_as_iso_text_and_community_maintenance() -> None:
    assert validate(edited("      until: 2027-12-31", '      until: "2027-12-31"')).ok
    no_contacts = edited("  type: contract                       # contract | internal | community | none", "  type: community")
    no_contacts = no_contacts.replace("  contacts:\n    - name: 김담당\n      email: parking@example.org\n", "")
    assert [p.code for p in validate(no_contacts).errors] == ["contacts-required"]


def test_funding_year_bounds() -> None:
    next_year = dt.date.today().year + 1
    assert validate(edited("  year: 2023", f"  year: {next_year}")).ok
    assert [p.code for p in validate(edited("  year: 2023", f"  year: {next_year + 1}")).errors] == ["funding-year-range"]
    assert [p.code for p in validate(edited("  year: 2023", "  year: true")).errors] == ["wrong-type"]


def test_unknown_entity_type_warns_with_a_suggestion(catalogue) -> None:
    report = validate(edited("    - type: ParkingSpot", "    - type: ParkingSpott"), catalogue)
    assert report.ok
    assert [(p.code, p.hint) for p in report.warnings] == [("entity-type-unknown", "Did you mean 'ParkingSpot'?")]


def test_kube_version_range_is_checked() -> None:
    report = validate(EXAMPLE.replace('kubeVersion: ">=1.25.0"', 'kubeVersion: "1.25+"'))
    assert [(p.code, p.path) for p in report.errors] == [("range-invalid", "deploy.targets[0].kubeVersion")]


def test_service_dependency_range_accepts_partial_versions() -> None:
    assert validate(EXAMPLE.replace('{name: postgresql, version: ">=13"}', '{name: postgresql, version: "^13 || ^16"}')).ok
    report = validate(EXAMPLE.replace('{name: postgresql, version: ">=13"}', '{name: postgresql, version: "13.x"}'))
    assert [(p.code, p.path) for p in report.errors] == [("range-invalid", "dependsOn.services[0].version")]


def test_unsafe_sbom_path() -> None:
    report = validate(edited("sbom: sbom.cdx.json", "sbom: /etc/passwd"))
    assert [(p.code, p.path) for p in report.errors] == [("path-outside-package", "sbom")]


def test_resources_must_be_positive() -> None:
    report = validate(edited("  resources: {cpu: 0.5, memoryMiB: 512, diskGiB: 2, gpu: 0}", "  resources: {cpu: 0, memoryMiB: -1, diskGiB: 2, gpu: 0}"))
    assert [(p.code, p.path) for p in report.errors] == [
        ("number-not-positive", "deploy.resources.cpu"), ("number-not-positive", "deploy.resources.memoryMiB")]


# -- directories ---------------------------------------------------------------------------


def test_valid_package_directory(package_dir: Path, catalogue) -> None:
    report = validate_directory(package_dir, catalogue=catalogue)
    assert report.problems == []
    assert validate_directory(package_dir / "solution.yaml", catalogue=catalogue).problems == []


def test_package_directory_with_kubernetes_and_xml_sbom(tmp_path: Path, catalogue) -> None:
    manifest = EXAMPLE.replace("    - {kind: compose, path: deploy/compose.yaml}",
                               "    - {kind: compose, path: deploy/compose.yaml}\n    - {kind: kubernetes, path: deploy/k8s}")
    manifest = manifest.replace("sbom: sbom.cdx.json", "sbom: sbom.cdx.xml")
    xml = ('<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><metadata><component type="application">'
           "<name>parking-share</name><version>1.2.0</version></component></metadata></bom>")
    write_package(tmp_path, {
        "solution.yaml": manifest.encode(),
        "deploy/helm/parking-share/Chart.yaml": b"apiVersion: v2\nname: parking-share\nversion: 1.2.0\n",
        "deploy/compose.yaml": b"services:\n  app: {image: parking-share:1.2.0}\n",
        "deploy/k8s/all.yaml": b"apiVersion: v1\nkind: Service\n---\napiVersion: apps/v1\nkind: Deployment\n",
        "sbom.cdx.xml": xml.encode(),
    })
    assert validate_directory(tmp_path, catalogue=catalogue).problems == []
    (tmp_path / "deploy/k8s/broken.yml").write_text("apiVersion: v1\n")
    (tmp_path / "sbom.cdx.xml").write_text(xml.replace("1.2.0", "1.1.0"))
    report = validate_directory(tmp_path, catalogue=catalogue)
    assert [(p.code, p.path) for p in report.errors] == [
        ("kubernetes-manifest-invalid", "deploy.targets[2].path"), ("sbom-component-mismatch", "sbom")]
    lines = manifest.splitlines()
    assert lines[report.errors[0].line - 1].strip().startswith("- {kind: kubernetes")
    assert lines[report.errors[1].line - 1].startswith("sbom:")


def test_directory_without_manifest(tmp_path: Path) -> None:
    report = validate_directory(tmp_path)
    assert [p.code for p in report.problems] == ["manifest-missing"]
    assert [p.code for p in validate_directory(tmp_path / "nope").problems] == ["manifest-missing"]


def test_directory_with_huge_manifest_is_refused_before_reading(tmp_path: Path) -> None:
    with (tmp_path / "solution.yaml").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing them
    assert [p.code for p in validate_directory(tmp_path).problems] == ["yaml-too-large"]


def test_sbom_in_package_is_large_but_fine(tmp_path: Path, catalogue) -> None:
    files = {name: data for name, data in {
        "solution.yaml": FULL_EXAMPLE.read_bytes(),
        "deploy/helm/parking-share/Chart.yaml": b"apiVersion: v2\nname: parking-share\nversion: 1.2.0\n",
        "deploy/compose.yaml": b"services:\n  app: {image: x}\n",
        "sbom.cdx.json": cyclonedx_json(components=2000),
    }.items()}
    assert validate_directory(write_package(tmp_path, files), catalogue=catalogue).ok


# -- import budget -----------------------------------------------------------------------


def test_import_is_light() -> None:
    code = (
        "import sys; import registry.spec; "
        "print([m for m in ('flask', 'sqlalchemy', 'license_expression', 'lxml', 'ijson', 'jsonschema') if m in sys.modules])"
    )
    # Import time itself is measured in bench/bench_validate.py and bench/bench_cli.py, not asserted here.
    heavy = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    assert heavy == "[]"


def test_type_uri_may_be_a_urn(catalogue) -> None:
    uri_line = "      typeUri: https://smartdatamodels.org/dataModel.Parking/OffStreetParking"
    report = validate(edited(uri_line, "      typeUri: urn:cheonan:OffStreetParking"), catalogue)
    assert report.ok
    assert [p.code for p in report.warnings] == ["type-uri-mismatch"]
    assert [p.code for p in validate(edited(uri_line, "      typeUri: urn:OffStreetParking")).errors] == ["type-uri-invalid"]
