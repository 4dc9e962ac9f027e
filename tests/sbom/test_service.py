import json
from datetime import date

import pytest
from sqlalchemy import select

from registry.catalog.models import Adoption
from registry.catalog.whereused import where_used
from registry.db import db
from registry.errors import InvalidInput
from registry.sbom.models import Component, ComponentDependency, Finding, LicensePolicyRule, VexStatement
from registry.sbom.osv import import_osv
from registry.sbom.service import components_csv, diff_releases, relicense_all, risk_summary

from .conftest import OSV, SBOMS


def checks_by_name(checks):
    return {c.name: c for c in checks}


def test_store_components_rows(app, make_release, ingest):
    release = make_release("traffic-signal-api", "1.2.0")
    ingest(release, "cyclonedx-maven.cdx.xml")
    components = db.session.scalars(select(Component).where(Component.release_id == release.id).order_by(Component.id)).all()
    core = components[0]
    assert (core.name, core.group, core.version) == ("log4j-core", "org.apache.logging.log4j", "2.14.1")
    assert core.purl_base == "pkg:maven/org.apache.logging.log4j/log4j-core"
    assert (core.ecosystem, core.package_name) == ("Maven", "org.apache.logging.log4j:log4j-core")
    assert (core.license_expression, core.license_verdict) == ("Apache-2.0", "allow")
    assert len(core.hashes) == 4
    assert components[2].license_expression == "EPL-2.0"
    edges = db.session.scalars(select(ComponentDependency).where(ComponentDependency.release_id == release.id)).all()
    assert len(edges) == 4


def test_storing_again_replaces(app, make_release, ingest):
    release = make_release("traffic-signal-api", "1.2.0")
    ingest(release, "cyclonedx-maven.cdx.xml")
    ingest(release, "hand-1.2.cdx.json")
    names = db.session.scalars(select(Component.name).where(Component.release_id == release.id)).all()
    assert sorted(names) == ["networkx", "numpy", "psycopg2"]


def test_checks_without_vulnerability_data(app, make_release, ingest):
    checks = checks_by_name(ingest(make_release("traffic-signal-api", "1.2.0"), "cyclonedx-maven.cdx.xml"))
    assert checks["licenses"].status == "pass"
    assert checks["vulnerabilities"].status == "pass"
    assert checks["vulnerabilities"].summary == "no known vulnerabilities"


def test_critical_finding_fails_the_check(app, make_release, ingest, osv_records):
    release = make_release("traffic-signal-api", "1.2.0")
    checks = checks_by_name(ingest(release, "cyclonedx-maven.cdx.xml"))
    vulns = checks["vulnerabilities"]
    assert vulns.status == "fail"
    assert vulns.details["counts"]["critical"] == 1
    assert vulns.details["findings"] == [{"id": "GHSA-jfh8-c2jp-5v3q", "component": "log4j-core", "version": "2.14.1",
                                          "severity": "critical", "fixed": ["2.15.0"], "vex": None}]
    assert risk_summary(release)["score"] == 75


def test_unknown_severity_warns(app, make_release, ingest, osv_records):
    release = make_release("safe-patrol-route", "2.1.0")
    checks = checks_by_name(ingest(release, "trivy-image.cdx.json"))
    assert checks["vulnerabilities"].status == "warn"
    assert checks["vulnerabilities"].details["counts"]["unknown"] == 1
    # mux BSD-3-Clause → allow; busybox GPL-2.0-only → warn; three components state no licence → review
    assert checks["licenses"].status == "warn"
    assert checks["licenses"].details["counts"] == {"allow": 1, "warn": 1, "review": 3, "deny": 0}


def test_vex_marks_but_does_not_count(app, make_release, ingest, osv_records):
    release = make_release("drt-ageing-town", "1.0.0")
    checks = checks_by_name(ingest(release, "hand-1.4.cdx.xml"))
    finding = db.session.scalars(select(Finding).where(Finding.release_id == release.id)).one()
    assert finding.vulnerability_id == "GHSA-9wx4-h78v-vm56"  # the SBOM names it by its CVE alias
    assert finding.vex_state == "not_affected"
    assert finding.vex_justification == "code_not_reachable; We never pass verify=False to a Session."
    assert checks["vulnerabilities"].status == "pass"
    assert checks["vulnerabilities"].details["suppressed_by_vex"] == 1
    summary = risk_summary(release)
    assert summary["vulnerabilities"]["medium"] == 0 and summary["suppressed_by_vex"] == 1
    # minijson is AGPL → warn
    assert checks["licenses"].status == "warn"
    assert summary["score"] == 100 - 3


def test_vex_for_another_component_does_not_apply(app, make_release, ingest, osv_records):
    data = (SBOMS / "hand-1.4.cdx.xml").read_text().replace("<ref>requests</ref>", "<ref>vendored-suite</ref>")
    release = make_release("drt-ageing-town", "1.0.0")
    checks = checks_by_name(ingest(release, data.encode()))
    assert db.session.scalars(select(Finding)).one().vex_state is None
    assert checks["vulnerabilities"].status == "warn"


def test_trivy_vulnerabilities_without_analysis_are_not_vex(app, make_release, ingest):
    release = make_release("safe-patrol-route", "2.1.0")
    ingest(release, "trivy-image.cdx.json")
    assert db.session.scalars(select(VexStatement)).all() == []


def test_deny_fails_licence_check_and_policy_changes_apply(app, make_release, ingest):
    release = make_release("drt-ageing-town", "1.0.0")
    ingest(release, "hand-1.4.cdx.xml")
    db.session.add(LicensePolicyRule(kind="category", subject="network-copyleft", action="deny"))
    db.session.flush()
    relicense_all()
    check = next(c for c in release.checks if c.name == "licenses")
    db.session.refresh(check)
    assert check.status == "fail"
    assert check.details["flagged"] == [{"component": "minijson", "version": "0.4", "license": "AGPL-3.0-only", "verdict": "deny"}]
    assert risk_summary(release)["score"] == 100 - 15


def test_risk_score_is_floored_at_zero(app, make_release, ingest):
    components = [{"type": "library", "name": f"closed-{i}", "version": "1", "licenses": [{"license": {"id": "BUSL-1.1"}}]}
                  for i in range(8)]
    sbom = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": components}).encode()
    release = make_release("x", "1.0.0")
    ingest(release, sbom)
    summary = risk_summary(release)
    assert summary["licenses"]["deny"] == 8 and summary["score"] == 0


# --- where used ---------------------------------------------------------------------------------


@pytest.fixture
def three_solutions(make_release, make_org, ingest):
    a = make_release("epi-movement", "1.0.0", org="vendor-a")
    ingest(a, "cyclonedx-py-requests.cdx.json")
    b = make_release("flood-alert", "2.0.0", org="vendor-b")
    ingest(b, "syft-image.cdx.json")
    hidden = make_release("secret-draft", "0.1.0", state="pending_review")
    ingest(hidden, "cyclonedx-py-requests.cdx.json")
    yanked = make_release("flood-alert", "1.0.0", state="yanked", org="vendor-b")
    ingest(yanked, "hand-1.4.cdx.xml")
    city = make_org("suwon", kind="municipality", name="수원시")
    db.session.add(Adoption(org_id=city.id, solution_id=a.solution_id, release_id=a.id, stage="production",
                            deployed_on=date(2024, 5, 1)))
    db.session.commit()
    return a, b


def test_where_used_exact_version(app, three_solutions):
    usages = [u.to_dict() for u in where_used("pkg:pypi/requests@2.31.0")]
    assert [(u["solution"], u["version"], u["state"]) for u in usages] == [
        ("epi-movement", "1.0.0", "published"), ("flood-alert", "2.0.0", "published"), ("flood-alert", "1.0.0", "yanked")]
    assert usages[0]["adopters"] == [{"org": "suwon", "name": "수원시", "stage": "production"}]
    assert usages[0]["component"] == {"name": "requests", "version": "2.31.0", "purl": "pkg:pypi/requests@2.31.0"}
    assert where_used("pkg:pypi/requests@2.32.0") == []


def test_where_used_any_version(app, three_solutions):
    assert [u.solution for u in where_used("pkg:pypi/urllib3")] == ["epi-movement"]
    assert len(where_used("pkg:pypi/requests")) == 3


def test_where_used_bad_purl(app):
    with pytest.raises(InvalidInput) as caught:
        where_used("requests==2.31.0")
    assert caught.value.field == "purl"


# --- diff ---------------------------------------------------------------------------------------


def test_diff_releases(app, make_release, ingest, osv_records):
    old = make_release("epi-movement", "1.0.0")
    ingest(old, "cyclonedx-py-requests.cdx.json")
    document = json.loads((SBOMS / "cyclonedx-py-requests.cdx.json").read_text())
    by_name = {c["name"]: c for c in document["components"]}
    by_name["requests"].update(version="2.32.3", purl="pkg:pypi/requests@2.32.3")
    by_name["urllib3"].update(version="1.26.18", purl="pkg:pypi/urllib3@1.26.18")
    by_name["idna"]["licenses"] = [{"license": {"id": "GPL-3.0-only"}}]
    by_name["certifi"].update(version="unknown-build", purl="pkg:pypi/certifi@unknown-build")
    document["components"] = [c for c in document["components"] if c["name"] != "pip"]
    document["components"].append({"type": "library", "name": "flask", "version": "3.0.3", "purl": "pkg:pypi/flask@3.0.3",
                                   "bom-ref": "flask"})
    document.pop("dependencies")
    new = make_release("epi-movement", "1.1.0")
    ingest(new, json.dumps(document).encode())

    diff = diff_releases(old, new)
    assert [(c.name, c.new_version) for c in diff.added] == [("flask", "3.0.3")]
    assert [(c.name, c.old_version) for c in diff.removed] == [("pip", "23.2.1")]
    assert [(c.name, c.old_version, c.new_version) for c in diff.upgraded] == [("requests", "2.31.0", "2.32.3")]
    assert [(c.name, c.old_version, c.new_version) for c in diff.downgraded] == [("urllib3", "2.0.7", "1.26.18")]
    assert [c.name for c in diff.changed] == ["certifi"]  # "unknown-build" cannot be ordered
    assert [(c.name, c.old, c.new, c.new_verdict) for c in diff.license_changes] == [
        ("idna", "BSD-3-Clause", "GPL-3.0-only", "warn")]
    assert (diff.findings_gained, diff.findings_lost) == ([], ["GHSA-9wx4-h78v-vm56"])


def test_diff_of_first_release(app, make_release, ingest):
    release = make_release("traffic-signal-api", "1.2.0")
    ingest(release, "cyclonedx-maven.cdx.xml")
    diff = diff_releases(None, release)
    assert len(diff.added) == 4 and not diff.removed and not diff.upgraded


# --- CSV ----------------------------------------------------------------------------------------


def test_components_csv(app, make_release, ingest, osv_records):
    release = make_release("traffic-signal-api", "1.2.0")
    ingest(release, "cyclonedx-maven.cdx.xml")
    lines = components_csv(release).splitlines()
    assert lines[0] == "name,version,purl,type,licenses,verdict,findings"
    assert lines[1] == ("log4j-core,2.14.1,pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar,library,"
                        "Apache-2.0,allow,GHSA-jfh8-c2jp-5v3q")
    assert lines[4] == ("nashorn-core,15.4,pkg:maven/org.openjdk.nashorn/nashorn-core@15.4?type=jar,library,"
                        "GPL-2.0-only WITH Classpath-exception-2.0,allow,")


def test_csv_cells_cannot_become_formulas(app, make_release, ingest):
    sbom = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                       "components": [{"type": "library", "name": "=HYPERLINK(\"http://evil\")", "version": "1"}]}).encode()
    release = make_release("x", "1.0.0")
    ingest(release, sbom)
    assert components_csv(release).splitlines()[1].startswith("\"'=HYPERLINK(")


def test_import_then_evaluate_is_same_as_evaluate_then_import(app, make_release, ingest):
    first = make_release("one", "1.0.0")
    ingest(first, "cdxgen-npm.cdx.json")
    import_osv(OSV / "records")
    second = make_release("two", "1.0.0")
    ingest(second, "cdxgen-npm.cdx.json")
    ids = lambda r: sorted(db.session.scalars(select(Finding.vulnerability_id).where(Finding.release_id == r.id)))
    assert ids(first) == ids(second) == ["GHSA-35jh-r3h4-6jhm"]
