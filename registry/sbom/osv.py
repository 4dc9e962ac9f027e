"""Offline known vulnerabilities: importing OSV records and matching components against them.

Import (`import_osv`) reads a directory of OSV JSON files or an OSV ``all.zip``. Each file
is all-or-nothing: it is validated and stored in its own transaction, so a bad file is
reported and skipped while the others commit. Rules (docs/sbom.md):

- a record is stored or replaced only when its ``modified`` is newer than the stored one;
- a ``withdrawn`` record removes the stored record of that id (and its findings);
- duplicates: two records are the same vulnerability when their ids are linked by
  ``aliases`` (directly or through a shared alias such as a CVE) *and* they affect at
  least one common package. Only one is kept: GHSA ids first, then other databases'
  ids, CVE ids last; ties by the smaller id. The dropped id is folded into the kept
  record's aliases, so VEX statements naming it still apply.

Matching follows the OSV specification's evaluation (``versions`` list, ``SEMVER`` and
``ECOSYSTEM`` ranges with introduced/fixed/last_affected/limit events; ``GIT`` ranges are
ignored), using each ecosystem's own version order from `registry.sbom.ecosystems`.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import delete, insert, select, tuple_

from registry.db import db
from registry.errors import Unprocessable
from registry.sbom.ecosystems import (
    UnorderedVersion,
    index_ecosystem,
    normalize_package_name,
    parse_ecosystem_version,
    version_of,
)
from registry.sbom.models import Finding, Severity, Vulnerability, VulnerabilityAlias, VulnerabilityPackage

MAX_RECORD_BYTES = 10 * 1024 * 1024
SEVERITIES = tuple(Severity)  # worst first
_ZERO = "0"


class OsvRecordError(Unprocessable):
    """A file that is not (valid) OSV; `import_osv` lists it among the failed files and goes on."""

    code = "osv-record-invalid"


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    duplicates: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def add(self, other: ImportReport) -> None:
        for name in ("imported", "updated", "unchanged", "withdrawn", "duplicates"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


# --- severity ---------------------------------------------------------------------------------


def severity_from_score(score: float) -> str:
    """CVSS qualitative rating; a 0.0 ("none") score is reported as low."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


def _cvss_score(kind: str, vector: str) -> float | None:
    import cvss

    try:
        if kind == "CVSS_V3":
            return float(cvss.CVSS3(vector).base_score)
        if kind == "CVSS_V4":
            return float(cvss.CVSS4(vector).base_score)
        if kind == "CVSS_V2":
            return float(cvss.CVSS2(vector).base_score)
    except (cvss.CVSSError, ValueError, KeyError):
        return None
    return None


def severity_of(entries: Any, database_specific: Any = None) -> str | None:
    """Worst severity of OSV `severity` entries (CVSS vectors), else database_specific.severity."""
    scores = [s for e in entries or [] if isinstance(e, dict) and isinstance(e.get("score"), str)
              if (s := _cvss_score(str(e.get("type")), e["score"])) is not None]
    if scores:
        return severity_from_score(max(scores))
    if isinstance(database_specific, dict) and isinstance(database_specific.get("severity"), str):
        label = database_specific["severity"].strip().lower()
        label = {"moderate": "medium", "important": "high"}.get(label, label)
        if label in SEVERITIES:
            return label
    return None


def record_severity(record: dict) -> str:
    found = severity_of(record.get("severity"), record.get("database_specific"))
    if found:
        return found
    per_package = [severity_of(a.get("severity"), a.get("database_specific")) for a in record.get("affected") or []]
    ranked = [s for s in per_package if s]
    return min(ranked, key=SEVERITIES.index) if ranked else "unknown"


# --- matching ---------------------------------------------------------------------------------


def _less(ecosystem: str | None, a: str, b: str) -> bool:
    if a == _ZERO:
        return b != _ZERO
    if b == _ZERO:
        return False
    return parse_ecosystem_version(ecosystem, a) < parse_ecosystem_version(ecosystem, b)


def _in_range(version: str, ecosystem: str | None, events: list[dict]) -> tuple[bool, list[str]]:
    """OSV's IncludedInRanges for one range; returns (affected, fixed versions of the range)."""
    fixed = [e["fixed"] for e in events if "fixed" in e]
    limits = [e["limit"] for e in events if "limit" in e]
    if limits and not any("*" in limit or _less(ecosystem, version, limit) for limit in limits):
        return False, fixed
    ordered = sorted((e for e in events if "limit" not in e), key=lambda e: _SortKey(ecosystem, next(iter(e.values()))))
    affected = False
    for event in ordered:
        if "introduced" in event and not _less(ecosystem, version, event["introduced"]):
            affected = True
        elif "fixed" in event and not _less(ecosystem, version, event["fixed"]):
            affected = False
        elif "last_affected" in event and _less(ecosystem, event["last_affected"], version):
            affected = False
    return affected, fixed


class _SortKey:
    """Orders event versions by the ecosystem's ordering, with "0" first."""

    __slots__ = ("ecosystem", "version")

    def __init__(self, ecosystem: str | None, version: str):
        self.ecosystem, self.version = ecosystem, version

    def __lt__(self, other: _SortKey) -> bool:
        return _less(self.ecosystem, self.version, other.version)


def _same_version(ecosystem: str, a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return parse_ecosystem_version(ecosystem, a) == parse_ecosystem_version(ecosystem, b)
    except UnorderedVersion:
        return False


def affected_by(version: str, affected_entries: Iterable[dict]) -> tuple[bool, list[str]]:
    """Is `version` affected by any of these `affected` entries (all for one package)?

    Returns (affected, fixed versions named by the ranges that include it). A range whose
    versions cannot be ordered (unknown ecosystem, unreadable version) is skipped; the
    explicit `versions` list still matches exactly.
    """
    for entry in affected_entries:
        ecosystem = index_ecosystem(str((entry.get("package") or {}).get("ecosystem", "")))
        if any(_same_version(ecosystem, version, str(v)) for v in entry.get("versions") or []):
            return True, []
        for range_ in entry.get("ranges") or []:
            kind = range_.get("type")
            if kind not in ("SEMVER", "ECOSYSTEM"):
                continue  # GIT ranges need the repository's commit graph
            try:
                hit, fixed = _in_range(version, None if kind == "SEMVER" else ecosystem, range_.get("events") or [])
            except UnorderedVersion:
                continue
            if hit:
                return True, fixed
    return False, []


def _package_key(affected: dict) -> tuple[str, str] | None:
    package = affected.get("package")
    if not isinstance(package, dict) or not package.get("ecosystem") or not package.get("name"):
        return None
    ecosystem = index_ecosystem(str(package["ecosystem"]))
    return ecosystem, normalize_package_name(ecosystem, str(package["name"]))


# --- validation -------------------------------------------------------------------------------


def _parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise OsvRecordError(f"{what} must be an RFC 3339 timestamp string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OsvRecordError(f"{what} {value!r} is not an RFC 3339 timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def validate_record(record: Any) -> dict:
    """Check the parts of an OSV record the registry relies on; raise OsvRecordError."""
    if not isinstance(record, dict):
        raise OsvRecordError("not an OSV record: expected a JSON object")
    for required in ("id", "modified"):
        if required not in record:
            raise OsvRecordError(f"not an OSV record: missing {required!r}")
    if not isinstance(record["id"], str) or not 0 < len(record["id"]) <= 100:
        raise OsvRecordError("'id' must be a string of 1 to 100 characters")
    _parse_time(record["modified"], "'modified'")
    if record.get("withdrawn") is not None:
        _parse_time(record["withdrawn"], "'withdrawn'")
    aliases = record.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and len(a) <= 100 for a in aliases):
        raise OsvRecordError("'aliases' must be a list of ids")
    affected = record.get("affected") or []
    if not isinstance(affected, list):
        raise OsvRecordError("'affected' must be a list")
    for i, entry in enumerate(affected):
        where = f"affected[{i}]"
        if not isinstance(entry, dict):
            raise OsvRecordError(f"{where} must be an object")
        package = entry.get("package")
        if package is not None and (not isinstance(package, dict) or not isinstance(package.get("ecosystem"), str)
                                    or not isinstance(package.get("name"), str)):
            raise OsvRecordError(f"{where}.package needs 'ecosystem' and 'name' strings")
        if not isinstance(entry.get("versions", []), list):
            raise OsvRecordError(f"{where}.versions must be a list")
        for j, range_ in enumerate(entry.get("ranges") or []):
            if not isinstance(range_, dict) or not isinstance(range_.get("type"), str):
                raise OsvRecordError(f"{where}.ranges[{j}] needs a 'type'")
            events = range_.get("events")
            if not isinstance(events, list) or not events:
                raise OsvRecordError(f"{where}.ranges[{j}].events must be a non-empty list")
            for k, event in enumerate(events):
                if (not isinstance(event, dict) or len(event) != 1
                        or next(iter(event)) not in ("introduced", "fixed", "last_affected", "limit")
                        or not isinstance(next(iter(event.values())), str)):
                    raise OsvRecordError(f"{where}.ranges[{j}].events[{k}] must be one of "
                                         "introduced, fixed, last_affected or limit with a version string")
    return record


# --- reading sources --------------------------------------------------------------------------


def _sources(path: Path, max_record_bytes: int) -> Iterator[tuple[str, bytes | OsvRecordError]]:
    """(file name, bytes or the reason it could not be read) for every JSON file in the source."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*.json") if p.is_file()):
            name = str(file.relative_to(path))
            if file.stat().st_size > max_record_bytes:
                yield name, OsvRecordError(f"larger than {max_record_bytes:,} bytes")
            else:
                yield name, file.read_bytes()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir() or not info.filename.endswith(".json"):
                    continue
                if info.file_size > max_record_bytes:
                    yield info.filename, OsvRecordError(f"larger than {max_record_bytes:,} bytes")
                    continue
                with archive.open(info) as member:
                    # Read at most the cap, whatever the header claims.
                    data = member.read(max_record_bytes + 1)
                yield info.filename, data if len(data) <= max_record_bytes else OsvRecordError(
                    f"larger than {max_record_bytes:,} bytes")
    elif path.is_file():
        yield path.name, path.read_bytes() if path.stat().st_size <= max_record_bytes else OsvRecordError(
            f"larger than {max_record_bytes:,} bytes")
    else:
        raise FileNotFoundError(f"{path} is neither a directory, a zip file nor a JSON file")


def _records_in(data: bytes) -> list[dict]:
    try:
        document = json.loads(data)
    except RecursionError:
        raise OsvRecordError("nested too deeply") from None
    except ValueError as exc:
        raise OsvRecordError(f"not valid JSON: {exc}") from None
    documents = document if isinstance(document, list) else [document]
    return [validate_record(d) for d in documents]


# --- storing ----------------------------------------------------------------------------------


def _preference(vulnerability_id: str) -> tuple[int, str]:
    prefix = vulnerability_id.split("-", 1)[0].upper()
    return (0 if prefix == "GHSA" else 2 if prefix == "CVE" else 1), vulnerability_id


def _packages(record: dict) -> dict[tuple[str, str], list[dict]]:
    found: dict[tuple[str, str], list[dict]] = {}
    for entry in record.get("affected") or []:
        key = _package_key(entry)
        if key is not None:
            found.setdefault(key, []).append(entry)
    return found


def _remove(vulnerability_id: str) -> None:
    for model, column in ((Finding, Finding.vulnerability_id), (VulnerabilityPackage, VulnerabilityPackage.vulnerability_id),
                          (VulnerabilityAlias, VulnerabilityAlias.vulnerability_id)):
        db.session.execute(delete(model).where(column == vulnerability_id))
    # Through the ORM, so the session forgets the instance and the id can be written again.
    stored = db.session.get(Vulnerability, vulnerability_id)
    if stored is not None:
        db.session.delete(stored)
        db.session.flush()


def _duplicate_of(record: dict, packages: set[tuple[str, str]]) -> str | None:
    """A stored record that is the same vulnerability as `record` (see the module docstring)."""
    names = {record["id"], *(record.get("aliases") or [])}
    candidates = set(db.session.scalars(select(Vulnerability.id).where(Vulnerability.id.in_(names))))
    candidates |= set(db.session.scalars(select(VulnerabilityAlias.vulnerability_id).where(VulnerabilityAlias.alias.in_(names))))
    candidates.discard(record["id"])
    if not candidates or not packages:
        return None
    overlapping = db.session.scalars(
        select(VulnerabilityPackage.vulnerability_id).where(
            VulnerabilityPackage.vulnerability_id.in_(candidates),
            tuple_(VulnerabilityPackage.ecosystem, VulnerabilityPackage.name).in_(list(packages)),
        ).order_by(VulnerabilityPackage.vulnerability_id)
    ).first()
    return overlapping


def _add_aliases(vulnerability_id: str, aliases: Iterable[str]) -> None:
    known = set(db.session.scalars(select(VulnerabilityAlias.alias).where(VulnerabilityAlias.vulnerability_id == vulnerability_id)))
    new = [a for a in dict.fromkeys(aliases) if a not in known and a != vulnerability_id]
    if new:
        db.session.execute(insert(VulnerabilityAlias), [{"vulnerability_id": vulnerability_id, "alias": a} for a in new])
        stored = db.session.get(Vulnerability, vulnerability_id)
        stored.aliases = sorted({*stored.aliases, *new})


def _write(record: dict, packages: dict[tuple[str, str], list[dict]], aliases: list[str]) -> None:
    vulnerability = Vulnerability(
        id=record["id"], modified=_parse_time(record["modified"], "modified"), aliases=aliases,
        summary=str(record.get("summary") or record.get("details") or "")[:2000],
        severity=record_severity(record), record=record,
    )
    db.session.add(vulnerability)
    db.session.flush()
    if packages:
        db.session.execute(insert(VulnerabilityPackage), [
            {"vulnerability_id": record["id"], "ecosystem": eco, "name": name, "affected": entries}
            for (eco, name), entries in packages.items()])
    if aliases:
        db.session.execute(insert(VulnerabilityAlias), [{"vulnerability_id": record["id"], "alias": a} for a in aliases])


def _store(record: dict, report: ImportReport) -> None:
    vulnerability_id = record["id"]
    stored = db.session.get(Vulnerability, vulnerability_id)
    if record.get("withdrawn"):
        if stored is not None:
            _remove(vulnerability_id)
        report.withdrawn += 1
        return
    modified = _parse_time(record["modified"], "modified")
    if stored is not None and stored.modified >= modified:
        report.unchanged += 1
        return
    packages = _packages(record)
    aliases = list(dict.fromkeys(a for a in record.get("aliases") or [] if a != vulnerability_id))
    if stored is not None:
        folded = [a for a in stored.aliases if a not in aliases]  # ids of duplicates folded in earlier
        _remove(vulnerability_id)
        _write(record, packages, aliases + folded)
        report.updated += 1
        return
    duplicate = _duplicate_of(record, set(packages))
    if duplicate is not None:
        report.duplicates += 1
        if _preference(duplicate) <= _preference(vulnerability_id):
            _add_aliases(duplicate, [vulnerability_id, *aliases])
            return
        kept_aliases = db.session.get(Vulnerability, duplicate).aliases
        _remove(duplicate)
        aliases = list(dict.fromkeys([*aliases, duplicate, *kept_aliases]))
        aliases = [a for a in aliases if a != vulnerability_id]
    _write(record, packages, aliases)
    report.imported += 1


def import_osv(path: str | Path, *, max_record_bytes: int = MAX_RECORD_BYTES, rematch: bool = True,
               progress=None) -> ImportReport:
    """Import OSV records from a directory, an all.zip or one JSON file; commits file by file.

    With `rematch`, every stored release's findings are recomputed afterwards, in batches of releases
    run as jobs (`rematch_all`; `progress(handed_over, total, done)` hears of each batch).
    """
    report = ImportReport()
    for name, data in _sources(Path(path), max_record_bytes):
        if isinstance(data, OsvRecordError):
            report.failed.append((name, str(data)))
            continue
        file_report = ImportReport()
        try:
            for record in _records_in(data):
                _store(record, file_report)
            db.session.commit()
        except OsvRecordError as exc:
            db.session.rollback()
            report.failed.append((name, str(exc)))
            continue
        except Exception as exc:  # a database error on this file must not stop the others
            db.session.rollback()
            report.failed.append((name, f"could not be stored: {type(exc).__name__}: {exc}"))
            continue
        report.add(file_report)
    if rematch:
        from registry.sbom.service import rematch_all

        rematch_all(progress)
        db.session.commit()
    return report


def candidate_rows(release_ids: list[int] | None = None):
    """(component, package index row) pairs sharing (ecosystem, name): the only pairs worth evaluating."""
    from registry.sbom.models import Component

    query = (
        select(Component.id, Component.release_id, Component.version, Component.purl,
               VulnerabilityPackage.vulnerability_id, VulnerabilityPackage.affected, Vulnerability.severity)
        .join(VulnerabilityPackage, (VulnerabilityPackage.ecosystem == Component.ecosystem)
              & (VulnerabilityPackage.name == Component.package_name))
        .join(Vulnerability, Vulnerability.id == VulnerabilityPackage.vulnerability_id)
    )
    if release_ids is not None:
        query = query.where(Component.release_id.in_(release_ids))
    return db.session.execute(query)


def match_index(release_ids: list[int] | None = None) -> list[dict]:
    """Findings (as insert rows, VEX not yet applied) for the given releases (None: all)."""
    rows = []
    for component_id, release_id, version, purl, vulnerability_id, affected, record_severity_ in candidate_rows(release_ids):
        version = version_of(purl, version)
        if not version:
            continue
        hit, fixed = affected_by(version, affected)
        if not hit:
            continue
        severity = next((s for a in affected if (s := severity_of(a.get("severity"), a.get("database_specific")))),
                        None) or record_severity_ or "unknown"
        rows.append({"release_id": release_id, "component_id": component_id, "vulnerability_id": vulnerability_id,
                     "severity": severity, "fixed_versions": fixed})
    return rows


__all__ = ["ImportReport", "OsvRecordError", "affected_by", "import_osv", "match_index",
           "record_severity", "severity_from_score", "severity_of", "validate_record"]
