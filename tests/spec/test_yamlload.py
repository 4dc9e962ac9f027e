"""Bounded YAML loading: hostile input gives exactly one clear error, quickly."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from registry.spec import validate_manifest
from registry.spec.yamlload import YamlLimits, YamlLoadError, load_yaml_documents, load_yaml_mapping
from tests.spec.spec_support import FULL_EXAMPLE, INVALID

HANG = 30.0  # a guard against hangs (alias bombs, runaway recursion), not a speed target


def single_error(data: bytes | str, max_seconds: float = HANG):
    started = time.perf_counter()
    report = validate_manifest(data)
    elapsed = time.perf_counter() - started
    assert elapsed < max_seconds, f"took {elapsed:.2f}s: a hostile document must fail fast, not hang"
    assert len(report.problems) == 1, [str(p) for p in report.problems]
    problem = report.problems[0]
    assert problem.severity == "error" and problem.message and problem.hint
    assert report.manifest is None
    return problem


def test_binary_junk() -> None:
    assert single_error((INVALID / "yaml-binary.yaml").read_bytes()).code == "yaml-binary"


def test_control_character_is_reported_with_its_position() -> None:
    problem = single_error(b"name: x\nsummary: a\x07b\n")
    assert (problem.code, problem.line, problem.column) == ("yaml-binary", 2, 11)


def test_empty_file_and_comment_only_file() -> None:
    assert single_error((INVALID / "yaml-empty.yaml").read_bytes()).code == "yaml-empty"
    assert single_error(b"   \n\n").code == "yaml-empty"
    assert single_error(b"# nothing but a comment\n").code == "yaml-empty"


def test_fifty_megabytes_is_refused_without_parsing() -> None:
    data = b"a: " + b"x" * (50 * 1024 * 1024) + b"\n"
    problem = single_error(data, )
    assert problem.code == "yaml-too-large"
    assert "1,048,576" in problem.message


def test_billion_laughs_is_stopped_by_the_node_budget() -> None:
    problem = single_error((INVALID / "yaml-alias-budget.yaml").read_bytes(), )
    assert problem.code == "yaml-alias-budget"


def test_ten_thousand_deep_nesting() -> None:
    problem = single_error((INVALID / "yaml-too-deep.yaml").read_bytes(), )
    assert problem.code == "yaml-too-deep"
    assert (problem.line, problem.column) == (1, 4 + 63)  # level 1 is the top mapping, so the 64th '[' is level 65


def test_ten_thousand_deep_block_mappings() -> None:
    deep = "".join(" " * i + f"k{i}:\n" for i in range(1_000))  # 10,000 would exceed the byte limit first
    assert single_error(deep, ).code == "yaml-too-deep"


def test_non_utf8_points_at_the_first_bad_byte() -> None:
    problem = single_error((INVALID / "yaml-not-utf8.yaml").read_bytes())
    assert problem.code == "yaml-not-utf8"
    assert problem.line == 1 and "UTF-8" in problem.message


def test_utf8_bom_is_accepted() -> None:
    loaded = load_yaml_mapping("\ufeffname: x\n".encode())
    assert loaded.value == {"name": "x"}


def test_top_level_scalar_is_not_a_mapping() -> None:
    assert single_error(b"just a sentence\n").code == "manifest-not-mapping"


def test_values_and_positions() -> None:
    loaded = load_yaml_mapping(FULL_EXAMPLE.read_bytes())
    assert loaded.value["maintenance"]["contractors"][0]["until"] == dt.date(2027, 12, 31)
    assert loaded.value["deploy"]["resources"]["cpu"] == 0.5
    lines = FULL_EXAMPLE.read_text(encoding="utf-8").splitlines()
    line, column = loaded.positions["dataHub.entities[1].type"]
    assert lines[line - 1][column - 1:].startswith("type: ParkingSpot")
    line, column = loaded.positions["dataHub.entities[0].access[1]"]
    assert lines[line - 1][column - 1:].startswith("subscribe]")
    # a path that does not exist falls back to its nearest existing parent
    assert loaded.position("dataHub.entities[0].nothing[3]") == loaded.positions["dataHub.entities[0]"]
    assert loaded.position("") == loaded.positions[""]


def test_merge_keys_keep_explicit_values() -> None:
    loaded = load_yaml_mapping("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n")
    assert loaded.value["d"] == {"x": 1, "y": 3}


def test_small_alias_use_is_fine() -> None:
    loaded = load_yaml_mapping("a: &a [1, 2]\nb: *a\n")
    assert loaded.value == {"a": [1, 2], "b": [1, 2]}


def test_custom_limits() -> None:
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_mapping("a: [1, 2, 3, 4, 5]\n", YamlLimits(max_nodes=4))
    assert caught.value.code == "yaml-alias-budget"
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_mapping("a: {b: {c: 1}}\n", YamlLimits(max_depth=2))
    assert caught.value.code == "yaml-too-deep"


def test_multi_document_stream() -> None:
    documents = load_yaml_documents(b"---\napiVersion: v1\nkind: Service\n---\n---\n- a list\n...\n")
    assert [d.value for d in documents] == [{"apiVersion": "v1", "kind": "Service"}, ["a list"]]
    assert documents[1].positions[""] == (6, 1)


def test_multi_document_stream_shares_one_node_budget() -> None:
    stream = "---\na: [1, 2, 3]\n" * 3
    assert len(load_yaml_documents(stream, YamlLimits(max_nodes=15))) == 3
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_documents(stream, YamlLimits(max_nodes=14))
    assert caught.value.code == "yaml-alias-budget"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"a: \x00", "yaml-binary"),
        (b"", "yaml-empty"),
        (b"\xc3\x28", "yaml-not-utf8"),
        (b"a: [\n", "yaml-syntax"),
        (b"a: &x [*x]\n", "yaml-recursive-alias"),
        (b"a: !!python/object:os.system x\n", "yaml-unsupported-tag"),
        (b"a: " + b"[" * 100 + b"]" * 100, "yaml-too-deep"),
    ],
)
def test_multi_document_loader_has_the_same_protections(data: bytes, code: str) -> None:
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_documents(data)
    assert caught.value.code == code


def test_too_many_documents() -> None:
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_documents("---\na: 1\n" * 5, YamlLimits(max_documents=4))
    assert caught.value.code == "yaml-too-many-documents"
