"""Reading SPDX SBOMs into the same `ParsedSbom` that CycloneDX ones become.

- SPDX 2.2 and 2.3, as JSON, YAML or tag-value, are parsed by `spdx-tools` (the SPDX
  project's own Python library), which also checks the document's structure.
- SPDX 3.0 JSON-LD: `spdx-tools` 0.8 has no 3.0 parser (its `spdx3` package only writes a
  prototype), so `read_spdx3` maps the documented compact `@graph` shape itself: each
  `software_Package` element becomes a component, `hasConcludedLicense`/`hasDeclaredLicense`
  relationships give its licences and `dependsOn` relationships the dependency edges.

What the registry keeps of a package: name, version, purl (the `purl` external reference, or
3.0's `software_packageUrl`), CPE, licences (concluded, else declared; NOASSERTION and NONE
leave none to judge: a person must look), supplier, checksums under CycloneDX's algorithm names, and the
dependency edges. NOASSERTION as concluded licence falls back to the declared one; NONE does not.
The package(s) the document describes are the solution itself, not
components, as `metadata.component` is in CycloneDX.
"""

from __future__ import annotations

import re
from typing import Any

from registry.spec.sbom.budget import spend
from registry.spec.sbom.parser import ParsedComponent, ParsedSbom, SbomError, named

SPDX2_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
SPDX3_CONTEXT = re.compile(r"^https://spdx\.org/rdf/3\.0\.\d+/spdx-context\.jsonld$")
TAG_VALUE_START = re.compile(r"^\s*SPDXVersion\s*:", re.MULTILINE)
YAML_START = re.compile(r"^spdxVersion\s*:", re.MULTILINE)
# spdx-tools reads timestamps as exactly YYYY-MM-DDThh:mm:ssZ, as SPDX 2 writes them; real
# generators (npm sbom) add milliseconds, which SPDX 2.3's JSON schema allows.
_FRACTIONAL_SECONDS = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z")
_MAX_REPORTED_ERRORS = 20


def _cyclonedx_algorithm(name: str) -> str:
    """SPDX's checksum algorithm name as CycloneDX spells it: SHA256 → SHA-256, SHA3_256 → SHA3-256."""
    name = name.upper().replace("_", "-")
    if re.fullmatch(r"SHA\d+", name):
        return f"SHA-{name[3:]}"
    return name.replace("BLAKE2B", "BLAKE2b")


def _licence_entry(expression: str | None) -> list[dict[str, str]]:
    if not expression or expression in ("NOASSERTION", "NONE"):
        return []
    return [{"id": expression}] if re.fullmatch(r"[A-Za-z0-9.+-]+", expression) else [{"expression": expression}]


# --- SPDX 2 (spdx-tools) ----------------------------------------------------------------------


def read_spdx2_text(text: str, filename: str, syntax: str) -> ParsedSbom:
    """Parse SPDX 2 tag-value (`syntax` "tag-value") or YAML ("yaml") text."""
    text = _FRACTIONAL_SECONDS.sub(r"\1Z", text)
    if syntax == "yaml":
        from registry.spec.yamlload import YamlLimits, YamlLoadError, load_yaml_mapping

        # Sized for an SBOM, not a manifest: the size cap was applied before; nodes scale with it.
        limits = YamlLimits(max_bytes=len(text.encode()) + 1, max_nodes=len(text) + 1_000)
        try:
            document = load_yaml_mapping(text, limits, what="SPDX document").value
        except YamlLoadError as exc:
            where = f" (line {exc.line})" if exc.line else ""
            raise SbomError(named(filename, f"the SPDX YAML cannot be read{where}: {exc.message}"),
                            path=f"line {exc.line}" if exc.line else None) from None
        return read_spdx2_dict(document, filename, syntax="yaml")
    return _read_document(lambda: _tag_value_parser().parse(text), filename, "tag-value")


def _tag_value_parser() -> Any:
    from ply import yacc
    from spdx_tools.common.spdx_licensing import spdx_licensing
    from spdx_tools.spdx.parser.tagvalue import parser

    # spdx-tools 0.8's tag-value parser builds the whole SPDX licence index anew for every
    # licence it reads (50 ms each: 4 s for 74 packages); its JSON parser shares one, so does this.
    parser.get_spdx_licensing = lambda: spdx_licensing
    # No parse tables written into site-packages, no grammar report on stderr.
    return parser.Parser(write_tables=False, debug=False, errorlog=yacc.NullLogger())


def read_spdx2_dict(document: dict, filename: str, *, syntax: str = "json") -> ParsedSbom:
    """Map an SPDX 2 JSON (or YAML) document, already loaded, into a ParsedSbom."""
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser

    version = document.get("spdxVersion")
    if version not in SPDX2_VERSIONS:
        raise SbomError(named(filename, f"unsupported SPDX version {version!r}; SPDX-2.2 and SPDX-2.3 (and 3.0 as "
                                        "JSON-LD) are accepted"), path="$.spdxVersion")
    created = (document.get("creationInfo") or {}).get("created") if isinstance(document.get("creationInfo"), dict) else None
    if isinstance(created, str):
        document["creationInfo"]["created"] = _FRACTIONAL_SECONDS.sub(r"\1Z", created)
    return _read_document(lambda: JsonLikeDictParser().parse(document), filename, syntax)


def _read_document(parse, filename: str, syntax: str) -> ParsedSbom:
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    try:
        document = parse()
    except SPDXParsingError as exc:
        raise _refusal(filename, "the SPDX document cannot be parsed", exc.get_messages()) from None
    problems = [m.validation_message for m in validate_full_spdx_document(document)]
    if problems:
        raise _refusal(filename, f"the SPDX document does not follow {document.creation_info.spdx_version}", problems)
    return _from_document(document, syntax)


def _refusal(filename: str, what: str, messages: list[str]) -> SbomError:
    messages = [" ".join(str(m).split()) for m in messages] or ["no reason given"]
    first, rest = messages[0], messages[1:_MAX_REPORTED_ERRORS]
    return SbomError(named(filename, f"{what}: {_short(first)}"),
                     errors=[{"code": "invalid-sbom", "detail": _short(m), "field": None} for m in rest])


def _short(value: str, limit: int = 300) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _from_document(document: Any, syntax: str) -> ParsedSbom:
    from spdx_tools.spdx.model import RelationshipType

    described = {r.related_spdx_element_id for r in document.relationships
                 if r.relationship_type == RelationshipType.DESCRIBES and r.spdx_element_id == document.creation_info.spdx_id}
    described |= {r.spdx_element_id for r in document.relationships if r.relationship_type == RelationshipType.DESCRIBED_BY}
    parsed = ParsedSbom(format=f"spdx-{syntax}", spec_version=document.creation_info.spdx_version)
    for package in document.packages:
        spend()
        if package.spdx_id in described:
            if parsed.root_name is None:
                parsed.root_name, parsed.root_version = package.name, package.version
            continue
        refs = {(ref.reference_type, ref.locator) for ref in package.external_references}
        licence = _spdx2_licence(package.license_concluded)
        if licence in (None, "NOASSERTION"):
            licence = _spdx2_licence(package.license_declared)
        parsed.components.append(ParsedComponent(
            name=package.name,
            version=package.version or None,
            purl=next((locator for kind, locator in sorted(refs) if kind == "purl"), None),
            cpe=next((locator for kind, locator in sorted(refs) if kind in ("cpe23Type", "cpe22Type")), None),
            bom_ref=package.spdx_id,
            licenses=_licence_entry(licence),
            hashes={_cyclonedx_algorithm(c.algorithm.name): c.value for c in package.checksums},
            supplier=getattr(package.supplier, "name", None),
        ))
    for relationship in document.relationships:
        kind, source, target = relationship.relationship_type, relationship.spdx_element_id, relationship.related_spdx_element_id
        if not isinstance(target, str):
            continue  # NONE or NOASSERTION: no edge
        if kind == RelationshipType.DEPENDS_ON:
            parsed.dependencies.append((source, target))
        elif kind == RelationshipType.DEPENDENCY_OF:
            parsed.dependencies.append((target, source))
    return parsed


def _spdx2_licence(value: Any) -> str | None:
    # A LicenseExpression, or SpdxNoAssertion/SpdxNone (whose str() is NOASSERTION/NONE), or None.
    return str(value) if value is not None else None


# --- SPDX 3.0 JSON-LD -------------------------------------------------------------------------


def is_spdx3(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and SPDX3_CONTEXT.match(c) for c in contexts)


def read_spdx3(document: dict, filename: str) -> ParsedSbom:
    """Map SPDX 3.0 JSON-LD (compact form, `@graph` of elements) into a ParsedSbom."""
    graph = document.get("@graph")
    if not isinstance(graph, list):
        raise SbomError(named(filename, 'the SPDX 3.0 document has no "@graph" list of elements'), path="$.@graph")
    elements: dict[str, dict] = {}
    for index, element in enumerate(graph):
        spend()
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            raise SbomError(named(filename, f'element {index} of "@graph" is not an object with a "type"'),
                            path=f"$.@graph[{index}]")
        identifier = element.get("spdxId") or element.get("@id")
        if isinstance(identifier, str):
            elements[identifier] = element
    version = _spdx3_version(graph, filename)
    roots = {root for e in graph if e["type"] == "software_Sbom" for root in _strings(e.get("rootElement"))}
    licences: dict[str, dict[str, str]] = {}
    parsed = ParsedSbom(format="spdx-jsonld", spec_version=version)
    for index, element in enumerate(graph):
        if element["type"] != "Relationship":
            continue
        source, kind = element.get("from"), element.get("relationshipType")
        if not isinstance(source, str) or not isinstance(kind, str):
            raise SbomError(named(filename, f'relationship {element.get("spdxId", index)!r} has no "from" or '
                                            '"relationshipType"'), path=f"$.@graph[{index}]")
        for target in _strings(element.get("to")):
            if kind == "dependsOn":
                parsed.dependencies.append((source, target))
            elif kind in ("hasConcludedLicense", "hasDeclaredLicense"):
                entry = _spdx3_licence(target, elements)
                # Concluded wins over declared, as in SPDX 2.
                if entry and (kind == "hasConcludedLicense" or source not in licences):
                    licences[source] = entry
    for index, element in enumerate(graph):
        if element["type"] != "software_Package":
            continue
        spend()
        name = element.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SbomError(named(filename, f'package {element.get("spdxId", index)!r} has no "name"'),
                            path=f"$.@graph[{index}].name")
        identifier, version_ = element.get("spdxId"), element.get("software_packageVersion")
        if identifier in roots:
            if parsed.root_name is None:
                parsed.root_name, parsed.root_version = name, version_
            continue
        identifiers = {i.get("externalIdentifierType"): i.get("identifier")
                       for i in element.get("externalIdentifier") or [] if isinstance(i, dict)}
        supplier = elements.get(element.get("suppliedBy") or "", {}).get("name")
        parsed.components.append(ParsedComponent(
            name=name,
            version=version_ if isinstance(version_, str) else None,
            purl=element.get("software_packageUrl") or identifiers.get("packageUrl"),
            cpe=identifiers.get("cpe23") or identifiers.get("cpe22"),
            bom_ref=identifier,
            licenses=[licences[identifier]] if identifier in licences else [],
            hashes={_cyclonedx_algorithm(h["algorithm"]): h["hashValue"] for h in element.get("verifiedUsing") or []
                    if isinstance(h, dict) and h.get("type") == "Hash" and "algorithm" in h and "hashValue" in h},
            supplier=supplier if isinstance(supplier, str) else None,
        ))
    return parsed


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str)]


def _spdx3_version(graph: list[dict], filename: str) -> str:
    for element in graph:
        if element["type"] == "CreationInfo" and isinstance(element.get("specVersion"), str):
            return element["specVersion"]
    raise SbomError(named(filename, 'the SPDX 3.0 document has no CreationInfo element with a "specVersion"'),
                    path="$.@graph")


def _spdx3_licence(target: str, elements: dict[str, dict]) -> dict[str, str] | None:
    element = elements.get(target)
    if element is None:
        # Listed licences are referred to by their IRI and need not be in the graph.
        listed = re.fullmatch(r"https://spdx\.org/licenses/([A-Za-z0-9.+-]+)", target)
        return {"id": listed.group(1)} if listed else None
    expression = element.get("simplelicensing_licenseExpression")
    if isinstance(expression, str):
        entries = _licence_entry(expression)
        return entries[0] if entries else None
    if element.get("type") in ("expandedlicensing_ListedLicense", "expandedlicensing_CustomLicense"):
        name = element.get("name") or target.rsplit("/", 1)[-1]
        return {"id": name} if element["type"] == "expandedlicensing_ListedLicense" else {"name": name}
    return None  # NoAssertionLicense, NoneLicense: no licence to judge
