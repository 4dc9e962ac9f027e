"""Automated checks recorded on a release at upload time.

Each check is one row (name, pass/warn/fail, summary, details); reviewers see them together,
failing ones first. Licence and vulnerability checks come from the SBOM domain.
"""

from __future__ import annotations

from sqlalchemy import select

from registry.db import db, utcnow
from registry.releases.models import Check, CheckStatus, Release, ReleaseState, Solution
from registry.spec.names import normalize_name
from registry.spec.ranges import parse_range

CATALOGUE_CODES = ("entity-type-unknown", "entity-attribute-unknown", "type-uri-mismatch", "attribute-type-mismatch")


def _check(release: Release, name: str, status: CheckStatus, summary: str, **details) -> Check:
    check = Check(name=name, status=status, summary=summary, details=details, ran_at=utcnow())
    release.checks.append(check)
    return check


def upload_checks(release: Release, inspected, provenance, code_checks: list[Check]) -> None:
    report = inspected.report
    manifest = inspected.manifest
    warnings = [p.to_dict() for p in report.warnings if p.code not in CATALOGUE_CODES]
    _check(release, "manifest", CheckStatus.WARN if warnings else CheckStatus.PASS,
           f"{len(warnings)} warning(s)" if warnings else "solution.yaml is valid", problems=warnings)

    contents = inspected.contents
    _check(release, "archive", CheckStatus.PASS, f"{len(contents.members)} files, {contents.unpacked_bytes:,} bytes "
           "unpacked, no links, devices or unsafe paths",
           files=len(contents.members), unpacked_bytes=contents.unpacked_bytes)

    unknown = [p.to_dict() for p in report.warnings if p.code in CATALOGUE_CODES]
    entities = [e.get("type") for e in (manifest.get("dataHub") or {}).get("entities") or []]
    _check(release, "datahub", CheckStatus.WARN if unknown else CheckStatus.PASS,
           f"{len(unknown)} entity type(s) or attribute(s) not in the catalogue" if unknown
           else f"{len(entities)} entity type(s), all known to the catalogue", unknown=unknown, entity_types=entities)

    targets = (manifest.get("deploy") or {}).get("targets") or []
    _check(release, "deploy", CheckStatus.PASS if targets else CheckStatus.WARN,
           ", ".join(sorted({t.get("kind", "?") for t in targets})) + " present and parseable" if targets
           else "no deploy targets declared", targets=targets)

    _signature_check(release, provenance)
    _dependency_check(release, manifest)
    release.checks.extend(code_checks)  # computed before the write transaction (registry/review/codechecks.py)


def _signature_check(release: Release, provenance) -> None:
    info = provenance.info
    if info is None:
        _check(release, "provenance", CheckStatus.WARN,
               "no provenance statement; the build cannot be traced to a commit")
        return
    # A tag that does not name the version is refused at upload (signatures.verify_provenance).
    details = {"repository": info.repository, "tag": info.tag, "commit": info.commit, "builder": info.builder_id,
               "signed": provenance.signer is not None,
               "signer": provenance.signer.user.username if provenance.signer else None,
               "keyid": provenance.signer.keyid if provenance.signer else None}
    if provenance.signer is None:
        status, summary = CheckStatus.WARN, f"unsigned provenance: {info.repository} @ {info.tag} ({info.commit[:12]})"
    else:
        status = CheckStatus.PASS
        summary = f"signed by {provenance.signer.user.username}; built from {info.tag} ({info.commit[:12]})"
    _check(release, "provenance", status, summary, **details)


def _dependency_check(release: Release, manifest: dict) -> None:
    wanted = ((manifest.get("dependsOn") or {}).get("solutions")) or []
    unresolved = []
    for dep in wanted:
        solution = db.session.scalar(select(Solution).where(Solution.normalized_name == normalize_name(dep["name"])))
        versions = [r.version for r in solution.releases if r.state == ReleaseState.PUBLISHED] if solution else []
        version_range = parse_range(str(dep.get("version") or "*"))
        if not any(version_range.contains(v) for v in versions):
            unresolved.append({"name": dep["name"], "version": dep.get("version"), "published": versions})
    if not wanted:
        _check(release, "dependencies", CheckStatus.PASS, "no dependencies on other solutions")
    elif unresolved:
        _check(release, "dependencies", CheckStatus.WARN,
               f"{len(unresolved)} dependency(ies) without a matching published version", unresolved=unresolved)
    else:
        _check(release, "dependencies", CheckStatus.PASS,
               f"all {len(wanted)} dependencies resolve to published versions")
