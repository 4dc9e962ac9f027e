"""The shared package inspection on SBOMs larger than the archive reader keeps in memory (1 MiB)."""

from __future__ import annotations

import io

import pytest
import yaml

from registry.spec.limits import Limits
from registry.spec.package import inspect_package
from tests.publishing.packages import build_archive, package_files
from tests.spec.inspection_memory import measure
from tests.spec.sbom.realsbom import multiplied, xml_multiplied

ROOT = ("parking-share", "1.2.0")


def package_with(name: str, sbom: bytes) -> bytes:
    files = package_files(*ROOT)
    del files["sbom.cdx.json"]
    manifest = yaml.safe_load(files.pop("solution.yaml"))
    manifest["sbom"] = name
    files.update({"solution.yaml": yaml.safe_dump(manifest, allow_unicode=True).encode(), name: sbom})
    return build_archive(files)


def sbom_of(fmt: str, copies: int) -> bytes:
    if fmt == "json":
        return multiplied("cyclonedx-npm-1.7.cdx.json.gz", copies, root=ROOT)
    return xml_multiplied("cyclonedx-npm-1.7.cdx.xml.gz", copies, root=ROOT)


def test_a_large_sbom_is_parsed_from_its_spool_and_kept_for_storing():
    sbom = sbom_of("json", 3)  # 2 MB: more than the reader keeps in memory
    inspected = inspect_package(io.BytesIO(package_with("sbom.cdx.json", sbom)), Limits())
    assert len(inspected.sbom.components) == 3 * 482 and inspected.sbom.root_name == "parking-share"
    first = inspected.sbom_file
    first.seek(0)
    assert first.read(10) == sbom[:10]
    first.close()  # a reader closing its view leaves the spooled SBOM to the next one
    again = inspected.files.open("sbom.cdx.json", Limits().sbom_max_bytes)
    assert again.read() == sbom


@pytest.mark.parametrize(("fmt", "bound"), [("json", 2), ("xml", 3)])
def test_memory_stays_flat_as_the_sbom_grows(tmp_path, fmt, bound):
    # Reading the whole tree (before the SBOM was streamed) grew the process by 10-13x the SBOM's size.
    small, large = tmp_path / "small.tar.gz", tmp_path / "large.tar.gz"
    small.write_bytes(package_with(f"sbom.cdx.{fmt}", sbom_of(fmt, 1)))
    sbom = sbom_of(fmt, 12)  # about 8 MB
    large.write_bytes(package_with(f"sbom.cdx.{fmt}", sbom))
    inspection = measure(small, large)
    assert inspection.components == 12 * 482
    assert inspection.growth < bound * len(sbom), f"RSS grew by {inspection.growth:,} bytes for a {len(sbom):,}-byte SBOM"
