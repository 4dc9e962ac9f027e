"""The JSON Schema agrees with the validator: same fields, same required ones,
same controlled vocabularies, and it rejects the structural rule fixtures."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from registry.spec import schema as schema_module
from registry.spec import validate_manifest, validator
from registry.spec import vocabulary as vocab
from registry.spec.deploy import DEPLOY_KINDS
from registry.spec.names import SOLUTION_NAME
from registry.spec.schema import REGENERATE, SCHEMA_FILE, generated_schema, read_schema, schema_text
from registry.spec.yamlload import load_yaml_mapping
from tests.spec.spec_support import FULL_EXAMPLE
from tests.spec.test_fixtures import RULE_FIXTURES, expectation


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(resources.files("registry.spec").joinpath("solution-v1.schema.json").read_text(encoding="utf-8"))


def as_json(path: Path) -> Any:
    return validator._json_ready(load_yaml_mapping(path.read_bytes()).value)


def schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    checker = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return [error.message for error in checker.iter_errors(instance)]


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "/schema/solution/v1.json"


def test_full_example_is_valid(schema: dict[str, Any]) -> None:
    assert schema_errors(schema, as_json(FULL_EXAMPLE)) == []
    # the validator's normalised manifest (dates as ISO text) is what the server stores
    assert schema_errors(schema, validate_manifest(FULL_EXAMPLE.read_bytes()).manifest) == []


def test_the_schema_file_holds_the_generated_values() -> None:
    # Adding a vocabulary value, a deployment kind or changing the name rule needs the file rewritten.
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(generated_schema(read_schema())), \
        f"{SCHEMA_FILE.name} is out of date: run `{REGENERATE}`"


def test_generated_values_are_the_python_ones(schema: dict[str, Any]) -> None:
    props = schema["properties"]
    assert props["deploy"]["properties"]["targets"]["items"]["properties"]["kind"]["enum"] == list(DEPLOY_KINDS)
    assert props["categories"]["items"]["enum"] == list(vocab.CATEGORIES)
    assert props["name"]["pattern"] == SOLUTION_NAME.pattern
    assert props["manifestVersion"]["const"] == vocab.MANIFEST_VERSION


def test_regenerating_writes_a_new_kind_into_the_file(monkeypatch, tmp_path: Path) -> None:
    stale = tmp_path / "solution-v1.schema.json"
    stale.write_text(SCHEMA_FILE.read_text(encoding="utf-8").replace('"vm"', '"virtual-machine"'), encoding="utf-8")
    monkeypatch.setattr(schema_module, "SCHEMA_FILE", stale)
    assert schema_module.main() == 0
    assert stale.read_text(encoding="utf-8") == SCHEMA_FILE.read_text(encoding="utf-8")


def _object(schema: dict[str, Any], *pointer: str) -> dict[str, Any]:
    node = schema
    for step in pointer:
        node = node["items"] if step == "[]" else node["properties"][step]
    return node


BLOCKS = [
    ((), validator.TOP_FIELDS),
    (("funding",), validator.FUNDING_FIELDS),
    (("legal",), validator.LEGAL_FIELDS),
    (("maintenance",), validator.MAINTENANCE_FIELDS),
    (("maintenance", "contractors", "[]"), validator.CONTRACTOR_FIELDS),
    (("maintenance", "contacts", "[]"), validator.CONTACT_FIELDS),
    (("source",), validator.SOURCE_FIELDS),
    (("dataHub",), validator.DATAHUB_FIELDS),
    (("dataHub", "entities", "[]"), validator.ENTITY_FIELDS),
    (("dataHub", "entities", "[]", "attributes", "[]"), validator.ATTRIBUTE_FIELDS),
    (("dependsOn",), validator.DEPENDS_FIELDS),
    (("dependsOn", "solutions", "[]"), validator.SOLUTION_DEP_FIELDS),
    (("dependsOn", "services", "[]"), validator.SERVICE_DEP_FIELDS),
    (("dependsOn", "hardware", "[]"), validator.HARDWARE_FIELDS),
    (("deploy",), validator.DEPLOY_FIELDS),
    (("deploy", "targets", "[]"), validator.TARGET_FIELDS),
    (("deploy", "resources"), validator.RESOURCE_FIELDS),
]


@pytest.mark.parametrize(("pointer", "fields"), BLOCKS, ids=lambda b: ".".join(b) if isinstance(b, tuple) else "")
def test_same_fields_and_required_fields(schema: dict[str, Any], pointer: tuple[str, ...], fields: dict[str, Any]) -> None:
    block = _object(schema, *pointer)
    assert block["additionalProperties"] is False
    assert set(block["properties"]) == set(fields)
    assert set(block.get("required", [])) == {name for name, spec in fields.items() if spec.required}
    for name in fields:
        assert block["properties"][name].get("title"), f"{name} has no title"
        assert block["properties"][name].get("description"), f"{name} has no description"


# Rules that are about structure or vocabulary, which the schema must catch too.
SCHEMA_CATCHES = {
    "unknown-key", "missing-field", "wrong-type", "manifest-version-unsupported", "name-not-slug", "version-not-semver",
    "text-language-unknown", "text-missing", "text-empty", "categories-empty", "category-unknown", "category-duplicate",
    "status-unknown", "programme-unknown", "funding-year-range", "maintenance-type-unknown", "email-invalid",
    "repository-url-invalid", "datahub-api-unsupported", "context-url-invalid", "datahub-entities-empty",
    "type-uri-invalid", "access-empty", "access-unknown", "access-duplicate", "attribute-type-unknown",
    "dependency-name-not-slug", "number-not-positive", "deploy-targets-empty", "deploy-kind-unknown",
    "architecture-unknown", "change-kind-unknown", "contractor-until-invalid",
}
LOAD_LEVEL = ("yaml-", "manifest-not-mapping")


@pytest.mark.parametrize("fixture", [f for f in RULE_FIXTURES if not f.stem.startswith(LOAD_LEVEL)], ids=lambda p: p.stem)
def test_schema_agrees_on_each_fixture(schema: dict[str, Any], fixture: Path) -> None:
    expected = expectation(fixture)
    errors = schema_errors(schema, as_json(fixture))
    if expected.code in SCHEMA_CATCHES:
        assert errors, f"the schema accepts {fixture.name}"
    else:
        # warnings, and rules that need SPDX data, grapheme counting, the catalogue,
        # range parsing or package files: the validator's job alone
        assert errors == [], errors


def test_every_structural_code_has_a_fixture() -> None:
    assert SCHEMA_CATCHES <= {f.stem for f in RULE_FIXTURES}


SAMPLES = sorted((Path(__file__).resolve().parents[2] / "sample_solutions").glob("*/solution.yaml"))


@pytest.mark.parametrize("manifest", SAMPLES, ids=lambda p: p.parent.name)
def test_schema_accepts_what_the_validator_accepts(schema: dict[str, Any], manifest: Path) -> None:
    report = validate_manifest(manifest.read_bytes())
    assert report.ok, [p.code for p in report.errors]
    assert schema_errors(schema, report.manifest) == []
