"""The SBOM fixtures (tests/fixtures/sbom; real generator output under real/), and larger SBOMs made from them."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

SBOMS = Path(__file__).resolve().parents[2] / "fixtures" / "sbom"
REAL = SBOMS / "real"


def real(name: str) -> bytes:
    data = (REAL / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def multiplied(name: str, copies: int, *, root: tuple[str, str] | None = None) -> bytes:
    """A JSON fixture with its components `copies` times over (each copy's bom-refs made unique),
    described as the solution `root` (name, version) if given: a large SBOM of the real shape."""
    document = json.loads(real(name))
    originals = document["components"]
    document["components"] = []
    for number in range(copies):
        for component in copy.deepcopy(originals):
            _renamed(component, f"-copy{number}")
            document["components"].append(component)
    document["dependencies"] = []
    if root is not None:
        document["metadata"]["component"].update(name=root[0], version=root[1])
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _renamed(component: dict, suffix: str) -> None:
    if "bom-ref" in component:
        component["bom-ref"] += suffix
    for child in component.get("components") or []:
        _renamed(child, suffix)
