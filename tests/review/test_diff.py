"""The diff a reviewer reads: manifest fields, data hub, deploy, SBOM and licence, against the
previous published release; and the full picture for a first release."""

from registry.releases.models import Release
from registry.review.diff import FieldChange, field_changes, flatten, previous_published, release_diff
from tests.publishing.packages import manifest
from tests.review.conftest import auth

FLOATING = {"type": "FloatingPopulation", "access": ["read"], "attributes": [
    {"name": "populationCount", "attributeType": "Property", "valueType": "Integer", "required": True}]}


def approve(client, token, release: Release):
    response = client.post(f"/api/v1/reviews/{release.id}", json={"decision": "approve"}, headers=auth(token))
    assert response.status_code == 200, response.json


def test_flatten_keys_lists_of_mappings_by_their_identifying_field():
    flat = flatten({"a": {"b": 1}, "tags": ["x", "y"],
                    "entities": [{"type": "T", "access": ["read"]}, {"type": "U", "access": []}],
                    "anonymous": [{"x": 1}, {"x": 2}]})
    assert flat == {"a.b": 1, "tags": ["x", "y"], "entities[T].type": "T", "entities[T].access": ["read"],
                    "entities[U].type": "U", "entities[U].access": [], "anonymous[0].x": 1, "anonymous[1].x": 2}


def test_field_changes_ignore_reordering_of_keyed_lists_and_report_old_and_new():
    old = {"version": "1.0.0", "items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}], "gone": True}
    new = {"version": "1.1.0", "items": [{"name": "b", "v": 2}, {"name": "a", "v": 3}], "fresh": "yes"}
    assert field_changes(old, new) == [
        FieldChange("fresh", None, "yes"), FieldChange("gone", True, None),
        FieldChange("items[a].v", 1, 3), FieldChange("version", "1.0.0", "1.1.0")]


def test_first_release_shows_the_full_picture(pending):
    diff = release_diff(pending)
    assert diff.is_first and diff.base is None and diff.fields == []
    assert [e.type for e in diff.datahub.added] == ["OffStreetParking", "ParkingSpot"]
    assert not diff.datahub.personal_data_added
    assert sorted(t["kind"] for t in diff.deploy.targets_added) == ["compose", "helm"]
    assert {c.path: c.new for c in diff.deploy.resources} == {"cpu": 0.5, "memoryMiB": 512, "diskGiB": 2, "gpu": 0}
    assert sorted(c.name for c in diff.sbom.added) == ["flask", "requests"]
    assert diff.sbom_summary["components"] == 2


def test_update_is_compared_with_the_previous_published_release(client, release_of, reviewer_token):
    base = release_of("1.2.0")
    approve(client, reviewer_token, base)
    m = manifest()
    entities = m["dataHub"]["entities"]
    entities[1]["access"] = ["read", "subscribe"]  # ParkingSpot: write dropped, subscribe added
    data_hub = {**m["dataHub"], "entities": [*entities, FLOATING]}
    deploy = {**m["deploy"], "targets": [m["deploy"]["targets"][0]],
              "resources": {**m["deploy"]["resources"], "memoryMiB": 1024}, "architectures": ["amd64"]}
    update = release_of("1.3.0", [("requests", "2.32.3", "Apache-2.0"), ("django", "5.0.6", "BSD-3-Clause")],
                        legal={"license": "MIT", "copyrightOwner": "천안시"}, dataHub=data_hub, deploy=deploy)

    diff = release_diff(update)
    assert not diff.is_first and diff.base.version == "1.2.0"
    assert diff.license_change == FieldChange("legal.license", "Apache-2.0", "MIT")
    changes = {c.path: (c.old, c.new) for c in diff.fields}
    assert changes["version"] == ("1.2.0", "1.3.0")
    assert changes["deploy.resources.memoryMiB"] == (512, 1024)
    assert changes["dataHub.entities[ParkingSpot].access"] == (["read", "write"], ["read", "subscribe"])
    assert "title.ko" not in changes  # unchanged fields are not listed

    assert [(e.type, e.personal_data) for e in diff.datahub.added] == [("FloatingPopulation", True)]
    assert diff.datahub.personal_data_added and diff.datahub.removed == []
    [access] = diff.datahub.access_changed
    assert (access.type, access.added, access.removed) == ("ParkingSpot", ["subscribe"], ["write"])

    assert [t["kind"] for t in diff.deploy.targets_removed] == ["compose"] and diff.deploy.targets_added == []
    assert diff.deploy.resources == [FieldChange("memoryMiB", 512, 1024)]
    assert diff.deploy.architectures_removed == ["arm64"]

    assert [c.name for c in diff.sbom.added] == ["django"]
    assert [c.name for c in diff.sbom.removed] == ["flask"]
    assert [(c.name, c.old_version, c.new_version) for c in diff.sbom.upgraded] == [("requests", "2.31.0", "2.32.3")]
    assert diff.to_dict()["datahub"]["personal_data_added"] is True


def test_base_is_the_highest_published_version_below(client, release_of, reviewer_token):
    for version in ("1.0.0", "2.0.0", "1.5.0"):
        approve(client, reviewer_token, release_of(version))
    backport = release_of("1.6.0")
    assert previous_published(backport).version == "1.5.0"
    oldest = release_of("0.9.0")  # nothing published below: compare with the latest
    assert previous_published(oldest).version == "2.0.0"
    pending_only = release_of("3.0.0")
    assert previous_published(pending_only).version == "2.0.0"  # pending releases are never a base
