"""Reading CycloneDX SBOMs (JSON or XML, spec 1.2–1.7) into plain data; SPDX (2.2/2.3 JSON,
YAML, tag-value; 3.0 JSON-LD) is recognised by its content and read by `registry.spec.sbom.spdx`
into the same data.

The document is size-capped, parsed safely (bounded JSON nesting; XML without DTDs,
entities or network), validated against the official schema of its spec version as
cyclonedx-python-lib bundles it (JSON: `registry.spec.sbom.schema`; XML: the library's XSD
validator), and then read our own way from the raw tree, because the library's object
model drops parts we need (VEX analysis, unknown licence names). Elements of other namespaces,
which the XML schema allows as extensions, are skipped. Reading one SBOM has a time budget
(`registry.spec.sbom.budget`): past it, the SBOM is refused with 422 instead of holding the worker.
"""

from __future__ import annotations

import gc
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator

from registry.errors import PayloadTooLarge
from registry.spec.problems import SpecError
from registry.spec.sbom.budget import DEFAULT_TIME_BUDGET_S, spend, time_budget
from registry.spec.sbom.schema import schema_problems
from registry.spec.sbomfile import SBOM_MAX_BYTES

MAX_JSON_DEPTH = 64
SUPPORTED_SPEC_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
_XML_NAMESPACE = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(\d+\.\d+)\}bom$")
_MAX_REPORTED_ERRORS = 20


class SbomError(SpecError):
    """The SBOM cannot be accepted; `path` (also the API error's field) points into the document."""

    code = "invalid-sbom"

    def __init__(self, message: str, *, path: str | None = None, errors: list[dict] | None = None):
        super().__init__(message, field=path, errors=errors)
        self.path = path


@dataclass
class ParsedComponent:
    name: str
    version: str | None = None
    group: str | None = None
    purl: str | None = None
    type: str = "library"
    bom_ref: str | None = None
    # Each entry is {"id": ...}, {"name": ...} or {"expression": ...}, as the SBOM states it.
    licenses: list[dict[str, str]] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    supplier: str | None = None
    parent_ref: str | None = None
    cpe: str | None = None


@dataclass
class VexAnalysis:
    """One `vulnerabilities[]` entry of the SBOM with its analysis (CycloneDX VEX)."""

    id: str
    state: str | None = None
    justification: str | None = None
    detail: str = ""
    affects: list[str] = field(default_factory=list)


# Each format the registry reads, with the media type and file suffix it stores the SBOM under.
MEDIA_TYPES = {
    "json": ("application/vnd.cyclonedx+json", ".cdx.json"),
    "xml": ("application/vnd.cyclonedx+xml", ".cdx.xml"),
    "spdx-json": ("application/spdx+json", ".spdx.json"),
    "spdx-yaml": ("application/spdx+yaml", ".spdx.yaml"),
    "spdx-tag-value": ("text/spdx", ".spdx"),
    "spdx-jsonld": ("application/ld+json", ".spdx.jsonld"),
}


def suffix_for(media_type: str) -> str:
    return next(suffix for type_, suffix in MEDIA_TYPES.values() if type_ == media_type)


@dataclass
class ParsedSbom:
    format: str  # a key of MEDIA_TYPES
    spec_version: str
    root_name: str | None = None
    root_version: str | None = None
    components: list[ParsedComponent] = field(default_factory=list)
    dependencies: list[tuple[str, str]] = field(default_factory=list)
    vulnerabilities: list[VexAnalysis] = field(default_factory=list)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format][0]


def parse_sbom(data: bytes, *, filename: str = "", max_bytes: int = SBOM_MAX_BYTES,
               time_budget_s: float = DEFAULT_TIME_BUDGET_S) -> ParsedSbom:
    """Parse and validate a CycloneDX or SPDX SBOM; raise SbomError or TimeBudgetExceeded (422) or PayloadTooLarge (413)."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the SBOM is {len(data):,} bytes; the limit is {max_bytes:,} bytes", field="sbom")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SbomError(named(filename, f"the SBOM is not UTF-8 text; {EXPECTED}")) from None
    start = text.lstrip()[:1]
    with time_budget(time_budget_s):
        if start == "{":
            return _parse_json(text, filename)
        if start == "<":
            return _parse_xml(data, filename)
        from registry.spec.sbom import spdx

        if spdx.TAG_VALUE_START.search(text):
            return spdx.read_spdx2_text(text, filename, "tag-value")
        if spdx.YAML_START.search(text):
            return spdx.read_spdx2_text(text, filename, "yaml")
    raise SbomError(named(filename, f"the SBOM is neither JSON, XML, SPDX YAML nor SPDX tag-value; {EXPECTED}"))


EXPECTED = ("a CycloneDX SBOM (.cdx.json, .cdx.xml) or an SPDX one (2.2/2.3 as .spdx.json, .spdx.yaml, .spdx; "
            "3.0 as JSON-LD) is expected")


def named(filename: str, message: str) -> str:
    return f"{filename}: {message}" if filename else message


# --- JSON -------------------------------------------------------------------------------------


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a while.

    A 10,000-component SBOM becomes ~200,000 Python containers, and each full collection
    while they are built, validated and read walks all of them again: that was half the
    time of parsing one. Garbage made meanwhile waits for the next collection.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_json(text: str, filename: str) -> ParsedSbom:
    with _collector_paused():
        try:
            document = json.loads(text, parse_constant=_refuse_non_json_number)
        except RecursionError:
            raise SbomError(named(filename, f"the SBOM nests deeper than {MAX_JSON_DEPTH} levels")) from None
        except ValueError as exc:
            raise SbomError(named(filename, f"the SBOM is not valid JSON: {exc}")) from None
        _check_depth(document, filename)
        if isinstance(document, dict) and ("spdxVersion" in document or "@context" in document):
            from registry.spec.sbom import spdx

            if "spdxVersion" in document:
                return spdx.read_spdx2_dict(document, filename)
            if spdx.is_spdx3(document):
                return spdx.read_spdx3(document, filename)
            raise SbomError(named(filename, "a JSON-LD document that is not SPDX 3.0: its \"@context\" must be "
                                            "https://spdx.org/rdf/3.0.<n>/spdx-context.jsonld"), path="$.@context")
        if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
            raise SbomError(named(filename, 'not a CycloneDX SBOM: "bomFormat" must be "CycloneDX"'), path="$.bomFormat")
        spec_version = document.get("specVersion")
        _check_spec_version(spec_version, filename, "$.specVersion")
        _validate_json_schema(document, str(spec_version), filename)
        return _read_json(document, str(spec_version))


def _refuse_non_json_number(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (and so CycloneDX) has no such numbers.
    raise ValueError(f"{name} is not a JSON number")


def _check_depth(document: Any, filename: str) -> None:
    # Iterative so that checking depth can never itself recurse too deeply.
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise SbomError(named(filename, f"the SBOM nests deeper than {MAX_JSON_DEPTH} levels"))
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))


def _check_spec_version(spec_version: Any, filename: str, path: str) -> None:
    if spec_version not in SUPPORTED_SPEC_VERSIONS:
        raise SbomError(named(filename, f"unsupported spec version {spec_version!r}; CycloneDX "
                                         f"{', '.join(SUPPORTED_SPEC_VERSIONS)} are accepted"), path=path)


@lru_cache(maxsize=None)
def _xml_schema(spec_version: str):
    """The library's compiled XSD (lxml XMLSchema) for `spec_version`, built once per process."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.xml import XmlValidator

    # XmlValidator.validate_str parses the text itself and keeps no tree; the tree it validated is the
    # one we read, so the one parse is ours (`_parse_xml`) and only the compiled schema is taken.
    return XmlValidator(SchemaVersion.from_version(spec_version))._validator


def _short(value: str, limit: int = 200) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _validate_json_schema(document: dict, spec_version: str, filename: str) -> None:
    problems = schema_problems(document, spec_version, limit=_MAX_REPORTED_ERRORS)
    if not problems:
        return
    first = problems[0]
    raise SbomError(
        named(filename, f"the SBOM does not match the CycloneDX {spec_version} schema: {first.path}: {_short(first.message)}"),
        path=first.path,
        errors=[{"code": "invalid-sbom", "detail": f"{p.path}: {_short(p.message)}", "field": p.path} for p in problems[1:]],
    )


def _json_licenses(entries: Any) -> list[dict[str, str]]:
    found = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("expression"), str):
            found.append({"expression": entry["expression"]})
        license_ = entry.get("license")
        if isinstance(license_, dict):
            if isinstance(license_.get("id"), str):
                found.append({"id": license_["id"]})
            elif isinstance(license_.get("name"), str):
                found.append({"name": license_["name"]})
    return found


def _json_component(raw: dict, parent_ref: str | None) -> ParsedComponent:
    supplier = raw.get("supplier")
    return ParsedComponent(
        name=str(raw.get("name", "")),
        version=raw.get("version") or None,
        group=raw.get("group") or None,
        purl=raw.get("purl") or None,
        type=raw.get("type") or "library",
        bom_ref=raw.get("bom-ref") or None,
        licenses=_json_licenses(raw.get("licenses")),
        hashes={h["alg"]: h["content"] for h in raw.get("hashes") or [] if isinstance(h, dict) and "alg" in h and "content" in h},
        supplier=supplier.get("name") if isinstance(supplier, dict) else None,
        parent_ref=parent_ref,
        cpe=raw.get("cpe") or None,
    )


def _walk_json_components(top: list) -> Iterator[ParsedComponent]:
    stack: list[tuple[dict, str | None]] = [(c, None) for c in reversed(top)]
    while stack:
        spend()
        raw, parent = stack.pop()
        component = _json_component(raw, parent)
        yield component
        stack.extend((child, component.bom_ref) for child in reversed(raw.get("components") or []))


def _read_json(document: dict, spec_version: str) -> ParsedSbom:
    parsed = ParsedSbom(format="json", spec_version=spec_version)
    root = (document.get("metadata") or {}).get("component")
    if isinstance(root, dict):
        parsed.root_name, parsed.root_version = root.get("name"), root.get("version")
    parsed.components = list(_walk_json_components(document.get("components") or []))
    for dependency in document.get("dependencies") or []:
        parsed.dependencies.extend((dependency["ref"], target) for target in dependency.get("dependsOn") or [])
    for vulnerability in document.get("vulnerabilities") or []:
        analysis = vulnerability.get("analysis") or {}
        parsed.vulnerabilities.append(VexAnalysis(
            id=str(vulnerability.get("id", "")),
            state=analysis.get("state"),
            justification=analysis.get("justification"),
            detail=analysis.get("detail", ""),
            affects=[a["ref"] for a in vulnerability.get("affects") or [] if isinstance(a, dict) and "ref" in a],
        ))
    return parsed


# --- XML --------------------------------------------------------------------------------------


def _parse_xml(data: bytes, filename: str) -> ParsedSbom:
    from lxml import etree

    # Parsed once, by lxml, without DTDs, entity substitution or network; a document that declares a
    # DTD is refused (that is where entity attacks live, and CycloneDX never needs one).
    parser = etree.XMLParser(load_dtd=False, dtd_validation=False, resolve_entities=False, no_network=True,
                             attribute_defaults=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SbomError(named(filename, f"the SBOM is not well-formed XML: {_short(str(exc))}")) from None
    if root.getroottree().docinfo.doctype:
        raise SbomError(named(filename, "the SBOM XML uses a DTD or entities, which are not accepted"))
    match = _XML_NAMESPACE.match(root.tag)
    if not match:
        raise SbomError(named(filename, "not a CycloneDX SBOM: the root must be <bom> in the "
                                         "http://cyclonedx.org/schema/bom/<version> namespace"), path="/bom")
    spec_version = match.group(1)
    _check_spec_version(spec_version, filename, "/bom/@xmlns")
    schema = _xml_schema(spec_version)
    if not schema.validate(root):
        detail = schema.error_log.last_error
        raise SbomError(named(filename, f"the SBOM does not match the CycloneDX {spec_version} schema: "
                                         f"line {detail.line}: {_short(detail.message)}"), path=f"line {detail.line}")
    return _read_xml(root, spec_version)


def _local(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _stripped(element) -> str | None:
    return element.text.strip() if element.text else None


def _xml_text(element, tag: str, ns: str) -> str | None:
    if element is None:
        return None
    child = element.find(f"{{{ns}}}{tag}")
    return _stripped(child) if child is not None else None


def _xml_licenses(licenses_element, ns: str) -> list[dict[str, str]]:
    licenses: list[dict[str, str]] = []
    for entry in licenses_element:
        local = _local(entry)
        if local == "expression" and entry.text:
            licenses.append({"expression": entry.text.strip()})
        elif local == "license":
            if (id_ := _xml_text(entry, "id", ns)) is not None:
                licenses.append({"id": id_})
            elif (name := _xml_text(entry, "name", ns)) is not None:
                licenses.append({"name": name})
    return licenses


_COMPONENT_TEXTS = frozenset({"name", "version", "group", "purl", "cpe"})


def _xml_component(element, ns: str, parent_ref: str | None) -> tuple[ParsedComponent, list]:
    """The component and its nested <component> elements, read in one pass over its children (a
    `find` per field walks them again for each: most of the time of reading a large SBOM)."""
    prefix = f"{{{ns}}}"
    texts: dict[str, str | None] = {}
    licenses: list[dict[str, str]] = []
    hashes: dict[str, str] = {}
    supplier = None
    nested: list = []
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or not tag.startswith(prefix):
            continue  # extension elements of other namespaces
        local = tag[len(prefix):]
        if local in _COMPONENT_TEXTS:
            texts[local] = _stripped(child)
        elif local == "licenses":
            licenses = _xml_licenses(child, ns)
        elif local == "hashes":
            hashes = {h.get("alg", ""): (h.text or "").strip() for h in child.iterfind(f"{prefix}hash")}
        elif local == "supplier":
            supplier = _xml_text(child, "name", ns)
        elif local == "components":
            nested = child.findall(f"{prefix}component")
    component = ParsedComponent(
        name=texts.get("name") or "", version=texts.get("version"), group=texts.get("group"),
        purl=texts.get("purl"), type=element.get("type") or "library", bom_ref=element.get("bom-ref"),
        licenses=licenses, hashes=hashes, supplier=supplier, parent_ref=parent_ref, cpe=texts.get("cpe"))
    return component, nested


def _xml_components(parent, ns: str) -> list:
    """The <component> children of `parent`'s <components>; extension elements of other namespaces are not components."""
    return parent.findall(f"{{{ns}}}components/{{{ns}}}component")


def _read_xml(root, spec_version: str) -> ParsedSbom:
    ns = f"http://cyclonedx.org/schema/bom/{spec_version}"
    parsed = ParsedSbom(format="xml", spec_version=spec_version)
    meta_component = root.find(f"{{{ns}}}metadata/{{{ns}}}component")
    if meta_component is not None:
        parsed.root_name = _xml_text(meta_component, "name", ns)
        parsed.root_version = _xml_text(meta_component, "version", ns)
    stack: list[tuple[Any, str | None]] = [(c, None) for c in reversed(_xml_components(root, ns))]
    while stack:
        spend()
        element, parent = stack.pop()
        component, nested = _xml_component(element, ns, parent)
        parsed.components.append(component)
        stack.extend((child, component.bom_ref) for child in reversed(nested))
    for dependency in root.iterfind(f"{{{ns}}}dependencies/{{{ns}}}dependency"):
        ref = dependency.get("ref", "")
        parsed.dependencies.extend((ref, d.get("ref", "")) for d in dependency.iterfind(f"{{{ns}}}dependency"))
    for vulnerability in root.iterfind(f"{{{ns}}}vulnerabilities/{{{ns}}}vulnerability"):
        analysis = vulnerability.find(f"{{{ns}}}analysis")
        parsed.vulnerabilities.append(VexAnalysis(
            id=_xml_text(vulnerability, "id", ns) or "",
            state=_xml_text(analysis, "state", ns),
            justification=_xml_text(analysis, "justification", ns),
            detail=_xml_text(analysis, "detail", ns) or "",
            affects=[t.text.strip() for t in vulnerability.iterfind(f"{{{ns}}}affects/{{{ns}}}target/{{{ns}}}ref") if t.text],
        ))
    return parsed
