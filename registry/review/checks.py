"""Every automated check of a release, in one registry: its name, where it runs, its time budget and
the function that runs it.

- **upload** checks are cheap (they read what the upload inspected already) and run inside the
  upload's write transaction: `record_upload_checks`.
- **job** checks are heavy (the code checks of registry/spec/codechecks.py, the SBOM's licence and
  vulnerability analysis). The upload records one `running` row for each and emits
  `release.uploaded`; after the commit the handler `run_checks` (registry/handlers.py) runs them as a
  job: `run_job_checks`. A reviewer may run one again (`rerun`, event `check.rerun`).

Every check ends in a stored row, never in a 500 or a silent job: one that raises is `error` with
the exception's one line (and logged), one that runs past its budget is `timed_out`. A row is only
ever computed while it is `running`, so a job delivered twice does nothing the second time and a
stored result is never recomputed silently. The licence and vulnerability rows are recomputed in
the open when the licence policy changes or an OSV import brings new data (registry/sbom/service.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from flask import current_app
from sqlalchemy import select

from registry import events
from registry.audit import service as audit
from registry.db import db, utcnow
from registry.errors import Conflict, NotFound
from registry.events import EventName
from registry.releases.inspection import server_limits
from registry.releases.models import Check, CheckStatus, Release, ReleaseState, Solution
from registry.review.service import require_independent, require_reviewer
from registry.sbom import service as sbom
from registry.spec import codechecks
from registry.spec.names import normalize_name
from registry.spec.ranges import parse_range
from registry.storage import storage

log = logging.getLogger("registry.checks")

UPLOAD: Final = "upload"
JOB: Final = "job"
CATALOGUE_CODES = ("entity-type-unknown", "entity-attribute-unknown", "type-uri-mismatch", "attribute-type-mismatch")
# A re-run may be asked for a check that ended badly, or one still "running" long after its budget
# (its job was lost with a worker that died).
RERUNNABLE: Final = (CheckStatus.FAIL, CheckStatus.TIMED_OUT, CheckStatus.ERROR)
STALE_AFTER: Final = timedelta(minutes=15)  # plus the check's budget


@dataclass
class Outcome:
    status: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckKind:
    name: str
    where: str  # UPLOAD | JOB
    seconds: float  # the time budget
    run: Callable[..., Outcome]  # upload: run(release, inspected, provenance); job: run(release, JobInput, seconds)
    code_check: bool = False  # one of registry/spec/codechecks.py (off with REGISTRY_REVIEW_CODE_CHECKS=false)


def _l(msgid: str) -> str:
    """Marks a sentence for the catalogue; it is stored in English and translated when shown."""
    return msgid


def error_outcome(exc: BaseException) -> Outcome:
    line = codechecks.one_line(exc)
    return Outcome(CheckStatus.ERROR, f"The check failed to run: {line}",
                   {"sentence": _l("The check failed to run: %(error)s"), "params": {"error": line}})


# --- upload checks ------------------------------------------------------------------------------


def manifest_check(release: Release, inspected, provenance) -> Outcome:
    warnings = [p.to_dict() for p in inspected.report.warnings if p.code not in CATALOGUE_CODES]
    return Outcome(CheckStatus.WARN if warnings else CheckStatus.PASS,
                   f"{len(warnings)} warning(s)" if warnings else "solution.yaml is valid", {"problems": warnings})


def archive_check(release: Release, inspected, provenance) -> Outcome:
    contents = inspected.contents
    return Outcome(CheckStatus.PASS, f"{len(contents.members)} files, {contents.unpacked_bytes:,} bytes unpacked, "
                   "no links, devices or unsafe paths",
                   {"files": len(contents.members), "unpacked_bytes": contents.unpacked_bytes})


def datahub_check(release: Release, inspected, provenance) -> Outcome:
    unknown = [p.to_dict() for p in inspected.report.warnings if p.code in CATALOGUE_CODES]
    entities = [e.get("type") for e in (inspected.manifest.get("dataHub") or {}).get("entities") or []]
    return Outcome(CheckStatus.WARN if unknown else CheckStatus.PASS,
                   f"{len(unknown)} entity type(s) or attribute(s) not in the catalogue" if unknown
                   else f"{len(entities)} entity type(s), all known to the catalogue",
                   {"unknown": unknown, "entity_types": entities})


def deploy_check(release: Release, inspected, provenance) -> Outcome:
    targets = (inspected.manifest.get("deploy") or {}).get("targets") or []
    return Outcome(CheckStatus.PASS if targets else CheckStatus.WARN,
                   ", ".join(sorted({t.get("kind", "?") for t in targets})) + " present and parseable" if targets
                   else "no deploy targets declared", {"targets": targets})


def provenance_check(release: Release, inspected, provenance) -> Outcome:
    info = provenance.info
    if info is None:
        return Outcome(CheckStatus.WARN, "no provenance statement; the build cannot be traced to a commit")
    # A tag that does not name the version is refused at upload (publishing/signatures.verify_provenance).
    signer = provenance.signer
    details = {"repository": info.repository, "tag": info.tag, "commit": info.commit, "builder": info.builder_id,
               "signed": signer is not None, "signer": signer.user.username if signer else None,
               "keyid": signer.keyid if signer else None}
    if signer is None:
        return Outcome(CheckStatus.WARN, f"unsigned provenance: {info.repository} @ {info.tag} ({info.commit[:12]})",
                       details)
    return Outcome(CheckStatus.PASS, f"signed by {signer.user.username}; built from {info.tag} ({info.commit[:12]})",
                   details)


def dependencies_check(release: Release, inspected, provenance) -> Outcome:
    wanted = ((inspected.manifest.get("dependsOn") or {}).get("solutions")) or []
    unresolved = []
    for dep in wanted:
        solution = db.session.scalar(select(Solution).where(Solution.normalized_name == normalize_name(dep["name"])))
        versions = [r.version for r in solution.releases if r.state == ReleaseState.PUBLISHED] if solution else []
        version_range = parse_range(str(dep.get("version") or "*"))
        if not any(version_range.contains(v) for v in versions):
            unresolved.append({"name": dep["name"], "version": dep.get("version"), "published": versions})
    if not wanted:
        return Outcome(CheckStatus.PASS, "no dependencies on other solutions")
    if unresolved:
        return Outcome(CheckStatus.WARN, f"{len(unresolved)} dependency(ies) without a matching published version",
                       {"unresolved": unresolved})
    return Outcome(CheckStatus.PASS, f"all {len(wanted)} dependencies resolve to published versions")


# --- job checks ---------------------------------------------------------------------------------


class JobInput:
    """What the job checks of one release read: its archive, read once from blob storage with the
    upload's limits and safe reader, and removed again (`close`)."""

    def __init__(self, release: Release) -> None:
        self.release = release
        self._code: codechecks.CodeInput | None = None

    def code(self) -> codechecks.CodeInput:
        if self._code is None:
            contents = codechecks.read_for_checks(lambda: storage().open(self.release.sha256), server_limits().archive)
            self._code = codechecks.code_input(contents, self.release.manifest or {}, self.release.provenance_commit)
        return self._code

    def close(self) -> None:
        if self._code is not None:
            self._code.close()


def _code_check(name: str) -> Callable[[Release, JobInput, float], Outcome]:
    def run(release: Release, given: JobInput, seconds: float) -> Outcome:
        result = codechecks.run_code_check(name, given.code(), seconds, codechecks.BYTES)
        return Outcome(result.status, result.summary, result.details())

    run.__name__ = f"code_check_{name.replace('-', '_')}"
    return run


def _licenses(release: Release, given: JobInput, seconds: float) -> Outcome:
    return Outcome(*sbom.license_outcome(release))


def _vulnerabilities(release: Release, given: JobInput, seconds: float) -> Outcome:
    return Outcome(*sbom.analyse_vulnerabilities(release))


# The registry. Upload checks first, in the order the review page used to list them.
CHECKS: Final[dict[str, CheckKind]] = {kind.name: kind for kind in (
    CheckKind("manifest", UPLOAD, 1, manifest_check),
    CheckKind("archive", UPLOAD, 1, archive_check),
    CheckKind("datahub", UPLOAD, 1, datahub_check),
    CheckKind("deploy", UPLOAD, 1, deploy_check),
    CheckKind("provenance", UPLOAD, 1, provenance_check),
    CheckKind("dependencies", UPLOAD, 2, dependencies_check),
    *(CheckKind(name, JOB, codechecks.SECONDS, _code_check(name), code_check=True) for name in codechecks.CHECKS),
    CheckKind("licenses", JOB, 60, _licenses),
    CheckKind("vulnerabilities", JOB, 120, _vulnerabilities),
)}


def kinds(where: str) -> list[CheckKind]:
    """The checks that run `where`; code checks only while REGISTRY_REVIEW_CODE_CHECKS is on."""
    enabled = current_app.config["REVIEW_CODE_CHECKS"]
    return [k for k in CHECKS.values() if k.where == where and (enabled or not k.code_check)]


# --- running --------------------------------------------------------------------------------------


def record_upload_checks(release: Release, inspected, provenance) -> list[str]:
    """Inside the upload's transaction: the upload checks' rows, and a `running` row for each job
    check. Returns the job checks' names, for `start_job_checks` once the release has its id."""
    for kind in kinds(UPLOAD):
        started = time.monotonic()
        try:
            outcome = kind.run(release, inspected, provenance)
        except Exception as exc:  # one broken check must not refuse the upload
            log.exception("upload check %s failed", kind.name)
            outcome = error_outcome(exc)
        took = time.monotonic() - started
        if took > kind.seconds:
            log.warning("upload check %s took %.1f s, over its budget of %s s", kind.name, took, kind.seconds)
        release.checks.append(Check(name=kind.name, status=outcome.status, summary=outcome.summary,
                                    details=outcome.details, ran_at=utcnow()))
    names = [kind.name for kind in kinds(JOB)]
    for name in names:
        release.checks.append(_running_row(name))
    return names


def _running_row(name: str) -> Check:
    return Check(name=name, status=CheckStatus.RUNNING, summary="queued", details={}, ran_at=utcnow())


def start_job_checks(release: Release, names: list[str]) -> None:
    """After the release is flushed: the event whose handler runs the job checks once it commits."""
    if names:
        events.emit(EventName.RELEASE_UPLOADED, release_id=release.id, checks=names)


def _row(release_id: int, name: str) -> Check | None:
    return db.session.scalar(select(Check).where(Check.release_id == release_id, Check.name == name)
                             .order_by(Check.id.desc()).limit(1))


def run_job_checks(release_id: int, names: list[str]) -> list[str]:
    """The job: run each named check of the release that is still `running`, and store its result.

    Commits after each check (the job's own transaction ends there), so a reviewer sees each result
    as it arrives and a check that breaks the session loses nobody else's result. Returns the names
    it ran."""
    release = db.session.get(Release, release_id)
    if release is None:  # deleted since; nothing to run
        return []
    given, ran = JobInput(release), []
    try:
        if any(CHECKS[n].code_check and (row := _row(release_id, n)) is not None and row.status == CheckStatus.RUNNING
               for n in names if n in CHECKS):
            # Read the archive before any check's clock starts: a 100 MB archive takes seconds, which
            # are the job's, not the first code check's budget (_run_one marks a check over it timed out).
            try:
                given.code()
            except Exception:  # noqa: BLE001 - each code check reads it again and records the failure as its error
                pass
        for name in names:
            check = _row(release_id, name)
            if check is None or check.status != CheckStatus.RUNNING:
                continue  # done already: this job was delivered twice, or the row is gone
            kind = CHECKS.get(name)
            outcome = _run_one(kind, release, given) if kind is not None and kind.where == JOB else \
                Outcome(CheckStatus.ERROR, f"no job check named {name!r}",
                        {"sentence": _l("The check failed to run: %(error)s"),
                         "params": {"error": f"no job check named {name}"}})
            check = _row(release_id, name)  # again: a rollback in _run_one expired what was loaded
            if check is None:
                continue
            check.status, check.summary, check.details, check.ran_at = (outcome.status, outcome.summary,
                                                                        outcome.details, utcnow())
            db.session.commit()
            ran.append(name)
            release = db.session.get(Release, release_id)
            given.release = release
    finally:
        given.close()
    return ran


def _run_one(kind: CheckKind, release: Release, given: JobInput) -> Outcome:
    started = time.monotonic()
    try:
        outcome = kind.run(release, given, kind.seconds)
    except Exception as exc:
        db.session.rollback()  # what the check half wrote goes; its row says why
        log.exception("check %s of release %s failed", kind.name, release.id)
        return error_outcome(exc)
    took = time.monotonic() - started
    if outcome.status != CheckStatus.TIMED_OUT and took > kind.seconds + codechecks.GRACE:
        # A check that cannot stop itself (the SBOM analysis) is measured: its result is kept, marked.
        outcome.details = {**outcome.details, "result": outcome.status, "result_summary": outcome.summary,
                           "timed_out": {"seconds": kind.seconds, "took": round(took, 1)},
                           "sentence": _l("Timed out: took %(took)s s, over its budget of %(seconds)s s."),
                           "params": {"took": round(took, 1), "seconds": kind.seconds}}
        outcome.status = CheckStatus.TIMED_OUT
        outcome.summary = f"timed out: took {took:.1f} s, over its budget of {kind.seconds} s"
    return outcome


# --- re-running -------------------------------------------------------------------------------------


def is_stale(check: Check) -> bool:
    """Still `running` long after its budget: its job was lost."""
    kind = CHECKS.get(check.name)
    budget = timedelta(seconds=kind.seconds if kind else 0)
    return check.status == CheckStatus.RUNNING and check.ran_at + budget + STALE_AFTER < utcnow()


def can_rerun(check: Check) -> bool:
    kind = CHECKS.get(check.name)
    return kind is not None and kind.where == JOB and (check.status in RERUNNABLE or is_stale(check))


def rerun(user, release: Release, name: str) -> Check:
    """A reviewer asks for a job check to run again: its row becomes `running` and the job is queued
    (event `check.rerun`). Only a check that failed, timed out or raised (or whose job was lost)."""
    require_reviewer(user)
    require_independent(user, release)
    kind = CHECKS.get(name)
    if kind is None or kind.where != JOB:
        raise NotFound(f"no check named {name!r} runs as a job; choose one of "
                       f"{', '.join(k.name for k in CHECKS.values() if k.where == JOB)}", field="check")
    check = _row(release.id, name)
    if check is None:
        check = _running_row(name)
        release.checks.append(check)
        previous = None
    else:
        if not can_rerun(check):
            raise Conflict(f"the check {name} is {check.status}; only a check that failed, timed out or could not "
                           "run is run again", code="check-not-rerunnable",
                           hint="wait for a running check to end; a passing or warning check stands as it is")
        previous = {"status": check.status, "summary": check.summary, "ran_at": check.ran_at.isoformat()}
        check.status, check.summary, check.details, check.ran_at = CheckStatus.RUNNING, "queued", {}, utcnow()
    db.session.flush()
    solution = release.solution
    audit.record("check.rerun", actor=user, org_id=solution.org_id, solution_id=solution.id,
                 details={"release_id": release.id, "version": release.version, "check": name,
                          "previous": previous})
    events.emit(EventName.CHECK_RERUN, release_id=release.id, checks=[name])
    return check


def running(release: Release) -> list[Check]:
    return [c for c in release.checks if c.status == CheckStatus.RUNNING]
