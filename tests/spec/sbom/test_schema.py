"""The compiled schema gate and jsonschema's reporting validator must give the same verdicts."""

import copy
import json

import pytest
from fastjsonschema import JsonSchemaValueException

from registry.spec.sbom import schema
from registry.spec.sbom.parser import SUPPORTED_SPEC_VERSIONS
from registry.spec.sbom.schema import SchemaProblem, fast_validator, reporting_validator, schema_problems
from tests.spec.sbom.realsbom import SBOMS


def fast_accepts(document, spec: str) -> bool:
    try:
        fast_validator(spec)(document)
    except JsonSchemaValueException:
        return False
    return True


def reporting_accepts(document, spec: str) -> bool:
    return next(reporting_validator(spec).iter_errors(document), None) is None


def bom(spec="1.5", **extra) -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": spec, "version": 1, **extra}


def component(**extra) -> dict:
    return {"type": "library", "name": "requests", "version": "2.31.0", **extra}


def identity(confidence) -> dict:
    return component(evidence={"identity": {"field": "purl", "confidence": confidence}})


def signed_with(public_key: dict) -> dict:
    return bom(components=[component(signature={"algorithm": "ES256", "value": "c2ln", "publicKey": public_key})])


SHA256 = "a" * 64

# (case, document, valid?)
CASES = [
    ("minimal", bom(), True),
    ("a plain component", bom(components=[component(purl="pkg:pypi/requests@2.31.0")]), True),
    ("wrong type", bom(components=[component(purl=42)]), False),
    ("bom version is a boolean", bom(version=True), False),
    ("bom version 1.0 is an integer", bom(version=1.0), True),
    ("component type outside its enum", bom(components=[component(type="nonsense")]), False),
    ("SPDX licence id", bom(components=[component(licenses=[{"license": {"id": "Apache-2.0"}}])]), True),
    ("unknown SPDX licence id", bom(components=[component(licenses=[{"license": {"id": "Not-A-Licence"}}])]), False),
    ("licence id not a string", bom(components=[component(licenses=[{"license": {"id": 7}}])]), False),
    ("licence name", bom(components=[component(licenses=[{"license": {"name": "Some licence"}}])]), True),
    ("missing required name", bom(components=[{"type": "library"}]), False),
    ("hash content", bom(components=[component(hashes=[{"alg": "SHA-256", "content": SHA256}])]), True),
    ("hash content off its pattern", bom(components=[component(hashes=[{"alg": "SHA-256", "content": "xyz"}])]), False),
    # Python's `$` (jsonschema's) also matches before a final newline; the gate must agree.
    ("hash content with a final newline", bom(components=[component(hashes=[{"alg": "SHA-256", "content": SHA256 + "\n"}])]),
     True),
    ("hash content with two final newlines",
     bom(components=[component(hashes=[{"alg": "SHA-256", "content": SHA256 + "\n\n"}])]), False),
    ("hash algorithm outside its enum", bom(components=[component(hashes=[{"alg": "SHA-7", "content": SHA256}])]), False),
    ("serial number", bom(serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"), True),
    ("serial number off its pattern", bom(serialNumber="urn:uuid:not-a-uuid"), False),
    ("email", bom(metadata={"authors": [{"name": "Kim", "email": "kim@example.org"}]}), True),
    ("email without @", bom(metadata={"authors": [{"name": "Kim", "email": "nobody"}]}), False),
    ("date-time", bom(metadata={"timestamp": "2024-05-01T10:00:00Z"}), True),
    ("date-time in words", bom(metadata={"timestamp": "yesterday"}), False),
    ("date-time with month 13", bom(metadata={"timestamp": "2024-13-01T00:00:00Z"}), False),
    ("iri-reference", bom(externalReferences=[{"type": "website", "url": "https://example.org/ä?x=1"}]), True),
    ("iri-reference with a space", bom(externalReferences=[{"type": "website", "url": "http://exa mple.org"}]), False),
    ("iri-reference that is no reference", bom(externalReferences=[{"type": "website", "url": "::nope"}]), False),
    ("unknown property on a component", bom(components=[component(colour="red")]), False),
    ("unknown top-level property", bom(colour="red"), False),
    ("duplicate components", bom(components=[component(), component()]), False),
    ("components equal but for key order", bom(components=[component(), dict(reversed(component().items()))]), False),
    ("components differing in one field", bom(components=[component(), component(version="2.32.0")]), True),
    # 1 and 1.0 are the same JSON number, so these components are duplicates.
    ("components equal as JSON numbers", bom(components=[identity(1), identity(1.0)]), False),
    ("components with different numbers", bom(components=[identity(1), identity(0.5)]), True),
    ("duplicate dependsOn", bom(dependencies=[{"ref": "a", "dependsOn": ["b", "b"]}]), False),
    ("JSF signature without a value", bom(components=[component(signature={"algorithm": "RS256"})]), False),
    ("JSF signature", bom(components=[component(signature={"algorithm": "RS256", "value": "c2ln"})]), True),
    # JSF picks the required key fields by `kty` with if/const/then.
    ("JSF EC key", signed_with({"kty": "EC", "crv": "P-256", "x": "eA", "y": "eQ"}), True),
    ("JSF EC key without y", signed_with({"kty": "EC", "crv": "P-256", "x": "eA"}), False),
    ("JSF EC key with an OKP curve", signed_with({"kty": "EC", "crv": "Ed25519", "x": "eA", "y": "eQ"}), False),
    ("JSF RSA key", signed_with({"kty": "RSA", "n": "bg", "e": "AQAB"}), True),
    ("JSF RSA key without e", signed_with({"kty": "RSA", "n": "bg"}), False),
    ("JSF OKP key with an extra field", signed_with({"kty": "OKP", "crv": "Ed25519", "x": "eA", "y": "eQ"}), False),
    ("JSF key of an unknown type", signed_with({"kty": "DSA"}), False),
    ("VEX analysis state outside its enum", bom(vulnerabilities=[{"id": "CVE-1", "analysis": {"state": "maybe"}}]), False),
    ("VEX analysis", bom(vulnerabilities=[{"id": "CVE-1", "analysis": {"state": "not_affected",
                                                                         "justification": "code_not_reachable"}}]), True),
    ("1.2 (strict schema): unknown property", bom("1.2", components=[component(colour="red")]), False),
    ("1.2: component", bom("1.2", components=[component(licenses=[{"license": {"id": "MIT"}}])]), True),
    ("1.3 (strict schema): unknown top-level property", bom("1.3", colour="red"), False),
    ("1.4: unknown licence id", bom("1.4", components=[component(licenses=[{"license": {"id": "Nope"}}])]), False),
    ("1.6: component with an OmniBOR id",
     bom("1.6", components=[component(omniborId=["gitoid:blob:sha1:261eeb9e9f8b2b4b0d119366dda99c6fd7d35c64"])]), True),
    ("1.6: unknown property", bom("1.6", components=[component(colour="red")]), False),
]


@pytest.mark.parametrize("document,valid", [pytest.param(d, v, id=c) for c, d, v in CASES])
def test_both_validators_give_the_expected_verdict(document, valid):
    spec = document["specVersion"]
    assert fast_accepts(document, spec) is valid
    assert reporting_accepts(document, spec) is valid
    assert (schema_problems(document, spec) == []) is valid


@pytest.mark.parametrize("path", sorted(SBOMS.glob("*.json")), ids=lambda p: p.name)
def test_both_validators_accept_every_json_fixture(path):
    document = json.loads(path.read_text())
    spec = document["specVersion"]
    assert fast_accepts(document, spec)
    assert reporting_accepts(document, spec)


@pytest.mark.parametrize("spec", SUPPORTED_SPEC_VERSIONS)
def test_every_supported_version_compiles_and_validates(spec):
    assert fast_accepts(bom(spec), spec)
    assert not fast_accepts(bom(spec, components=[{"type": "library"}]), spec)


def test_compiling_never_reaches_the_network(monkeypatch):
    import socket
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError("the schema compiler tried to fetch something")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    validate = fast_validator.__wrapped__("1.6")  # a fresh compile, not the cached one
    signed = component(licenses=[{"license": {"id": "MIT"}}], signature={"algorithm": "RS256", "value": "c2ln"})
    validate(bom("1.6", components=[signed]))


def test_validating_does_not_change_the_document():
    document = bom(metadata={"component": {"type": "application", "name": "app"}},
                   components=[component(hashes=[{"alg": "SHA-256", "content": SHA256}])])
    before = copy.deepcopy(document)
    fast_validator("1.5")(document)
    assert document == before


def test_problems_name_paths_and_are_sorted():
    document = bom(components=[component(type="nonsense"), {"type": "library"}, component(purl=42)])
    problems = schema_problems(document, "1.5")
    assert [p.path for p in problems] == ["$.components[0].type", "$.components[1]", "$.components[2].purl"]
    assert problems[2].message == "42 is not of type 'string'"
    assert problems[1].message == "'name' is a required property"


def test_problems_are_capped():
    document = bom(components=[component(purl=i) for i in range(30)])
    assert len(schema_problems(document, "1.5", limit=5)) == 5


def test_a_rejection_stands_when_the_reporting_validator_finds_nothing(monkeypatch):
    class FindsNothing:
        def iter_errors(self, document):
            return iter(())

    monkeypatch.setattr(schema, "reporting_validator", lambda spec: FindsNothing())
    problems = schema_problems(bom(components=[component(purl=42)]), "1.5")
    assert problems == [SchemaProblem("$.components[0].purl", "must be string")]


@pytest.mark.parametrize("items", [
    [1, 1.0], [1, True], [0, False], [True, True], ["1", 1], [[1], [1.0]], [[1, 2], [2, 1]],
    [{"a": 1, "b": [True]}, {"b": [True], "a": 1.0}], [{"a": 1}, {"a": True}], [None, None], [None, 0], [],
])
def test_unique_items_means_what_jsonschema_means(items):
    from jsonschema import Draft7Validator
    from jsonschema.validators import extend

    stock = Draft7Validator({"uniqueItems": True})  # pairwise comparison, the reference
    linear = extend(Draft7Validator, {"uniqueItems": schema._unique_items})({"uniqueItems": True})
    assert linear.is_valid(items) is stock.is_valid(items)


@pytest.mark.parametrize("spec", SUPPORTED_SPEC_VERSIONS)
def test_bundled_patterns_end_with_their_only_dollar(spec):
    """The `$` rewrite for the gate assumes `$` only ever anchors the end of a pattern
    (not inside a [...] set), as in every pattern the bundled schemas have today."""
    library = schema._library_validator(spec)
    patterns: list[str] = []

    def collect(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    patterns.append(value)
                elif key not in ("enum", "const", "default", "examples"):
                    collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(library.schema)
    for uri in library._registry:
        collect(library._registry[uri].contents)
    assert patterns
    for pattern in patterns:
        assert schema._UNESCAPED_DOLLAR.findall(pattern[:-1]) == [], pattern
