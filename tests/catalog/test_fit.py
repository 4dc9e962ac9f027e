"""Data-hub profiles from what brokers return, and whether a solution fits a city's hub."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from registry.catalog import fit
from registry.catalog.adoption import save_profile
from registry.catalog.fit import evaluate_fit, parse_profile_document, parse_profile_text
from registry.catalog.search import SearchQuery, search
from registry.db import db
from registry.errors import InvalidInput
from tests.catalog.conftest import texts
from tests.helpers import csrf_token, login
from tests.publishing.packages import manifest

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = manifest()["dataHub"]  # OffStreetParking (typeUri) read+subscribe, ParkingSpot read+write, >=1.6.1


def document(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def example_fit(types: list[dict], spec_version: str | None = "1.8.1"):
    return evaluate_fit(EXAMPLE["specVersion"], EXAMPLE["entities"], spec_version, types)


def by_type(result) -> dict:
    return {gap.type: gap for gap in result.gaps}


# --- reading broker answers -------------------------------------------------------------------

def test_entity_type_list_gives_names_and_uris():
    types = parse_profile_document(document("entity-type-list.json"))
    assert types == [
        {"type": "OffStreetParking", "typeUri": "https://smartdatamodels.org/dataModel.Parking/OffStreetParking",
         "attributes": [], "access": ["read", "write", "subscribe"]},
        {"type": "ParkingSpot", "typeUri": None, "attributes": [], "access": ["read", "write", "subscribe"]},
    ]


def test_entity_types_with_details_give_attribute_names():
    types = parse_profile_document(document("types-details.json"), ["read", "subscribe"])
    assert [(t["type"], t["typeUri"]) for t in types] == [
        ("OffStreetParking", "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"),
        ("ParkingSpot", "https://smartdatamodels.org/dataModel.Parking/ParkingSpot")]
    assert [a["name"] for a in types[0]["attributes"]] == ["availableSpotNumber", "totalSpotNumber", "location", "name"]
    assert types[0]["access"] == ["read", "subscribe"]


def test_entity_type_info_gives_attribute_types():
    [single] = parse_profile_document(document("type-info.json"))
    assert single["attributes"] == [{"name": "availableSpotNumber", "types": ["Property"]},
                                    {"name": "location", "types": ["GeoProperty"]},
                                    {"name": "totalSpotNumber", "types": ["Property"]}]
    listed = parse_profile_document(document("type-info-list.json"))
    assert [t["type"] for t in listed] == ["OffStreetParking", "ParkingSpot"]
    assert listed[1]["typeUri"] is None  # "id": "ParkingSpot" is no URI


def test_city_data_hub_model_list():
    types = parse_profile_document(document("citydatahub-models.json"))
    assert types[1] == {"type": "ParkingSpot", "typeUri": None, "access": ["read", "write", "subscribe"],
                        "attributes": [{"name": "status", "types": ["Property"]},
                                       {"name": "refParkingSite", "types": ["Relationship"]}]}


def test_profile_text_lines():
    types = parse_profile_text("# our hub\nOffStreetParking: availableSpotNumber, location\n\n"
                               "https://smartdatamodels.org/dataModel.Parking/ParkingSpot: status\nWeatherObserved\n")
    assert [(t["type"], t["typeUri"], [a["name"] for a in t["attributes"]]) for t in types] == [
        ("OffStreetParking", None, ["availableSpotNumber", "location"]),
        ("ParkingSpot", "https://smartdatamodels.org/dataModel.Parking/ParkingSpot", ["status"]),
        ("WeatherObserved", None, [])]
    assert parse_profile_text(fit.profile_text(types)) == types


@pytest.mark.parametrize("raw, message", [
    (b"<html>not json</html>", "not JSON"),
    (b'{"id": "urn:x", "type": "Building"}', "not an NGSI-LD entity type document"),
    (b'"OffStreetParking"', "expected a JSON object or array"),
    (b"[]", "lists no entity types"),
    (b'{"type": "EntityTypeList", "typeList": "OffStreetParking"}', "typeList must be a list"),
    (b'[{"typeName": "NoTypeKey"}]', "has no 'type'"),
    (b'[{"type": "EntityType", "typeName": "", "attributeNames": []}]', "EntityType.typeName"),
    (b"\xff\xfe", "not JSON"),
])
def test_documents_that_are_not_ngsi_ld_are_refused_with_the_reason(raw, message):
    with pytest.raises(InvalidInput) as caught:
        parse_profile_document(raw)
    assert message in caught.value.detail


def test_bad_access_modes_and_spec_versions_are_refused():
    with pytest.raises(InvalidInput, match="access"):
        parse_profile_document(document("types-details.json"), ["read", "delete"])
    with pytest.raises(InvalidInput, match="1.8.1"):
        fit.check_spec_version("latest")
    assert fit.check_spec_version(" 1.6 ") == "1.6"


# --- fit ----------------------------------------------------------------------------------------

def test_hub_with_every_type_and_attribute_is_ready():
    result = example_fit(parse_profile_document(document("citydatahub-models.json")))
    assert result.ready and result.spec_version_ok
    assert not any(g.blocking for g in result.gaps)


def test_missing_type_and_required_attributes_are_named():
    result = example_fit(parse_profile_document(document("entity-type-list.json")))
    assert not result.ready
    gaps = by_type(result)
    assert gaps["OffStreetParking"].missing_attributes == ["availableSpotNumber", "location"]
    assert gaps["OffStreetParking"].optional_missing == ["totalSpotNumber"]
    assert gaps["ParkingSpot"].missing_attributes == ["status"]

    only_parking = example_fit(parse_profile_document(document("type-info.json")))
    assert by_type(only_parking)["ParkingSpot"].type_missing
    assert not by_type(only_parking)["OffStreetParking"].blocking


def test_missing_access_modes_are_named():
    result = example_fit(parse_profile_document(document("citydatahub-models.json"), ["read"]))
    assert not result.ready
    assert by_type(result)["OffStreetParking"].missing_access == ["subscribe"]
    assert by_type(result)["ParkingSpot"].missing_access == ["write"]


def test_attribute_types_must_agree_for_required_attributes():
    types = parse_profile_document(document("type-info-list.json"))
    result = example_fit(types)
    wrong = by_type(result)["ParkingSpot"].wrong_attribute_types
    assert wrong == [{"name": "refParkingSite", "needed": "Relationship", "hub": ["Property"], "required": False}]
    assert result.ready  # refParkingSite is optional; status (required) is there
    types[0]["attributes"][1]["types"] = ["Property"]  # location must be a GeoProperty and is required
    assert not example_fit(types).ready


def test_types_compare_by_uri_when_both_sides_have_one():
    other_uri = [{"type": "OffStreetParking", "typeUri": "https://example.org/other/OffStreetParking",
                  "attributes": [{"name": "availableSpotNumber", "types": []}, {"name": "location", "types": []}],
                  "access": ["read", "subscribe"]},
                 {"type": "ParkingSpot", "typeUri": None, "attributes": [{"name": "status", "types": []}],
                  "access": ["read", "write"]}]
    assert by_type(example_fit(other_uri))["OffStreetParking"].type_missing
    other_uri[0]["typeUri"] = None  # no URI on the hub side: the short name decides
    assert example_fit(other_uri).ready


def test_spec_version_outside_the_range_blocks():
    types = parse_profile_document(document("citydatahub-models.json"))
    result = example_fit(types, "1.3.1")
    assert result.spec_version_ok is False and not result.ready
    assert example_fit(types, None).spec_version_ok is None  # unknown: not held against the solution


def test_solution_without_data_hub_needs_nothing():
    assert evaluate_fit(None, [], "1.8.1", []).ready


# --- profiles in the registry -----------------------------------------------------------------

@pytest.fixture
def two_solutions(publish):
    publish("parking-share")
    publish("weather-board", title=texts("날씨 전광판", "Weather Board"), dataHub={
        "api": "ngsi-ld", "specVersion": ">=1.6.1", "entities": [
            {"type": "WeatherObserved", "access": ["read"],
             "attributes": [{"name": "temperature", "attributeType": "Property", "required": True}]}]})
    publish("flood-alert", title=texts("침수 경보", "Flood Alert"), dataHub=None)


def test_search_filters_to_solutions_the_hub_can_run(two_solutions, municipality, make_user):
    from registry.accounts.models import User

    owner = db.session.scalar(db.select(User).where(User.username == "cheonan"))
    profile = save_profile(owner, municipality, "1.8.1", parse_profile_document(document("citydatahub-models.json")))
    db.session.commit()
    ids = fit.fitting_solution_ids(profile)
    result = search(SearchQuery(fits_hub=True), ids)
    assert sorted(h.name for h in result.hits) == ["flood-alert", "parking-share"]
    assert search(SearchQuery(), ids).fits_hub_count == 2

    profile = save_profile(owner, municipality, "1.8.1", parse_profile_text("WeatherObserved: temperature"))
    db.session.commit()
    assert sorted(h.name for h in search(SearchQuery(fits_hub=True), fit.fitting_solution_ids(profile)).hits) == \
        ["flood-alert", "weather-board"]


def test_only_members_of_a_municipality_save_profiles(municipality, make_user):
    from registry.errors import Forbidden

    stranger = make_user("stranger", org="hanbit")
    with pytest.raises(Forbidden):
        save_profile(stranger, municipality, None, parse_profile_text("A: b"))
    from registry.accounts import service

    with pytest.raises(Forbidden, match="not a municipality"):
        save_profile(stranger, service.get_org("hanbit"), None, parse_profile_text("A: b"))


def test_profile_upload_form_changes_the_fit_badge(client, two_solutions, municipality):
    login(client, "cheonan")
    page = client.get("/solutions/parking-share").get_data(as_text=True)
    assert "Ready for your data hub" not in page and "Missing in your data hub" not in page  # no profile yet

    token = csrf_token(client, "/orgs/cheonan/datahub")
    response = client.post("/orgs/cheonan/datahub", data={
        "profile-csrf_token": token, "profile-spec_version": "1.8.1", "profile-access": ["read", "subscribe"],
        "profile-document": (io.BytesIO(document("type-info.json")), "types.json")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get("/solutions/parking-share?lang=en").get_data(as_text=True)
    assert "Missing in your data hub" in page
    assert "ParkingSpot" in page and "entity type missing" in page

    response = client.post("/orgs/cheonan/datahub", data={
        "profile-csrf_token": token, "profile-spec_version": "1.8.1",
        "profile-access": ["read", "write", "subscribe"],
        "profile-pasted": document("citydatahub-models.json").decode()})
    assert response.status_code == 302
    page = client.get("/solutions/parking-share?lang=en").get_data(as_text=True)
    assert "Ready for your data hub" in page
    results = client.get("/search?fits_hub=1&lang=en").get_data(as_text=True)
    assert "Fits my data hub" in results and "weather-board" not in results and "parking-share" in results


def test_profile_form_shows_why_a_document_is_refused(client, municipality):
    login(client, "cheonan")
    token = csrf_token(client, "/orgs/cheonan/datahub")
    response = client.post("/orgs/cheonan/datahub?lang=en", data={
        "profile-csrf_token": token, "profile-access": ["read"],
        "profile-document": (io.BytesIO(b'{"type": "Building", "id": "urn:x"}'), "x.json")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not an NGSI-LD entity type document" in response.get_data(as_text=True)


def test_datahub_page_is_for_members_only(client, municipality, make_user):
    make_user("outsider", org="hanbit")
    login(client, "outsider")
    assert client.get("/orgs/cheonan/datahub").status_code == 403


def test_profile_api_round_trip(client, municipality, make_token):
    from registry.accounts.models import User

    owner = db.session.scalar(db.select(User).where(User.username == "cheonan"))
    writer = make_token(owner, "cheonan", ["adopt", "read"])
    reader = make_token(owner, "cheonan", ["read"])
    url = "/api/v1/orgs/cheonan/datahub-profile"
    as_reader, as_writer = {"Authorization": f"Bearer {reader}"}, {"Authorization": f"Bearer {writer}"}
    assert client.get(url, headers=as_reader).status_code == 404
    body = {"specVersion": "1.8.1", "access": ["read", "subscribe"],
            "entityTypes": json.loads(document("types-details.json"))}
    denied = client.put(url, json=body, headers=as_reader)
    assert denied.status_code == 403
    saved = client.put(url, json=body, headers=as_writer)
    assert saved.status_code == 200, saved.json
    assert saved.json["specVersion"] == "1.8.1"
    assert [t["type"] for t in saved.json["entityTypes"]] == ["OffStreetParking", "ParkingSpot"]
    got = client.get("/api/v1/orgs/cheonan/datahub-profile", headers={"Authorization": f"Bearer {reader}"})
    assert got.json["entityTypes"] == saved.json["entityTypes"]
    bad = client.put("/api/v1/orgs/cheonan/datahub-profile", json={"entityTypes": {"type": "Nope"}},
                     headers={"Authorization": f"Bearer {writer}"})
    assert bad.status_code == 400 and "NGSI-LD" in bad.json["errors"][0]["detail"]


def test_fits_hub_search_over_the_api_uses_the_token_profile(client, two_solutions, municipality, make_token):
    from registry.accounts.models import User

    owner = db.session.scalar(db.select(User).where(User.username == "cheonan"))
    token = make_token(owner, "cheonan", ["adopt", "read"])
    assert client.get("/api/v1/solutions?fits_hub=1").status_code == 400
    client.put("/api/v1/orgs/cheonan/datahub-profile", headers={"Authorization": f"Bearer {token}"},
               json={"specVersion": "1.8.1", "entityTypes": ["WeatherObserved"]})
    # WeatherObserved without attributes: weather-board misses its required temperature.
    got = client.get("/api/v1/solutions?fits_hub=1", headers={"Authorization": f"Bearer {token}"}).json
    assert [r["name"] for r in got["results"]] == ["flood-alert"]
    assert got["facets"]["fits_hub"] == [{"value": "1", "count": 1, "selected": True}]
    overview = client.get("/api/v1/solutions/weather-board/overview", headers={"Authorization": f"Bearer {token}"}).json
    assert overview["fit"]["status"] == "missing"
    assert overview["fit"]["gaps"][0]["missing_attributes"] == ["temperature"]
