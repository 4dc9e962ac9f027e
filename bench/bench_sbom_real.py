"""SBOMs of the shapes real generators write: URL-heavy, Maven placeholders, large; time and memory.

1. Validate + ingest 10,000 components with 4 external-reference URLs each (npm-like: git+https,
   issue trackers, `#readme` homepages, tarball URLs), as CycloneDX 1.6 JSON and as 1.6 XML
   (target < 3 s each), and the same 10,000 with Maven-like `${project.url}` placeholders.
2. The real cyclonedx-npm fixture (482 packages, 1,446 URLs, spec 1.4), validated + read.
3. Memory: packages with 2, 20 and 50 MB SBOMs (the real npm fixture multiplied, JSON and XML)
   through the whole shared inspection, with the time and the growth of the process's peak RSS.

Run: `python bench/bench_sbom_real.py`; its table is the last section of bench/results/sbom.md.
No Maven generator runs here: `mvn` is installed but no Maven repository is reachable offline,
so the Maven shape is generated below (`maven_like`).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import markdown_table, summarize  # noqa: E402

COMPONENTS = 10_000
RUNS = 3


def npm_like(i: int) -> dict:
    name = f"pkg-{i}"
    return {"type": "library", "bom-ref": f"{name}@1.{i % 50}.0", "name": name, "version": f"1.{i % 50}.0",
            "purl": f"pkg:npm/{name}@1.{i % 50}.0", "licenses": [{"license": {"id": "MIT" if i % 7 else "ISC"}}],
            "externalReferences": [
                {"type": "distribution", "url": f"https://registry.npmjs.org/{name}/-/{name}-1.{i % 50}.0.tgz"},
                {"type": "vcs", "url": f"git+https://github.com/org-{i % 300}/{name}.git"},
                {"type": "website", "url": f"https://github.com/org-{i % 300}/{name}#readme"},
                {"type": "issue-tracker", "url": f"https://github.com/org-{i % 300}/{name}/issues?q=is%3Aopen"}]}


def maven_like(i: int) -> dict:
    component = npm_like(i)
    component.update(group=f"org.example.g{i % 40}", purl=f"pkg:maven/org.example.g{i % 40}/pkg-{i}@1.{i % 50}.0?type=jar")
    component["externalReferences"] = [
        {"type": "website", "url": "${project.url}"}, {"type": "vcs", "url": "${project.scm.url}"},
        {"type": "distribution", "url": f"https://repo.maven.apache.org/maven2/org/example/pkg-{i}/"},
        {"type": "issue-tracker", "url": "${project.issueManagement.url}"}]
    return component


def json_sbom(make, count: int = COMPONENTS) -> bytes:
    document = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                "metadata": {"component": {"type": "application", "name": "bench", "version": "1.0.0"}},
                "components": [make(i) for i in range(count)]}
    return json.dumps(document).encode()


def xml_sbom(count: int = COMPONENTS) -> bytes:
    from xml.sax.saxutils import escape

    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">',
             "<metadata><component type=\"application\"><name>bench</name><version>1.0.0</version></component></metadata>",
             "<components>"]
    for i in range(count):
        c = npm_like(i)
        refs = "".join(f'<reference type="{r["type"]}"><url>{escape(r["url"])}</url></reference>'
                       for r in c["externalReferences"])
        parts.append(f'<component type="library" bom-ref="{c["bom-ref"]}"><name>{c["name"]}</name>'
                     f'<version>{c["version"]}</version><licenses><license><id>{c["licenses"][0]["license"]["id"]}</id>'
                     f'</license></licenses><purl>{c["purl"]}</purl><externalReferences>{refs}</externalReferences></component>')
    parts.append("</components></bom>")
    return "".join(parts).encode()


ROOT = ("bench", "1.0.0")


def package_of(fmt: str, copies: int) -> tuple[bytes, int]:
    """A package whose SBOM is the real cyclonedx-npm 1.7 fixture `copies` times over; the SBOM's size."""
    import yaml

    from tests.publishing.packages import build_archive, package_files
    from tests.spec.sbom.realsbom import multiplied, xml_multiplied

    name = f"sbom.cdx.{fmt}"
    sbom = (multiplied("cyclonedx-npm-1.7.cdx.json.gz", copies, root=ROOT) if fmt == "json"
            else xml_multiplied("cyclonedx-npm-1.7.cdx.xml.gz", copies, root=ROOT))
    files = package_files(*ROOT)
    del files["sbom.cdx.json"]
    manifest = yaml.safe_load(files.pop("solution.yaml"))
    manifest["sbom"] = name
    files.update({"solution.yaml": yaml.safe_dump(manifest, allow_unicode=True).encode(), name: sbom})
    return build_archive(files, root="bench-1.0.0"), len(sbom)


def memory_row(fmt: str, megabytes: int) -> list:
    from tests.spec.inspection_memory import measure

    one_copy = package_of(fmt, 1)[1]
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp, "small.tar.gz"), Path(tmp, "large.tar.gz")
        small.write_bytes(package_of(fmt, 1)[0])
        archive, size = package_of(fmt, max(1, megabytes * 1024 * 1024 // one_copy))  # 50 MB is the cap itself
        large.write_bytes(archive)
        del archive
        run = measure(small, large)
    verdict = f"**refused: {run.refused}**" if run.refused else "accepted"
    return [fmt.upper(), f"{size / 1e6:.1f}", f"{run.components:,}", f"{run.seconds:.1f}", verdict,
            f"{run.growth / 1e6:.0f}", f"{run.growth / size:.2f}"]


def main() -> int:
    from flask_migrate import upgrade

    from registry import create_app
    from registry.accounts.models import Organization
    from registry.db import db
    from registry.releases.models import Release, Solution
    from registry.sbom.service import store_components
    from registry.spec.sbom.parser import SbomError, parse_sbom
    from registry.spec.sbom.schema import fast_validator
    from tests.spec.sbom.realsbom import real

    for spec in ("1.4", "1.6"):
        fast_validator(spec)  # compiled once per process; reported in bench/results/sbom.md
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "STORAGE_PATH": f"{tmp}/blobs", "SECRET_KEY": "bench"})
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            org = Organization(slug="bench", name="Bench", kind="vendor")
            db.session.add(org)
            db.session.flush()
            solution = Solution(name="bench", normalized_name="bench", org_id=org.id)
            db.session.add(solution)
            db.session.commit()
            counter = iter(range(1_000_000))

            def ingest(data: bytes) -> float:
                if b"${project" in data:
                    return refusal(data)
                release = Release(solution_id=solution.id, version=f"1.0.{next(counter)}", manifest={}, sha256="0" * 64,
                                  size=len(data))
                db.session.add(release)
                db.session.commit()
                started = time.perf_counter()
                store_components(release, parse_sbom(data))
                db.session.commit()
                return time.perf_counter() - started

            shapes = [(f"{COMPONENTS:,} components × 4 URLs, JSON 1.6 (validate + ingest)", json_sbom(npm_like), 3.0),
                      (f"{COMPONENTS:,} components × 4 URLs, XML 1.6 (validate + ingest)", xml_sbom(), 3.0),
                      (f"{COMPONENTS:,} Maven-like components, `${{…}}` URLs, JSON 1.6 (refused: not IRIs; time to the 422)",
                       json_sbom(maven_like), 3.0),
                      ("real cyclonedx-npm SBOM, 482 packages / 1,446 URLs, JSON 1.4 (validate + ingest)",
                       real("cyclonedx-npm-1.4.cdx.json.gz"), None)]
            def refusal(data: bytes) -> float:
                started = time.perf_counter()
                try:
                    parse_sbom(data)
                except SbomError:
                    return time.perf_counter() - started
                raise AssertionError("an unresolved ${…} placeholder is not an IRI-reference")

            for label, data, target in shapes:
                samples = [ingest(data) for _ in range(RUNS)]
                stats = summarize(samples)
                met = "" if target is None else "yes" if stats["median"] < target else "**no**"
                rows.append([label, f"{len(data) / 1e6:.1f}", RUNS, f"{stats['median']:.2f}", f"{stats['max']:.2f}",
                             "" if target is None else f"< {target:.0f}", met])
            db.engine.dispose()

    memory_rows = [memory_row(fmt, megabytes) for fmt in ("json", "xml") for megabytes in (2, 20, 50)]

    body = markdown_table(["shape", "MB", "runs", "median s", "max s", "target s", "met"], rows)
    missed = [row[0] for row in rows if row[-1] == "**no**"]
    body += "\n\nMissed: " + ("; ".join(missed) if missed else "nothing") + "."
    body += ("\n\nLarge SBOMs in a package, through the whole shared inspection (`inspect_package`: the archive "
             "read, the SBOM streamed to a temporary file, the manifest's light SBOM check, the deep parse and schema "
             "gate) under the upload's 30 s budget, each in a fresh process after a small package has loaded the "
             "libraries; memory is the growth of the process's peak RSS during that one inspection:\n\n")
    body += markdown_table(["format", "SBOM MB", "components", "s", "verdict", "peak RSS growth MB", "growth / size"],
                           memory_rows)
    print(body)
    _append_to_report(body)
    return 0


def _append_to_report(body: str) -> None:
    """bench/results/sbom.md holds bench_sbom.py's report; this one is its last section, replaced on each run."""
    import platform
    from datetime import datetime, timezone

    from bench.common import RESULTS

    path = RESULTS / "sbom.md"
    previous = path.read_text() if path.exists() else "# SBOM ingest and vulnerability matching\n"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = (f"{SECTION}\n\n`python bench/bench_sbom_real.py`, measured {stamp} on {platform.machine()}, "
               f"Python {platform.python_version()}.\n\n{body}\n")
    path.write_text(previous.split(SECTION)[0].rstrip() + "\n\n" + section)


SECTION = "## Real shapes: URL-heavy, Maven-like, large"


if __name__ == "__main__":
    sys.exit(main())
