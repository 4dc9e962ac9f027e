"""Solution names: one rule for the validator, the upload API, `solreg init` and the publiccode import."""

from __future__ import annotations

import pytest

from registry.spec.names import SOLUTION_NAME_MAX, is_solution_name, normalize_name, slugify


@pytest.mark.parametrize("name", ["parking-share", "abc", "a1b", "x" * SOLUTION_NAME_MAX])
def test_valid_solution_names(name: str) -> None:
    assert is_solution_name(name)


@pytest.mark.parametrize("name", ["ab", "-parking", "parking-", "Parking", "주차-공유", "parking_share", "x" * 65, 12])
def test_invalid_solution_names(name: object) -> None:
    assert not is_solution_name(name)


def test_slugify_makes_a_valid_name_or_says_it_cannot() -> None:
    assert slugify("Smart Parking_Share v2") == "smart-parking-share-v2"
    assert slugify("--주차 Parking--") == "parking"
    assert len(slugify("a" * 100)) == SOLUTION_NAME_MAX and is_solution_name(slugify("a" * 100))
    assert slugify("주차공유") == ""


def test_look_alike_names_are_the_same_name() -> None:
    assert normalize_name("Parking_Share") == normalize_name("parking.share") == "parking-share"
