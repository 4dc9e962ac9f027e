"""SPDX SBOMs (2.2/2.3 JSON, YAML, tag-value; 3.0 JSON-LD) read into the same components as CycloneDX.

The fixtures are real generator output (tests/fixtures/sbom/real/SOURCES.md): `npm sbom` wrote
the same npm project once as SPDX 2.3 JSON and once as CycloneDX 1.5; spdx-tools' `pyspdxtools`
converted the SPDX JSON to tag-value and YAML; pitloom wrote SPDX 3.0.1 JSON-LD.
"""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import select

from registry.db import db
from registry.releases.models import Artifact
from registry.sbom.models import Component
from registry.spec.files import MappingFiles
from registry.spec.sbom.parser import SbomError, parse_sbom
from registry.spec.sbomfile import check_sbom_file
from tests.publishing.packages import build_archive, manifest, package_files
from tests.spec.sbom.realsbom import real

SPDX2 = [("npm-sbom-2.3.spdx.json", "spdx-json"), ("pyspdxtools-2.3.spdx", "spdx-tag-value"),
         ("pyspdxtools-2.3.spdx.yaml", "spdx-yaml")]


def identities(parsed) -> list[tuple]:
    return sorted((c.name, c.version, c.purl, tuple(sorted(c.hashes.items())), tuple(map(str, c.licenses)))
                  for c in parsed.components)


@pytest.mark.parametrize(("fixture", "format_"), SPDX2)
def test_spdx2_reads_as_the_same_components_as_cyclonedx_of_the_same_project(fixture, format_):
    spdx = parse_sbom(real(fixture), filename=fixture)
    cyclonedx = parse_sbom(real("npm-sbom-1.5.cdx.json"))
    assert (spdx.format, spdx.spec_version) == (format_, "SPDX-2.3")
    assert len(spdx.components) == 73
    assert identities(spdx) == identities(cyclonedx)
    # The described package is the solution, not a component (CycloneDX's metadata.component).
    assert (spdx.root_name, spdx.root_version) == ("daegu-parking-gateway", "1.4.0")
    # DEPENDENCY_OF edges become "depends on" edges, as many as CycloneDX's.
    assert len(spdx.dependencies) == len(cyclonedx.dependencies) == 130
    names = {c.bom_ref: c.name for c in spdx.components}
    assert ("SPDXRef-Package-express-4.21.2" in {source for source, _ in spdx.dependencies})
    assert "body-parser" in {names.get(t) for s, t in spdx.dependencies if s == "SPDXRef-Package-express-4.21.2"}


def test_spdx3_jsonld_packages_licences_and_dependencies():
    parsed = parse_sbom(real("pitloom-3.0.spdx.jsonld"))
    assert (parsed.format, parsed.spec_version, parsed.media_type) == ("spdx-jsonld", "3.0.1", "application/ld+json")
    assert (parsed.root_name, parsed.root_version) == ("daegu-parking-gateway", "1.4.0")
    found = {(c.name, c.version, c.purl, tuple(map(str, c.licenses))) for c in parsed.components}
    assert found == {("requests", "2.34.2", "pkg:pypi/requests@2.34.2", ("{'id': 'Apache-2.0'}",)),
                     ("pyyaml", "6.0.4", "pkg:pypi/pyyaml@6.0.4", ("{'id': 'MIT'}",))}
    refs = {c.bom_ref for c in parsed.components}
    assert len(parsed.dependencies) == 2 and {t for _, t in parsed.dependencies} == refs


def spdx2(**package) -> dict:
    base = {"SPDXID": "SPDXRef-Package-a", "name": "a", "versionInfo": "1.0", "downloadLocation": "NOASSERTION"}
    return {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "문서",
            "documentNamespace": "https://example.org/spdx/1",
            "creationInfo": {"created": "2026-01-02T03:04:05.678Z", "creators": ["Tool: 손수"]},
            "packages": [{**base, **package}]}


@pytest.mark.parametrize(("concluded", "declared", "expected"), [
    ("NOASSERTION", "MIT", [{"id": "MIT"}]),
    ("Apache-2.0", "MIT", [{"id": "Apache-2.0"}]),
    ("MIT OR GPL-3.0-only", "NOASSERTION", [{"expression": "MIT OR GPL-3.0-only"}]),
    ("NONE", "NOASSERTION", []),
])
def test_spdx2_licences_concluded_over_declared(concluded, declared, expected):
    document = spdx2(licenseConcluded=concluded, licenseDeclared=declared,
                     externalRefs=[{"referenceCategory": "SECURITY", "referenceType": "cpe23Type",
                                    "referenceLocator": "cpe:2.3:a:x:a:1.0:*:*:*:*:*:*:*"},
                                   {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                    "referenceLocator": "pkg:npm/a@1.0"}],
                     supplier="Organization: 한빛소프트", checksums=[{"algorithm": "SHA256", "checksumValue": "ab" * 32}])
    component, = parse_sbom(json.dumps(document).encode()).components
    assert component.licenses == expected
    assert (component.purl, component.cpe, component.supplier) == ("pkg:npm/a@1.0", "cpe:2.3:a:x:a:1.0:*:*:*:*:*:*:*", "한빛소프트")
    assert component.hashes == {"SHA-256": "ab" * 32}


@pytest.mark.parametrize(("document", "where"), [
    ({**spdx2(), "spdxVersion": "SPDX-2.1"}, "unsupported SPDX version 'SPDX-2.1'"),
    ({k: v for k, v in spdx2().items() if k != "documentNamespace"}, "CreationInfo"),
    (spdx2(SPDXID="Package-a"), "Package-a"),
    (spdx2(licenseDeclared="MIT AND AND"), "MIT AND AND"),
])
def test_malformed_spdx2_is_refused_saying_where(document, where):
    with pytest.raises(SbomError) as refused:
        parse_sbom(json.dumps(document).encode(), filename="sbom.spdx.json")
    assert str(refused.value).startswith("sbom.spdx.json: ") and where in str(refused.value)


@pytest.mark.parametrize(("text", "where"), [
    ("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nPackageName: a\nPackageVersion: 1\n",
     "Package"),
    ("spdxVersion: SPDX-2.3\npackages: [\n", "line"),
])
def test_malformed_tag_value_and_yaml_are_refused_saying_where(text, where):
    with pytest.raises(SbomError) as refused:
        parse_sbom(text.encode(), filename="sbom.spdx")
    assert where in str(refused.value)


@pytest.mark.parametrize(("graph", "where"), [
    ({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}, '"@graph"'),
    ({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
      "@graph": [{"type": "CreationInfo", "specVersion": "3.0.1"}, {"type": "software_Package", "spdxId": "urn:p"}]},
     "package 'urn:p' has no \"name\""),
    ({"@context": "https://example.org/other.jsonld", "@graph": []}, "not SPDX 3.0"),
])
def test_malformed_spdx3_is_refused_saying_where(graph, where):
    with pytest.raises(SbomError) as refused:
        parse_sbom(json.dumps(graph).encode())
    assert where in str(refused.value)


@pytest.mark.parametrize("fixture", [f for f, _ in SPDX2] + ["pitloom-3.0.spdx.jsonld"])
def test_manifest_check_reads_the_described_package_of_every_spdx_format(fixture):
    files = MappingFiles({"sbom": real(fixture)})
    assert check_sbom_file("sbom", files, "daegu-parking-gateway", "1.4.0") == []
    mismatch = check_sbom_file("sbom", files, "parking-share", "1.4.0")
    assert [p.code for p in mismatch] == ["sbom-component-mismatch"]


def spdx_for_parking_share() -> bytes:
    """The real npm SPDX document, its described package renamed to the example solution."""
    document = json.loads(real("npm-sbom-2.3.spdx.json"))
    document["packages"][0].update(name="parking-share", versionInfo="1.2.0")
    document["packages"][1]["licenseDeclared"] = "LicenseRef-internal-only"
    document["hasExtractedLicensingInfos"] = [{"licenseId": "LicenseRef-internal-only", "name": "사내 전용",
                                               "extractedText": "사내에서만 쓸 수 있습니다."}]
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def package_with_spdx(sbom: bytes) -> dict[str, bytes]:
    files = package_files()
    del files["sbom.cdx.json"]
    files["sbom.spdx.json"] = sbom
    files["solution.yaml"] = yaml.safe_dump(manifest(sbom="sbom.spdx.json"), allow_unicode=True).encode()
    return files


def test_upload_with_an_spdx_sbom_stores_its_components_and_serves_it_as_uploaded(client, upload, vendor_token):
    sbom = spdx_for_parking_share()
    response = upload(vendor_token, build_archive(package_with_spdx(sbom)))
    assert response.status_code == 201, response.json
    components = db.session.scalars(select(Component)).all()
    assert len(components) == 73
    verdicts = {c.name: c.license_verdict for c in components}
    assert verdicts["express"] == "allow"  # MIT, by the licence policy
    assert verdicts["accepts"] == "review"  # an unknown LicenseRef: a person must look
    assert {c.ecosystem for c in components} == {"npm"}
    artifact = db.session.scalar(select(Artifact).where(Artifact.kind == "sbom"))
    assert (artifact.media_type, artifact.download_name) == ("application/spdx+json", "parking-share-1.2.0.spdx.json")
    served = client.get("/api/v1/solutions/parking-share/releases/1.2.0/sbom",
                        headers={"Authorization": f"Bearer {vendor_token}"})
    assert served.status_code == 200 and served.data == sbom
    assert served.mimetype == "application/spdx+json"


def test_upload_with_a_malformed_spdx_sbom_is_refused_with_where(upload, vendor_token):
    document = json.loads(spdx_for_parking_share())
    document["packages"][3]["SPDXID"] = "kein-SPDXRef"
    response = upload(vendor_token, build_archive(package_with_spdx(json.dumps(document).encode())))
    assert response.status_code == 422, response.json
    error = response.json["errors"][0]
    assert error["code"] == "invalid-sbom" and "sbom.spdx.json: " in error["detail"] and "kein-SPDXRef" in error["detail"]
    assert db.session.scalars(select(Component)).all() == []
