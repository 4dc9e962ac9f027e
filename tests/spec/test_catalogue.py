"""The entity-type catalogue: loading, extension files, lookups, suggestions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.spec.catalogue import CatalogueError, EntityCatalogue, default_catalogue
from tests.spec.spec_support import FIXTURES, TEST_CATALOGUE

EXTENSION = FIXTURES / "catalogue" / "extension.json"


def test_lookup_by_name_and_uri(catalogue: EntityCatalogue) -> None:
    by_name = catalogue.get("OffStreetParking")
    assert by_name is not None and by_name.domain == "Parking"
    assert catalogue.get("https://smartdatamodels.org/dataModel.Parking/OffStreetParking") is by_name
    assert catalogue.get("Nothing") is None
    assert by_name.attributes["location"].attribute_type == "GeoProperty"
    assert "ParkingSpot" in catalogue and "Nothing" not in catalogue


def test_suggestions(catalogue: EntityCatalogue) -> None:
    assert catalogue.suggest_type("ParkingSpott") == "ParkingSpot"
    assert catalogue.suggest_type("offstreetparking") == "OffStreetParking"
    assert catalogue.suggest_type("Zebra") is None
    assert catalogue.suggest_attribute("OffStreetParking", "availableSpotNumbr") == "availableSpotNumber"
    assert catalogue.suggest_attribute("Unknown", "x") is None


def test_extension_files_add_types_and_attributes() -> None:
    catalogue = EntityCatalogue.load([EXTENSION], base_path=TEST_CATALOGUE)
    spot = catalogue.get("ParkingSpot")
    assert spot is not None
    assert {"status", "refParkingSite", "reservedUntil"} <= set(spot.attributes)
    assert spot.type_uri == "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"  # kept from the base
    assert catalogue.get("urn:cheonan:BusShelter").type == "CheonanBusShelter"
    assert len(catalogue) == 4


def test_empty_base() -> None:
    assert len(EntityCatalogue.load(base_path=None)) == 0


def test_default_catalogue_is_cached_and_loads_the_shipped_file() -> None:
    assert default_catalogue() is default_catalogue()
    assert isinstance(default_catalogue(), EntityCatalogue)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ([], '"version": 1'),
        ({"version": 2, "entityTypes": []}, '"version": 1'),
        ({"version": 1}, '"entityTypes" must be a list'),
        ({"version": 1, "entityTypes": [{"typeUri": "x"}]}, 'entityTypes[0]: each entity type needs a non-empty "type"'),
        ({"version": 1, "entityTypes": [{"type": "A", "attributes": [{"attributeType": "Property"}]}]}, 'needs a "name"'),
        ({"version": 1, "entityTypes": [{"type": "A", "attributes": [{"name": "a", "attributeType": "Prop"}]}]}, "attributeType must be one of"),
    ],
)
def test_malformed_catalogue_files(tmp_path: Path, document: object, fragment: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CatalogueError) as caught:
        EntityCatalogue.load(base_path=path)
    assert fragment in str(caught.value)


def test_missing_and_unparsable_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="not found"):
        EntityCatalogue.load([tmp_path / "nope.json"], base_path=None)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(CatalogueError, match="cannot read"):
        EntityCatalogue.load(base_path=tmp_path / "broken.json")
