"""Helpers shared by the registry.spec tests: fixture paths and a valid solution
package for the full example, which tests break one file at a time."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MANIFESTS = FIXTURES / "manifests"
INVALID = MANIFESTS / "invalid"
FULL_EXAMPLE = MANIFESTS / "full-example.yaml"
TEST_CATALOGUE = FIXTURES / "catalogue" / "entity_types.json"

CHART = "apiVersion: v2\nname: parking-share\nversion: 1.2.0\nappVersion: \"1.2.0\"\nkubeVersion: \">=1.25.0-0\"\n"
COMPOSE = (
    "services:\n"
    "  app:\n    image: registry.example.org/cheonan/parking-share:1.2.0\n    ports: [\"8080:8080\"]\n"
    "  db:\n    image: postgres:16\n"
)
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
)


def cyclonedx_json(name: str = "parking-share", version: str = "1.2.0", components: int = 2) -> bytes:
    return json.dumps({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": name, "version": version}},
        "components": [
            {"type": "library", "name": f"lib{i}", "version": f"1.0.{i}", "purl": f"pkg:pypi/lib{i}@1.0.{i}"}
            for i in range(components)
        ],
    }).encode()


def baseline_files() -> dict[str, bytes]:
    """The package files referenced by full-example.yaml, all valid."""
    return {
        "solution.yaml": FULL_EXAMPLE.read_bytes(),
        "deploy/helm/parking-share/Chart.yaml": CHART.encode(),
        "deploy/helm/parking-share/values.yaml": b"replicaCount: 2\n",
        "deploy/helm/parking-share/templates/deployment.yaml": DEPLOYMENT.encode(),
        "deploy/compose.yaml": COMPOSE.encode(),
        "sbom.cdx.json": cyclonedx_json(),
    }


def write_package(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root
