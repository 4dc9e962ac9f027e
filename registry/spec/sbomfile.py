"""The light, manifest-level SBOM check: the file named by ``sbom`` exists, is
CycloneDX (JSON or XML) or SPDX (2.2/2.3 JSON, YAML or tag-value; 3.0 JSON-LD), told
apart by content, not name, and describes this solution. Deep SBOM parsing and schema
validation happen elsewhere (registry.spec.sbom.parser); this stays cheap and bounded."""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, BinaryIO

from registry.spec.files import FileTooLargeError, PackageFileError, PackageFiles, UnsafePathError
from registry.spec.problems import Problem

# The largest SBOM accepted, by `solreg check` and (unless its operator lowers it with
# REGISTRY_SBOM_MAX_MB) by the registry: defined here once, for both.
SBOM_MAX_MB = 50
SBOM_MAX_BYTES = SBOM_MAX_MB * 1024 * 1024
CYCLONEDX_NAMESPACE_PREFIX = "http://cyclonedx.org/schema/bom/"
_PATH = "sbom"
_FORMATS_HINT = ("Provide a CycloneDX SBOM (.cdx.json, .cdx.xml) or an SPDX one (.spdx.json, .spdx.yaml, .spdx; "
                 "SPDX 3.0 as .spdx.jsonld).")
_TAG_VALUE = re.compile(r"^\s*SPDXVersion\s*:", re.MULTILINE)
_YAML = re.compile(r"^spdxVersion\s*:", re.MULTILINE)
_HEAD_BYTES = 4096  # enough to see where a document starts
_CHUNK = 64 * 1024
_SPDX_KEYS = frozenset({"spdxVersion", "@graph", "@context"})
_CYCLONEDX_NAMES = frozenset({"bomFormat", "specVersion", "metadata.component.name", "metadata.component.version"})
_CONTAINER_EVENTS = frozenset({"start_map", "end_map", "start_array", "end_array", "map_key"})


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
    """Check the SBOM at ``path`` against the manifest's ``name`` and ``version``.

    CycloneDX is read as a stream, holding only what it names itself by, whatever its size; SPDX,
    which the deep parse reads whole anyway, is read whole."""
    try:
        stream = files.open(path, max_bytes)
    except UnsafePathError as exc:
        return [_problem("path-outside-package", str(exc), "Use a relative path inside the package.")]
    except FileTooLargeError as exc:
        return [_problem("sbom-too-large", str(exc), "Generate the SBOM for this solution only.")]
    except PackageFileError:
        return [_problem("sbom-missing", f"The SBOM file {path!r} is not in the package.",
                         "Generate a CycloneDX or SPDX SBOM (e.g. with cyclonedx-py, npm sbom or syft) and fix the path.")]
    with stream:
        component = _component(stream, path)
    if isinstance(component, Problem):
        return [component]
    return _compare_component(path, component, name, version)


def _component(stream: BinaryIO, path: str) -> dict[str, Any] | Problem:
    if stream.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
        stream.seek(0)
    body = stream.tell()
    head = stream.read(_HEAD_BYTES)
    start = head.lstrip()[:1]
    stream.seek(body)
    if start == b"{":
        return _json_component(stream)
    if start == b"<":
        return _xml_component(stream)
    data = stream.read()
    text = data.decode("utf-8", errors="replace")
    if _TAG_VALUE.search(text):
        return _tag_value_component(text)
    if _YAML.search(text):
        return _yaml_component(data)
    return _problem("sbom-not-cyclonedx", f"{path} is neither JSON, XML, SPDX YAML nor SPDX tag-value.", _FORMATS_HINT)


def _json_component(stream: BinaryIO) -> dict[str, Any] | Problem:
    import ijson

    start = stream.tell()
    found: dict[str, Any] = {}
    try:
        for prefix, event, value in ijson.parse(stream, use_float=True, buf_size=_CHUNK):
            if not prefix and event == "map_key" and value in _SPDX_KEYS:
                stream.seek(start)
                return _spdx_json_component(stream.read())
            if prefix in _CYCLONEDX_NAMES and event not in _CONTAINER_EVENTS:
                found[prefix] = value
    except ijson.JSONError as exc:
        return _problem("sbom-unreadable", f"The SBOM is not valid JSON: {_first_line(exc)}.", "Regenerate the SBOM.")
    if found.get("bomFormat") != "CycloneDX" or not found.get("specVersion"):
        return _problem("sbom-not-cyclonedx", "The SBOM JSON is neither CycloneDX (needs \"bomFormat\": \"CycloneDX\" "
                        "and \"specVersion\") nor SPDX (\"spdxVersion\", or a JSON-LD \"@graph\").", _FORMATS_HINT)
    return {"name": found.get("metadata.component.name"), "version": found.get("metadata.component.version")}


def _spdx_json_component(data: bytes) -> dict[str, Any] | Problem:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        return _problem("sbom-unreadable", f"The SBOM is not valid JSON: {exc}.", "Regenerate the SBOM.")
    return _spdx2_component(document) if "spdxVersion" in document else _spdx3_component(document)


def _first_line(exc: Exception) -> str:
    message = exc.args[0] if exc.args else exc
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    return str(message).strip().splitlines()[0].rstrip(".") if str(message).strip() else "unreadable"


def _xml_component(stream: BinaryIO) -> dict[str, Any] | Problem:
    """metadata/component's name and version, read in one pass that drops each item of the top-level
    lists (components, dependencies, ...) once it has ended: memory stays flat however long they are."""
    from lxml import etree  # imported lazily: only XML SBOMs need it

    # As the deep parse reads it (registry/spec/sbom/parser.py): no DTD, no entities, no network.
    events = etree.iterparse(stream, events=("end",), load_dtd=False, dtd_validation=False, resolve_entities=False,
                             no_network=True, remove_comments=True, remove_pis=True, huge_tree=False)
    root = metadata = None
    component: dict[str, Any] = {}
    try:
        for _, element in events:
            if root is None:
                root = element.getroottree().getroot()
                if root.getroottree().docinfo.doctype:
                    return _problem("sbom-unreadable", "The SBOM XML uses a DTD or entities, which are not accepted.",
                                    "Regenerate the SBOM.")
                namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
                if root.tag.rsplit("}", 1)[-1] != "bom" or not namespace.startswith(CYCLONEDX_NAMESPACE_PREFIX):
                    return _problem("sbom-not-cyclonedx", "The SBOM XML is not CycloneDX (root must be <bom> in a "
                                    "CycloneDX namespace).", _FORMATS_HINT)
                metadata = f"{{{namespace}}}metadata"
            parent = element.getparent()
            if parent is None:
                break  # the root has ended
            if parent is root:
                if element.tag == metadata and not component:
                    component = _xml_metadata_component(element, namespace)
            elif parent.getparent() is root and parent.tag != metadata:
                parent.remove(element)  # an item of a top-level list, read to its end: no longer needed
    except etree.XMLSyntaxError as exc:
        return _problem("sbom-unreadable", f"The SBOM is not valid (or safe) XML: {exc}.", "Regenerate the SBOM.")
    return component


def _xml_metadata_component(metadata, namespace: str) -> dict[str, Any]:
    ns = {"c": namespace}
    component = metadata.find("c:component", ns)
    if component is None:
        return {}
    return {key: (component.findtext(f"c:{key}", namespaces=ns) or "").strip() or None for key in ("name", "version")}


def _spdx2_component(document: dict) -> dict[str, Any]:
    """The package an SPDX 2 document (JSON or YAML) describes: `documentDescribes` or a DESCRIBES relationship."""
    described = set(document.get("documentDescribes") or [])
    described |= {r.get("relatedSpdxElement") for r in document.get("relationships") or []
                  if isinstance(r, dict) and r.get("relationshipType") == "DESCRIBES"}
    for package in document.get("packages") or []:
        if isinstance(package, dict) and package.get("SPDXID") in described:
            return {"name": package.get("name"), "version": package.get("versionInfo")}
    return {}


def _spdx3_component(document: dict) -> dict[str, Any]:
    """The root package of an SPDX 3.0 JSON-LD document's `software_Sbom`."""
    graph = [e for e in document.get("@graph") or [] if isinstance(e, dict)]
    roots = {root for e in graph if e.get("type") == "software_Sbom" for root in e.get("rootElement") or []
             if isinstance(root, str)}
    for element in graph:
        if element.get("type") == "software_Package" and element.get("spdxId") in roots:
            return {"name": element.get("name"), "version": element.get("software_packageVersion")}
    return {}


def _tag_value_component(text: str) -> dict[str, Any]:
    """The package an SPDX tag-value document describes, read line by line (tag: value)."""
    described: set[str] = set()
    packages: dict[str, dict[str, Any]] = {}
    package: dict[str, Any] | None = None
    for line in text.splitlines():
        tag, _, value = line.partition(":")
        tag, value = tag.strip(), value.strip()
        if tag == "Relationship" and len(parts := value.split()) == 3 and parts[1] == "DESCRIBES":
            described.add(parts[2])
        elif tag == "PackageName":
            package = {"name": value}
        elif package is not None and tag == "SPDXID" and "id" not in package:
            package["id"] = value
            packages[value] = package
        elif package is not None and tag == "PackageVersion":
            package["version"] = value
        elif tag in ("FileName", "SnippetSPDXID"):
            package = None
    return next((packages[ref] for ref in described if ref in packages), {})


def _yaml_component(data: bytes) -> dict[str, Any] | Problem:
    from registry.spec.yamlload import YamlLimits, YamlLoadError, load_yaml_mapping

    try:
        document = load_yaml_mapping(data, YamlLimits(max_bytes=len(data) + 1, max_nodes=len(data) + 1_000),
                                     what="SPDX document").value
    except YamlLoadError as exc:
        return _problem("sbom-unreadable", f"The SBOM is not valid YAML: {exc.message}", "Regenerate the SBOM.")
    return _spdx2_component(document)


def _compare_component(path: str, component: dict[str, Any], name: str | None, version: str | None) -> list[Problem]:
    found_name, found_version = component.get("name"), component.get("version")
    if not found_name or not found_version:
        return [_problem("sbom-component-absent",
                         f"{path} does not name the solution it describes (CycloneDX: metadata.component name and version; "
                         "SPDX: the described package's name and version).",
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
