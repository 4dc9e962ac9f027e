"""What a release changes compared with the solution's previous published release.

Reviewers read this instead of two manifests: a flat list of manifest fields that changed,
data-hub requirements (personal-data entity types stand out), deploy targets and resources,
the SBOM (through the SBOM engine's `diff_releases`) and the solution's own licence.
A first release has no base; the diff then shows the full picture.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from registry.releases.models import Release, ReleaseState
from registry.releases.versions import precedence
from registry.spec.catalogue import default_catalogue

# Lists of mappings are keyed by these fields so a reordered list is no change.
LIST_KEYS = ("type", "name", "kind")


@dataclass
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass
class EntityRequirement:
    type: str
    access: list[str]
    attributes: list[str]
    personal_data: bool


@dataclass
class AccessChange:
    type: str
    added: list[str]
    removed: list[str]
    personal_data: bool


@dataclass
class DataHubDiff:
    added: list[EntityRequirement] = field(default_factory=list)
    removed: list[EntityRequirement] = field(default_factory=list)
    access_changed: list[AccessChange] = field(default_factory=list)
    attribute_changes: list[FieldChange] = field(default_factory=list)  # path = entity type

    @property
    def personal_data_added(self) -> bool:
        return any(e.personal_data for e in self.added) or any(
            c.personal_data and c.added for c in self.access_changed)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.access_changed or self.attribute_changes)


@dataclass
class DeployDiff:
    targets_added: list[dict] = field(default_factory=list)
    targets_removed: list[dict] = field(default_factory=list)
    targets_changed: list[FieldChange] = field(default_factory=list)  # path = "kind path"
    resources: list[FieldChange] = field(default_factory=list)
    architectures_added: list[str] = field(default_factory=list)
    architectures_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.targets_added or self.targets_removed or self.targets_changed or self.resources
                    or self.architectures_added or self.architectures_removed)


@dataclass
class ReleaseDiff:
    release: Release
    base: Release | None
    fields: list[FieldChange]
    datahub: DataHubDiff
    deploy: DeployDiff
    license_change: FieldChange | None
    sbom: Any = None  # registry.sbom.service.SbomDiff, or None without the SBOM engine
    sbom_summary: dict | None = None  # first release: the SBOM engine's risk summary

    @property
    def is_first(self) -> bool:
        return self.base is None

    def to_dict(self) -> dict:
        return {
            "base_version": self.base.version if self.base else None,
            "first_release": self.is_first,
            "fields": [asdict(c) for c in self.fields],
            "license_change": asdict(self.license_change) if self.license_change else None,
            "datahub": {**asdict(self.datahub), "personal_data_added": self.datahub.personal_data_added},
            "deploy": asdict(self.deploy),
            "sbom": asdict(self.sbom) if self.sbom is not None else None,
            "sbom_summary": self.sbom_summary,
        }


# --- choosing the base ------------------------------------------------------------------------

def previous_published(release: Release) -> Release | None:
    """The highest published release below this version; else the highest published at all
    (a release numbered below everything published, e.g. a backport, is compared with the latest)."""
    published = [r for r in release.solution.releases if r.id != release.id and r.state == ReleaseState.PUBLISHED]
    own = precedence(release.version)
    below = [r for r in published if precedence(r.version) < own]
    return max(below or published, key=lambda r: precedence(r.version), default=None)


# --- manifest fields --------------------------------------------------------------------------

def _list_key(items: list) -> str | None:
    """The field that identifies each mapping in a list, if one does so uniquely."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in LIST_KEYS:
        values = [i.get(key) for i in items]
        if all(isinstance(v, str) for v in values) and len(set(values)) == len(values):
            return key
    return None


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Dotted paths to scalar values; lists of scalars stay whole, lists of mappings are keyed."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(value, list) and value and any(isinstance(i, (dict, list)) for i in value):
        key = _list_key(value)
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{path}[{item[key] if key else index}]"))
        return flat
    return {path: value}


def field_changes(old: dict, new: dict) -> list[FieldChange]:
    before, after = flatten(old), flatten(new)
    return [FieldChange(path, before.get(path), after.get(path))
            for path in sorted(before.keys() | after.keys()) if before.get(path) != after.get(path)]


# --- data hub ---------------------------------------------------------------------------------

def _entities(manifest: dict) -> dict[str, dict]:
    return {e["type"]: e for e in (manifest.get("dataHub") or {}).get("entities") or [] if isinstance(e, dict)}


def _personal(entity_type: str, type_uri: str | None = None) -> bool:
    catalogue = default_catalogue()
    known = catalogue.get(entity_type) or (catalogue.get(type_uri) if type_uri else None)
    return bool(known and known.personal_data)


def _requirement(entity: dict) -> EntityRequirement:
    return EntityRequirement(type=entity["type"], access=list(entity.get("access") or []),
                             attributes=[a.get("name") for a in entity.get("attributes") or []],
                             personal_data=_personal(entity["type"], entity.get("typeUri")))


def datahub_diff(old: dict, new: dict) -> DataHubDiff:
    before, after = _entities(old), _entities(new)
    diff = DataHubDiff(added=[_requirement(after[t]) for t in sorted(after.keys() - before.keys())],
                       removed=[_requirement(before[t]) for t in sorted(before.keys() - after.keys())])
    for entity_type in sorted(before.keys() & after.keys()):
        a, b = _requirement(before[entity_type]), _requirement(after[entity_type])
        gained, lost = sorted(set(b.access) - set(a.access)), sorted(set(a.access) - set(b.access))
        if gained or lost:
            diff.access_changed.append(AccessChange(entity_type, gained, lost, b.personal_data))
        if sorted(a.attributes) != sorted(b.attributes):
            diff.attribute_changes.append(FieldChange(entity_type, sorted(a.attributes), sorted(b.attributes)))
    return diff


# --- deploy -----------------------------------------------------------------------------------

def _targets(manifest: dict) -> dict[str, dict]:
    return {f"{t.get('kind')} {t.get('path')}": t for t in (manifest.get("deploy") or {}).get("targets") or []}


def deploy_diff(old: dict, new: dict) -> DeployDiff:
    before, after = _targets(old), _targets(new)
    diff = DeployDiff(targets_added=[after[k] for k in sorted(after.keys() - before.keys())],
                      targets_removed=[before[k] for k in sorted(before.keys() - after.keys())])
    for key in sorted(before.keys() & after.keys()):
        if before[key] != after[key]:
            diff.targets_changed.append(FieldChange(key, before[key], after[key]))
    old_deploy, new_deploy = old.get("deploy") or {}, new.get("deploy") or {}
    diff.resources = field_changes(old_deploy.get("resources") or {}, new_deploy.get("resources") or {})
    old_arch, new_arch = set(old_deploy.get("architectures") or []), set(new_deploy.get("architectures") or [])
    diff.architectures_added, diff.architectures_removed = sorted(new_arch - old_arch), sorted(old_arch - new_arch)
    return diff


# --- the whole picture ------------------------------------------------------------------------

def _license(manifest: dict) -> str | None:
    return (manifest.get("legal") or {}).get("license")


def _sbom(base: Release | None, release: Release) -> tuple[Any, dict | None]:
    from registry.sbom.service import diff_releases, risk_summary

    return diff_releases(base, release), risk_summary(release) if base is None else None


def release_diff(release: Release) -> ReleaseDiff:
    base = previous_published(release)
    old = base.manifest if base is not None else {}
    new = release.manifest
    license_change = None
    if base is not None and _license(old) != _license(new):
        license_change = FieldChange("legal.license", _license(old), _license(new))
    sbom_diff, summary = _sbom(base, release)
    return ReleaseDiff(release=release, base=base,
                       fields=field_changes(old, new) if base is not None else [],
                       datahub=datahub_diff(old, new), deploy=deploy_diff(old, new),
                       license_change=license_change, sbom=sbom_diff, sbom_summary=summary)
