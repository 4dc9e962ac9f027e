"""Build real solution packages (.tar.gz) for upload tests, from the full example manifest."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import yaml

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "manifests" / "full-example.yaml"

CHART = "apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"{version}\"\n"
COMPOSE = "services:\n  app:\n    image: registry.example/{name}:{version}\n    ports: ['8080:8080']\n"


def sbom(name: str, version: str, components: list[tuple[str, str, str]] | None = None) -> bytes:
    components = components or [("requests", "2.31.0", "Apache-2.0"), ("flask", "3.0.3", "BSD-3-Clause")]
    doc = {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "metadata": {"component": {"type": "application", "name": name, "version": version, "bom-ref": "root"}},
        "components": [{"type": "library", "name": n, "version": v, "bom-ref": f"pkg:pypi/{n}@{v}",
                        "purl": f"pkg:pypi/{n}@{v}", "licenses": [{"license": {"id": lic}}]} for n, v, lic in components],
        "dependencies": [{"ref": "root", "dependsOn": [f"pkg:pypi/{n}@{v}" for n, v, _ in components]}],
    }
    return json.dumps(doc, indent=1).encode()


def manifest(name: str = "parking-share", version: str = "1.2.0", **changes) -> dict:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["name"], data["version"] = name, version
    data.pop("dependsOn", None)  # the example depends on a solution the tests do not publish
    data.update(changes)
    return data


def package_files(name: str = "parking-share", version: str = "1.2.0", **changes) -> dict[str, bytes]:
    doc = manifest(name, version, **changes)
    return {
        "solution.yaml": yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode(),
        "README.md": f"# {name}\n\n주차 공유 솔루션입니다.\n".encode(),
        "deploy/helm/parking-share/Chart.yaml": CHART.format(name="parking-share", version=version).encode(),
        "deploy/compose.yaml": COMPOSE.format(name=name, version=version).encode(),
        "sbom.cdx.json": sbom(name, version),
    }


def build_archive(files: dict[str, bytes], root: str = "parking-share-1.2.0") -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            info = tarfile.TarInfo(f"{root}/{path}")
            info.size = len(files[path])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(files[path]))
    return gzip.compress(raw.getvalue(), mtime=0)


def archive(name: str = "parking-share", version: str = "1.2.0", **changes) -> bytes:
    return build_archive(package_files(name, version, **changes), root=f"{name}-{version}")
