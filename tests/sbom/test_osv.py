import json
import shutil
import zipfile

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.releases.models import Check
from registry.sbom.models import Finding, Vulnerability, VulnerabilityAlias, VulnerabilityPackage
from registry.sbom.osv import affected_by, import_osv, record_severity, severity_of

from .conftest import OSV


@pytest.fixture
def findings(osv_records, make_release, ingest):
    """The findings an uploaded SBOM with this one component gets, by the path every upload takes."""
    release = make_release("checked-solution", "1.0.0")

    def _findings(purl: str | None, version: str | None = None) -> list[Finding]:
        component = {"type": "library", "name": "checked-component"}
        component |= {"purl": purl} if purl else {}
        component |= {"version": version} if version else {}
        sbom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [component]}
        ingest(release, json.dumps(sbom).encode())
        return list(db.session.scalars(select(Finding).where(Finding.release_id == release.id)))

    return _findings


@pytest.fixture
def hits(findings):
    def _hits(purl: str) -> list[str]:
        return sorted(f.vulnerability_id for f in findings(purl))

    return _hits


# --- matching, as a reader would work it out by hand -------------------------------------------


@pytest.mark.parametrize("version, affected", [
    ("2.31.0", True), ("0.1.0", True),  # introduced "0": everything before the fix
    ("2.32.0rc1", True),  # a pre-release of the fix is before it in PEP 440
    ("2.32.0", False),  # the fixed version itself is not affected
    ("2.32.3", False),
])
def test_pypi_requests(version, affected, hits):
    expected = ["GHSA-9wx4-h78v-vm56"] if affected else []  # PYSEC-2024-60 is folded into it on import
    assert hits(f"pkg:pypi/requests@{version}") == expected


def test_pypi_names_are_pep503_normalised(hits):
    assert hits("pkg:pypi/Requests@2.0.0") == ["GHSA-9wx4-h78v-vm56"]
    assert hits("pkg:pypi/example.listed@1.0") == ["TEST-2024-0003"]


@pytest.mark.parametrize("version, affected", [
    ("2.0.0b1", True), ("1.9", True), ("2.0.0rc1", False), ("2.0.0", False), ("2.0.0rc2", False), ("2.0.0a1", True),
])
def test_pep440_pre_release_ordering(version, affected, hits):
    assert hits(f"pkg:pypi/example-pre@{version}") == (["TEST-2024-0006"] if affected else [])


@pytest.mark.parametrize("version, affected", [("4.17.20", True), ("4.17.21", False), ("3.0.0", True), ("5.0.0", False)])
def test_npm_lodash(version, affected, hits):
    assert hits(f"pkg:npm/lodash@{version}") == (["GHSA-35jh-r3h4-6jhm"] if affected else [])


def test_npm_scope_is_part_of_the_name(hits):
    assert hits("pkg:npm/%40someone/lodash@4.17.20") == []


@pytest.mark.parametrize("version, affected", [
    ("2.0-alpha2", False),  # alpha sorts before beta
    ("2.0-beta9", True),  # introduced is inclusive
    ("2.0-rc1", True),
    ("2.0", True),
    ("2.14.1", True),
    ("2.15.0-rc1", True),  # a qualifier sorts before the release
    ("2.15.0", False),
    ("2.17.1", False),
])
def test_maven_log4j_qualifier_ordering(version, affected, hits):
    assert hits(f"pkg:maven/org.apache.logging.log4j/log4j-core@{version}") == (["GHSA-jfh8-c2jp-5v3q"] if affected else [])


def test_maven_needs_group_and_artifact(hits):
    assert hits("pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1") == []


@pytest.mark.parametrize("version, affected", [("v0.3.7", True), ("v0.3.8", False), ("v0.0.0-20210101000000-abcdefabcdef", True)])
def test_go_module_with_v_prefix(version, affected, hits):
    assert hits(f"pkg:golang/golang.org/x/text@{version}") == (["GO-2022-1059"] if affected else [])


@pytest.mark.parametrize("version, affected", [("0.9.9", False), ("1.0.0", True), ("1.2.3", True), ("1.2.4", False)])
def test_last_affected_is_inclusive(version, affected, hits):
    assert hits(f"pkg:cargo/example-parser@{version}") == (["TEST-2024-0001"] if affected else [])


@pytest.mark.parametrize("version, affected", [("0.5.0", False), ("1.0.0", True), ("1.9.9", True), ("2.0.0", False), ("3.0.0", False)])
def test_limit_event_bounds_the_range(version, affected, hits):
    assert hits(f"pkg:npm/example-limited@{version}") == (["TEST-2024-0002"] if affected else [])


@pytest.mark.parametrize("version, affected", [("1.0", True), ("1.0.0", True), ("1.1.post1", True), ("1.1", False)])
def test_versions_list_only(version, affected, hits):
    assert hits(f"pkg:pypi/example-listed@{version}") == (["TEST-2024-0003"] if affected else [])


def test_git_ranges_are_ignored(hits):
    assert hits("pkg:npm/example-git@1.0.0") == []


def test_fixed_versions_are_reported(findings):
    [finding] = findings("pkg:npm/lodash@4.17.20")
    assert finding.fixed_versions == ["4.17.21"]
    assert finding.severity == "high"


def test_component_without_purl_or_version_matches_nothing(findings):
    assert findings("pkg:npm/lodash") == []
    assert findings(None, "4.17.20") == []
    assert [f.vulnerability_id for f in findings("pkg:npm/lodash", "4.17.20")] == ["GHSA-35jh-r3h4-6jhm"]  # version from the component


def test_unparseable_version_only_matches_explicit_versions():
    affected = [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["not a version"],
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}]}]}]
    assert affected_by("not a version", affected) == (True, [])
    assert affected_by("also not one", affected) == (False, [])
    assert affected_by("1.5", affected) == (True, [])
    # "every version" (introduced "0", no end) needs no ordering at all
    everything = [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]
    assert affected_by("also not one", everything) == (True, [])


# --- severity -----------------------------------------------------------------------------------


def test_severity_from_cvss_vectors():
    assert severity_of([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}]) == "critical"
    assert severity_of([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N"}]) == "medium"  # 5.6
    assert severity_of([{"type": "CVSS_V3", "score": "CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"}]) == "low"  # 3.1
    assert severity_of([{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]) == "critical"


def test_severity_falls_back_to_database_specific_then_unknown():
    assert severity_of([{"type": "CVSS_V3", "score": "garbage"}], {"severity": "MODERATE"}) == "medium"
    assert record_severity({"id": "X", "affected": []}) == "unknown"
    assert record_severity({"id": "X", "database_specific": {"severity": "HIGH"}}) == "high"


# --- import -------------------------------------------------------------------------------------


def stored_ids() -> list[str]:
    return sorted(db.session.scalars(select(Vulnerability.id)))


def test_import_directory(app):
    report = import_osv(OSV / "records")
    # 11 files: 9 stored, PYSEC folded into the GHSA record, 1 withdrawn.
    assert (report.imported, report.duplicates, report.withdrawn, report.failed) == (9, 1, 1, [])
    assert "PYSEC-2024-60" not in stored_ids() and "TEST-2024-0004" not in stored_ids()
    ghsa = db.session.get(Vulnerability, "GHSA-9wx4-h78v-vm56")
    assert ghsa.aliases == ["CVE-2024-35195", "PYSEC-2024-60"]
    assert ghsa.severity == "medium"
    package = db.session.scalars(select(VulnerabilityPackage).where(VulnerabilityPackage.vulnerability_id == ghsa.id)).one()
    assert (package.ecosystem, package.name) == ("PyPI", "requests")
    again = import_osv(OSV / "records")
    assert (again.imported, again.unchanged, again.duplicates) == (0, 9, 1)


def test_alias_duplicate_keeps_ghsa_whatever_the_order(app, tmp_path):
    (tmp_path / "first").mkdir()
    shutil.copy(OSV / "records" / "PYSEC-2024-60.json", tmp_path / "first")
    assert import_osv(tmp_path / "first").imported == 1
    (tmp_path / "second").mkdir()
    shutil.copy(OSV / "records" / "GHSA-9wx4-h78v-vm56.json", tmp_path / "second")
    report = import_osv(tmp_path / "second")
    assert (report.imported, report.duplicates) == (1, 1)
    assert stored_ids() == ["GHSA-9wx4-h78v-vm56"]
    aliases = set(db.session.scalars(select(VulnerabilityAlias.alias)))
    assert aliases == {"CVE-2024-35195", "PYSEC-2024-60"}


def test_shared_alias_for_different_packages_is_not_a_duplicate(app, tmp_path):
    for i, package in enumerate(("left-pad", "right-pad")):
        (tmp_path / f"GHSA-000{i}.json").write_text(json.dumps({
            "id": f"GHSA-000{i}", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-0001"],
            "affected": [{"package": {"ecosystem": "npm", "name": package}, "ranges": [
                {"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}))
    report = import_osv(tmp_path)
    assert (report.imported, report.duplicates) == (2, 0)


def test_newer_modified_replaces_older(app):
    assert import_osv(OSV / "update-old").imported == 1
    report = import_osv(OSV / "update-new")
    assert report.updated == 1
    stored = db.session.get(Vulnerability, "TEST-2024-0005")
    assert stored.summary == "new text"
    package = db.session.scalars(select(VulnerabilityPackage).where(VulnerabilityPackage.vulnerability_id == stored.id)).one()
    assert package.affected[0]["ranges"][0]["events"][1] == {"fixed": "2.0"}
    older = import_osv(OSV / "update-old")
    assert (older.updated, older.unchanged) == (0, 1)
    assert db.session.get(Vulnerability, "TEST-2024-0005").summary == "new text"


def test_withdrawn_removes_a_stored_record(app, tmp_path):
    record = json.loads((OSV / "records" / "TEST-2024-0004.json").read_text())
    live = {k: v for k, v in record.items() if k != "withdrawn"}
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "r.json").write_text(json.dumps(live))
    assert import_osv(tmp_path / "live").imported == 1
    assert "TEST-2024-0004" in stored_ids()
    record["modified"] = "2024-02-01T00:00:00Z"
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "r.json").write_text(json.dumps(record))
    assert import_osv(tmp_path / "gone").withdrawn == 1
    assert "TEST-2024-0004" not in stored_ids()
    assert db.session.scalar(select(func.count()).select_from(VulnerabilityPackage)) == 0


def test_bad_files_are_reported_and_skipped(app):
    report = import_osv(OSV / "bad")
    failed = dict(report.failed)
    assert set(failed) == {"broken.json", "half-good.json", "not-osv.json"}
    assert "not an OSV record: missing 'id'" in failed["not-osv.json"]
    assert "not valid JSON" in failed["broken.json"]
    assert "affected[0].ranges[0].events[0]" in failed["half-good.json"]
    # the good file committed; nothing of the half-good file did
    assert stored_ids() == ["TEST-2024-0103"]
    assert report.imported == 1


def test_zip_import(app, tmp_path):
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((OSV / "records").glob("*.json")):
            zf.write(path, path.name)
        zf.writestr("README.txt", "not a record")
    report = import_osv(archive)
    assert (report.imported, report.duplicates, report.withdrawn, report.failed) == (9, 1, 1, [])


def test_zip_member_over_the_cap_is_refused(app, tmp_path):
    archive = tmp_path / "all.zip"
    big = json.dumps({"id": "TEST-BIG", "modified": "2024-01-01T00:00:00Z", "details": "x" * 5000})
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("TEST-BIG.json", big)
        zf.write(OSV / "records" / "GO-2022-1059.json", "GO-2022-1059.json")
    report = import_osv(archive, max_record_bytes=2000)
    assert report.failed == [("TEST-BIG.json", "larger than 2,000 bytes")]
    assert stored_ids() == ["GO-2022-1059"]


def test_missing_source(app, tmp_path):
    with pytest.raises(FileNotFoundError):
        import_osv(tmp_path / "nope")


def test_rematch_after_import(app, make_release, ingest):
    release = make_release("parking-share", "1.0.0")
    ingest(release, "cdxgen-npm.cdx.json")
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    import_osv(OSV / "records")
    found = db.session.scalars(select(Finding).where(Finding.release_id == release.id)).all()
    assert [(f.vulnerability_id, f.component.name, f.severity) for f in found] == [("GHSA-35jh-r3h4-6jhm", "lodash", "high")]
    check = next(c for c in release.checks if c.name == "vulnerabilities")
    db.session.refresh(check)
    assert check.status == "fail"


def test_rematch_runs_in_batches_of_releases_and_reports_progress(app, make_release, ingest):
    from registry.sbom.service import rematch_all

    releases = [make_release("parking-share", f"1.0.{n}") for n in range(3)]
    for release in releases:
        ingest(release, "cdxgen-npm.cdx.json")
    ids = [r.id for r in releases]
    import_osv(OSV / "records", rematch=False)
    db.session.commit()
    seen = []
    assert rematch_all(lambda handed, total, done: seen.append((handed, total, done)), batch=2) == 3
    assert seen == [(2, 3, True), (3, 3, True)]  # immediate mode: each batch ran when it was handed over
    found = db.session.scalars(select(Finding.release_id).where(Finding.vulnerability_id == "GHSA-35jh-r3h4-6jhm"))
    assert sorted(found) == ids
    checks = db.session.scalars(select(Check).where(Check.release_id.in_(ids), Check.name == "vulnerabilities"))
    assert {c.status for c in checks} == {"fail"}
    assert seen[-1][0] == len(ids)  # nothing left out between batches
