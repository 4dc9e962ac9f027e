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

import codecs
import gc
import io
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, BinaryIO, Iterator, NoReturn

from registry.errors import PayloadTooLarge
from registry.spec.problems import SpecError
from registry.spec.sbom.budget import DEFAULT_TIME_BUDGET_S, spend, time_budget
from registry.spec.sbom.schema import (
    SchemaProblem,
    batch_problems,
    item_identity,
    non_unique_problem,
    schema_problems,
    top_level_arrays,
)
from registry.spec.sbomfile import SBOM_MAX_BYTES

MAX_JSON_DEPTH = 64
SUPPORTED_SPEC_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
_XML_NAMESPACE = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(\d+\.\d+)\}bom$")
_MAX_REPORTED_ERRORS = 20
_CHUNK = 64 * 1024  # bytes read from the SBOM at a time


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


def parse_sbom(source: bytes | BinaryIO, *, filename: str = "", max_bytes: int = SBOM_MAX_BYTES,
               time_budget_s: float = DEFAULT_TIME_BUDGET_S) -> ParsedSbom:
    """Parse and validate a CycloneDX or SPDX SBOM; raise SbomError or TimeBudgetExceeded (422) or PayloadTooLarge (413).

    `source` is the SBOM's bytes or a seekable binary file (read from its current position, left open),
    e.g. the SBOM's member streamed out of a package. CycloneDX is read as a stream, one item of its
    large arrays at a time; SPDX is read whole (see the module's docstring).
    """
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    start = stream.tell()
    size = stream.seek(0, io.SEEK_END) - start
    if size > max_bytes:
        raise PayloadTooLarge(f"the SBOM is {size:,} bytes; the limit is {max_bytes:,} bytes", field="sbom")
    stream.seek(start)
    if stream.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
        stream.seek(start)  # no UTF-8 byte order mark to step over
    body = stream.tell()
    first = _first_byte(stream)
    stream.seek(body)
    with time_budget(time_budget_s):
        if first == b"{":
            parsed = _parse_json(stream, filename)
            if parsed is None:  # it names itself SPDX
                stream.seek(body)
                return _parse_spdx_json(_text(stream.read(), filename), filename)
            return parsed
        if first == b"<":
            return _parse_xml(stream, filename)
        from registry.spec.sbom import spdx

        text = _text(stream.read(), filename)
        if spdx.TAG_VALUE_START.search(text):
            return spdx.read_spdx2_text(text, filename, "tag-value")
        if spdx.YAML_START.search(text):
            return spdx.read_spdx2_text(text, filename, "yaml")
    raise SbomError(named(filename, f"the SBOM is neither JSON, XML, SPDX YAML nor SPDX tag-value; {EXPECTED}"))


def _first_byte(stream: BinaryIO) -> bytes:
    """The first byte after any leading whitespace (empty at the end)."""
    while chunk := stream.read(_CHUNK):
        if stripped := chunk.lstrip():
            return stripped[:1]
    return b""


def _text(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SbomError(named(filename, f"the SBOM is not UTF-8 text; {EXPECTED}")) from None


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


def _parse_spdx_json(text: str, filename: str) -> ParsedSbom:
    """An SPDX JSON document (2.x, or 3.0 JSON-LD), read whole: spdx-tools takes whole documents."""
    with _collector_paused():
        try:
            document = json.loads(text, parse_constant=_refuse_non_json_number)
        except RecursionError:
            raise SbomError(named(filename, f"the SBOM nests deeper than {MAX_JSON_DEPTH} levels")) from None
        except ValueError as exc:
            raise SbomError(named(filename, f"the SBOM is not valid JSON: {exc}")) from None
        _check_depth(document, filename)
        from registry.spec.sbom import spdx

        if "spdxVersion" in document:
            return spdx.read_spdx2_dict(document, filename)
        if spdx.is_spdx3(document):
            return spdx.read_spdx3(document, filename)
        raise SbomError(named(filename, "a JSON-LD document that is not SPDX 3.0: its \"@context\" must be "
                                        "https://spdx.org/rdf/3.0.<n>/spdx-context.jsonld"), path="$.@context")


_SPDX_KEYS = frozenset({"spdxVersion", "@context"})
# The top-level arrays read one item at a time (those of `top_level_arrays` in some version); the
# others, and everything else, are small and are held until the end (the "skeleton").
_STREAMED_ARRAYS = frozenset({"components", "services", "dependencies", "vulnerabilities", "compositions",
                              "annotations", "formulation", "citations"})
_JSON_BATCH = 256  # items of a streamed array checked against the schema at once


def _parse_json(stream: BinaryIO, filename: str) -> ParsedSbom | None:
    """A CycloneDX JSON document, streamed in two steps; None if it names itself SPDX (`spdxVersion`,
    `@context`), to be read as SPDX instead.

    1. One pass over its parse events (`_Skeleton`): the document must be JSON, nest no deeper than
       MAX_JSON_DEPTH and repeat no key in an object; everything but the streamed arrays is built.
    2. One pass per streamed array the spec version defines, its items built by ijson's C code:
       checked against the schema a batch at a time (held alone in a minimal document, `batch_problems`),
       read into the result and dropped. The skeleton, those arrays left empty, is checked last.
    """
    import ijson

    start = stream.tell()
    with _collector_paused():
        try:
            read = _Skeleton(filename).read(ijson.basic_parse(stream, use_float=True, buf_size=_CHUNK))
        except ijson.JSONError as exc:
            raise SbomError(named(filename, f"the SBOM is not valid JSON: {_json_error(exc)}")) from None
        if read is None:
            return None
        skeleton, arrays = read
        if skeleton.get("bomFormat") != "CycloneDX":
            raise SbomError(named(filename, 'not a CycloneDX SBOM: "bomFormat" must be "CycloneDX"'), path="$.bomFormat")
        spec_version = skeleton.get("specVersion")
        _check_spec_version(spec_version, filename, "$.specVersion")
        spec_version = str(spec_version)
        parsed = ParsedSbom(format="json", spec_version=spec_version)
        problems: list[SchemaProblem] = []
        for key in (key for key in arrays if key in top_level_arrays(spec_version)):
            stream.seek(start)
            _read_array(key, ijson.items(stream, f"{key}.item", use_float=True, buf_size=_CHUNK), spec_version,
                        problems, parsed)
        problems += schema_problems(skeleton, spec_version, limit=_MAX_REPORTED_ERRORS)
        if problems:
            _refuse(sorted(problems, key=lambda p: p.path)[:_MAX_REPORTED_ERRORS], spec_version, filename)
        root = (skeleton.get("metadata") or {}).get("component")
        if isinstance(root, dict):
            parsed.root_name, parsed.root_version = root.get("name"), root.get("version")
        return parsed


def _read_array(key: str, items: Iterator[Any], spec_version: str, problems: list[SchemaProblem],
                parsed: ParsedSbom) -> None:
    """Check the items of the top-level array `key` a batch at a time, and read them while the
    document has no problem; the array's `uniqueItems` is checked across batches by fingerprint."""
    seen: set[int] = set()
    offset = 0
    for batch in _batches(items, _JSON_BATCH):
        if len(problems) < _MAX_REPORTED_ERRORS:
            problems += batch_problems(key, offset, batch, spec_version, limit=_MAX_REPORTED_ERRORS)
            for item in batch:
                identity = item_identity(item)
                if identity in seen and not any(p.path == f"$.{key}" for p in problems):
                    problems.append(non_unique_problem(key, item))
                seen.add(identity)
        if not problems:
            for item in batch:
                _read_item(key, item, parsed)
        offset += len(batch)


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        spend()
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _read_item(key: str, item: Any, parsed: ParsedSbom) -> None:
    if key == "components":
        parsed.components.extend(_walk_json_components([item]))
    elif key == "dependencies":
        parsed.dependencies.extend((item["ref"], target) for target in item.get("dependsOn") or [])
    elif key == "vulnerabilities":
        analysis = item.get("analysis") or {}
        parsed.vulnerabilities.append(VexAnalysis(
            id=str(item.get("id", "")),
            state=analysis.get("state"),
            justification=analysis.get("justification"),
            detail=analysis.get("detail", ""),
            affects=[a["ref"] for a in item.get("affects") or [] if isinstance(a, dict) and "ref" in a],
        ))


def _json_error(exc: Exception) -> str:
    """yajl's message, on one line: what went wrong and the text it went wrong at."""
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    lines = [line.strip() for line in str(message).splitlines() if line.strip() and "(right here)" not in line]
    what = lines[0].rstrip(".") if lines else "unreadable"
    return _short(f"{what}, at {lines[1]!r}" if len(lines) > 1 else what)


class _Skeleton:
    """One pass over the parse events of a JSON document (`read`): what every part of it must be
    (no nesting deeper than MAX_JSON_DEPTH, no key twice in one object), and the document built
    without the streamed arrays, which are left empty and named in the order they come; None as soon
    as a top-level key names it SPDX."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def read(self, events: Iterator[tuple[str, Any]]) -> tuple[dict, list[str]] | None:
        skeleton: dict[str, Any] = {}
        arrays: list[str] = []
        event, _ = next(events)  # "start_map": the document starts with "{"
        for event, key in events:
            if event == "end_map":
                break
            if key in _SPDX_KEYS:
                return None
            if key in skeleton:
                raise SbomError(named(self.filename, f"the SBOM repeats the key {_short(key, 60)!r} at its top level"),
                                path=f"$.{_short(key, 60)}")
            event, value = next(events)
            streamed = event == "start_array" and key in _STREAMED_ARRAYS
            skeleton[key] = self._value(event, value, events, f"$.{_short(key, 60)}", keep=not streamed)
            if streamed:
                skeleton[key] = []
                arrays.append(key)
        for _ in events:  # to the end: trailing garbage is refused by the parser
            pass
        return skeleton, arrays

    def _value(self, event: str, value: Any, events: Iterator[tuple[str, Any]], where: str, *, keep: bool) -> Any:
        """The top-level value that starts with (event, value), built from the events if `keep` (else
        only checked). Iterative, so that no nesting can recurse too deeply."""
        if event == "start_map":
            built: Any = {}
        elif event == "start_array":
            built = []
        else:
            return value
        # One entry per open container: (the value being built or None, the keys seen if it is an object).
        stack: list[tuple[Any, set | None]] = [(built if keep else None, set() if event == "start_map" else None)]
        key = None
        for event, value in events:
            if event == "map_key":
                keys = stack[-1][1]
                if value in keys:
                    raise SbomError(named(self.filename, f"the SBOM repeats the key {_short(value, 60)!r} in one "
                                                         f"object (in {where})"), path=where)
                keys.add(value)
                key = value
                continue
            if event == "end_map" or event == "end_array":
                stack.pop()
                if not stack:
                    return built
                continue
            opens = event == "start_map" or event == "start_array"
            if keep:
                child: Any = ({} if event == "start_map" else []) if opens else value
                top = stack[-1][0]
                if type(top) is dict:
                    top[key] = child
                else:
                    top.append(child)
            if opens:
                stack.append((child if keep else None, set() if event == "start_map" else None))
                if len(stack) + 1 > MAX_JSON_DEPTH:  # the document itself is the first level
                    raise SbomError(named(self.filename, f"the SBOM nests deeper than {MAX_JSON_DEPTH} levels"))
        return built  # the events ended early: the parser raises for that


def _refuse(problems: list[SchemaProblem], spec_version: str, filename: str) -> NoReturn:
    first = problems[0]
    raise SbomError(
        named(filename, f"the SBOM does not match the CycloneDX {spec_version} schema: {first.path}: {_short(first.message)}"),
        path=first.path,
        errors=[{"code": "invalid-sbom", "detail": f"{p.path}: {_short(p.message)}", "field": p.path} for p in problems[1:]],
    )


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


# --- XML --------------------------------------------------------------------------------------


# The top-level containers whose children are streamed: each child is read, checked against the XSD
# in a batch of its kind (held in a <bom> of their own) and dropped; the rest of the document (the
# skeleton) is checked at the end.
_XML_STREAMED = {"components": "component", "services": "service", "dependencies": "dependency",
                 "vulnerabilities": "vulnerability"}
_XML_BATCH_NODES = 20_000  # elements checked against the XSD at once


def _parse_xml(stream: BinaryIO, filename: str) -> ParsedSbom:
    from lxml import etree

    # Read once, by lxml, as a stream, without DTDs, entity substitution or network; a document that
    # declares a DTD is refused (that is where entity attacks live, and CycloneDX never needs one).
    events = etree.iterparse(stream, events=("start", "end"), load_dtd=False, dtd_validation=False,
                             resolve_entities=False, no_network=True, attribute_defaults=False,
                             remove_comments=True, remove_pis=True, huge_tree=False)
    reader: _XmlStream | None = None
    try:
        for event, element in events:
            if reader is None:
                reader = _XmlStream(element, filename)
            elif event == "start":
                reader.depth += 1
            else:
                reader.end(element)
    except etree.XMLSyntaxError as exc:
        raise SbomError(named(filename, f"the SBOM is not well-formed XML: {_short(str(exc))}")) from None
    if reader is None:
        raise SbomError(named(filename, "the SBOM is not well-formed XML: it has no root element"))
    return reader.finish()


class _XmlStream:
    """The `end` events of a CycloneDX XML document, from its root's `start` on. The children of the
    streamed containers are read into `parsed` (while the document has no problem), gathered into
    a batch and checked against the XSD a batch at a time, then dropped; the first schema problem
    is kept and reported at the end, so that a document that is not well-formed is called that."""

    def __init__(self, root, filename: str) -> None:
        if root.getroottree().docinfo.doctype:
            raise SbomError(named(filename, "the SBOM XML uses a DTD or entities, which are not accepted"))
        match = _XML_NAMESPACE.match(root.tag)
        if not match:
            raise SbomError(named(filename, "not a CycloneDX SBOM: the root must be <bom> in the "
                                             "http://cyclonedx.org/schema/bom/<version> namespace"), path="/bom")
        self.spec_version = match.group(1)
        _check_spec_version(self.spec_version, filename, "/bom/@xmlns")
        self.root, self.filename = root, filename
        self.ns = f"http://cyclonedx.org/schema/bom/{self.spec_version}"
        self.schema = _xml_schema(self.spec_version)
        self.depth = 1  # of the element whose end comes next
        self.streamed = {f"{{{self.ns}}}{container}": f"{{{self.ns}}}{child}" for container, child in _XML_STREAMED.items()}
        self.parsed = ParsedSbom(format="xml", spec_version=self.spec_version)
        self.problem: SbomError | None = None
        self.bom_refs: set[str] = set()  # the XSD's unique `bom-ref`, across batches
        self.batch = None  # (container tag, its copy in the batch's <bom>)
        self.batch_nodes = 0

    def end(self, element) -> None:
        depth, self.depth = self.depth, self.depth - 1
        if depth != 3:
            return
        container = element.getparent()
        child_tag = self.streamed.get(container.tag)
        if child_tag is None or container.getparent() is not self.root:
            return
        spend()
        if element.tag == child_tag:
            if self.batch is not None and (self.batch[0] != container.tag or self.batch_nodes >= _XML_BATCH_NODES):
                self._check_batch()
            if self.problem is None:
                self._read(element)
        elif self.batch is None or self.batch[0] != container.tag:
            return  # an extension element before any child: it stays, and is checked, where it is
        if self.batch is None:
            bom = self.root.makeelement(self.root.tag, nsmap=self.root.nsmap)
            box = bom.makeelement(container.tag)
            bom.append(box)
            self.batch, self.batch_nodes = (container.tag, box), 0
        self.batch_nodes += self._unique_refs(element)
        self.batch[1].append(element)  # moved out of the document: it is dropped with the batch

    def _read(self, element) -> None:
        local = _local(element)
        if local == "component":
            stack: list[tuple[Any, str | None]] = [(element, None)]
            while stack:
                spend()
                current, parent = stack.pop()
                component, nested = _xml_component(current, self.ns, parent)
                self.parsed.components.append(component)
                stack.extend((child, component.bom_ref) for child in reversed(nested))
        elif local == "dependency":
            ref = element.get("ref", "")
            self.parsed.dependencies.extend((ref, d.get("ref", "")) for d in element.iterfind(f"{{{self.ns}}}dependency"))
        elif local == "vulnerability":
            self.parsed.vulnerabilities.append(_xml_vulnerability(element, self.ns))

    def _unique_refs(self, element) -> int:
        """Check the `bom-ref`s under `element` against all seen before; the number of elements there."""
        count = 0
        for node in element.iter():
            count += 1
            ref = node.get("bom-ref")
            if ref is None:
                continue
            if ref in self.bom_refs:
                self._fail(node.sourceline, f"Element '{node.tag}': Duplicate key-sequence [{ref!r}] in unique "
                                            "identity-constraint 'bom-ref'.")
            self.bom_refs.add(ref)
        return count

    def _check_batch(self) -> None:
        bom = self.batch[1].getparent()
        self.batch = None
        if self.problem is None and not self.schema.validate(bom):
            detail = self.schema.error_log.last_error
            self._fail(detail.line, detail.message)

    def _fail(self, line: int | None, message: str) -> None:
        if self.problem is None:
            self.problem = SbomError(named(self.filename, f"the SBOM does not match the CycloneDX {self.spec_version} "
                                                          f"schema: line {line}: {_short(message)}"), path=f"line {line}")

    def finish(self) -> ParsedSbom:
        if self.batch is not None:
            self._check_batch()
        self._unique_refs(self.root)  # what is left of the document
        if self.problem is None and not self.schema.validate(self.root):
            detail = self.schema.error_log.last_error
            self._fail(detail.line, detail.message)
        if self.problem is not None:
            raise self.problem
        parsed, ns = self.parsed, self.ns
        meta_component = self.root.find(f"{{{ns}}}metadata/{{{ns}}}component")
        if meta_component is not None:
            parsed.root_name = _xml_text(meta_component, "name", ns)
            parsed.root_version = _xml_text(meta_component, "version", ns)
        return parsed
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


def _xml_vulnerability(vulnerability, ns: str) -> VexAnalysis:
    analysis = vulnerability.find(f"{{{ns}}}analysis")
    return VexAnalysis(
        id=_xml_text(vulnerability, "id", ns) or "",
        state=_xml_text(analysis, "state", ns),
        justification=_xml_text(analysis, "justification", ns),
        detail=_xml_text(analysis, "detail", ns) or "",
        affects=[t.text.strip() for t in vulnerability.iterfind(f"{{{ns}}}affects/{{{ns}}}target/{{{ns}}}ref") if t.text],
    )
