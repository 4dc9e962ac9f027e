"""SBOM ingest and vulnerability matching at scale, on SQLite.

1. Ingest a generated 10,000-component CycloneDX 1.5 JSON: parse + schema validation + store
   (target < 3 s), with parse + validate and store also timed apart. The schema validator is
   compiled once per process before the runs; that one-off cost (and that of importing the
   validation libraries) is reported on lines of its own.
2. Match those 10,000 components against 200,000 synthetic OSV records through the
   (ecosystem, name) index (target < 2 s). The records are bulk-inserted, not imported.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from bench.common import markdown_table, summarize, write_report  # noqa: E402

COMPONENTS = 10_000
RECORDS = 200_000
PACKAGES = 100_000  # records are spread over this many package names, two per package
RUNS = 3
INGEST_RUNS = 5  # the ingest varies most on a shared machine


def make_sbom(count: int) -> bytes:
    components = [{
        "type": "library", "bom-ref": f"pkg-{i}", "name": f"pkg-{i}", "version": f"1.{i % 50}.0",
        "purl": f"pkg:pypi/pkg-{i}@1.{i % 50}.0", "licenses": [{"license": {"id": "MIT" if i % 7 else "GPL-3.0-only"}}],
        "hashes": [{"alg": "SHA-256", "content": f"{i:064x}"}],
    } for i in range(count)]
    document = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                "metadata": {"component": {"type": "application", "name": "bench", "version": "1.0.0"}},
                "components": components,
                "dependencies": [{"ref": f"pkg-{i}", "dependsOn": [f"pkg-{i + 1}"]} for i in range(count - 1)]}
    return json.dumps(document).encode()


def insert_records(db, count: int) -> None:
    from registry.sbom.models import Vulnerability, VulnerabilityPackage

    modified = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for start in range(0, count, 20_000):
        vulns, packages = [], []
        for n in range(start, min(count, start + 20_000)):
            package = f"pkg-{n % PACKAGES}"
            affected = [{"package": {"ecosystem": "PyPI", "name": package},
                         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": f"1.{n % 40}.0"}]}]}]
            vid = f"BENCH-{n:07d}"
            vulns.append({"id": vid, "modified": modified, "aliases": [], "summary": "", "severity": "high",
                          "record": {"id": vid, "modified": "2024-01-01T00:00:00Z", "affected": affected}})
            packages.append({"vulnerability_id": vid, "ecosystem": "PyPI", "name": package, "affected": affected})
        db.session.execute(insert(Vulnerability), vulns)
        db.session.execute(insert(VulnerabilityPackage), packages)
    db.session.commit()


def main() -> int:
    from flask_migrate import upgrade

    from registry import create_app
    from registry.accounts.models import Organization
    from registry.db import db
    from registry.releases.models import Release, Solution
    from registry.sbom.service import refresh_findings, store_components
    from registry.spec.sbom.parser import parse_sbom
    from registry.spec.sbom.schema import fast_validator

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "STORAGE_PATH": f"{tmp}/blobs", "SECRET_KEY": "bench"})
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            org = Organization(slug="bench", name="Bench", kind="vendor")
            db.session.add(org)
            db.session.flush()
            solution = Solution(name="bench", normalized_name="bench", org_id=org.id)
            db.session.add(solution)
            db.session.flush()
            data = make_sbom(COMPONENTS)

            started = time.perf_counter()
            import cyclonedx.validation.json  # noqa: F401  (the validation libraries, imported on first use)
            import fastjsonschema  # noqa: F401
            import jsonschema  # noqa: F401
            import_seconds = time.perf_counter() - started
            started = time.perf_counter()
            fast_validator("1.5")
            compile_seconds = time.perf_counter() - started

            ingest, parsing, storing, releases = [], [], [], []
            for run in range(INGEST_RUNS):
                release = Release(solution_id=solution.id, version=f"1.0.{run}", manifest={}, sha256="0" * 64, size=len(data))
                db.session.add(release)
                db.session.commit()
                started = time.perf_counter()
                parsed = parse_sbom(data)
                parsed_at = time.perf_counter()
                store_components(release, parsed)
                db.session.commit()
                ingest.append(time.perf_counter() - started)
                parsing.append(parsed_at - started)
                storing.append(ingest[-1] - parsing[-1])
                releases.append(release.id)

            started = time.perf_counter()
            insert_records(db, RECORDS)
            load_seconds = time.perf_counter() - started

            matching, found = [], 0
            for _ in range(RUNS):
                started = time.perf_counter()
                found = refresh_findings([releases[0]])
                db.session.commit()
                matching.append(time.perf_counter() - started)
            db.engine.dispose()

    rows = []
    for label, samples, target in ((f"ingest {COMPONENTS:,}-component SBOM (parse + validate + store)", ingest, 3.0),
                                   ("… of which parse + schema validation (`parse_sbom`)", parsing, None),
                                   ("… of which store + commit (`store_components`)", storing, None),
                                   ("once per process, before the runs: import the validation libraries",
                                    [import_seconds], None),
                                   ("once per process, before the runs: load + compile the CycloneDX 1.5 schema",
                                    [compile_seconds], None),
                                   (f"match {COMPONENTS:,} components vs {RECORDS:,} OSV records", matching, 2.0)):
        stats = summarize(samples)
        met = "" if target is None else "yes" if stats["median"] < target else "**no**"
        rows.append([label, len(samples), f"{stats['median']:.2f}", f"{stats['max']:.2f}",
                     "" if target is None else f"< {target:.0f}", met])
    body = markdown_table(["operation (SQLite)", "runs", "median s", "max s", "target s", "met"], rows)
    body += (f"\n\nSBOM size {len(data) / 1e6:.1f} MB. Bulk insert of the OSV records (setup, not measured "
             f"against a target): {load_seconds:.1f} s. Findings per match run: {found:,}.")
    write_report("sbom", "SBOM ingest and vulnerability matching", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
