"""Validation of solution.yaml v1 (see docs/manifest.md for every rule and code)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from registry.spec import vocabulary as vocab
from registry.spec.catalogue import EntityCatalogue, default_catalogue
from registry.spec.deploy import DEPLOY_KIND_NAMES, KUBE_VERSION_KINDS, check_deploy_target
from registry.spec.files import FileTooLargeError, PackageFileError, PackageFiles, UnsafePathError, normalise_path
from registry.spec.names import SOLUTION_NAME_RULE, is_solution_name
from registry.spec.problems import Problem, Report, Severity, did_you_mean
from registry.spec.ranges import RangeError, is_semver, parse_range
from registry.spec.sbomfile import SBOM_MAX_BYTES
from registry.spec.spdxlicensing import spdx_licensing
from registry.spec.yamlload import MANIFEST_LIMITS, LoadedYaml, YamlLoadError, child_path, load_yaml_mapping

MANIFEST_FILE_NAME = "solution.yaml"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
URN = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$", re.IGNORECASE)
LANGUAGE_TAG = re.compile(r"^([A-Za-z]{2,3})(?:-[A-Za-z0-9]{1,8})+$")
SUMMARY_MAX_GRAPHEMES = 150
FIRST_FUNDING_YEAR = 2010
# C0 control characters other than tab and newline: a NUL breaks XML feeds and PostgreSQL text,
# an escape sequence rewrites a terminal.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f]")


@dataclass(frozen=True)
class Field:
    """One allowed key of a mapping: whether it is required and its JSON-ish type."""

    required: bool
    kind: str  # text | integer | number | boolean | list | mapping | date | any


def _fields(**spec: tuple[bool, str]) -> dict[str, Field]:
    return {name: Field(*value) for name, value in spec.items()}


REQ, OPT = True, False
TOP_FIELDS = _fields(
    manifestVersion=(REQ, "text"), name=(REQ, "text"), version=(REQ, "text"),
    title=(REQ, "mapping"), summary=(REQ, "mapping"), description=(REQ, "mapping"),
    keywords=(OPT, "list"), categories=(REQ, "list"), developmentStatus=(REQ, "text"),
    funding=(REQ, "mapping"), legal=(REQ, "mapping"), maintenance=(REQ, "mapping"),
    source=(REQ, "mapping"), dataHub=(OPT, "mapping"), dependsOn=(OPT, "mapping"),
    deploy=(REQ, "mapping"), sbom=(REQ, "text"), changes=(OPT, "mapping"),
)
FUNDING_FIELDS = _fields(programme=(REQ, "text"), year=(REQ, "integer"), fundedBy=(OPT, "text"), municipality=(REQ, "text"))
LEGAL_FIELDS = _fields(license=(REQ, "text"), copyrightOwner=(REQ, "text"))
MAINTENANCE_FIELDS = _fields(type=(REQ, "text"), contractors=(OPT, "list"), contacts=(OPT, "list"))
CONTRACTOR_FIELDS = _fields(name=(REQ, "text"), until=(REQ, "any"))
CONTACT_FIELDS = _fields(name=(REQ, "text"), email=(REQ, "text"))
SOURCE_FIELDS = _fields(repository=(REQ, "text"))
DATAHUB_FIELDS = _fields(api=(REQ, "text"), specVersion=(REQ, "text"), contexts=(OPT, "list"), entities=(REQ, "list"))
ENTITY_FIELDS = _fields(type=(REQ, "text"), typeUri=(OPT, "text"), access=(REQ, "list"), attributes=(OPT, "list"))
ATTRIBUTE_FIELDS = _fields(name=(REQ, "text"), attributeType=(REQ, "text"), valueType=(OPT, "text"), required=(OPT, "boolean"))
DEPENDS_FIELDS = _fields(solutions=(OPT, "list"), services=(OPT, "list"), hardware=(OPT, "list"))
SOLUTION_DEP_FIELDS = _fields(name=(REQ, "text"), version=(REQ, "text"))
SERVICE_DEP_FIELDS = _fields(name=(REQ, "text"), version=(REQ, "text"))
HARDWARE_FIELDS = _fields(name=(REQ, "text"), quantity=(OPT, "integer"))
DEPLOY_FIELDS = _fields(targets=(REQ, "list"), resources=(OPT, "mapping"), architectures=(OPT, "list"))
TARGET_FIELDS = _fields(kind=(REQ, "text"), path=(REQ, "text"), kubeVersion=(OPT, "text"))
RESOURCE_FIELDS = _fields(cpu=(OPT, "number"), memoryMiB=(OPT, "number"), diskGiB=(OPT, "number"), gpu=(OPT, "integer"))

_KIND_NAMES = {
    "text": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
    "list": "a list", "mapping": "a mapping (key: value)", "date": "a date",
}


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, (dt.date, dt.datetime)):
        return "date"
    return "empty" if value is None else type(value).__name__


def _has_kind(value: Any, kind: str) -> bool:
    actual = _kind_of(value)
    return kind == "any" or actual == kind or (kind == "number" and actual == "integer")


class _Checker:
    def __init__(self, loaded: LoadedYaml, files: PackageFiles | None, catalogue: EntityCatalogue,
                 sbom_max_bytes: int) -> None:
        self.loaded = loaded
        self.sbom_max_bytes = sbom_max_bytes
        self.manifest: dict[str, Any] = loaded.value
        self.files = files
        self.catalogue = catalogue
        self.problems: list[Problem] = []
        self.normalised_license: str | None = None
        self.language_renames: list[tuple[str, str, str]] = []  # (block, written tag, short tag)

    # -- recording -----------------------------------------------------------------
    def add(self, severity: Severity, code: str, path: str, message: str, hint: str = "") -> None:
        line, column = self.loaded.position(path) or (None, None)
        self.problems.append(Problem(severity, code, path, message, hint, line, column))

    def error(self, code: str, path: str, message: str, hint: str = "") -> None:
        self.add("error", code, path, message, hint)

    def warning(self, code: str, path: str, message: str, hint: str = "") -> None:
        self.add("warning", code, path, message, hint)

    def adopt(self, problems: Iterable[Problem]) -> None:
        """Take problems from deploy/sbom checks, adding their YAML position."""
        for problem in problems:
            line, column = self.loaded.position(problem.path) or (None, None)
            self.problems.append(replace(problem, line=line, column=column))

    # -- structure -------------------------------------------------------------------
    def wrong_type(self, path: str, value: Any, kind: str) -> None:
        hint = "Write it as " + _KIND_NAMES.get(kind, kind) + "."
        if kind == "text" and isinstance(value, (int, float)):
            hint = f'Quote it: "{value}".'
            if path == "version":  # 0.1 quoted is still not SemVer: suggest the full three numbers
                numbers = (str(value).split(".") + ["0", "0"])[:3]
                hint = f'Write three numbers in quotes: "{".".join(numbers)}".'
        if kind == "mapping" and path in ("title", "summary", "description"):
            hint = f"Write it per language, e.g. {path}: {{ko: ..., en: ...}}."
        self.error("wrong-type", path, f"{path or 'The manifest'} must be {_KIND_NAMES.get(kind, kind)}, not {_kind_of(value)}.", hint)

    def mapping(self, value: Any, path: str, fields: dict[str, Field]) -> dict[str, Any] | None:
        """Check a mapping's keys and value types; return it only if it is a mapping.

        Fields with a wrong type are left out of the returned mapping so later
        rules do not report them twice.
        """
        if not isinstance(value, dict):
            self.wrong_type(path, value, "mapping")
            return None
        checked: dict[str, Any] = {}
        for key, item in value.items():
            key_path = child_path(path, str(key))
            spec = fields.get(key) if isinstance(key, str) else None
            if spec is None:
                suggestion = did_you_mean(str(key), fields)
                where = f"in {path}" if path else "at the top level"
                self.error("unknown-key", key_path, f"Unknown field {str(key)!r} {where}.",
                           f"Did you mean {suggestion!r}?" if suggestion else "Allowed fields: " + ", ".join(fields) + ".")
            elif spec.required and (item is None or (spec.kind == "text" and isinstance(item, str) and not item.strip())):
                # "" and "  " fill nothing in: refused like a missing value, and not checked further.
                self.error("missing-field", key_path, f"{key_path} is required but empty.", "Fill in a value.")
            elif item is None:
                continue
            elif not _has_kind(item, spec.kind):
                self.wrong_type(key_path, item, spec.kind)
            else:
                checked[key] = item
        for name, spec in fields.items():
            if spec.required and name not in value:
                self.error("missing-field", child_path(path, name), f"{child_path(path, name)} is required.",
                           f"Add '{name}:' {'to ' + path if path else 'at the top level'}.")
        return checked

    def items(self, value: list[Any], path: str, fields: dict[str, Field]) -> Iterable[tuple[str, dict[str, Any]]]:
        for index, item in enumerate(value):
            item_path = child_path(path, index)
            checked = self.mapping(item, item_path, fields)
            if checked is not None:
                yield item_path, checked

    def texts(self, value: list[Any], path: str) -> list[tuple[str, str]]:
        """A list that must hold text; returns (path, text) of the good entries."""
        good = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                good.append((child_path(path, index), item))
            else:
                self.wrong_type(child_path(path, index), item, "text")
        return good

    def choice(self, value: str, path: str, allowed: tuple[str, ...], code: str, what: str) -> bool:
        if value in allowed:
            return True
        suggestion = did_you_mean(value, allowed)
        self.error(code, path, f"{value!r} is not a known {what}.",
                   (f"Did you mean {suggestion!r}? " if suggestion else "") + "Allowed: " + ", ".join(allowed) + ".")
        return False

    def version_range(self, value: str, path: str) -> None:
        try:
            parse_range(value)
        except RangeError as exc:
            self.error("range-invalid", path, str(exc), 'Write e.g. ">=1.2.0 <2.0.0", "^1.2" or ">=13".')

    def url(self, value: str, path: str, code: str, what: str) -> None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            self.error(code, path, f"{value!r} is not an http(s) URL for {what}.", "Write the full address, e.g. https://git.example.org/city/solution.")

    def positive(self, value: Any, path: str, allow_zero: bool = False) -> None:
        if value < 0 or (value == 0 and not allow_zero):
            self.error("number-not-positive", path, f"{path} must be {'zero or more' if allow_zero else 'greater than zero'}, not {value}.",
                       "Use a positive number.")

    # -- blocks ----------------------------------------------------------------------
    def run(self) -> None:
        self.control_characters(self.manifest, "")
        top = self.mapping(self.manifest, "", TOP_FIELDS) or {}
        self.identity(top)
        for block in ("title", "summary", "description"):
            if block in top:
                self.language_map(top[block], block)
        if "keywords" in top:
            self.texts(top["keywords"], "keywords")
        if "categories" in top:
            self.categories(top["categories"])
        if "developmentStatus" in top:
            self.choice(top["developmentStatus"], "developmentStatus", vocab.DEVELOPMENT_STATUSES, "status-unknown", "development status")
        self.block(top, "funding", FUNDING_FIELDS, self.funding)
        self.block(top, "legal", LEGAL_FIELDS, self.legal)
        self.block(top, "maintenance", MAINTENANCE_FIELDS, self.maintenance)
        self.block(top, "source", SOURCE_FIELDS, self.source)
        self.block(top, "dataHub", DATAHUB_FIELDS, self.data_hub)
        self.block(top, "dependsOn", DEPENDS_FIELDS, self.depends_on)
        self.block(top, "deploy", DEPLOY_FIELDS, self.deploy)
        if "sbom" in top:
            self.sbom(top["sbom"], top)
        if "changes" in top:
            self.changes(top["changes"])

    def control_characters(self, value: Any, path: str) -> None:
        """Every text of the manifest, keys included, at any depth."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.control_characters(str(key), child_path(path, str(key)))
                self.control_characters(item, child_path(path, str(key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.control_characters(item, child_path(path, index))
        elif isinstance(value, str) and (found := CONTROL_CHARACTER.search(value)):
            self.error("text-control-character", path,
                       f"{path} contains the control character U+{ord(found.group()):04X}: {value!r}.",
                       "Remove it; text may hold tabs and line breaks but no other control characters.")

    def block(self, top: dict[str, Any], name: str, fields: dict[str, Field], check: Callable[[dict[str, Any]], Any]) -> None:
        if name in top:
            checked = self.mapping(top[name], name, fields)
            if checked is not None:
                check(checked)

    def identity(self, top: dict[str, Any]) -> None:
        if "manifestVersion" in top and top["manifestVersion"] != vocab.MANIFEST_VERSION:
            self.error("manifest-version-unsupported", "manifestVersion", f"manifestVersion {top['manifestVersion']!r} is not supported.",
                       'This registry reads manifestVersion: "1".')
        if "name" in top and not is_solution_name(top["name"]):
            self.error("name-not-slug", "name", f"The name {top['name']!r} is not a slug.",
                       f"Use {SOLUTION_NAME_RULE} (e.g. parking-share).")
        if "version" in top and not is_semver(top["version"]):
            self.error("version-not-semver", "version", f"The version {top['version']!r} is not SemVer 2.0.",
                       "Use MAJOR.MINOR.PATCH, e.g. 1.2.0 (pre-releases like 1.2.0-rc.1 are fine).")

    def language_map(self, value: dict[str, Any], block: str) -> None:
        languages = []
        for key, text in value.items():
            path = child_path(block, str(key))
            tag = str(key)
            if tag not in vocab.LANGUAGES:
                match = LANGUAGE_TAG.match(tag)
                if match and match.group(1).lower() in vocab.LANGUAGES:
                    short = match.group(1).lower()
                    self.warning("text-language-region", path, f"Language tag {tag!r} is accepted as {short!r}.", f"Write {short!r} instead of {tag!r}.")
                    self.language_renames.append((block, tag, short))
                    tag = short
                else:
                    self.error("text-language-unknown", path, f"{tag!r} is not a supported language for {block}.",
                               "Use 'ko' (Korean) and/or 'en' (English).")
                    continue
            if not isinstance(text, str):
                self.wrong_type(path, text, "text")
            elif not text.strip():
                self.error("text-empty", path, f"{path} is empty.", "Write the text or remove the language.")
            else:
                languages.append(tag)
                if block == "summary":
                    self.summary_length(text, path)
        if not languages and not any(p.path.startswith(block + ".") and p.severity == "error" for p in self.problems):
            self.error("text-missing", block, f"{block} needs a text in at least one language.", f"Add {block}: {{ko: ..., en: ...}}.")

    def summary_length(self, text: str, path: str) -> None:
        import regex  # lazily: only needed for summaries

        length = len(regex.findall(r"\X", text.strip()))
        if length > SUMMARY_MAX_GRAPHEMES:
            self.error("summary-too-long", path, f"The summary has {length} characters; at most {SUMMARY_MAX_GRAPHEMES} are allowed.",
                       "Keep the summary to one sentence; put details into description.")

    def categories(self, value: list[Any]) -> None:
        if not value:
            self.error("categories-empty", "categories", "At least one category is required.", "Allowed: " + ", ".join(vocab.CATEGORIES) + ".")
        seen: set[str] = set()
        for path, category in self.texts(value, "categories"):
            if category in seen:
                self.error("category-duplicate", path, f"The category {category!r} is listed twice.", "Remove the duplicate.")
            elif self.choice(category, path, vocab.CATEGORIES, "category-unknown", "category"):
                seen.add(category)

    def funding(self, funding: dict[str, Any]) -> None:
        if "programme" in funding:
            self.choice(funding["programme"], "funding.programme", vocab.PROGRAMMES, "programme-unknown", "funding programme")
        if "year" in funding:
            last = dt.date.today().year + 1
            if not FIRST_FUNDING_YEAR <= funding["year"] <= last:
                self.error("funding-year-range", "funding.year", f"The funding year {funding['year']} is outside {FIRST_FUNDING_YEAR}-{last}.",
                           "Write the year the project was funded, e.g. 2023.")

    def legal(self, legal: dict[str, Any]) -> None:
        if "license" in legal:
            self.license(legal["license"], "legal.license")

    def license(self, expression: str, path: str) -> None:
        result = check_license(expression)
        for severity, code, message, hint in result.findings:
            self.add(severity, code, path, message, hint)
        self.normalised_license = result.normalised

    def maintenance(self, maintenance: dict[str, Any]) -> None:
        kind = maintenance.get("type")
        if kind is not None:
            self.choice(kind, "maintenance.type", vocab.MAINTENANCE_TYPES, "maintenance-type-unknown", "maintenance type")
        contractors = list(self.items(maintenance.get("contractors", []), "maintenance.contractors", CONTRACTOR_FIELDS))
        contacts = list(self.items(maintenance.get("contacts", []), "maintenance.contacts", CONTACT_FIELDS))
        if kind == "contract" and not maintenance.get("contractors"):
            self.error("contract-needs-contractor", "maintenance.contractors", "Maintenance type 'contract' needs at least one contractor.",
                       "Add contractors: [{name: ..., until: YYYY-MM-DD}].")
        if kind in ("internal", "community") and not maintenance.get("contacts"):
            self.error("contacts-required", "maintenance.contacts", f"Maintenance type {kind!r} needs at least one contact.",
                       "Add contacts: [{name: ..., email: ...}].")
        for path, contractor in contractors:
            if "until" in contractor:
                self.contract_end(contractor["until"], f"{path}.until")
        for path, contact in contacts:
            if "email" in contact and not EMAIL.match(contact["email"]):
                self.error("email-invalid", f"{path}.email", f"{contact['email']!r} does not look like an e-mail address.", "Write e.g. parking@city.go.kr.")

    def contract_end(self, value: Any, path: str) -> None:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        if not isinstance(value, dt.date):
            self.error("contractor-until-invalid", path, f"{value!r} is not a date.", "Write the contract end as YYYY-MM-DD, e.g. 2027-12-31.")
        elif value < dt.date.today():
            self.warning("contract-expired", path, f"The maintenance contract ended on {value.isoformat()}.",
                         "Update the contractor, or change maintenance.type.")

    def source(self, source: dict[str, Any]) -> None:
        if "repository" in source:
            self.url(source["repository"], "source.repository", "repository-url-invalid", "the source repository")

    def data_hub(self, hub: dict[str, Any]) -> None:
        if "api" in hub:
            self.choice(hub["api"], "dataHub.api", vocab.DATAHUB_APIS, "datahub-api-unsupported", "data hub API")
        if "specVersion" in hub:
            self.version_range(hub["specVersion"], "dataHub.specVersion")
        for path, context in self.texts(hub.get("contexts", []), "dataHub.contexts"):
            self.url(context, path, "context-url-invalid", "a JSON-LD @context")
        if "entities" in hub and not hub["entities"]:
            self.error("datahub-entities-empty", "dataHub.entities", "dataHub lists no entities.", "List the entity types the solution reads or writes, or remove dataHub.")
        seen: dict[str, str] = {}
        for path, entity in self.items(hub.get("entities", []), "dataHub.entities", ENTITY_FIELDS):
            entity_type = entity.get("type")
            if entity_type is not None:
                if entity_type in seen:
                    self.error("entity-type-duplicate", f"{path}.type", f"The entity type {entity_type!r} is listed twice (first at {seen[entity_type]}).",
                               "Merge the two entries into one.")
                seen.setdefault(entity_type, path)
                self.entity_type(entity, path)
            if "typeUri" in entity and not URN.match(entity["typeUri"]):  # NGSI-LD types may be URNs too
                self.url(entity["typeUri"], f"{path}.typeUri", "type-uri-invalid", "the entity type URI (or a urn:)")
            self.access(entity.get("access"), f"{path}.access")
            self.attributes(entity.get("attributes", []), f"{path}.attributes", entity_type)

    def entity_type(self, entity: dict[str, Any], path: str) -> None:
        known = self.catalogue.get(entity["type"]) or (self.catalogue.get(entity["typeUri"]) if "typeUri" in entity else None)
        if known is None:
            suggestion = self.catalogue.suggest_type(entity["type"])
            self.warning("entity-type-unknown", f"{path}.type", f"The entity type {entity['type']!r} is not in the catalogue.",
                         f"Did you mean {suggestion!r}?" if suggestion else "Check the spelling, or document the type for other cities.")
        elif "typeUri" in entity and known.type_uri and entity["typeUri"] != known.type_uri:
            self.warning("type-uri-mismatch", f"{path}.typeUri", f"The catalogue's URI for {known.type} is {known.type_uri}.",
                         "Use the catalogue URI so the data hub matches the type.")

    def access(self, access: list[Any] | None, path: str) -> None:
        if access is None:
            return
        if not access:
            self.error("access-empty", path, "access must list at least one operation.", "Allowed: " + ", ".join(vocab.ACCESS_MODES) + ".")
        seen: set[str] = set()
        for item_path, mode in self.texts(access, path):
            if mode in seen:
                self.error("access-duplicate", item_path, f"{mode!r} is listed twice.", "Remove the duplicate.")
            elif self.choice(mode, item_path, vocab.ACCESS_MODES, "access-unknown", "access mode"):
                seen.add(mode)

    def attributes(self, attributes: list[Any], path: str, entity_type: str | None) -> None:
        known = self.catalogue.get(entity_type) if entity_type else None
        seen: set[str] = set()
        for item_path, attribute in self.items(attributes, path, ATTRIBUTE_FIELDS):
            name = attribute.get("name")
            if "attributeType" in attribute:
                self.choice(attribute["attributeType"], f"{item_path}.attributeType", vocab.ATTRIBUTE_TYPES, "attribute-type-unknown", "NGSI-LD attribute type")
            if name is None:
                continue
            if name in seen:
                self.error("attribute-duplicate", f"{item_path}.name", f"The attribute {name!r} is listed twice.", "Remove the duplicate.")
            seen.add(name)
            if known is None:
                continue
            if name not in known.attributes:
                suggestion = self.catalogue.suggest_attribute(known.type, name)
                self.warning("entity-attribute-unknown", f"{item_path}.name", f"{known.type} has no attribute {name!r} in the catalogue.",
                             f"Did you mean {suggestion!r}?" if suggestion else "Check the spelling against the data model.")
            elif attribute.get("attributeType") in vocab.ATTRIBUTE_TYPES and attribute["attributeType"] != known.attributes[name].attribute_type:
                self.warning("attribute-type-mismatch", f"{item_path}.attributeType",
                             f"The catalogue defines {known.type}.{name} as {known.attributes[name].attribute_type}.",
                             f"Use attributeType: {known.attributes[name].attribute_type}.")

    def depends_on(self, depends: dict[str, Any]) -> None:
        own_name = self.manifest.get("name")
        for path, solution in self.items(depends.get("solutions", []), "dependsOn.solutions", SOLUTION_DEP_FIELDS):
            name = solution.get("name")
            if name is not None and not is_solution_name(name):
                self.error("dependency-name-not-slug", f"{path}.name", f"{name!r} is not a solution name (slug).", "Use the other solution's registry name, e.g. city-auth.")
            elif name is not None and name == own_name:
                self.error("self-dependency", f"{path}.name", "A solution cannot depend on itself.", "Remove this entry.")
            if "version" in solution:
                self.version_range(solution["version"], f"{path}.version")
        for path, service in self.items(depends.get("services", []), "dependsOn.services", SERVICE_DEP_FIELDS):
            if "name" in service and not service["name"].strip():
                self.error("missing-field", f"{path}.name", "The service name is empty.", "Name the service, e.g. postgresql.")
            if "version" in service:
                self.version_range(service["version"], f"{path}.version")
        for path, hardware in self.items(depends.get("hardware", []), "dependsOn.hardware", HARDWARE_FIELDS):
            if "quantity" in hardware:
                self.positive(hardware["quantity"], f"{path}.quantity")

    def deploy(self, deploy: dict[str, Any]) -> None:
        if "targets" in deploy and not deploy["targets"]:
            self.error("deploy-targets-empty", "deploy.targets", "deploy lists no targets.", "Add at least one target, e.g. {kind: helm, path: deploy/helm/<name>}.")
        for path, target in self.items(deploy.get("targets", []), "deploy.targets", TARGET_FIELDS):
            kind = target.get("kind")
            known_kind = kind is not None and self.choice(kind, f"{path}.kind", DEPLOY_KIND_NAMES, "deploy-kind-unknown", "deploy kind")
            if "kubeVersion" in target:
                if kind not in KUBE_VERSION_KINDS:
                    self.warning("kube-version-not-helm", f"{path}.kubeVersion",
                                 f"kubeVersion is only used for {' and '.join(KUBE_VERSION_KINDS)} targets.", "Remove it here.")
                self.version_range(target["kubeVersion"], f"{path}.kubeVersion")
            if "path" in target and self.safe_path(target["path"], f"{path}.path") and known_kind and self.files is not None:
                self.adopt(check_deploy_target(kind, target["path"], self.files, path))
        resources = self.mapping(deploy["resources"], "deploy.resources", RESOURCE_FIELDS) if "resources" in deploy else None
        for key, value in (resources or {}).items():
            self.positive(value, f"deploy.resources.{key}", allow_zero=key == "gpu")
        for path, architecture in self.texts(deploy.get("architectures", []), "deploy.architectures"):
            self.choice(architecture, path, vocab.ARCHITECTURES, "architecture-unknown", "CPU architecture")

    def safe_path(self, value: str, path: str) -> bool:
        try:
            normalise_path(value)
        except UnsafePathError as exc:
            self.error("path-outside-package", path, str(exc), "Use a path relative to the package root, without '..'.")
            return False
        return True

    def sbom(self, value: str, top: dict[str, Any]) -> None:
        if not self.safe_path(value, "sbom") or self.files is None:
            return
        from registry.spec.sbomfile import check_sbom_file

        name = top.get("name") if isinstance(top.get("name"), str) else None
        version = top.get("version") if isinstance(top.get("version"), str) else None
        self.adopt(check_sbom_file(value, self.files, name, version, max_bytes=self.sbom_max_bytes))

    def changes(self, changes: dict[str, Any]) -> None:
        for kind, entries in changes.items():
            path = child_path("changes", str(kind))
            if not self.choice(str(kind), path, vocab.CHANGE_KINDS, "change-kind-unknown", "change kind"):
                continue
            if entries is None:
                continue
            if not isinstance(entries, list):
                self.wrong_type(path, entries, "list")
            else:
                self.texts(entries, path)

    # -- output ----------------------------------------------------------------------
    def normalised_manifest(self) -> dict[str, Any]:
        manifest = _json_ready(self.manifest)
        legal = manifest.get("legal")
        if self.normalised_license and isinstance(legal, dict):
            legal["license"] = self.normalised_license
        for block, tag, short in self.language_renames:
            texts = manifest.get(block)
            if isinstance(texts, dict) and short not in texts:
                texts[short] = texts.pop(tag)
        return manifest


def _json_ready(value: Any) -> Any:
    """Dates become ISO strings so the manifest can be stored as JSON."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


# -- licences ------------------------------------------------------------------------


@dataclass(frozen=True)
class LicenseCheck:
    normalised: str | None
    findings: list[tuple[Severity, str, str, str]]  # (severity, code, message, hint)

    @property
    def ok(self) -> bool:
        return not any(severity == "error" for severity, *_ in self.findings)




_LICENSE_TOKEN = re.compile(r"[()\s]+")


def check_license(expression: str) -> LicenseCheck:
    """Check an SPDX expression: syntax, known ids, spelling, OSI approval (or EUPL).

    For ``OR`` one acceptable option suffices; for ``AND`` every part must be acceptable.
    """
    licensing = spdx_licensing()
    hint_syntax = "Write an SPDX expression such as 'Apache-2.0', 'MIT OR Apache-2.0' or 'EUPL-1.2'."
    if not expression.strip():
        return LicenseCheck(None, [("error", "license-invalid", "The licence is empty.", hint_syntax)])
    try:
        info = licensing.validate(expression, strict=True)
    except Exception as exc:  # license-expression raises assorted errors on bad syntax
        return LicenseCheck(None, [("error", "license-invalid", f"{expression!r} is not a valid SPDX expression ({exc}).", hint_syntax)])
    known = set(_known_license_keys())
    unknown = [s for s in info.invalid_symbols if s and s not in known]  # known ids are invalid only by misuse
    if unknown:
        findings: list[tuple[Severity, str, str, str]] = []
        for symbol in unknown:
            if symbol.startswith("LicenseRef-"):
                findings.append(("error", "license-not-osi", f"{symbol} is a custom licence; the solution needs an OSI-approved licence or the EUPL.",
                                 "Choose e.g. Apache-2.0, MIT, MPL-2.0, GPL-3.0-or-later or EUPL-1.2."))
            else:
                suggestion = did_you_mean(symbol, _known_license_keys())
                findings.append(("error", "license-unknown", f"{symbol!r} is not an SPDX licence identifier.",
                                 f"Did you mean {suggestion!r}?" if suggestion else "See https://spdx.org/licenses/ for identifiers."))
        return LicenseCheck(None, findings)
    if info.errors or not info.normalized_expression:
        message = "; ".join(info.errors) or "cannot be parsed"
        return LicenseCheck(None, [("error", "license-invalid", f"{expression!r} is not a valid SPDX expression: {message}.", hint_syntax)])
    normalised: str = info.normalized_expression
    findings = []
    written, canonical = _LICENSE_TOKEN.split(expression.strip()), _LICENSE_TOKEN.split(normalised)
    if written != canonical:
        if [t.casefold() for t in written] == [t.casefold() for t in canonical]:
            findings.append(("warning", "license-case", f"SPDX identifiers are case-sensitive: {expression!r} is read as {normalised!r}.", f"Write {normalised!r}."))
        else:
            findings.append(("warning", "license-normalised", f"{expression!r} is read as {normalised!r} (deprecated or alias identifiers).", f"Write {normalised!r}."))
    if not _acceptable(licensing.parse(normalised), licensing):
        findings.append(("error", "license-not-osi", f"{normalised!r} is not an OSI-approved licence (or the EUPL).",
                         "Publicly funded solutions are published under an OSI-approved licence, e.g. Apache-2.0, MIT, MPL-2.0, GPL-3.0-or-later or EUPL-1.2."))
    return LicenseCheck(normalised, findings)


def _acceptable(node: Any, licensing: Any) -> bool:
    if isinstance(node, licensing.OR):
        return any(_acceptable(arg, licensing) for arg in node.args)
    if isinstance(node, licensing.AND):
        return all(_acceptable(arg, licensing) for arg in node.args)
    symbol = getattr(node, "license_symbol", node)  # "X WITH exception" is judged by X
    return getattr(symbol, "key", None) in vocab.ACCEPTED_LICENSES


@cache
def _known_license_keys() -> tuple[str, ...]:
    return tuple(symbol.key for symbol in spdx_licensing().known_symbols.values() if not symbol.is_exception)


# -- entry points ---------------------------------------------------------------------


def validate_manifest(
    data: bytes | str,
    *,
    files: PackageFiles | None = None,
    catalogue: EntityCatalogue | None = None,
    sbom_max_bytes: int = SBOM_MAX_BYTES,
) -> Report:
    """Validate solution.yaml content; with ``files``, also the files it references
    (the SBOM up to ``sbom_max_bytes``)."""
    try:
        loaded = load_yaml_mapping(data, MANIFEST_LIMITS)
    except YamlLoadError as exc:
        return Report([exc.to_problem()], None)
    checker = _Checker(loaded, files, catalogue if catalogue is not None else default_catalogue(), sbom_max_bytes)
    checker.run()
    problems = sorted(checker.problems, key=Problem.sort_key)
    return Report(problems, checker.normalised_manifest())


def validate_directory(path: str | Path, *, catalogue: EntityCatalogue | None = None) -> Report:
    """Validate ``<path>/solution.yaml`` and the package files it references.

    ``path`` may also be the solution.yaml file itself.
    """
    from registry.spec.files import DirectoryFiles

    root = Path(path)
    if root.is_file():
        root = root.parent
    if not root.is_dir():
        return Report([Problem("error", "manifest-missing", "", f"{path} is not a directory.", "Give the solution package directory.")])
    files = DirectoryFiles(root)
    try:
        data = files.read(MANIFEST_FILE_NAME, MANIFEST_LIMITS.max_bytes)
    except FileTooLargeError as exc:
        return Report([Problem("error", "yaml-too-large", "", f"{MANIFEST_FILE_NAME} is {exc.size:,} bytes; at most {exc.limit:,} bytes are accepted.",
                               "Keep the manifest small; large data belongs in separate files.")])
    except PackageFileError:
        return Report([Problem("error", "manifest-missing", "", f"There is no {MANIFEST_FILE_NAME} in {path}.",
                               "Create solution.yaml at the package root (see docs/manifest.md).")])
    return validate_manifest(data, files=files, catalogue=catalogue)
