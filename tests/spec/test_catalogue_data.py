"""The NGSI-LD entity-type catalogue shipped in registry/spec/data/entity_types.json."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest

ATTRIBUTE_TYPES = {"Property", "Relationship", "GeoProperty"}
VALUE_TYPES = {"Text", "Number", "Integer", "Boolean", "DateTime", "URI", "StructuredValue", "Point", "Geometry"}
GEO_VALUE_TYPES = {"Point", "Geometry"}
TYPE_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
URI = re.compile(r"^(https://[a-z0-9.-]+\.[a-z]{2,}/\S+|urn:[a-z0-9][a-z0-9-]{0,31}:\S+)$")

REQUIRED_SDM_TYPES = {
    "OffStreetParking", "OnStreetParking", "ParkingSpot", "ParkingGroup", "ParkingAccess",
    "TrafficFlowObserved", "Vehicle", "BikeHireDockingStation", "EVChargingStation",
    "GtfsStop", "GtfsRoute", "GtfsTrip", "GtfsStopTime", "GtfsAgency",
    "Streetlight", "StreetlightControlCabinet", "WasteContainer",
    "AirQualityObserved", "NoiseLevelObserved", "WaterQualityObserved", "WeatherObserved", "WeatherForecast",
    "Alert", "Device", "DeviceModel", "PointOfInterest", "Building", "CrowdFlowObserved",
}

# type -> (personalData, {attribute: (attributeType, valueType or None)})
KR_TYPES: dict[str, tuple[bool, dict[str, tuple[str, str | None]]]] = {
    "FloatingPopulation": (True, {
        "location": ("GeoProperty", "Point"), "areaCode": ("Property", "Text"),
        "populationCount": ("Property", "Integer"), "ageGroup": ("Property", "Text"),
        "gender": ("Property", "Text"), "measuredAt": ("Property", "DateTime"),
    }),
    "CrimeReport": (True, {
        "location": ("GeoProperty", "Point"), "crimeType": ("Property", "Text"),
        "severity": ("Property", "Integer"), "reportedAt": ("Property", "DateTime"),
        "policeStation": ("Property", "Text"),
    }),
    "CctvCamera": (False, {
        "location": ("GeoProperty", "Point"), "cameraType": ("Property", "Text"),
        "status": ("Property", "Text"), "purpose": ("Property", "Text"),
        "installedAt": ("Property", "DateTime"),
    }),
    "DrtRequest": (True, {
        "origin": ("GeoProperty", "Point"), "destination": ("GeoProperty", "Point"),
        "requestedTime": ("Property", "DateTime"), "passengerCount": ("Property", "Integer"),
        "mobilityAid": ("Property", "Boolean"), "status": ("Property", "Text"),
        "assignedVehicle": ("Relationship", None),
    }),
    "WaterLevelObserved": (False, {
        "location": ("GeoProperty", "Point"), "waterLevel": ("Property", "Number"),
        "alertLevel": ("Property", "Text"), "dateObserved": ("Property", "DateTime"),
        "refDevice": ("Relationship", None),
    }),
    "RainfallObserved": (False, {
        "location": ("GeoProperty", "Point"), "precipitation": ("Property", "Number"),
        "precipitationIntensity": ("Property", "Number"), "dateObserved": ("Property", "DateTime"),
        "refDevice": ("Relationship", None),
    }),
    "BusShelter": (False, {
        "location": ("GeoProperty", "Point"), "name": ("Property", "Text"),
        "temperature": ("Property", "Number"), "occupancy": ("Property", "Integer"),
        "heatingOn": ("Property", "Boolean"), "refDevice": ("Relationship", None),
        "refStop": ("Relationship", None),
    }),
}


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Any]:
    # Read through importlib.resources so the test also proves the file ships inside the package.
    text = (resources.files("registry.spec") / "data" / "entity_types.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.fixture(scope="module")
def by_type(catalogue: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["type"]: entry for entry in catalogue["entityTypes"]}


def test_top_level_format(catalogue: dict[str, Any]) -> None:
    assert set(catalogue) == {"version", "entityTypes"}
    assert catalogue["version"] == 1
    assert isinstance(catalogue["entityTypes"], list)
    assert len(catalogue["entityTypes"]) >= len(REQUIRED_SDM_TYPES) + len(KR_TYPES)


def test_every_entry_has_the_documented_fields(catalogue: dict[str, Any]) -> None:
    for entry in catalogue["entityTypes"]:
        assert set(entry) == {"type", "typeUri", "domain", "source", "personalData", "attributes"}, entry.get("type")
        assert TYPE_NAME.match(entry["type"]), entry["type"]
        assert isinstance(entry["domain"], str) and entry["domain"], entry["type"]
        assert isinstance(entry["source"], str) and entry["source"], entry["type"]
        assert isinstance(entry["personalData"], bool), entry["type"]
        assert 1 <= len(entry["attributes"]) <= 22, entry["type"]


def test_types_and_type_uris_are_unique(catalogue: dict[str, Any]) -> None:
    types = [entry["type"] for entry in catalogue["entityTypes"]]
    uris = [entry["typeUri"] for entry in catalogue["entityTypes"]]
    assert len(types) == len(set(types)), sorted(t for t in types if types.count(t) > 1)
    assert len(uris) == len(set(uris))


def test_every_type_uri_is_a_uri(catalogue: dict[str, Any]) -> None:
    for entry in catalogue["entityTypes"]:
        assert URI.match(entry["typeUri"]), entry["typeUri"]


def test_smart_data_model_uris_follow_the_context_pattern(catalogue: dict[str, Any]) -> None:
    for entry in catalogue["entityTypes"]:
        if entry["source"].startswith("FIWARE Smart Data Models"):
            repo = entry["source"].rsplit(", ", 1)[1]
            assert entry["typeUri"] == f"https://smartdatamodels.org/{repo}/{entry['type']}"


def test_attributes_are_well_formed(catalogue: dict[str, Any]) -> None:
    for entry in catalogue["entityTypes"]:
        names = [a["name"] for a in entry["attributes"]]
        assert len(names) == len(set(names)), f"duplicate attribute in {entry['type']}"
        for attribute in entry["attributes"]:
            where = f"{entry['type']}.{attribute.get('name')}"
            assert set(attribute) <= {"name", "attributeType", "valueType"}, where
            assert ATTRIBUTE_NAME.match(attribute["name"]), where
            assert attribute["attributeType"] in ATTRIBUTE_TYPES, where
            if attribute["attributeType"] == "Relationship":
                assert "valueType" not in attribute, where
            else:
                assert attribute["valueType"] in VALUE_TYPES, where
            if attribute["attributeType"] == "GeoProperty":
                assert attribute["valueType"] in GEO_VALUE_TYPES, where
            if attribute.get("valueType") in GEO_VALUE_TYPES:
                assert attribute["attributeType"] == "GeoProperty", where


def test_naming_conventions_match_attribute_kinds(catalogue: dict[str, Any]) -> None:
    for entry in catalogue["entityTypes"]:
        for attribute in entry["attributes"]:
            name = attribute["name"]
            if name == "location":
                assert attribute["attributeType"] == "GeoProperty", entry["type"]
            if re.match(r"^(ref|has)[A-Z]", name):
                assert attribute["attributeType"] == "Relationship", f"{entry['type']}.{name}"


def test_required_smart_data_model_types_are_present(by_type: dict[str, dict[str, Any]]) -> None:
    assert REQUIRED_SDM_TYPES <= set(by_type), sorted(REQUIRED_SDM_TYPES - set(by_type))


def test_key_smart_data_model_attributes(by_type: dict[str, dict[str, Any]]) -> None:
    def attrs(type_name: str) -> dict[str, dict[str, Any]]:
        return {a["name"]: a for a in by_type[type_name]["attributes"]}

    parking = attrs("OffStreetParking")
    assert parking["availableSpotNumber"]["valueType"] == "Integer"
    assert parking["location"]["attributeType"] == "GeoProperty"
    assert attrs("ParkingSpot")["refParkingSite"]["attributeType"] == "Relationship"
    assert {"pm10", "pm25", "no2", "dateObserved"} <= set(attrs("AirQualityObserved"))
    assert {"hasStop", "hasTrip", "stopSequence"} <= set(attrs("GtfsStopTime"))
    assert attrs("WasteContainer")["fillingLevel"]["valueType"] == "Number"


def test_korean_data_hub_types(by_type: dict[str, dict[str, Any]]) -> None:
    for type_name, (personal, expected) in KR_TYPES.items():
        entry = by_type[type_name]
        assert entry["domain"] == "KR City Data Hub"
        assert entry["typeUri"] == f"urn:solreg:kr-datahub:{type_name}"
        assert entry["personalData"] is personal, type_name
        actual = {a["name"]: (a["attributeType"], a.get("valueType")) for a in entry["attributes"]}
        assert actual == expected, type_name


def test_personal_data_is_only_claimed_for_people(by_type: dict[str, dict[str, Any]]) -> None:
    personal = {name for name, entry in by_type.items() if entry["personalData"]}
    assert personal == {"FloatingPopulation", "CrimeReport", "DrtRequest"}
