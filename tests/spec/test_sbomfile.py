"""The light manifest-level SBOM check (JSON and XML CycloneDX)."""

from __future__ import annotations

import json

from registry.spec.files import MappingFiles
from registry.spec.sbomfile import check_sbom_file
from tests.spec.spec_support import cyclonedx_json

XML = """<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
  <metadata><component type="application"><name>{name}</name><version>{version}</version></component></metadata>
  <components/>
</bom>"""


def check(data: bytes, name: str = "parking-share", version: str = "1.2.0", **kwargs) -> list[tuple[str, str]]:
    problems = check_sbom_file("sbom", MappingFiles({"sbom": data}), name, version, **kwargs)
    assert all(p.path == "sbom" and p.message and p.hint for p in problems)
    return [(p.severity, p.code) for p in problems]


def test_matching_json_and_xml() -> None:
    assert check(cyclonedx_json()) == []
    assert check(XML.format(name="parking-share", version="1.2.0").encode()) == []


def test_mismatched_name_and_version() -> None:
    assert check(cyclonedx_json(name="other")) == [("error", "sbom-component-mismatch")]
    assert check(cyclonedx_json(version="1.1.0")) == [("error", "sbom-component-mismatch")]
    assert check(XML.format(name="other", version="0.1.0").encode()) == [("error", "sbom-component-mismatch")] * 2


def test_absent_component_is_a_warning() -> None:
    assert check(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.4"}).encode()) == [("warning", "sbom-component-absent")]
    xml = b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components/></bom>'
    assert check(xml) == [("warning", "sbom-component-absent")]


def test_not_cyclonedx() -> None:
    assert check(json.dumps({"artifacts": [], "schema": {"version": "16.0.1"}}).encode()) == [("error", "sbom-not-cyclonedx")]
    # SPDX is read; one that describes no package says so, as a CycloneDX SBOM without metadata.component does.
    assert check(json.dumps({"spdxVersion": "SPDX-2.3"}).encode()) == [("warning", "sbom-component-absent")]
    assert check(json.dumps({"bomFormat": "CycloneDX"}).encode()) == [("error", "sbom-not-cyclonedx")]
    assert check(b'<bom xmlns="http://spdx.org/x"/>') == [("error", "sbom-not-cyclonedx")]
    assert check(b"name,version\n") == [("error", "sbom-not-cyclonedx")]


def test_unreadable_and_hostile_xml() -> None:
    assert check(b'{"bomFormat": ') == [("error", "sbom-unreadable")]
    assert check(b"<bom>") == [("error", "sbom-unreadable")]
    entity_bomb = (b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                   b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5">&b;</bom>')
    assert check(entity_bomb) == [("error", "sbom-unreadable")]


def test_missing_and_too_large() -> None:
    assert [p.code for p in check_sbom_file("nope.json", MappingFiles({}), "a", "1.0.0")] == ["sbom-missing"]
    assert check(cyclonedx_json(components=50), max_bytes=100) == [("error", "sbom-too-large")]
