"""Real packages built from sample_solutions/, with files changed, added or removed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.publishing.packages import build_archive

SAMPLES = Path(__file__).resolve().parents[2] / "sample_solutions"
SKIP = ("__pycache__", ".pytest_cache")


def sample_files(sample: str = "parking-share") -> dict[str, bytes]:
    base = SAMPLES / sample
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*"))
            if p.is_file() and not any(part in SKIP for part in p.parts) and p.suffix != ".sqlite3"}


def sample_package(version: str, sample: str = "parking-share", *, remove: tuple[str, ...] = (),
                   files: dict[str, bytes] | None = None) -> bytes:
    """The sample at `version` (in solution.yaml and the SBOM), minus `remove`, plus `files`."""
    contents = sample_files(sample)
    manifest = contents["solution.yaml"].decode()
    old_version = next(line for line in manifest.splitlines() if line.startswith("version:")).split(":", 1)[1].strip()
    contents["solution.yaml"] = manifest.replace(f"version: {old_version}\n", f"version: {version}\n", 1).encode()
    sbom = json.loads(contents["sbom.cdx.json"])
    sbom["metadata"]["component"]["version"] = version
    contents["sbom.cdx.json"] = json.dumps(sbom, indent=1).encode()
    for path in remove:
        del contents[path]
    contents.update(files or {})
    return build_archive(contents, root=f"{sample}-{version}")
