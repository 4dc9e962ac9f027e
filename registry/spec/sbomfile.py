"""The light, manifest-level SBOM check: the file named by ``sbom`` exists, is
CycloneDX (JSON or XML) and describes this solution. Deep SBOM parsing and
schema validation happen elsewhere; this stays cheap and bounded."""

from __future__ import annotations

import json
from typing import Any

from registry.spec.files import FileTooLargeError, PackageFileError, PackageFiles, UnsafePathError
from registry.spec.problems import Problem

# The largest SBOM accepted, by `solreg check` and (unless its operator lowers it with
# REGISTRY_SBOM_MAX_MB) by the registry: defined here once, for both.
SBOM_MAX_MB = 50
SBOM_MAX_BYTES = SBOM_MAX_MB * 1024 * 1024
CYCLONEDX_NAMESPACE_PREFIX = "http://cyclonedx.org/schema/bom/"
_PATH = "sbom"


def _problem(code: str, message: str, hint: str, severity: str = "error") -> Problem:
    return Problem(severity, code, _PATH, message, hint)  # type: ignore[arg-type]


def check_sbom_file(
    path: str,
    files: PackageFiles,
    name: str | None,
    version: str | None,
    *,
    max_bytes: int = SBOM_MAX_BYTES,
) -> list[Problem]:
    """Check the SBOM at ``path`` against the manifest's ``name`` and ``version``."""
    try:
        data = files.read(path, max_bytes)
    except UnsafePathError as exc:
        return [_problem("path-outside-package", str(exc), "Use a relative path inside the package.")]
    except FileTooLargeError as exc:
        return [_problem("sbom-too-large", str(exc), "Generate the SBOM for this solution only.")]
    except PackageFileError:
        return [_problem("sbom-missing", f"The SBOM file {path!r} is not in the package.",
                         "Generate a CycloneDX SBOM (e.g. with cyclonedx-py or syft) and fix the path.")]
    start = data.lstrip()[:1]
    if start == b"{":
        component = _json_component(data)
    elif start == b"<":
        component = _xml_component(data)
    else:
        return [_problem("sbom-not-cyclonedx", f"{path} is neither JSON nor XML.",
                         "Provide a CycloneDX SBOM in JSON (.cdx.json) or XML (.cdx.xml).")]
    if isinstance(component, Problem):
        return [component]
    return _compare_component(path, component, name, version)


def _json_component(data: bytes) -> dict[str, Any] | Problem:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        return _problem("sbom-unreadable", f"The SBOM is not valid JSON: {exc}.", "Regenerate the SBOM.")
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX" or not document.get("specVersion"):
        return _problem("sbom-not-cyclonedx", "The SBOM JSON is not CycloneDX (needs \"bomFormat\": \"CycloneDX\" and \"specVersion\").",
                        "SPDX and other formats are not accepted; generate a CycloneDX SBOM.")
    metadata = document.get("metadata")
    component = metadata.get("component") if isinstance(metadata, dict) else None
    return component if isinstance(component, dict) else {}


def _xml_component(data: bytes) -> dict[str, Any] | Problem:
    from defusedxml import ElementTree  # imported lazily: only XML SBOMs need it
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(data)
    except (DefusedXmlException, ElementTree.ParseError) as exc:
        return _problem("sbom-unreadable", f"The SBOM is not valid (or safe) XML: {exc}.", "Regenerate the SBOM.")
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if root.tag.rsplit("}", 1)[-1] != "bom" or not namespace.startswith(CYCLONEDX_NAMESPACE_PREFIX):
        return _problem("sbom-not-cyclonedx", "The SBOM XML is not CycloneDX (root must be <bom> in a CycloneDX namespace).",
                        "SPDX and other formats are not accepted; generate a CycloneDX SBOM.")
    ns = {"c": namespace}
    component = root.find("c:metadata/c:component", ns)
    if component is None:
        return {}
    return {key: (component.findtext(f"c:{key}", namespaces=ns) or "").strip() or None for key in ("name", "version")}


def _compare_component(path: str, component: dict[str, Any], name: str | None, version: str | None) -> list[Problem]:
    found_name, found_version = component.get("name"), component.get("version")
    if not found_name or not found_version:
        return [_problem("sbom-component-absent",
                         f"{path} does not name the solution it describes (metadata.component name and version).",
                         f"Set metadata.component to name {name!r}, version {version!r}.", "warning")]
    problems: list[Problem] = []
    if name is not None and found_name != name:
        problems.append(_problem("sbom-component-mismatch",
                                 f"The SBOM describes {found_name!r}, but the manifest name is {name!r}.",
                                 "Regenerate the SBOM for this solution or fix metadata.component.name."))
    if version is not None and str(found_version) != version:
        problems.append(_problem("sbom-component-mismatch",
                                 f"The SBOM describes version {found_version!r}, but the manifest version is {version!r}.",
                                 "Regenerate the SBOM for this release."))
    return problems
