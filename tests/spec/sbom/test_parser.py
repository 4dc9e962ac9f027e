import json

import pytest

from registry.errors import PayloadTooLarge, RegistryError
from registry.spec.sbom.parser import MAX_JSON_DEPTH, SbomError, parse_sbom
from tests.spec.sbom.realsbom import SBOMS


def minimal(spec="1.5", **extra) -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": spec, "version": 1, **extra}


def as_bytes(document: dict) -> bytes:
    return json.dumps(document).encode()


# --- errors -------------------------------------------------------------------------------------


def test_neither_json_nor_xml():
    with pytest.raises(SbomError, match="neither JSON, XML, SPDX YAML nor SPDX tag-value"):
        parse_sbom(b"name,version\nrequests,2.31.0\n", filename="deps.csv")


def test_invalid_json_is_named():
    with pytest.raises(SbomError, match="not valid JSON"):
        parse_sbom(b'{"bomFormat": "CycloneDX",')


def test_wrong_bom_format():
    with pytest.raises(SbomError, match='"bomFormat" must be "CycloneDX"') as caught:
        parse_sbom(as_bytes({"bomFormat": "SPDX"}))
    assert caught.value.path == "$.bomFormat"


@pytest.mark.parametrize("spec", ["1.1", "1.8", "2.0", None])
def test_unsupported_spec_version(spec):
    with pytest.raises(SbomError, match="unsupported spec version") as caught:
        parse_sbom(as_bytes(minimal(spec)))
    assert caught.value.field == "$.specVersion"


def test_unsupported_xml_spec_version():
    xml = b'<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.1" version="1"/>'
    with pytest.raises(SbomError, match="unsupported spec version '1.1'"):
        parse_sbom(xml)


def test_schema_error_names_the_json_path():
    document = minimal(components=[{"type": "library", "name": f"c{i}", "version": "1"} for i in range(4)])
    document["components"][3]["purl"] = 42
    with pytest.raises(SbomError) as caught:
        parse_sbom(as_bytes(document))
    assert caught.value.path == "$.components[3].purl"
    assert "$.components[3].purl: 42 is not of type 'string'" in caught.value.detail
    assert isinstance(caught.value, RegistryError) and caught.value.status == 422  # the API's 422


def test_schema_errors_are_all_reported():
    document = minimal(components=[{"type": "nonsense", "name": "a"}, {"type": "library"}])
    with pytest.raises(SbomError) as caught:
        parse_sbom(as_bytes(document))
    fields = [e["field"] for e in caught.value.to_errors()]
    assert "$.components[0].type" in fields and "$.components[1]" in fields


def test_xml_schema_error_names_the_line():
    xml = (b'<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">\n'
           b'<components>\n<component type="library"><version>1</version></component>\n</components>\n</bom>')
    with pytest.raises(SbomError, match="line 4"):
        parse_sbom(xml)


def test_over_the_size_cap():
    data = as_bytes(minimal(components=[{"type": "library", "name": "x" * 100}] * 20))
    with pytest.raises(PayloadTooLarge, match="limit is 1,000 bytes"):
        parse_sbom(data, max_bytes=1000)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deeply_nested_json(depth):
    nested = '{"bomFormat": "CycloneDX", "specVersion": "1.5", "x": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(SbomError, match=f"nests deeper than {MAX_JSON_DEPTH} levels"):
        parse_sbom(nested.encode())


def test_billion_laughs_is_refused():
    xml = b"""<?xml version="1.0"?>
<!DOCTYPE bom [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><metadata><component type="application"><name>&lol3;</name></component></metadata></bom>"""
    with pytest.raises(SbomError, match="DTD or entities"):
        parse_sbom(xml)


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    xml = f"""<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file://{secret}">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><metadata><component type="application"><name>&xxe;</name></component></metadata></bom>"""
    with pytest.raises(SbomError, match="DTD or entities") as caught:
        parse_sbom(xml.encode())
    assert "top secret" not in caught.value.detail


def test_a_doctype_without_entities_is_refused_too():
    xml = b"""<?xml version="1.0"?>
<!DOCTYPE bom SYSTEM "http://127.0.0.1:9/bom.dtd">
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><metadata><component type="application"><name>\xec\xa3\xbc\xec\xb0\xa8</name></component></metadata></bom>"""
    with pytest.raises(SbomError, match="DTD or entities"):
        parse_sbom(xml)


def test_deeply_nested_xml_is_refused_as_not_well_formed():
    depth = 5000
    xml = ('<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">' + "<components><component type=\"library\"><name>\uc8fc\ucc28</name>" * depth
           + "</component></components>" * depth + "</bom>")
    with pytest.raises(SbomError, match="not well-formed XML"):
        parse_sbom(xml.encode())


def test_extension_elements_inside_a_component_are_skipped():
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" xmlns:x="urn:example:ext" version="1">
  <components>
    <component type="library" bom-ref="a">
      <name>주차-공유</name><version>1.0.0</version>
      <components><component type="library"><name>하위-모듈</name></component></components>
      <x:name>가짜 이름</x:name><x:components><x:component><x:name>확장</x:name></x:component></x:components>
    </component>
  </components>
</bom>"""
    parsed = parse_sbom(xml.encode())
    assert [(c.name, c.version, c.parent_ref) for c in parsed.components] == [("주차-공유", "1.0.0", None), ("하위-모듈", None, "a")]


def test_not_cyclonedx_xml():
    with pytest.raises(SbomError, match="root must be <bom>"):
        parse_sbom(b'<?xml version="1.0"?><spdx xmlns="http://spdx.org/rdf/terms#"/>')


def test_not_utf8():
    with pytest.raises(SbomError, match="not UTF-8"):
        parse_sbom(b"\xff\xfe{\x00")


# --- real-world shapes --------------------------------------------------------------------------


def names(parsed):
    return [c.name for c in parsed.components]


def test_cyclonedx_py_generated():
    parsed = parse_sbom((SBOMS / "cyclonedx-py-requests.cdx.json").read_bytes())
    assert parsed.format == "json" and parsed.spec_version == "1.5"
    assert sorted(names(parsed)) == ["certifi", "charset-normalizer", "idna", "pip", "requests", "setuptools", "urllib3"]
    requests = next(c for c in parsed.components if c.name == "requests")
    assert requests.purl == "pkg:pypi/requests@2.31.0"
    assert requests.licenses == [{"name": "License :: OSI Approved :: Apache Software License"}]
    assert ("requests==2.31.0", "urllib3==2.0.7") in parsed.dependencies


def test_cdxgen_npm():
    parsed = parse_sbom((SBOMS / "cdxgen-npm.cdx.json").read_bytes())
    assert (parsed.root_name, parsed.root_version) == ("parking-share-web", "1.4.0")
    assert len(parsed.components) == 5
    babel = next(c for c in parsed.components if c.name == "core")
    assert babel.group == "@babel" and babel.purl == "pkg:npm/%40babel/core@7.24.5"
    assert list(babel.hashes) == ["SHA-512"]


def test_syft_with_cpe_and_os_component():
    parsed = parse_sbom((SBOMS / "syft-image.cdx.json").read_bytes())
    assert len(parsed.components) == 5
    requests = parsed.components[0]
    assert requests.cpe.startswith("cpe:2.3:a:python-requests:requests:2.31.0")
    assert requests.bom_ref.endswith("package-id=5d1a5b0f7c3e2a19")
    assert [c.type for c in parsed.components].count("operating-system") == 1
    assert parsed.components[1].licenses == [{"expression": "MIT"}]


def test_trivy_with_vulnerabilities():
    parsed = parse_sbom((SBOMS / "trivy-image.cdx.json").read_bytes())
    assert len(parsed.components) == 5
    assert parsed.vulnerabilities[0].id == "CVE-2022-32149"
    assert parsed.vulnerabilities[0].state is None
    assert parsed.vulnerabilities[0].affects == ["pkg:golang/golang.org/x/text@v0.3.7"]


def test_cyclonedx_npm_nested_components_are_flattened():
    parsed = parse_sbom((SBOMS / "cyclonedx-npm.cdx.json").read_bytes())
    assert parsed.spec_version == "1.4"
    assert names(parsed) == ["chart.js", "axios", "form-data", "helpers", "highcharts"]
    form_data = parsed.components[2]
    assert form_data.parent_ref == "axios@1.6.0"
    assert ("axios@1.6.0", "form-data@4.0.0") in parsed.dependencies


def test_maven_plugin_xml():
    parsed = parse_sbom((SBOMS / "cyclonedx-maven.cdx.xml").read_bytes())
    assert parsed.format == "xml" and parsed.spec_version == "1.5"
    assert parsed.root_name == "traffic-signal-api"
    assert len(parsed.components) == 4
    core = parsed.components[0]
    assert (core.group, core.name, core.version) == ("org.apache.logging.log4j", "log4j-core", "2.14.1")
    assert sorted(core.hashes) == ["MD5", "SHA-1", "SHA-256", "SHA-512"]
    assert core.licenses == [{"id": "Apache-2.0"}]
    assert parsed.components[2].licenses == [{"name": "Eclipse Public License - v 2.0"}]
    assert parsed.components[3].licenses == [{"expression": "GPL-2.0-only WITH Classpath-exception-2.0"}]
    assert len(parsed.dependencies) == 4


def test_xml_1_4_with_nested_components_and_vex():
    parsed = parse_sbom((SBOMS / "hand-1.4.cdx.xml").read_bytes())
    assert names(parsed) == ["requests", "vendored-suite", "minijson"]
    assert parsed.components[2].parent_ref == "vendored-suite"
    assert parsed.components[0].supplier == "Python Software Foundation"
    vex = parsed.vulnerabilities[0]
    assert (vex.id, vex.state, vex.justification, vex.affects) == (
        "CVE-2024-35195", "not_affected", "code_not_reachable", ["requests"])


def test_json_1_2():
    parsed = parse_sbom((SBOMS / "hand-1.2.cdx.json").read_bytes())
    assert parsed.spec_version == "1.2"
    assert len(parsed.components) == 3
    assert parsed.components[1].licenses == [{"expression": "LGPL-3.0-or-later WITH openvpn-openssl-exception OR ZPL-2.1"}]
    assert parsed.components[2].supplier == "NetworkX Developers"


def test_utf8_bom_is_tolerated():
    assert parse_sbom(b"\xef\xbb\xbf" + as_bytes(minimal())).components == []


def test_nan_is_not_json():
    with pytest.raises(SbomError, match="not valid JSON: lexical error: invalid char in json text, at .*NaN"):
        parse_sbom(b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": NaN}')


def test_unknown_licence_id_is_reported_with_its_path():
    document = minimal(components=[{"type": "library", "name": "a", "licenses": [{"license": {"id": "MIT"}}]},
                                   {"type": "library", "name": "b", "licenses": [{"license": {"id": "Not-A-Licence"}}]}])
    with pytest.raises(SbomError) as caught:
        parse_sbom(as_bytes(document))
    assert caught.value.path == "$.components[1].licenses"
    assert "is not valid under any of the given schemas" in caught.value.detail


def test_duplicate_component_in_a_large_sbom_is_found():
    components = [{"type": "library", "bom-ref": f"c{i}", "name": f"c{i}", "version": "1.0.0",
                   "licenses": [{"license": {"id": "Apache-2.0"}}]} for i in range(2_000)]
    components.append(dict(components[1_234]))
    with pytest.raises(SbomError, match="has non-unique elements") as caught:
        parse_sbom(as_bytes(minimal(components=components)))
    assert caught.value.path == "$.components"


def test_large_valid_sbom_is_read_whole():
    components = [{"type": "library", "bom-ref": f"c{i}", "name": f"c{i}", "version": "1.0.0",
                   "purl": f"pkg:pypi/c{i}@1.0.0", "hashes": [{"alg": "SHA-256", "content": f"{i:064x}"}]}
                  for i in range(5_000)]
    parsed = parse_sbom(as_bytes(minimal(components=components)))
    assert len(parsed.components) == 5_000
    assert parsed.components[4_999].hashes == {"SHA-256": f"{4_999:064x}"}


def test_parsing_leaves_the_garbage_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    parse_sbom(as_bytes(minimal()))
    assert gc.isenabled()
    with pytest.raises(SbomError):
        parse_sbom(as_bytes(minimal(components=[{"type": "nonsense"}])))
    assert gc.isenabled()
    gc.disable()
    try:
        parse_sbom(as_bytes(minimal()))
        assert not gc.isenabled()
    finally:
        gc.enable()
