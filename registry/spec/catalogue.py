"""The catalogue of known NGSI-LD entity types (Smart Data Models and Korean
city types) used to warn about unknown types and attributes in a manifest.

The shipped catalogue is ``registry/spec/data/entity_types.json``; an operator
can add extension files in the same format (later files add attributes to
existing types and may override their other fields).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from registry.spec.problems import SpecError, did_you_mean
from registry.spec.vocabulary import ATTRIBUTE_TYPES

DEFAULT_CATALOGUE_PATH = Path(__file__).with_name("data") / "entity_types.json"
_MAX_CATALOGUE_BYTES = 16 * 1024 * 1024


class CatalogueError(SpecError):
    """A catalogue file is missing or malformed: on the server the operator's, so 503 and not the uploader's fault."""

    status = 503
    code = "catalogue-unusable"
    hint = "operators: fix or remove the files named in REGISTRY_ENTITY_CATALOGUE_EXTRA"


@dataclass(frozen=True)
class CatalogueAttribute:
    name: str
    attribute_type: str
    value_type: str | None = None


@dataclass(frozen=True)
class EntityType:
    type: str
    type_uri: str | None = None
    domain: str | None = None
    source: str | None = None
    personal_data: bool = False
    attributes: dict[str, CatalogueAttribute] = field(default_factory=dict)


class EntityCatalogue:
    """Known entity types, looked up by short name or by type URI."""

    def __init__(self, types: Iterable[EntityType] = ()) -> None:
        self._by_name: dict[str, EntityType] = {}
        for entity in types:
            self._add(entity)

    @classmethod
    def load(cls, extra_paths: Iterable[str | Path] = (), *, base_path: str | Path | None = DEFAULT_CATALOGUE_PATH) -> EntityCatalogue:
        """Load the base catalogue plus operator extension files (in order).

        Pass ``base_path=None`` to start from an empty catalogue.
        """
        catalogue = cls()
        paths = ([base_path] if base_path is not None else []) + list(extra_paths)
        for path in paths:
            for entity in _read_file(Path(path)):
                catalogue._add(entity)
        return catalogue

    def _add(self, entity: EntityType) -> None:
        existing = self._by_name.get(entity.type)
        if existing is None:
            self._by_name[entity.type] = entity
            return
        self._by_name[entity.type] = replace(
            existing,
            type_uri=entity.type_uri or existing.type_uri,
            domain=entity.domain or existing.domain,
            source=entity.source or existing.source,
            personal_data=entity.personal_data or existing.personal_data,
            attributes={**existing.attributes, **entity.attributes},
        )

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, type_or_uri: object) -> bool:
        return isinstance(type_or_uri, str) and self.get(type_or_uri) is not None

    @property
    def types(self) -> list[EntityType]:
        return list(self._by_name.values())

    def get(self, type_or_uri: str) -> EntityType | None:
        """The entity type with this short name (``OffStreetParking``) or type URI."""
        found = self._by_name.get(type_or_uri)
        if found is not None:
            return found
        return next((e for e in self._by_name.values() if e.type_uri == type_or_uri), None)

    def suggest_type(self, name: str) -> str | None:
        """The closest known type name, for "did you mean" hints."""
        return did_you_mean(name, self._by_name)

    def suggest_attribute(self, type_or_uri: str, name: str) -> str | None:
        """The closest known attribute of an entity type, for "did you mean" hints."""
        entity = self.get(type_or_uri)
        return did_you_mean(name, entity.attributes) if entity else None


@cache
def default_catalogue() -> EntityCatalogue:
    """The shipped catalogue, loaded once per process (empty if the file is absent)."""
    if not DEFAULT_CATALOGUE_PATH.is_file():
        return EntityCatalogue()
    return EntityCatalogue.load()


def _read_file(path: Path) -> list[EntityType]:
    try:
        if path.stat().st_size > _MAX_CATALOGUE_BYTES:
            raise CatalogueError(f"{path}: the catalogue file is larger than {_MAX_CATALOGUE_BYTES:,} bytes.")
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise CatalogueError(f"{path}: catalogue file not found.") from None
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"{path}: cannot read the catalogue: {exc}") from None
    return parse_catalogue(document, source=str(path))


def parse_catalogue(document: Any, *, source: str = "catalogue") -> list[EntityType]:
    """Check a catalogue document (``{"version": 1, "entityTypes": [...]}``) and convert it."""
    if not isinstance(document, dict) or document.get("version") != 1:
        raise CatalogueError(f"{source}: expected an object with \"version\": 1.")
    entries = document.get("entityTypes")
    if not isinstance(entries, list):
        raise CatalogueError(f"{source}: \"entityTypes\" must be a list.")
    return [_parse_entry(entry, f"{source}: entityTypes[{i}]") for i, entry in enumerate(entries)]


def _parse_entry(entry: Any, where: str) -> EntityType:
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str) or not entry["type"]:
        raise CatalogueError(f"{where}: each entity type needs a non-empty \"type\".")
    attributes: dict[str, CatalogueAttribute] = {}
    raw_attributes = entry.get("attributes", [])
    if not isinstance(raw_attributes, list):
        raise CatalogueError(f"{where}: \"attributes\" must be a list.")
    for j, raw in enumerate(raw_attributes):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise CatalogueError(f"{where}.attributes[{j}]: each attribute needs a \"name\".")
        kind = raw.get("attributeType", "Property")
        if kind not in ATTRIBUTE_TYPES:
            raise CatalogueError(f"{where}.attributes[{j}]: attributeType must be one of {', '.join(ATTRIBUTE_TYPES)}.")
        attributes[raw["name"]] = CatalogueAttribute(raw["name"], kind, raw.get("valueType"))
    return EntityType(
        type=entry["type"],
        type_uri=entry.get("typeUri"),
        domain=entry.get("domain"),
        source=entry.get("source"),
        personal_data=bool(entry.get("personalData", False)),
        attributes=attributes,
    )
