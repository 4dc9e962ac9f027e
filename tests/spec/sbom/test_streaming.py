"""CycloneDX JSON read as a stream: what the whole-document reading guaranteed must still hold
across the batches the items are checked in, and whatever order the document is written in."""

from __future__ import annotations

import io
import json

import pytest

from registry.spec.sbom.parser import _JSON_BATCH, MAX_JSON_DEPTH, SbomError, parse_sbom


def component(i: int, **extra) -> dict:
    return {"type": "library", "bom-ref": f"pkg:npm/주차-{i}@1.0.{i}", "name": f"주차-{i}", "version": f"1.0.{i}",
            "description": f"공영 주차장 {i}번 센서 라이브러리", "licenses": [{"license": {"id": "MIT"}}], **extra}


def document(count: int, **extra) -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"component": {"type": "application", "name": "parking-share", "version": "1.2.0"}},
            "components": [component(i) for i in range(count)], **extra}


def encoded(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


MANY = 3 * _JSON_BATCH + 17  # items in more than one batch


def test_every_item_of_every_batch_is_read():
    parsed = parse_sbom(encoded(document(MANY, dependencies=[{"ref": "pkg:npm/주차-0@1.0.0",
                                                              "dependsOn": ["pkg:npm/주차-1@1.0.1"]}])))
    assert [c.name for c in parsed.components] == [f"주차-{i}" for i in range(MANY)]
    assert parsed.dependencies == [("pkg:npm/주차-0@1.0.0", "pkg:npm/주차-1@1.0.1")]
    assert (parsed.root_name, parsed.root_version) == ("parking-share", "1.2.0")


def test_a_problem_in_a_later_batch_names_its_place_in_the_whole_array():
    value = document(MANY)
    value["components"][2 * _JSON_BATCH + 5]["purl"] = 42
    with pytest.raises(SbomError) as caught:
        parse_sbom(encoded(value))
    assert caught.value.path == f"$.components[{2 * _JSON_BATCH + 5}].purl"


def test_a_duplicate_in_another_batch_is_found():
    value = document(MANY)
    value["components"].append(dict(value["components"][3]))  # equal to item 3, batches apart
    with pytest.raises(SbomError, match="has non-unique elements") as caught:
        parse_sbom(encoded(value))
    assert caught.value.path == "$.components"


def test_equal_items_written_differently_are_duplicates():
    # JSON Schema equality: key order does not matter, and 1 equals 1.0.
    first = {"type": "library", "name": "센서", "version": "1.0.0", "properties": [{"name": "층", "value": "1"}]}
    second = {"properties": [{"value": "1", "name": "층"}], "version": "1.0.0", "name": "센서", "type": "library"}
    value = document(_JSON_BATCH)
    value["components"][:0] = [first]
    value["components"].append(second)
    with pytest.raises(SbomError, match="has non-unique elements"):
        parse_sbom(encoded(value))


def test_the_arrays_may_come_before_the_spec_version():
    value = document(MANY)
    reordered = {"components": value.pop("components"), **value}
    assert len(parse_sbom(encoded(reordered)).components) == MANY
    reordered["components"][MANY - 1]["type"] = "무엇"
    with pytest.raises(SbomError) as caught:
        parse_sbom(encoded(reordered))
    assert caught.value.path == f"$.components[{MANY - 1}].type"


def test_a_key_repeated_inside_an_item_is_refused():
    text = encoded(document(2)).replace(b'"name": "\xec\xa3\xbc\xec\xb0\xa8-1"',
                                        '"name": "주차-1", "name": "lodash"'.encode(), 1)
    with pytest.raises(SbomError, match="repeats the key 'name'") as caught:
        parse_sbom(text)
    assert caught.value.path == "$.components"


def test_a_repeated_top_level_array_is_refused():
    text = encoded(document(2))[:-1] + b', "components": []}'
    with pytest.raises(SbomError, match="repeats the key 'components' at its top level"):
        parse_sbom(text)


def test_nesting_inside_a_streamed_item_is_bounded():
    nested: dict = {}
    for _ in range(MAX_JSON_DEPTH):
        nested = {"name": "깊이", "type": "library", "components": [nested]} if nested else {"name": "끝", "type": "library"}
    with pytest.raises(SbomError, match=f"nests deeper than {MAX_JSON_DEPTH} levels"):
        parse_sbom(encoded(document(1, components=[nested])))


def test_broken_json_after_many_items_is_not_json():
    text = encoded(document(MANY))
    with pytest.raises(SbomError, match="not valid JSON"):
        parse_sbom(text[: len(text) // 2])
    with pytest.raises(SbomError, match="not valid JSON"):
        parse_sbom(text + b" {}")


def test_an_spdx_key_after_the_arrays_makes_it_spdx():
    text = encoded(document(3))[:-1] + b', "spdxVersion": "SPDX-2.3"}'
    with pytest.raises(SbomError, match="SPDX"):
        parse_sbom(text)


def test_read_from_a_file_at_its_position():
    stream = io.BytesIO(b"not the SBOM" + encoded(document(MANY)))
    stream.seek(len(b"not the SBOM"))
    assert len(parse_sbom(stream).components) == MANY
