"""What the registry does with a release's SBOM: store it, judge it, compare it, find things in it.

The publishing upload calls, inside its one transaction::

    parsed = parse_sbom(data, filename=...)
    store_components(release, parsed)
    evaluate_release(release)

None of these commit; the caller does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import selectinload

from registry import events
from registry.audit import service as audit
from registry.db import db, utcnow
from registry.errors import NotFound
from registry.events import EventName
from registry.releases.models import Check, Release
from registry.sbom import licenses
from registry.sbom.ecosystems import compare_versions, osv_package, purl_base
from registry.sbom.models import Component, ComponentDependency, Finding, LicensePolicyRule, VexStatement, Vulnerability
from registry.sbom.osv import SEVERITIES, match_index
from registry.spec.sbom.parser import ParsedSbom
from registry.web import csv_text

# CycloneDX analysis states meaning "this finding does not apply here": shown, never counted.
NOT_COUNTED_VEX_STATES = ("not_affected", "false_positive", "resolved", "resolved_with_pedigree")
# Risk score weights (docs/sbom.md): 100 minus these per counted finding / licence verdict, floored at 0.
RISK_WEIGHTS = {"critical": 25, "high": 10, "medium": 4, "low": 1, "unknown": 1, "deny": 15, "warn": 3, "review": 3}
VISIBLE_STATES = ("published", "yanked")


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


def store_components(release: Release, parsed: ParsedSbom) -> None:
    """Replace the release's components, dependency edges and VEX statements with the parsed SBOM's."""
    if release.id is None:
        db.session.flush()
    for model in (Finding, Component, ComponentDependency, VexStatement):
        db.session.execute(delete(model).where(model.release_id == release.id))
    policy = licenses.load_policy()
    rows = []
    for c in parsed.components:
        judged = licenses.evaluate(c.licenses, policy)
        key = osv_package(c.purl)
        rows.append({
            "release_id": release.id, "bom_ref": _clip(c.bom_ref, 500), "type": c.type[:32], "group": _clip(c.group, 200),
            "name": c.name[:300], "version": _clip(c.version, 200), "purl": _clip(c.purl, 1000),
            "purl_base": _clip(purl_base(c.purl), 1000), "licenses": c.licenses, "license_expression": judged.expression,
            "license_verdict": judged.verdict, "hashes": c.hashes, "supplier": _clip(c.supplier, 300),
            "parent_ref": _clip(c.parent_ref, 500), "ecosystem": key[0] if key else None,
            "package_name": _clip(key[1], 300) if key else None,
        })
    if rows:
        db.session.execute(insert(Component), rows)
    edges = [{"release_id": release.id, "ref": ref[:500], "depends_on": target[:500]} for ref, target in parsed.dependencies]
    if edges:
        db.session.execute(insert(ComponentDependency), edges)
    statements = [{"release_id": release.id, "vulnerability_ref": v.id[:100], "state": _clip(v.state, 32),
                   "justification": _clip(v.justification, 64), "detail": v.detail or "", "affects": v.affects}
                  for v in parsed.vulnerabilities if v.id and v.state]  # no analysis: a finding, not VEX
    if statements:
        db.session.execute(insert(VexStatement), statements)


# --- findings ---------------------------------------------------------------------------------


def _apply_vex(rows: list[dict]) -> None:
    """Mark finding rows (in place) with what their release's SBOM says about the vulnerability."""
    release_ids = {r["release_id"] for r in rows}
    if not release_ids:
        return
    statements: dict[int, list[VexStatement]] = {}
    for statement in db.session.scalars(select(VexStatement).where(VexStatement.release_id.in_(release_ids))):
        statements.setdefault(statement.release_id, []).append(statement)
    if not statements:
        return
    vulnerability_ids = {r["vulnerability_id"] for r in rows if r["release_id"] in statements}
    names = {vid: {vid, *aliases} for vid, aliases in db.session.execute(
        select(Vulnerability.id, Vulnerability.aliases).where(Vulnerability.id.in_(vulnerability_ids)))}
    component_ids = {r["component_id"] for r in rows if r["release_id"] in statements}
    refs = {cid: {ref, purl} - {None} for cid, ref, purl in db.session.execute(
        select(Component.id, Component.bom_ref, Component.purl).where(Component.id.in_(component_ids)))}
    for row in rows:
        for statement in statements.get(row["release_id"], ()):
            if statement.vulnerability_ref not in names.get(row["vulnerability_id"], ()):
                continue
            if statement.affects and not refs.get(row["component_id"], set()) & set(statement.affects):
                continue
            row["vex_state"] = statement.state
            row["vex_justification"] = "; ".join(p for p in (statement.justification, statement.detail) if p) or None
            break


def refresh_findings(release_ids: list[int] | None = None) -> int:
    """Recompute findings from the OSV index for these releases (None: every release); returns how many."""
    if release_ids is None:
        db.session.execute(delete(Finding))
    else:
        db.session.execute(delete(Finding).where(Finding.release_id.in_(release_ids)))
    rows = match_index(release_ids)
    _apply_vex(rows)
    now = utcnow()
    for row in rows:
        row.setdefault("vex_state", None)
        row.setdefault("vex_justification", None)
        row["created_at"] = now
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Finding), rows[start:start + 5000])
    return len(rows)


def counted(finding: Finding) -> bool:
    return finding.vex_state not in NOT_COUNTED_VEX_STATES


def _set_check(release: Release, name: str, status: str, summary: str, details: dict) -> Check:
    check = db.session.scalar(select(Check).where(Check.release_id == release.id, Check.name == name))
    if check is None:
        check = Check(release_id=release.id, name=name)
        db.session.add(check)
    check.status, check.summary, check.details, check.ran_at = status, summary, details, utcnow()
    return check


def _findings(release_id: int) -> list[Finding]:
    return list(db.session.scalars(select(Finding).where(Finding.release_id == release_id)
                                   .options(selectinload(Finding.component)).order_by(Finding.id)))


def vulnerability_outcome(release: Release) -> tuple[str, str, dict]:
    """The "vulnerabilities" check from the release's stored findings: status, summary, details."""
    findings = _findings(release.id)
    active = [f for f in findings if counted(f)]
    by_severity = Counter(f.severity or "unknown" for f in active)
    if by_severity["critical"] or by_severity["high"]:
        status = "fail"
    elif active:
        status = "warn"
    else:
        status = "pass"
    details = {
        "counts": {s: by_severity[s] for s in SEVERITIES},
        "suppressed_by_vex": len(findings) - len(active),
        "findings": [{"id": f.vulnerability_id, "component": f.component.name, "version": f.component.version,
                      "severity": f.severity, "fixed": f.fixed_versions, "vex": f.vex_state} for f in findings],
    }
    summary = (f"{len(active)} known vulnerabilities ("
               + ", ".join(f"{by_severity[s]} {s}" for s in SEVERITIES if by_severity[s]) + ")") if active else \
        "no known vulnerabilities" + (f" ({details['suppressed_by_vex']} not applicable by VEX)" if findings else "")
    return status, summary, details


def vulnerability_check(release: Release) -> Check:
    return _set_check(release, "vulnerabilities", *vulnerability_outcome(release))


def license_outcome(release: Release) -> tuple[str, str, dict]:
    """The "licenses" check from the verdicts stored with the release's components."""
    components = list(db.session.scalars(select(Component).where(Component.release_id == release.id).order_by(Component.id)))
    verdicts = Counter(c.license_verdict or "review" for c in components)
    status = "fail" if verdicts["deny"] else "warn" if verdicts["warn"] or verdicts["review"] else "pass"
    flagged = [{"component": c.name, "version": c.version, "license": c.license_expression, "verdict": c.license_verdict}
               for c in components if c.license_verdict != "allow"]
    summary = ", ".join(f"{verdicts[v]} {v}" for v in licenses.VERDICTS if verdicts[v]) or "no components"
    return status, summary, {"counts": {v: verdicts[v] for v in licenses.VERDICTS}, "flagged": flagged}


def license_check(release: Release) -> Check:
    return _set_check(release, "licenses", *license_outcome(release))


def analyse_vulnerabilities(release: Release) -> tuple[str, str, dict]:
    """The job check "vulnerabilities": match the release's components against the OSV index (its
    findings replaced), then judge them. Flushes; the job commits."""
    db.session.flush()
    refresh_findings([release.id])
    db.session.flush()
    return vulnerability_outcome(release)


def evaluate_release(release: Release) -> list[Check]:
    """Recompute the release's findings and its "licenses" and "vulnerabilities" checks."""
    db.session.flush()
    refresh_findings([release.id])
    db.session.flush()
    return [license_check(release), vulnerability_check(release)]


REMATCH_BATCH = 200  # releases per re-matching job


def rematch_releases(release_ids: list[int]) -> int:
    """One batch (a job, registry/jobs `rematch`): recompute these releases' findings from the OSV index,
    refresh their vulnerability checks, and emit "vulnerabilities.found" for each release with findings
    it did not have before (its adopters are told, registry/handlers.py). Returns how many findings."""
    def known() -> set[tuple[int, int, str]]:
        return set(db.session.execute(select(Finding.release_id, Finding.component_id, Finding.vulnerability_id)
                                      .where(Finding.release_id.in_(release_ids))))

    before = known()
    total = refresh_findings(release_ids)
    db.session.flush()
    gained = known() - before
    for release in db.session.scalars(select(Release).where(Release.id.in_(release_ids)).order_by(Release.id)):
        vulnerability_check(release)
        new = [f for f in _findings(release.id)
               if (f.release_id, f.component_id, f.vulnerability_id) in gained and counted(f)]
        if new:
            events.emit(EventName.VULNERABILITIES_FOUND, release_id=release.id,
                        findings=[{"vulnerability_id": f.vulnerability_id, "severity": f.severity} for f in new])
    return total


def rematch_all(progress: Callable[[int, int, bool], None] | None = None, batch: int = REMATCH_BATCH) -> int:
    """After an OSV import: every release with components is matched again, `batch` releases per job.

    Commits first (the import's work must be visible to the jobs, and no read may hold SQLite's lock
    while they write), then queues the jobs; `progress(handed_over, total, done)` is called after each
    batch, `done` true when the queue ran it on the spot (REGISTRY_QUEUE_URL=immediate). Returns how many
    releases were handed over."""
    from registry.jobs import enqueue_rematch

    release_ids = sorted(db.session.scalars(select(Component.release_id).distinct()))
    db.session.commit()
    handed = 0
    for start in range(0, len(release_ids), batch):
        chunk = release_ids[start:start + batch]
        ran = enqueue_rematch(chunk)
        handed += len(chunk)
        if progress is not None:
            progress(handed, len(release_ids), ran)
    return len(release_ids)


def set_policy_categories(actor, chosen: dict[str, str]) -> None:
    """Admin: the action for each licence category; every release's licence check is recomputed."""
    for category, action in chosen.items():
        _upsert_rule("category", category, action)
    _policy_changed(actor, {"categories": chosen})


def set_license_rule(actor, license_id: str, action: str) -> None:
    _upsert_rule("license", license_id, action)
    _policy_changed(actor, {"license": license_id, "action": action})


def remove_license_rule(actor, rule_id: int) -> str:
    """Returns the licence whose rule was removed; NotFound for no such licence rule."""
    rule = db.session.get(LicensePolicyRule, rule_id)
    if rule is None or rule.kind != "license":
        raise NotFound(f"no licence rule {rule_id}", field="rule_id")
    db.session.delete(rule)
    _policy_changed(actor, {"removed_license": rule.subject})
    return rule.subject


def license_rules() -> list[LicensePolicyRule]:
    return list(db.session.scalars(select(LicensePolicyRule).where(LicensePolicyRule.kind == "license")
                                   .order_by(LicensePolicyRule.subject)))


def _upsert_rule(kind: str, subject: str, action: str) -> None:
    rule = db.session.scalar(select(LicensePolicyRule).where(LicensePolicyRule.kind == kind,
                                                             LicensePolicyRule.subject == subject))
    if rule is None:
        db.session.add(LicensePolicyRule(kind=kind, subject=subject, action=action))
    else:
        rule.action = action


def _policy_changed(actor, details: dict) -> None:
    db.session.flush()
    relicense_all()
    audit.record("license_policy.changed", actor=actor, details=details)


def relicense_all() -> None:
    """Re-judge every component's licence after the policy changed, and refresh licence checks."""
    policy = licenses.load_policy()
    release_ids = set()
    for component in db.session.scalars(select(Component)):
        component.license_verdict = licenses.evaluate_expression(component.license_expression, policy).verdict \
            if component.license_expression else licenses.evaluate(component.licenses, policy).verdict
        release_ids.add(component.release_id)
    db.session.flush()
    for release in db.session.scalars(select(Release).where(Release.id.in_(release_ids))):
        license_check(release)


def risk_summary(release: Release) -> dict[str, Any]:
    """Counts by severity and licence verdict, and score = 100 − Σ weight·count (RISK_WEIGHTS), floored at 0."""
    findings = _findings(release.id)
    active = [f for f in findings if counted(f)]
    severity_counts = Counter(f.severity or "unknown" for f in active)
    verdict_counts = Counter(db.session.scalars(select(Component.license_verdict).where(Component.release_id == release.id)))
    license_counts = {v: verdict_counts[v] for v in licenses.VERDICTS}
    penalty = sum(RISK_WEIGHTS[s] * severity_counts[s] for s in SEVERITIES) + sum(
        RISK_WEIGHTS[v] * license_counts[v] for v in ("deny", "warn", "review"))
    return {
        "vulnerabilities": {s: severity_counts[s] for s in SEVERITIES},
        "suppressed_by_vex": len(findings) - len(active),
        "licenses": license_counts,
        "components": sum(verdict_counts.values()),
        "score": max(0, 100 - penalty),
    }


# --- diff -------------------------------------------------------------------------------------


@dataclass
class ComponentChange:
    key: str  # purl_base, or name when there is no purl
    name: str
    old_version: str | None
    new_version: str | None


@dataclass
class LicenseChange:
    key: str
    name: str
    old: str | None
    new: str | None
    old_verdict: str | None
    new_verdict: str | None


@dataclass
class SbomDiff:
    added: list[ComponentChange] = field(default_factory=list)
    removed: list[ComponentChange] = field(default_factory=list)
    upgraded: list[ComponentChange] = field(default_factory=list)
    downgraded: list[ComponentChange] = field(default_factory=list)
    changed: list[ComponentChange] = field(default_factory=list)  # versions that cannot be ordered
    license_changes: list[LicenseChange] = field(default_factory=list)
    findings_gained: list[str] = field(default_factory=list)  # vulnerability ids
    findings_lost: list[str] = field(default_factory=list)


def _component_key(c: Component) -> str:
    return c.purl_base or f"{c.group + '/' if c.group else ''}{c.name}"


def _components_by_key(release: Release | None) -> dict[str, Component]:
    if release is None:
        return {}
    found: dict[str, Component] = {}
    for c in db.session.scalars(select(Component).where(Component.release_id == release.id).order_by(Component.id)):
        found.setdefault(_component_key(c), c)
    return found


def _counted_vulnerabilities(release: Release | None) -> set[str]:
    if release is None:
        return set()
    return {f.vulnerability_id for f in _findings(release.id) if counted(f)}


def diff_releases(old: Release | None, new: Release) -> SbomDiff:
    """What changed in the SBOM from `old` (None: first release) to `new`."""
    before, after = _components_by_key(old), _components_by_key(new)
    diff = SbomDiff()
    for key in sorted(after.keys() - before.keys()):
        diff.added.append(ComponentChange(key, after[key].name, None, after[key].version))
    for key in sorted(before.keys() - after.keys()):
        diff.removed.append(ComponentChange(key, before[key].name, before[key].version, None))
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        if a.version != b.version:
            change = ComponentChange(key, b.name, a.version, b.version)
            order = compare_versions(b.ecosystem, a.version, b.version) if a.version and b.version else None
            {-1: diff.upgraded, 1: diff.downgraded}.get(order, diff.changed).append(change)
        if a.license_expression != b.license_expression:
            diff.license_changes.append(LicenseChange(key, b.name, a.license_expression, b.license_expression,
                                                      a.license_verdict, b.license_verdict))
    old_ids, new_ids = _counted_vulnerabilities(old), _counted_vulnerabilities(new)
    diff.findings_gained, diff.findings_lost = sorted(new_ids - old_ids), sorted(old_ids - new_ids)
    return diff


# --- exports ----------------------------------------------------------------------------------

CSV_COLUMNS = ("name", "version", "purl", "type", "licenses", "verdict", "findings")


def components_csv(release: Release) -> str:
    """The release's components as CSV (CSV_COLUMNS); findings are counted vulnerability ids."""
    findings: dict[int, list[str]] = {}
    for f in _findings(release.id):
        if counted(f):
            findings.setdefault(f.component_id, []).append(f.vulnerability_id)
    rows = []
    for c in db.session.scalars(select(Component).where(Component.release_id == release.id).order_by(Component.id)):
        license_text = c.license_expression or " AND ".join(
            e.get("id") or e.get("name") or e.get("expression") or "" for e in c.licenses)
        rows.append((c.name, c.version or "", c.purl or "", c.type, license_text, c.license_verdict or "",
                     " ".join(sorted(findings.get(c.id, [])))))
    return csv_text(CSV_COLUMNS, rows)
