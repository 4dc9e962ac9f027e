"""Data-hub profiles and fit: can this city's NGSI-LD data hub run that solution?

A profile is what a municipality's data hub carries: its NGSI-LD spec version and, per
entity type, the attributes (with their NGSI-LD attribute types when known) and the
operations the hub allows (read, write, subscribe, temporal). It is stored in the
canonical form

    {"type": "OffStreetParking", "typeUri": "https://…/OffStreetParking" | None,
     "attributes": [{"name": "availableSpotNumber", "types": ["Property"]}],
     "access": ["read", "write", "subscribe"]}

and read from what brokers answer (see `parse_profile_document` and docs/catalog.md).
A solution fits when every entity type it declares is present (compared by expanded URI
where both sides give one, else by short name), every *required* attribute is present
with a compatible attribute type, every access mode it needs is allowed, and the hub's
spec version satisfies the solution's `dataHub.specVersion` range.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from registry.catalog.models import DataHubProfile, SearchDocument
from registry.db import db
from registry.errors import InvalidInput
from registry.spec.ranges import RangeError, parse_range
from registry.spec.vocabulary import ACCESS_MODES, ATTRIBUTE_TYPES

DEFAULT_ACCESS = ("read", "write", "subscribe")
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_TYPES = 2000
MAX_ATTRIBUTES = 500
_SPEC_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")


# --- reading profiles -------------------------------------------------------------------------

def short_name(name: str) -> str:
    """The term of an expanded URI (https://…/dataModel.Parking/OffStreetParking -> OffStreetParking)."""
    return re.split(r"[/#:]", name.rstrip("/#"))[-1] if _is_uri(name) else name


def _is_uri(text: str) -> bool:
    has_scheme = bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", text or ""))
    return has_scheme and not text.startswith("urn:ngsi-ld:EntityTypeList")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be non-empty text, not {json.dumps(value, ensure_ascii=False)[:60]}",
                           field="document")
    return value.strip()


def _entity(name: str, uri: str | None, attributes: list[dict], access: list[str]) -> dict:
    type_uri = uri if uri and _is_uri(uri) else (name if _is_uri(name) else None)
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(f"{name} lists more than {MAX_ATTRIBUTES} attributes", field="document")
    merged: dict[str, list[str]] = {}
    for attribute in attributes:
        types = merged.setdefault(attribute["name"], [])
        types += [t for t in attribute["types"] if t not in types]
    return {"type": short_name(name), "typeUri": type_uri,
            "attributes": [{"name": n, "types": t} for n, t in merged.items()], "access": list(access)}


def _attribute_types(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    return [v for v in (short_name(str(x)) for x in values) if v in ATTRIBUTE_TYPES]


def _from_item(item: Any, access: list[str]) -> dict:
    """One entry of a type list: EntityType, EntityTypeInfo, a data model, a canonical entry or a bare name."""
    if isinstance(item, str):
        return _entity(_text(item, "an entity type name"), None, [], access)
    if not isinstance(item, dict):
        raise InvalidInput("entity types must be JSON objects or names", field="document")
    kind = item.get("type")
    if kind == "EntityType":
        names = item.get("attributeNames") or []
        if not isinstance(names, list):
            raise InvalidInput("EntityType.attributeNames must be a list", field="document")
        attributes = [{"name": short_name(_text(n, "an attribute name")), "types": []} for n in names]
        return _entity(_text(item.get("typeName") or item.get("id"), "EntityType.typeName"), item.get("id"),
                       attributes, access)
    if kind == "EntityTypeInfo":
        details = item.get("attributeDetails") or []
        if not isinstance(details, list):
            raise InvalidInput("EntityTypeInfo.attributeDetails must be a list", field="document")
        attributes = [{"name": short_name(_text(d.get("attributeName") or d.get("id"),
                                                "attributeDetails[].attributeName")),
                       "types": _attribute_types(d.get("attributeTypes"))} for d in details if isinstance(d, dict)]
        return _entity(_text(item.get("typeName") or item.get("id"), "EntityTypeInfo.typeName"), item.get("id"),
                       attributes, access)
    if isinstance(kind, str) and kind.strip():
        # A Korean City Data Hub data model, or an entry in this registry's own profile form.
        raw = item.get("attributes") or []
        if not isinstance(raw, list):
            raise InvalidInput(f"attributes of {kind} must be a list", field="document")
        attributes = []
        for attribute in raw:
            if isinstance(attribute, str):
                attributes.append({"name": attribute, "types": []})
            elif isinstance(attribute, dict):
                attributes.append({"name": _text(attribute.get("name"), f"an attribute name of {kind}"),
                                   "types": _attribute_types(attribute.get("attributeType") or attribute.get("types"))})
        own_access = item.get("access")
        if own_access is not None:
            own_access = _access(own_access)
        return _entity(kind, item.get("typeUri"), attributes, own_access or access)
    raise InvalidInput("an entity type entry has no 'type'; expected EntityType, EntityTypeInfo or a data model "
                       "with 'type' and 'attributes'", field="document")


def _access(value: Any) -> list[str]:
    if not isinstance(value, list) or any(v not in ACCESS_MODES for v in value):
        raise InvalidInput(f"access must be a list of {', '.join(ACCESS_MODES)}", field="access")
    return [m for m in ACCESS_MODES if m in value]


def parse_profile_document(document: Any, access: list[str] | None = None) -> list[dict]:
    """Entity types (canonical form) from a broker's answer or a data-model list; raise InvalidInput.

    Accepts JSON text/bytes or already-decoded JSON: an NGSI-LD EntityTypeList, a list of
    EntityType or EntityTypeInfo objects, a single EntityTypeInfo/EntityType, or a Korean
    City Data Hub data-model list ([{"type", "namespace", "version", "attributes": [...]}]).
    """
    access = _access(list(access)) if access is not None else list(DEFAULT_ACCESS)
    if isinstance(document, (bytes, str)):
        if len(document) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"the document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
                               field="document")
        try:
            document = json.loads(document)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"not JSON ({exc}); upload what your broker returns for "
                               "GET /ngsi-ld/v1/types?details=true", field="document") from None
    if isinstance(document, dict):
        if document.get("type") == "EntityTypeList" or "typeList" in document:
            items = document.get("typeList")
            if not isinstance(items, list):
                raise InvalidInput("EntityTypeList.typeList must be a list of type names", field="document")
        elif document.get("type") in ("EntityTypeInfo", "EntityType"):
            items = [document]
        else:
            raise InvalidInput("not an NGSI-LD entity type document: expected an EntityTypeList, a list of "
                               "EntityType/EntityTypeInfo objects or a data-model list", field="document")
    elif isinstance(document, list):
        items = document
    else:
        raise InvalidInput("not an NGSI-LD entity type document: expected a JSON object or array", field="document")
    if not items:
        raise InvalidInput("the document lists no entity types", field="document")
    if len(items) > MAX_TYPES:
        raise InvalidInput(f"more than {MAX_TYPES} entity types", field="document")
    merged: dict[str, dict] = {}
    for entity in (_from_item(item, access) for item in items):
        key = entity["typeUri"] or entity["type"]
        if key in merged:
            known = {a["name"] for a in merged[key]["attributes"]}
            merged[key]["attributes"] += [a for a in entity["attributes"] if a["name"] not in known]
        else:
            merged[key] = entity
    return list(merged.values())


def parse_profile_text(text: str, access: list[str] | None = None) -> list[dict]:
    """The profile form's text: one entity type per line, `Type: attribute, attribute`."""
    entries = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^(.+?)\s*:\s+(.*)$", line) or re.match(r"^(.+?):$", line)
        name, rest = (match.group(1), match.group(2) if match.lastindex == 2 else "") if match else (line, "")
        if not _is_uri(name) and ":" in name:
            name, rest = name.split(":", 1)
        name = name.strip()
        if not re.match(r"^\S+$", name):
            raise InvalidInput(f"line {number}: the entity type {name!r} must be one word or a URI", field="text")
        attributes = [a.strip() for a in rest.split(",") if a.strip()]
        entries.append({"type": short_name(name), "typeUri": name if _is_uri(name) else None,
                        "attributes": attributes})
    if not entries:
        raise InvalidInput("list at least one entity type, one per line: 'OffStreetParking: availableSpotNumber, "
                           "location'", field="text")
    return parse_profile_document(entries, access)


def profile_text(entity_types: list[dict]) -> str:
    """The editable text of a profile (inverse of parse_profile_text)."""
    return "\n".join(f"{e.get('typeUri') or e['type']}: {', '.join(a['name'] for a in e.get('attributes', []))}"
                     for e in entity_types)


def check_spec_version(value: str | None) -> str | None:
    value = (value or "").strip()
    if value and not _SPEC_VERSION.match(value):
        raise InvalidInput(f"NGSI-LD spec version must look like 1.8.1, not {value[:40]!r}", field="spec_version")
    return value or None


# --- fit ----------------------------------------------------------------------------------------

@dataclass
class EntityGap:
    type: str
    type_missing: bool = False
    missing_attributes: list[str] = field(default_factory=list)
    wrong_attribute_types: list[dict] = field(default_factory=list)  # {"name", "needed", "hub", "required"}
    missing_access: list[str] = field(default_factory=list)
    optional_missing: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return bool(self.type_missing or self.missing_attributes or self.missing_access
                    or any(w["required"] for w in self.wrong_attribute_types))


@dataclass
class Fit:
    ready: bool
    spec_version_ok: bool | None  # None: the profile or the solution gives no version to compare
    spec_range: str | None
    hub_spec_version: str | None
    gaps: list[EntityGap]

    def to_json(self) -> dict:
        return {"status": "ready" if self.ready else "missing", "ready": self.ready,
                "spec_version": {"hub": self.hub_spec_version, "required": self.spec_range, "ok": self.spec_version_ok},
                "gaps": [{**gap.__dict__, "blocking": gap.blocking} for gap in self.gaps
                         if gap.blocking or gap.optional_missing or gap.wrong_attribute_types]}


def _matching_type(types: list[dict], needed_type: str, needed_uri: str | None) -> dict | None:
    for entity in types:
        if needed_uri and entity.get("typeUri"):
            if entity["typeUri"] == needed_uri:
                return entity
        elif entity.get("type") == needed_type:
            return entity
    return None


def evaluate_fit(spec_range: str | None, requirements: list[dict], hub_spec_version: str | None,
                 hub_types: list[dict]) -> Fit:
    """Compare a solution's dataHub block (spec range + entities) with a hub profile."""
    spec_ok: bool | None = None
    if spec_range and hub_spec_version:
        try:
            spec_ok = parse_range(spec_range).contains(hub_spec_version)
        except (RangeError, ValueError):
            spec_ok = False
    gaps = []
    for needed in requirements or []:
        gap = EntityGap(type=needed.get("type", "?"))
        hub = _matching_type(hub_types, gap.type, needed.get("typeUri"))
        if hub is None:
            gap.type_missing = True
            gap.missing_attributes = [a["name"] for a in needed.get("attributes") or [] if a.get("required")]
            gaps.append(gap)
            continue
        hub_attributes = {a["name"]: a.get("types") or [] for a in hub.get("attributes") or []}
        for attribute in needed.get("attributes") or []:
            name = attribute.get("name")
            if name not in hub_attributes:
                (gap.missing_attributes if attribute.get("required") else gap.optional_missing).append(name)
            elif hub_attributes[name] and attribute.get("attributeType") not in hub_attributes[name]:
                gap.wrong_attribute_types.append({"name": name, "needed": attribute.get("attributeType"),
                                                  "hub": hub_attributes[name],
                                                  "required": bool(attribute.get("required"))})
        allowed = hub.get("access") or list(DEFAULT_ACCESS)
        gap.missing_access = [m for m in needed.get("access") or [] if m not in allowed]
        gaps.append(gap)
    ready = spec_ok is not False and not any(g.blocking for g in gaps)
    return Fit(ready, spec_ok, spec_range, hub_spec_version, gaps)


def release_fit(release, profile: DataHubProfile) -> Fit:
    data_hub = (release.manifest or {}).get("dataHub") or {}
    return evaluate_fit(data_hub.get("specVersion"), data_hub.get("entities") or [], profile.spec_version,
                        profile.entity_types or [])


def get_profile(org_id: int) -> DataHubProfile | None:
    return db.session.scalar(select(DataHubProfile).where(DataHubProfile.org_id == org_id))


# Which solutions a profile can run, per (profile, profile version, index state): search filters on it.
_FIT_CACHE: OrderedDict[tuple, frozenset[int]] = OrderedDict()
_FIT_CACHE_SIZE = 64


def fitting_solution_ids(profile: DataHubProfile) -> frozenset[int]:
    from registry.catalog.search import index_state

    docs = SearchDocument.__table__
    key = (index_state(), profile.id, profile.updated_at)
    if key in _FIT_CACHE:
        _FIT_CACHE.move_to_end(key)
        return _FIT_CACHE[key]
    fitting = frozenset(
        solution_id for solution_id, spec_range, requirements in
        db.session.execute(select(docs.c.solution_id, docs.c.spec_range, docs.c.requirements))
        if evaluate_fit(spec_range, requirements, profile.spec_version, profile.entity_types or []).ready)
    _FIT_CACHE[key] = fitting
    while len(_FIT_CACHE) > _FIT_CACHE_SIZE:
        _FIT_CACHE.popitem(last=False)
    return fitting
