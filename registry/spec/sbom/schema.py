"""CycloneDX JSON schema validation: a compiled gate that is fast, and jsonschema for the words.

Both validators are built from the same schema objects, the strict CycloneDX schemas that
cyclonedx-python-lib bundles (with the SPDX licence list, JSF and cryptography definitions
they reference), and use the same format checks: jsonschema's Draft 7 `FORMAT_CHECKER`, except
for `iri` and `iri-reference`, whose stock check (an Earley parser, ~40 ms per URL) is replaced
by the compiled RFC 3987 patterns of `registry.spec.sbom.formats`. Every format check, and every
object the reporting validator visits, spends from the SBOM's time budget (`registry.spec.sbom.budget`).

- `fast_validator(spec)`: the schema compiled to Python code by fastjsonschema, once per spec
  version and process. It validates every part of every document and stops at the first
  problem. References resolve only to the bundled files, never over the network.
- `reporting_validator(spec)`: jsonschema's validator, which is slow on large documents but
  names every problem with its JSON path. It runs only after the gate has rejected a document.

`schema_problems(document, spec)` combines them. `tests/sbom/test_schema.py` checks that the
two agree on every SBOM fixture and on a set of deliberately broken documents.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Callable, Iterator

from registry.spec.sbom.budget import TimeBudgetExceeded, spend
from registry.spec.sbom.formats import FAST_FORMATS

# Keywords whose values are data, not subschemas: their contents are never rewritten.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples"})
# Keywords whose values map names to subschemas.
_SUBSCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "dependencies"})
# The `$`s that fastjsonschema rewrites to "\Z" in patterns; see _for_fastjsonschema.
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
# What Python's `$` means without re.MULTILINE: the end, or just before a newline at the end.
_PYTHON_END_OF_STRING = r"(?=\n?\Z)"


@dataclass(frozen=True)
class SchemaProblem:
    path: str  # JSON path into the document, e.g. "$.components[3].purl"
    message: str


def schema_problems(document: Any, spec_version: str, *, limit: int = 20) -> list[SchemaProblem]:
    """The document's schema problems (at most `limit`), sorted by path; empty when it is valid."""
    from fastjsonschema import JsonSchemaValueException

    try:
        fast_validator(spec_version)(document)
    except JsonSchemaValueException as rejection:
        problems = []
        try:
            for error in reporting_validator(spec_version).iter_errors(document):
                problems.append(SchemaProblem(error.json_path, error.message))
                if len(problems) >= limit:
                    break
        except TimeBudgetExceeded:
            pass  # the document is rejected anyway: with the problems found so far, or the gate's
        if not problems:
            # The two validators are meant to agree (and are tested to). Should they ever
            # not, the document stays rejected, with the gate's own, plainer message.
            problems.append(_gate_problem(rejection.message))
        return sorted(problems, key=lambda p: p.path)
    return []


def top_level_arrays(spec_version: str) -> frozenset[str]:
    """The document's top-level properties that the schema of `spec_version` defines as arrays whose
    items are one definition each (components, dependencies, vulnerabilities, ...): what a streaming
    reader may check a batch of items at a time with `batch_problems` instead of holding the whole array."""
    properties = _library_validator(spec_version).schema.get("properties", {})
    return frozenset(key for key, rule in properties.items()
                     if rule.get("type") == "array" and set(rule.get("items", {})) == {"$ref"})


def _holder(spec_version: str) -> dict[str, Any]:
    # The smallest document valid in every supported version: every problem of a held item is the item's.
    return {"bomFormat": "CycloneDX", "specVersion": spec_version, "version": 1}


def batch_problems(key: str, offset: int, items: list[Any], spec_version: str, *, limit: int = 20) -> list[SchemaProblem]:
    """The schema problems of `items`, items `offset`, `offset + 1`, ... of the top-level array `key`
    (one of `top_level_arrays`), as they would be reported in the whole document: paths such as
    "$.components[3].purl".

    The items are checked by the same two validators as a whole document (the same compiled schema,
    the same references and format checks), held alone in the smallest valid document; the
    `uniqueItems` of the array across batches is the caller's to check, by `item_identity`.
    """
    held = {**_holder(spec_version), key: items}
    problems = schema_problems(held, spec_version, limit=limit)
    if not offset:
        return problems
    inside = re.compile(rf"^\$\.{re.escape(key)}\[(\d+)\]")
    return [SchemaProblem(inside.sub(lambda m: f"$.{key}[{int(m.group(1)) + offset}]", p.path), p.message)
            for p in problems]


def item_identity(item: Any) -> int:
    """A fingerprint of an array item under JSON Schema equality (`uniqueItems`): equal items have
    equal fingerprints, and unequal ones practically never do."""
    return hash(_identity(item))


def non_unique_problem(key: str, item: Any) -> SchemaProblem:
    """The problem `uniqueItems` reports for the array `key` in which `item` appears twice."""
    return SchemaProblem(f"$.{key}", f"has non-unique elements: {_short(json.dumps(item), 120)}")


def _gate_problem(message: str) -> SchemaProblem:
    # The gate names the value in its message only: "data.components[3].purl must be string".
    where, _, what = message.partition(" must ")
    if not what or not where.startswith("data"):
        return SchemaProblem("$", message)
    return SchemaProblem("$" + where[len("data"):], "must " + what)


# --- the reporting validator (jsonschema) -----------------------------------------------------


def _identity(value: Any) -> Any:
    """A hashable stand-in for a JSON value; two are equal exactly when JSON Schema calls the
    values equal (1 == 1.0, but true != 1; objects regardless of key order)."""
    if isinstance(value, dict):
        return frozenset((key, _identity(item)) for key, item in value.items())
    if isinstance(value, list):
        return tuple(_identity(item) for item in value)
    if isinstance(value, bool):
        return (bool, value)
    return value


def _unique_items(validator, unique, instance, schema) -> Iterator[Any]:
    """`uniqueItems` in linear time: jsonschema compares every pair, minutes for 10,000 components."""
    from jsonschema.exceptions import ValidationError

    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for item in instance:
        key = _identity(item)
        if key in seen:
            yield ValidationError(f"has non-unique elements: {_short(json.dumps(item), 120)}")
            return
        seen.add(key)


_ENUM_SETS: dict[int, tuple[list, frozenset]] = {}


def _enum(validator, enums, instance, schema) -> Iterator[Any]:
    """`enum` by set lookup for strings: the licence-id enum has ~800 SPDX ids, checked for every component."""
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError

    if not isinstance(instance, str):
        yield from Draft7Validator.VALIDATORS["enum"](validator, enums, instance, schema)
        return
    cached = _ENUM_SETS.get(id(enums))
    if cached is None or cached[0] is not enums:
        cached = _ENUM_SETS[id(enums)] = (enums, frozenset(e for e in enums if isinstance(e, str)))
    if instance not in cached[1]:
        yield ValidationError(f"{_short(repr(instance), 120)} is not one of the allowed values")


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


@lru_cache(maxsize=None)
def _library_validator(spec_version: str):
    """cyclonedx-python-lib's strict Draft 7 validator: its schema, referenced files and format checker."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.from_version(spec_version))._validator


@lru_cache(maxsize=None)
def reporting_validator(spec_version: str):
    """The library's validator with linear-time `uniqueItems` and `enum`; same verdicts, readable errors."""
    from jsonschema.validators import extend
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    library = _library_validator(spec_version)
    reporting = extend(type(library), {"uniqueItems": _unique_items, "enum": _enum, "properties": _properties})
    # jsonschema picks the stock validator class for a referenced document that names its
    # "$schema" (the SPDX licence list does); without it, referenced parts use ours too.
    registry = Registry().with_resources(
        (uri, DRAFT7.create_resource({k: v for k, v in library._registry[uri].contents.items() if k != "$schema"}))
        for uri in library._registry
    )
    return reporting(library.schema, registry=registry, format_checker=_format_checker())


def _properties(validator, properties, instance, schema) -> Iterator[Any]:
    """jsonschema's `properties`, spending from the time budget once per object visited."""
    from jsonschema import Draft7Validator

    spend()
    yield from Draft7Validator.VALIDATORS["properties"](validator, properties, instance, schema)


@lru_cache(maxsize=None)
def _format_checker():
    """Draft 7's format checker with the fast checks of `registry.spec.sbom.formats`."""
    from jsonschema import Draft7Validator, FormatChecker

    checker = FormatChecker(formats=())
    checker.checkers = {**Draft7Validator.FORMAT_CHECKER.checkers, **{name: (check, ()) for name, check in FAST_FORMATS.items()}}
    return checker


# --- the fast validator (fastjsonschema) ------------------------------------------------------


def _for_fastjsonschema(schema: Any, string_sets: dict[str, Callable[[str], bool]]) -> Any:
    """A copy of `schema` spelled so that fastjsonschema validates it exactly as jsonschema does, quickly.

    - `$` in a `pattern`: fastjsonschema turns it into `\\Z` (end of string only); jsonschema
      uses Python's `$`, which also matches before one trailing newline. Writing that meaning
      out keeps the gate exactly as strict as the library, no more and no less.
    - `const: x` becomes `enum: [x]`, its definition: fastjsonschema (2.22) cannot compile
      `const` without detailed exceptions, which would inline each failing subschema into the
      generated code (several MB of code and ~50 MB of memory per spec version).
    - An enum of strings (on a string, without a format of its own) becomes a custom format
      that looks the value up in a set, added to `string_sets`: fastjsonschema otherwise
      compares with each value in turn, ~800 times for the SPDX licence id of every component.
    """
    if isinstance(schema, list):
        return [_for_fastjsonschema(item, string_sets) for item in schema]
    if not isinstance(schema, dict):
        return schema
    rewritten: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "pattern" and isinstance(value, str):
            rewritten[key] = _UNESCAPED_DOLLAR.sub(lambda _: _PYTHON_END_OF_STRING, value)
        elif key in _DATA_KEYWORDS:
            rewritten[key] = copy.deepcopy(value)
        elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            # Their keys are names, not keywords: a property may well be called "pattern".
            rewritten[key] = {name: _for_fastjsonschema(sub, string_sets) for name, sub in value.items()}
        else:
            rewritten[key] = _for_fastjsonschema(value, string_sets)
    if "const" in rewritten and "enum" not in rewritten:
        rewritten["enum"] = [rewritten.pop("const")]
    enum = rewritten.get("enum")
    if (isinstance(enum, list) and all(isinstance(item, str) for item in enum)
            and rewritten.get("type", "string") == "string" and "format" not in rewritten and "$ref" not in rewritten):
        name = f"one of {len(enum)} allowed values (set {len(string_sets)})"
        string_sets[name] = frozenset(enum).__contains__
        del rewritten["enum"]
        rewritten.update(type="string", format=name)
    return rewritten


def _format_checks() -> dict[str, Callable[[str], bool]]:
    """The reporting validator's check for every format either library knows, so the gate checks
    formats exactly as it does (fastjsonschema's own regexes differ, e.g. for iri-reference).
    A format jsonschema cannot check here (its optional package missing) passes in both."""
    from fastjsonschema.draft07 import CodeGeneratorDraft07

    checker = _format_checker()
    names = set(checker.checkers) | set(CodeGeneratorDraft07.FORMAT_REGEXS) | {"regex"}
    return {name: partial(_conforms, checker, name) for name in sorted(names)}


def _conforms(checker, format_name: str, value: str) -> bool:
    spend()
    return checker.conforms(value, format_name)


@lru_cache(maxsize=None)
def fast_validator(spec_version: str) -> Callable[[Any], Any]:
    """The strict CycloneDX schema of `spec_version` compiled to Python; raises
    fastjsonschema.JsonSchemaValueException at the first problem. Compiled once per process."""
    import fastjsonschema

    library = _library_validator(spec_version)
    formats = _format_checks()
    schema = _for_fastjsonschema(library.schema, formats)
    bundled = {uri: _for_fastjsonschema(library._registry[uri].contents, formats) for uri in library._registry}

    def load(uri: str) -> Any:
        if uri not in bundled:
            # Never fetched: the validator is built from the bundled files only.
            raise LookupError(f"the CycloneDX {spec_version} schema refers to {uri!r}, which is not bundled")
        return bundled[uri]

    return fastjsonschema.compile(
        schema,
        handlers={"http": load, "https": load},
        formats=formats,
        use_default=False,  # validate only: never write schema defaults into the document
        detailed_exceptions=False,  # a rejection only needs to be known; the reporting validator explains it
    )
