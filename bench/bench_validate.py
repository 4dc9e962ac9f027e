"""Benchmark: ``validate_directory`` end to end on a realistic package.

Builds (in a temporary directory) the full example manifest with a helm chart,
a compose file, Kubernetes manifests and a 5,000-component CycloneDX JSON SBOM,
validates it several times and prints/writes a markdown table.

    python bench/bench_validate.py [--runs 10]

Target: < 1 s per validation.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from registry.spec import validate_directory

ROOT = Path(__file__).resolve().parents[1]
FULL_EXAMPLE = ROOT / "tests" / "fixtures" / "manifests" / "full-example.yaml"
RESULTS = Path(__file__).resolve().parent / "results" / "validate.md"
TARGET_SECONDS = 1.0
COMPONENTS = 5_000


def build_package(root: Path) -> int:
    """Write the package; return the SBOM size in bytes."""
    manifest = FULL_EXAMPLE.read_text(encoding="utf-8").replace(
        "    - {kind: compose, path: deploy/compose.yaml}",
        "    - {kind: compose, path: deploy/compose.yaml}\n    - {kind: kubernetes, path: deploy/k8s}",
    )
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "parking-share", "version": "1.2.0"}},
        "components": [
            {
                "type": "library",
                "bom-ref": f"pkg:npm/component-{i}@1.{i % 50}.{i % 7}",
                "name": f"component-{i}",
                "version": f"1.{i % 50}.{i % 7}",
                "purl": f"pkg:npm/component-{i}@1.{i % 50}.{i % 7}",
                "licenses": [{"license": {"id": "MIT"}}],
                "hashes": [{"alg": "SHA-256", "content": f"{i:064x}"}],
            }
            for i in range(COMPONENTS)
        ],
    }
    sbom_bytes = json.dumps(sbom).encode()
    files = {
        "solution.yaml": manifest.encode(),
        "deploy/helm/parking-share/Chart.yaml": b"apiVersion: v2\nname: parking-share\nversion: 1.2.0\n",
        "deploy/helm/parking-share/values.yaml": b"replicaCount: 2\nimage: {repository: parking-share, tag: 1.2.0}\n",
        "deploy/compose.yaml": b"services:\n  app: {image: parking-share:1.2.0}\n  db: {image: postgres:16}\n",
        "deploy/k8s/app.yaml": b"".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: config-{i}}}\ndata: {{key: value}}\n".encode() for i in range(50)
        ),
        "sbom.cdx.json": sbom_bytes,
    }
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return len(sbom_bytes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        package = Path(tmp) / "parking-share"
        sbom_size = build_package(package)
        first = time.perf_counter()
        report = validate_directory(package)  # first run also loads the catalogue and SPDX data
        first = time.perf_counter() - first
        if not report.ok:
            for problem in report.problems:
                print(problem)
            raise SystemExit("the benchmark package should be valid")
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            validate_directory(package)
            timings.append(time.perf_counter() - started)
    table = "\n".join([
        "| case | runs | min (ms) | median (ms) | max (ms) | target |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| first run (cold caches) | 1 | {first * 1000:.1f} | {first * 1000:.1f} | {first * 1000:.1f} | < {TARGET_SECONDS * 1000:.0f} |",
        f"| warm | {args.runs} | {min(timings) * 1000:.1f} | {statistics.median(timings) * 1000:.1f} | {max(timings) * 1000:.1f} | < {TARGET_SECONDS * 1000:.0f} |",
    ])
    text = (
        "# validate_directory benchmark\n\n"
        f"Package: full example manifest, helm chart, compose file, 50 Kubernetes objects, "
        f"CycloneDX JSON SBOM with {COMPONENTS:,} components ({sbom_size / 1e6:.1f} MB).\n"
        f"Python {platform.python_version()} on {platform.machine()}.\n\n{table}\n"
    )
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    return 0 if max([first, *timings]) < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
