"""SBOMs as real generators write them (tests/fixtures/sbom/real, see SOURCES.md)."""

from __future__ import annotations

import json

import pytest

from registry.spec.sbom import budget
from registry.spec.sbom.budget import TimeBudgetExceeded
from registry.spec.sbom.parser import parse_sbom
from tests.spec.sbom.realsbom import real


@pytest.mark.parametrize(("name", "spec", "count"), [
    ("cyclonedx-npm-1.4.cdx.json.gz", "1.4", 482),
    ("cyclonedx-npm-1.7.cdx.json.gz", "1.7", 482),
    ("cyclonedx-npm-1.7.cdx.xml.gz", "1.7", 482),
    ("cyclonedx-py-environment-1.7.cdx.json", "1.7", 16),
    ("cyclonedx-py-environment-1.6.cdx.xml", "1.6", 16),
])
def test_real_generator_output_is_accepted(name, spec, count):
    parsed = parse_sbom(real(name), filename=name)
    assert (parsed.spec_version, len(parsed.components)) == (spec, count)
    assert all(c.name for c in parsed.components)
    assert sum(bool(c.purl) for c in parsed.components) == count


def test_npm_1_7_json_and_xml_say_the_same():
    as_json = parse_sbom(real("cyclonedx-npm-1.7.cdx.json.gz"))
    as_xml = parse_sbom(real("cyclonedx-npm-1.7.cdx.xml.gz"))
    assert as_json.root_name == as_xml.root_name == "parking-share-web"
    assert sorted(c.purl for c in as_json.components) == sorted(c.purl for c in as_xml.components)
    assert sorted(as_json.dependencies) == sorted(as_xml.dependencies)


def test_url_heavy_npm_sbom_never_reaches_the_slow_iri_parser(monkeypatch):
    import jsonschema._format
    import rfc3987_syntax

    def slow(*args, **kwargs):
        raise AssertionError("the Earley IRI parser was called")

    monkeypatch.setattr(jsonschema._format, "_rfc3987_is_valid_syntax", slow)
    monkeypatch.setattr(rfc3987_syntax, "is_valid_syntax", slow)
    document = json.loads(real("cyclonedx-npm-1.4.cdx.json.gz"))
    assert len(parse_sbom(json.dumps(document).encode()).components) == 482
    # A bad URL is still refused, by both validators, without the slow parser either.
    document["components"][0]["externalReferences"][0]["url"] = "https://example.org/a b"
    with pytest.raises(Exception, match="externalReferences"):
        parse_sbom(json.dumps(document).encode())


def with_extension(xml: bytes) -> bytes:
    extension = b'<ext:note xmlns:ext="urn:example:ext"><ext:name>\xed\x99\x95\xec\x9e\xa5</ext:name></ext:note>'
    # The schema allows them after any component: <components> is a sequence of (component, any*).
    return xml.replace(b"</component>\n    <component ", b"</component>" + extension + b"\n    <component ", 1).replace(
        b"</component>\n  </components>", b"</component>" + extension + b"\n  </components>", 1)


def test_xml_extension_elements_are_not_components():
    xml = real("cyclonedx-npm-1.7.cdx.xml.gz")
    extended = with_extension(xml)
    assert extended.count(b"urn:example:ext") == 2
    parsed = parse_sbom(extended)
    assert len(parsed.components) == 482
    assert all(c.name for c in parsed.components)


def test_time_budget_refuses_with_422(monkeypatch):
    clock = iter(range(0, 10_000, 10))  # every look at the thread's CPU clock is ten seconds later
    monkeypatch.setattr(budget.time, "thread_time", lambda: next(clock))
    with pytest.raises(TimeBudgetExceeded) as caught:
        parse_sbom(real("cyclonedx-npm-1.7.cdx.json.gz"), time_budget_s=30)
    assert caught.value.status == 422 and caught.value.code == "sbom-time-budget"
    assert "30 s" in caught.value.detail


def test_time_budget_counts_processor_time_not_the_wall_clock(monkeypatch):
    # A machine so busy that every look at the wall clock is ten seconds later: the read still passes.
    clock = iter(range(0, 10_000_000, 10))
    monkeypatch.setattr(budget.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(budget.time, "time", lambda: next(clock))
    assert len(parse_sbom(real("cyclonedx-npm-1.7.cdx.json.gz"), time_budget_s=30).components) == 482


def test_time_budget_is_not_spent_by_a_normal_read():
    assert len(parse_sbom(real("cyclonedx-npm-1.7.cdx.xml.gz"), time_budget_s=30).components) == 482
