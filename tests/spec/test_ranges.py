"""Version ranges: comparators, partial versions, alternatives, clear errors."""

from __future__ import annotations

import pytest

from registry.spec.ranges import RangeError, is_semver, parse_range, parse_version


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (">=1.0.0 <2.0.0", ["1.0.0", "1.9.9"], ["0.9.9", "2.0.0"]),
        (">=1.0.0, <2.0.0", ["1.5.0"], ["2.0.0"]),
        (">= 1.0, < 2", ["1.0.0", "1.99.0"], ["2.0.0", "0.1.0"]),
        (">=13", ["13.0.0", "16.2"], ["12.9.9"]),
        ("^1.2", ["1.2.0", "1.9.0"], ["1.1.9", "2.0.0"]),
        ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        ("^0", ["0.0.0", "0.9.9"], ["1.0.0"]),
        ("~1.2", ["1.2.0", "1.2.9"], ["1.3.0"]),
        ("~1", ["1.0.0", "1.9.0"], ["2.0.0"]),
        ("1.2.3", ["1.2.3"], ["1.2.4"]),
        ("==1.2", ["1.2.0"], ["1.2.1"]),
        ("!=1.2.3", ["1.2.4"], ["1.2.3"]),
        (">1.0.0 <=1.1.0", ["1.1.0", "1.0.1"], ["1.0.0", "1.1.1"]),
        ("<1.0.0 || >=2.0.0 <3", ["0.5.0", "2.5.0"], ["1.5.0", "3.0.0"]),
        (">=1.0.0-rc.1", ["1.0.0-rc.2", "1.0.0"], ["1.0.0-beta"]),
        ("*", ["0.0.1", "99.1.0-rc.1"], []),
        ("<1 || *", ["5.0.0"], []),
    ],
)
def test_contains(text: str, inside: list[str], outside: list[str]) -> None:
    version_range = parse_range(text)
    for version in inside:
        assert version_range.contains(version), (text, version)
        assert version in version_range
    for version in outside:
        assert not version_range.contains(version), (text, version)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (">=x", "'x' is not a version"),
        ("=>1.0", "cannot read a comparator"),
        (">=1.0.0 <", "cannot read a comparator"),
        (">=1.0 ||", "alternative between '||' is empty"),
        ("1.2-rc.1", "needs a full MAJOR.MINOR.PATCH"),
        ("01.2.3", "is not a version"),
        ("1.x", "is not a version"),
        (">=1 *", "is not a version"),
        (">=1.0.0" * 100, "longer than"),
    ],
)
def test_errors_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(RangeError) as caught:
        parse_range(text)
    assert fragment in str(caught.value)


def test_range_error_is_a_value_error_and_not_text() -> None:
    with pytest.raises(ValueError):
        parse_range(13)  # type: ignore[arg-type]


def test_parse_version_pads_and_counts_parts() -> None:
    assert [str(v) for v, _ in map(parse_version, ["13", "1.2", "1.2.3-rc.1+b5"])] == ["13.0.0", "1.2.0", "1.2.3-rc.1+b5"]
    assert [parts for _, parts in map(parse_version, ["13", "1.2", "1.2.3"])] == [1, 2, 3]


def test_is_semver_needs_a_complete_version() -> None:
    assert is_semver("1.2.0") and is_semver("2.0.0-rc.1+build.5")
    assert not is_semver("1.2") and not is_semver(1.2) and not is_semver("v1.2.0")
