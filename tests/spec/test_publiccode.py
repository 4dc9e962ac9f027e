"""publiccode.yml v0.4 export/import (registry/spec/publiccode.py)."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import regex
import yaml

from registry.spec.publiccode import (
    FUNCTION_BY_CATEGORY,
    SCOPE_BY_CATEGORY,
    PubliccodeError,
    export_publiccode,
    publiccode_to_manifest,
    publiccode_to_yaml,
)
from registry.spec.vocabulary import CATEGORIES

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FULL_EXAMPLE = FIXTURES / "manifests" / "full-example.yaml"
PUBLICCODE_FIXTURE = FIXTURES / "publiccode" / "publiccode.yml"

# Facts from the publiccode.yml standard's controlled vocabularies (v0.4).
PUBLICCODE_CATEGORIES = set(
    """accounting agile-project-management applicant-tracking application-development appointment-scheduling
    backup billing-and-invoicing blog budgeting business-intelligence business-process-management cad
    call-center-management cloud-management collaboration communications compliance-management
    contact-management content-management crm customer-service-and-support data-analytics data-collection
    data-visualization design digital-asset-management digital-citizenship document-management
    donor-management e-commerce e-signature email-management email-marketing employee-management
    enterprise-project-management enterprise-social-networking erp event-management facility-management
    feedback-and-reviews-management financial-reporting fleet-management fundraising gamification
    geographic-information-systems grant-management graphic-design help-desk hr ide identity-management
    instant-messaging inventory-management it-asset-management it-development it-management it-security
    it-service-management knowledge-management learning-management-system marketing mind-mapping
    mobile-marketing mobile-payment network-management office online-booking online-community
    payment-gateway payroll predictive-analysis procurement productivity-suite project-collaboration
    project-management property-management real-estate-management remote-support resource-management
    sales-management seo service-desk social-media-management survey talent-management task-management
    taxes-management test-management time-management time-tracking translation video-conferencing
    video-editing visitor-management voip warehouse-management web-collaboration web-conferencing
    website-builder workflow-management""".split()
)
PUBLICCODE_SCOPES = set(
    """agriculture culture defence education emergency-services employment energy environment
    finance-and-economic-development foreign-affairs government healthcare infrastructures justice
    local-authorities manufacturing research science-and-technology security society sport tourism
    transportation welfare""".split()
)
SOFTWARE_TYPES = {
    "standalone/mobile", "standalone/iot", "standalone/desktop", "standalone/web", "standalone/backend",
    "standalone/other", "addon", "library", "configurationFiles",
}
DEVELOPMENT_STATUSES = {"concept", "development", "beta", "stable", "obsolete"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BCP47_SIMPLE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


@pytest.fixture
def manifest() -> dict[str, Any]:
    return yaml.safe_load(FULL_EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def exported(manifest: dict[str, Any]) -> dict[str, Any]:
    return export_publiccode(manifest, release_date=date(2024, 5, 1)).document


# ----------------------------------------------------------------------------- export


def test_export_has_every_required_key_with_the_right_type(exported: dict[str, Any]) -> None:
    assert exported["publiccodeYmlVersion"] == "0.7"
    assert exported["name"] == "parking-share"
    assert exported["url"] == "https://git.example.org/cheonan/parking-share"
    assert exported["softwareVersion"] == "1.2.0"
    assert exported["releaseDate"] == "2024-05-01"
    assert exported["platforms"] == ["web"]
    assert exported["developmentStatus"] == "stable"
    assert exported["softwareType"] in SOFTWARE_TYPES
    assert exported["legal"] == {"license": "Apache-2.0", "mainCopyrightOwner": "천안시"}
    localisation = exported["localisation"]
    assert isinstance(localisation["localisationReady"], bool)
    assert localisation["availableLanguages"] == ["ko", "en"]


def test_export_descriptions_meet_the_length_rules(exported: dict[str, Any]) -> None:
    assert set(exported["description"]) == {"ko", "en"}
    for lang, description in exported["description"].items():
        assert all(BCP47_SIMPLE.match(tag) for tag in exported["description"]), lang
        assert 0 < graphemes(description["shortDescription"]) <= 150, lang
        assert 150 <= graphemes(description["longDescription"]) <= 10_000, lang
        assert description["features"] == ["parking", "sharing", "주차", "주차공유"]
    assert exported["description"]["en"]["localisedName"] == "Smart Parking Sharing"
    assert exported["description"]["ko"]["shortDescription"].startswith("비어 있는 공공·민간 주차면")


def test_short_description_is_padded_only_with_manifest_facts(exported: dict[str, Any]) -> None:
    long_en = exported["description"]["en"]["longDescription"]
    assert long_en.startswith("Subscribes to the data hub's parking entities")
    for fact in ("Mobility", "Parking", "국토교통부 (MOLIT)", "2023", "천안시", "OffStreetParking", "ParkingSpot", "Apache-2.0"):
        assert fact in long_en


def test_long_enough_description_is_exported_unchanged(manifest: dict[str, Any]) -> None:
    manifest["description"]["en"] = "Residents find free parking spaces near them. " * 5
    result = export_publiccode(manifest, release_date=date(2024, 5, 1))
    assert result.document["description"]["en"]["longDescription"] == manifest["description"]["en"].strip()
    assert not any(n.startswith("description.en.longDescription") for n in result.notes)
    assert any(n.startswith("description.ko.longDescription") for n in result.notes)


def test_too_short_even_after_padding_is_reported(manifest: dict[str, Any]) -> None:
    minimal = {
        "name": "tiny", "version": "0.1.0", "developmentStatus": "concept",
        "title": {"en": "T"}, "summary": {"en": "S"}, "legal": {"license": "MIT"},
        "maintenance": {"type": "none"}, "keywords": ["x"], "source": {"repository": "https://example.org/t"},
    }
    result = export_publiccode(minimal, release_date=date(2024, 1, 1))
    assert graphemes(result.document["description"]["en"]["longDescription"]) < 150
    assert any("still shorter than 150" in note for note in result.notes)


def test_long_summary_is_shortened_to_150_characters(manifest: dict[str, Any]) -> None:
    manifest["summary"]["ko"] = "가" * 200
    result = export_publiccode(manifest, release_date=date(2024, 5, 1))
    short = result.document["description"]["ko"]["shortDescription"]
    assert graphemes(short) == 150 and short.endswith("…")
    assert any("shortDescription" in note for note in result.notes)


def test_categories_and_scopes_come_from_the_controlled_lists(exported: dict[str, Any]) -> None:
    assert exported["categories"] == ["data-collection"]  # the solution reads hub entities
    assert exported["intendedAudience"]["scope"] == ["transportation", "local-authorities"]
    # Uppercase ISO 3166-1 alpha-2 since publiccode.yml 0.5 (lowercase is deprecated).
    assert exported["intendedAudience"]["countries"] == ["KR"]


def test_every_category_mapping_targets_a_real_publiccode_term() -> None:
    assert set(SCOPE_BY_CATEGORY) == set(CATEGORIES)
    assert set(SCOPE_BY_CATEGORY.values()) <= PUBLICCODE_SCOPES
    assert {f for functions in FUNCTION_BY_CATEGORY.values() for f in functions} <= PUBLICCODE_CATEGORIES


def test_contract_maintenance_is_exported_with_dates_as_text(exported: dict[str, Any]) -> None:
    assert exported["maintenance"] == {
        "type": "contract",
        "contractors": [{"name": "예시소프트 주식회사", "until": "2027-12-31"}],
        "contacts": [{"name": "김담당", "email": "parking@example.org"}],
    }


def test_contractors_are_dropped_unless_type_is_contract(manifest: dict[str, Any]) -> None:
    manifest["maintenance"]["type"] = "community"
    result = export_publiccode(manifest, release_date=date(2024, 5, 1))
    assert "contractors" not in result.document["maintenance"]
    assert any("contractors dropped" in note for note in result.notes)


def test_internal_maintenance_without_contacts_is_refused(manifest: dict[str, Any]) -> None:
    manifest["maintenance"] = {"type": "internal"}
    with pytest.raises(PubliccodeError, match="needs at least one contact"):
        export_publiccode(manifest, release_date=date(2024, 5, 1))


def test_export_needs_a_url(manifest: dict[str, Any]) -> None:
    del manifest["source"]
    with pytest.raises(PubliccodeError, match="needs a url"):
        export_publiccode(manifest)
    doc = export_publiccode(manifest, url="https://registry.example.org/s/parking-share").document
    assert doc["url"] == "https://registry.example.org/s/parking-share"
    assert ISO_DATE.match(doc["releaseDate"])  # defaults to today


def test_dependencies_keep_only_expressible_versions(exported: dict[str, Any]) -> None:
    assert exported["dependsOn"] == {
        "open": [{"name": "city-auth"}, {"name": "postgresql", "versionMin": "13"}],
        "hardware": [{"name": "parking occupancy sensor"}],
    }


def test_yaml_output_loads_back_to_the_same_document(exported: dict[str, Any]) -> None:
    text = publiccode_to_yaml(exported)
    assert "스마트 주차 공유" in text  # readable, not \u-escaped
    assert yaml.safe_load(text) == exported
    assert text.index("publiccodeYmlVersion") < text.index("description")


# ----------------------------------------------------------------------------- import


@pytest.fixture
def imported() -> Any:
    return publiccode_to_manifest(PUBLICCODE_FIXTURE.read_bytes())


def test_import_maps_identity_and_texts(imported: Any) -> None:
    m = imported.manifest
    assert m["manifestVersion"] == "1"
    assert m["name"] == "flood-watch-gangneung"
    assert m["version"] == "2.3.0"
    assert m["title"] == {"ko": "강릉 하천 범람 감시", "en": "Gangneung Flood Watch"}
    assert m["summary"]["ko"].startswith("하천 수위계와 강우량계")
    assert m["summary"]["en"].startswith("Collects river-level")
    assert m["description"]["ko"].startswith("하천 곳곳에 설치된 수위계")
    assert m["description"]["en"].startswith("Reads river-level and rain-gauge")
    assert m["keywords"] == ["실시간 수위 지도", "문자·앱 경보", "대피소 안내", "Live river-level map",
                             "SMS and app alerts", "Shelter guidance"]


def test_import_maps_categories_status_legal_and_source(imported: Any) -> None:
    m = imported.manifest
    assert m["categories"] == ["disaster", "environment"]
    assert m["developmentStatus"] == "beta"
    assert m["legal"] == {"license": "EUPL-1.2", "copyrightOwner": "강릉시"}
    assert m["source"] == {"repository": "https://git.example.org/gangneung/flood-watch.git"}
    assert m["funding"] == {"fundedBy": "행정안전부"}


def test_import_maps_maintenance_and_dependencies(imported: Any) -> None:
    m = imported.manifest
    assert m["maintenance"] == {
        "type": "contract",
        "contractors": [{"name": "한빛정보기술", "until": date(2026, 6, 30)}],
        "contacts": [{"name": "이재난", "email": "flood@gangneung.example.org"}],
    }
    assert m["dependsOn"] == {
        "services": [
            {"name": "PostgreSQL", "version": ">=14"},
            {"name": "PostGIS", "version": ">=3.3 <=3.4"},
            {"name": "KT SMS Gateway"},
        ],
        "hardware": [{"name": "초음파 수위계"}],
    }


def test_import_lists_everything_it_dropped(imported: Any) -> None:
    notes = "\n".join(imported.notes)
    for dropped in ("landingURL", "releaseDate", "logo", "platforms", "usedBy", "softwareType",
                    "description.it", "description.ko-KR.documentation", "society", "2.3",
                    "phone/affiliation", "email/website", "funding.programme", "proprietary"):
        assert dropped in notes, dropped
    assert "genericName" not in notes


@pytest.mark.parametrize(("tag", "lang"), [("kor", "ko"), ("ko", "ko"), ("en-US", "en"), ("en-GB", "en"), ("eng", "en")])
def test_import_understands_language_tags(tag: str, lang: str) -> None:
    text = f"""
publiccodeYmlVersion: "0.4"
name: demo
url: https://example.org/demo
description:
  {tag}:
    shortDescription: short text
    longDescription: long text
"""
    result = publiccode_to_manifest(text)
    assert result.manifest["summary"] == {lang: "short text"}
    assert result.manifest["description"] == {lang: "long text"}


def test_import_of_a_hangul_name_falls_back_to_the_repository_name() -> None:
    result = publiccode_to_manifest('publiccodeYmlVersion: "0.4"\nname: 주차 공유\nurl: https://example.org/x/Parking_Share.git\n')
    assert result.manifest["name"] == "parking-share"
    assert any("no usable ASCII slug" in note for note in result.notes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
        ("name: x\nurl: https://example.org\n", "publiccodeYmlVersion is missing"),
        (b"\xff\xfe\x00", "not UTF-8"),
        ("publiccodeYmlVersion: '0.4'\n# " + "x" * (1024 * 1024), "limit"),
    ],
)
def test_import_refuses_bad_input_clearly(text: str | bytes, message: str) -> None:
    with pytest.raises(PubliccodeError, match=message):
        publiccode_to_manifest(text)


# ----------------------------------------------------------------------------- round trip


def test_round_trip_keeps_the_solution_identity(manifest: dict[str, Any]) -> None:
    original = copy.deepcopy(manifest)
    text = publiccode_to_yaml(export_publiccode(manifest, release_date=date(2024, 5, 1)).document)
    back = publiccode_to_manifest(text).manifest

    assert back["name"] == original["name"]
    assert back["version"] == original["version"]
    assert back["title"] == original["title"]
    assert back["summary"] == original["summary"]
    assert back["description"] == {k: v.strip() for k, v in original["description"].items()}
    assert back["keywords"] == original["keywords"]
    assert back["developmentStatus"] == original["developmentStatus"]
    assert back["legal"] == original["legal"]
    assert back["maintenance"] == original["maintenance"]
    assert back["source"] == original["source"]
    assert back["categories"] == original["categories"]
    assert manifest == original  # export does not modify its input


@pytest.mark.parametrize(
    ("software_version", "expected", "noted"),
    [("1.4.2", "1.4.2", False), ("v1.4.2", "1.4.2", True), ("3", "3.0.0", True), ("nightly", None, True)],
)
def test_import_reads_software_versions_as_semver(software_version: str, expected: str | None, noted: bool) -> None:
    text = f'publiccodeYmlVersion: "0.4"\nname: demo-app\nurl: https://example.org/demo\nsoftwareVersion: "{software_version}"\n'
    result = publiccode_to_manifest(text)
    assert result.manifest.get("version") == expected
    assert any("softwareVersion" in note for note in result.notes) is noted


@pytest.mark.parametrize("category", CATEGORIES)
def test_round_trip_keeps_every_category(manifest: dict[str, Any], category: str) -> None:
    """Categories sharing a publiccode scope (parking and mobility: transportation) come back as written."""
    manifest["categories"] = [category]
    manifest["description"]["ko"] = "주차장 빈자리를 알려 주는 서비스입니다. 한국어 설명이 그대로 돌아와야 합니다."
    document = export_publiccode(manifest, release_date=date(2024, 5, 1)).document
    assert document["intendedAudience"]["scope"] == [SCOPE_BY_CATEGORY[category], "local-authorities"]
    back = publiccode_to_manifest(publiccode_to_yaml(document)).manifest
    assert back["categories"] == [category]
    assert back["description"]["ko"] == manifest["description"]["ko"]
    assert back["title"]["ko"] == manifest["title"]["ko"]


def test_round_trip_keeps_all_categories_at_once(manifest: dict[str, Any]) -> None:
    manifest["categories"] = list(CATEGORIES)
    back = publiccode_to_manifest(publiccode_to_yaml(export_publiccode(manifest).document)).manifest
    assert back["categories"] == list(CATEGORIES)


def test_categories_ride_in_supports_as_uris(exported: dict[str, Any]) -> None:
    # The reference validator refuses unknown keys; `supports` takes any URI.
    assert exported["supports"] == [{"id": "urn:x-solreg:category:mobility"}, {"id": "urn:x-solreg:category:parking"}]


def test_import_of_a_plain_publiccode_still_derives_categories_from_scope(imported: Any) -> None:
    assert imported.manifest["categories"] == ["disaster", "environment"]


VALID_HEADER = 'publiccodeYmlVersion: "0.4"\nname: 주차 공유 앱\nurl: https://example.org/x/parking\n'


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('publiccodeYmlVersion: "9.9"\nname: demo\nurl: https://example.org/demo\n', "publiccodeYmlVersion"),
        ("publiccodeYmlVersion: 0.4\nname: demo\nurl: https://example.org/demo\n", "publiccodeYmlVersion"),
        ('publiccodeYmlVersion: "0.4"\nname: "  "\nurl: https://example.org/demo\n', "name"),
        ('publiccodeYmlVersion: "0.4"\nname: demo\n', "url"),
        (VALID_HEADER + "description:\n  ko_KR:\n    shortDescription: 빈 주차면 안내\n", "description.ko_KR"),
        (VALID_HEADER + "description:\n  한국어:\n    shortDescription: 빈 주차면 안내\n", "description.한국어"),
        (VALID_HEADER + "description:\n  ko:\n    shortDescription: ''\n", "description.ko.shortDescription"),
        (VALID_HEADER + "localisation:\n  availableLanguages: [ko, korean_KR]\n", "localisation.availableLanguages[1]"),
        (VALID_HEADER + "intendedAudience:\n  countries: [KOR]\n", "intendedAudience.countries[0]"),
        (VALID_HEADER + "maintenance:\n  type: internal\n  contacts:\n    - name: ''\n", "maintenance.contacts[0].name"),
        (VALID_HEADER + "maintenance:\n  type: contract\n  contractors:\n    - name: ' '\n      until: 2026-01-01\n",
         "maintenance.contractors[0].name"),
        (VALID_HEADER + "dependsOn:\n  open:\n    - name: ''\n", "dependsOn.open[0].name"),
    ],
)
def test_invalid_input_is_refused_at_its_field(text: str, field: str) -> None:
    with pytest.raises(PubliccodeError) as caught:
        publiccode_to_manifest(text)
    assert [path for path, _ in caught.value.problems] == [field]
    assert str(caught.value).startswith(f"{field}: ")


def test_every_invalid_field_is_listed_at_once() -> None:
    text = 'publiccodeYmlVersion: "1.0"\nname: ""\nurl: https://example.org/demo\ndescription:\n  en_US: {}\n'
    with pytest.raises(PubliccodeError) as caught:
        publiccode_to_manifest(text)
    assert [path for path, _ in caught.value.problems] == ["publiccodeYmlVersion", "name", "description.en_US"]
