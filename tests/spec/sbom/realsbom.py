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


def xml_multiplied(name: str, copies: int, *, root: tuple[str, str] | None = None) -> bytes:
    """An XML fixture with its top-level components `copies` times over (bom-refs made unique, the
    dependency graph left out), described as `root` (name, version) if given."""
    from lxml import etree

    document = etree.fromstring(real(name))
    ns = {"c": etree.QName(document).namespace}
    components = document.find("c:components", ns)
    originals = list(components)
    for child in originals:
        components.remove(child)
    for number in range(copies):
        for original in originals:
            component = copy.deepcopy(original)
            for node in component.iter():
                if node.get("bom-ref") is not None:
                    node.set("bom-ref", node.get("bom-ref") + f"-copy{number}")
            components.append(component)
    dependencies = document.find("c:dependencies", ns)
    if dependencies is not None:
        document.remove(dependencies)
    if root is not None:
        component = document.find("c:metadata/c:component", ns)
        component.find("c:name", ns).text, component.find("c:version", ns).text = root
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")
