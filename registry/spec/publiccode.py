"""publiccode.yml (standard v0.7) export and import for solution.yaml v1.

publiccode.yml is the metadata file that public-sector open-source catalogues
(Developers Italia and others) read. Export lets a published solution be listed
in such catalogues; import gives a vendor who already has a publiccode.yml a
solution.yaml skeleton to complete.

Export follows the required-field rules of publiccode.yml v0.7 as enforced by
its reference validator (italia/publiccode-parser-go): ``publiccodeYmlVersion``,
``name``, ``url``, ``platforms``, ``developmentStatus``, ``softwareType``,
``description.<lang>.shortDescription`` (at most 150 characters),
``longDescription`` (150 to 10,000 characters) and ``features`` (non-empty),
``legal.license``, ``maintenance`` (contractors only and always with type
``contract``; contacts required with ``internal``/``community``) and
``localisation``. Lengths are counted in grapheme clusters, as the validator does.

Category mapping. solution.yaml categories name a *domain* of city life, while
publiccode ``categories`` name a *software function*; the domain therefore maps
to ``intendedAudience.scope`` (see ``SCOPE_BY_CATEGORY``). ``categories`` is only
filled where a domain implies a function (``FUNCTION_BY_CATEGORY``) and with
``data-collection`` when the solution reads entities from the city data hub.
Several categories share one scope (mobility and parking: ``transportation``), so
the exact categories also travel as ``supports`` ids ``urn:x-solreg:category:<name>``:
the reference validator refuses unknown keys (so no ``x-`` extension key), while
``supports`` takes any well-formed URI. Import prefers them over the scopes.

Country codes are written in uppercase ISO 3166-1 alpha-2 (``KR``): lowercase is
deprecated since v0.5, and ``supports`` exists since v0.7, hence the version.

Import refuses a document the standard calls invalid (unsupported
``publiccodeYmlVersion``, an empty name, a language key that is no BCP 47 tag, ...)
and lists every such field at once in ``PubliccodeError.problems``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Final

import regex
import yaml

from registry.spec.names import slugify
from registry.spec.problems import SpecError
from registry.spec.ranges import is_semver
from registry.spec.vocabulary import (
    CATEGORY_LABELS,
    DEVELOPMENT_STATUSES,
    MAINTENANCE_TYPES,
    PROGRAMME_LABELS,
    label,
)

PUBLICCODE_VERSION: Final = "0.7"
# The versions the reference validator (publiccode-parser-go) accepts.
SUPPORTED_VERSIONS: Final = frozenset(
    {"0", "0.2", "0.2.0", "0.2.1", "0.2.2", "0.3", "0.3.0", "0.4", "0.4.0", "0.5", "0.5.0", "0.7", "0.7.0"}
)
COUNTRY: Final = "KR"
CATEGORY_URN_PREFIX: Final = "urn:x-solreg:category:"
MAX_PUBLICCODE_BYTES: Final = 1024 * 1024
SHORT_DESCRIPTION_MAX: Final = 150
LONG_DESCRIPTION_MIN: Final = 150
LONG_DESCRIPTION_MAX: Final = 10_000
DEFAULT_PLATFORMS: Final = ("web",)
DEFAULT_SOFTWARE_TYPE: Final = "standalone/web"

# solution.yaml category -> publiccode intendedAudience.scope (v0.4 scope list).
SCOPE_BY_CATEGORY: Final[Mapping[str, str]] = {
    "mobility": "transportation",
    "parking": "transportation",
    "safety": "security",
    "environment": "environment",
    "energy": "energy",
    "water": "environment",
    "welfare": "welfare",
    "health": "healthcare",
    "administration": "government",
    "tourism": "tourism",
    "culture": "culture",
    "education": "education",
    "disaster": "emergency-services",
    "transport-infrastructure": "infrastructures",
    "smart-building": "infrastructures",
    "agriculture": "agriculture",
}
# The reverse direction picks one category per scope: the first listed above.
CATEGORY_BY_SCOPE: Final[Mapping[str, str]] = {
    scope: category for category, scope in reversed(list(SCOPE_BY_CATEGORY.items()))
}
# solution.yaml category -> publiccode software categories, only where one fits.
FUNCTION_BY_CATEGORY: Final[Mapping[str, tuple[str, ...]]] = {
    "smart-building": ("facility-management",),
    "transport-infrastructure": ("facility-management",),
}
# Every solution here is meant for municipalities.
AUDIENCE_SCOPE: Final = "local-authorities"
DATA_READING_ACCESS: Final = frozenset({"read", "subscribe", "temporal"})

# The export pads a too-short longDescription with facts from the manifest in a
# final paragraph that starts with this separator and heading, so import can
# recognise and drop it again.
GENERATED_SEPARATOR: Final = "\n\n---\n"
GENERATED_HEADING: Final[Mapping[str, str]] = {"ko": "솔루션 정보", "en": "About this solution"}

# publiccode keys a description by any BCP 47 tag; solution.yaml knows ko and en.
_LANGUAGE_ALIASES: Final[Mapping[str, str]] = {"ko": "ko", "kor": "ko", "en": "en", "eng": "en"}
# RFC 5646 language tag syntax (language[-extlang][-script][-region][-variant][-extension][-x-private]).
_BCP47 = re.compile(
    r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?"
    r"(?:-(?:[A-Za-z\d]{5,8}|\d[A-Za-z\d]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z\d]{2,8})+)*"
    r"(?:-x(?:-[A-Za-z\d]{1,8})+)?$",
    re.ASCII,
)
_ALPHA2 = re.compile(r"^[A-Za-z]{2}$", re.ASCII)
_DEPENDENCY_COMPARATOR = re.compile(r"^(>=|<=|==)?\s*([0-9][0-9A-Za-z.+-]*)$")


class PubliccodeError(SpecError):
    """The input cannot be converted; the message says why.

    ``problems`` holds ``(field path, reason)`` for each invalid field of an imported
    document (empty when the whole input is unusable, e.g. not YAML).
    """

    code = "publiccode-invalid"

    def __init__(self, message: str, problems: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    @classmethod
    def of_fields(cls, problems: list[tuple[str, str]]) -> PubliccodeError:
        return cls("; ".join(f"{path}: {reason}" for path, reason in problems), problems)


@dataclass
class ExportResult:
    """A publiccode.yml document (as a dict) and what the export had to decide or could not do."""

    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    """A solution.yaml skeleton and a note for every field that did not map."""

    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- export


def export_publiccode(
    manifest: Mapping[str, Any],
    *,
    release_date: date | None = None,
    url: str | None = None,
    landing_url: str | None = None,
    localisation_ready: bool = False,
) -> ExportResult:
    """Convert a solution manifest (as loaded from solution.yaml) to publiccode.yml v0.4.

    ``url`` overrides ``source.repository`` as the publiccode ``url`` (one of the
    two is required). ``release_date`` defaults to today (UTC). ``landing_url`` is
    e.g. the solution's page in this registry. Whether the software's user
    interface is translatable is not in the manifest, hence ``localisation_ready``.
    """
    notes: list[str] = []
    name = _required_text(manifest, "name")
    version = _required_text(manifest, "version")
    repository = url or _text(_mapping(manifest.get("source")).get("repository"))
    if not repository:
        raise PubliccodeError("publiccode.yml needs a url: set source.repository in the manifest or pass url=")
    when = release_date or datetime.now(timezone.utc).date()

    languages = _manifest_languages(manifest)
    if not languages:
        raise PubliccodeError("the manifest has no summary in 'ko' or 'en'; publiccode.yml needs a description")

    categories = [c for c in _list(manifest.get("categories")) if isinstance(c, str)]
    doc: dict[str, Any] = {
        "publiccodeYmlVersion": PUBLICCODE_VERSION,
        "name": name,
        "url": repository,
    }
    if landing_url:
        doc["landingURL"] = landing_url
    doc["softwareVersion"] = version
    doc["releaseDate"] = when.isoformat()
    doc["platforms"] = list(DEFAULT_PLATFORMS)
    software_categories = _software_categories(manifest, categories)
    if software_categories:
        doc["categories"] = software_categories
    used_by = _text(_mapping(manifest.get("funding")).get("municipality"))
    if used_by:
        doc["usedBy"] = [used_by]
    doc["developmentStatus"] = _development_status(manifest)
    doc["softwareType"] = DEFAULT_SOFTWARE_TYPE
    if categories:
        doc["supports"] = [{"id": CATEGORY_URN_PREFIX + c} for c in categories]
    scopes = _unique([SCOPE_BY_CATEGORY[c] for c in categories if c in SCOPE_BY_CATEGORY] + [AUDIENCE_SCOPE])
    doc["intendedAudience"] = {"scope": scopes, "countries": [COUNTRY]}
    doc["description"] = {lang: _export_description(manifest, lang, categories, notes) for lang in languages}
    doc["legal"] = _export_legal(manifest)
    doc["maintenance"] = _export_maintenance(manifest, notes)
    doc["localisation"] = {"localisationReady": localisation_ready, "availableLanguages": languages}
    depends_on = _export_depends_on(manifest, notes)
    if depends_on:
        doc["dependsOn"] = depends_on
    return ExportResult(doc, notes)


def publiccode_to_yaml(doc: Mapping[str, Any]) -> str:
    """Serialise a publiccode document, keeping key order and non-ASCII text readable."""
    return yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def _manifest_languages(manifest: Mapping[str, Any]) -> list[str]:
    summary = _mapping(manifest.get("summary"))
    return [lang for lang in ("ko", "en") if _text(summary.get(lang))]


def _export_description(
    manifest: Mapping[str, Any], lang: str, categories: list[str], notes: list[str]
) -> dict[str, Any]:
    title = _text(_mapping(manifest.get("title")).get(lang))
    summary = _text(_mapping(manifest.get("summary")).get(lang))
    body = _text(_mapping(manifest.get("description")).get(lang))

    short = summary
    if _graphemes(short) > SHORT_DESCRIPTION_MAX:
        short = _truncate(short, SHORT_DESCRIPTION_MAX)
        notes.append(f"description.{lang}.shortDescription: summary.{lang} is longer than "
                     f"{SHORT_DESCRIPTION_MAX} characters and was shortened")

    long_text = body or summary
    if _graphemes(long_text) < LONG_DESCRIPTION_MIN:
        facts = _facts_paragraph(manifest, lang, categories)
        long_text = f"{long_text}{GENERATED_SEPARATOR}{GENERATED_HEADING[lang]}\n\n{facts}"
        notes.append(f"description.{lang}.longDescription: description.{lang} is shorter than "
                     f"{LONG_DESCRIPTION_MIN} characters; a paragraph of facts from the manifest was appended")
        if _graphemes(long_text) < LONG_DESCRIPTION_MIN:
            notes.append(f"description.{lang}.longDescription is still shorter than {LONG_DESCRIPTION_MIN} "
                         "characters; publiccode.yml validators will reject it - write a longer description")
    if _graphemes(long_text) > LONG_DESCRIPTION_MAX:
        long_text = _truncate(long_text, LONG_DESCRIPTION_MAX)
        notes.append(f"description.{lang}.longDescription was cut to {LONG_DESCRIPTION_MAX} characters")

    description: dict[str, Any] = {}
    if title:
        description["localisedName"] = title
    description["shortDescription"] = short
    description["longDescription"] = long_text
    features = [k for k in _list(manifest.get("keywords")) if isinstance(k, str) and k.strip()]
    if not features:
        features = [label(CATEGORY_LABELS, c, lang) for c in categories if c in CATEGORY_LABELS]
        notes.append(f"description.{lang}.features: the manifest has no keywords; category names were used")
    description["features"] = features
    return description


def _facts_paragraph(manifest: Mapping[str, Any], lang: str, categories: list[str]) -> str:
    """Sentences built only from manifest facts, to make a short description long enough honestly."""
    korean = lang == "ko"
    sentences: list[str] = []
    title = _text(_mapping(manifest.get("title")).get(lang))
    summary = _text(_mapping(manifest.get("summary")).get(lang))
    if title and summary:
        sentences.append(f"{title}: {summary.rstrip('.')}.")
    names = [label(CATEGORY_LABELS, c, lang) for c in categories if c in CATEGORY_LABELS]
    if names:
        sentences.append(("분야: " if korean else "Domains: ") + ", ".join(names) + ".")
    funding = _mapping(manifest.get("funding"))
    programme = _text(funding.get("programme"))
    if programme in PROGRAMME_LABELS:
        programme_name = label(PROGRAMME_LABELS, programme, lang)
        year = funding.get("year")
        funded_by = _text(funding.get("fundedBy"))
        municipality = _text(funding.get("municipality"))
        if korean:
            parts = [f"{year}년" if year else "", f"{funded_by}의" if funded_by else "", f"{programme_name} 사업으로"]
            where = f"{municipality}에서 " if municipality else ""
            sentences.append(f"{' '.join(p for p in parts if p)} {where}개발되었습니다.")
        else:
            text = f"Developed in the {programme_name} programme"
            if funded_by:
                text += f", funded by {funded_by}"
            if year:
                text += f" ({year})"
            if municipality:
                text += f", for {municipality}"
            sentences.append(text + ".")
    entity_types = [
        str(e.get("type")) for e in _list(_mapping(manifest.get("dataHub")).get("entities"))
        if isinstance(e, Mapping) and e.get("type")
    ]
    if entity_types:
        lead = "도시 데이터 허브(NGSI-LD) 연계 엔티티: " if korean else "City data hub (NGSI-LD) entity types: "
        sentences.append(lead + ", ".join(_unique(entity_types)) + ".")
    licence = _text(_mapping(manifest.get("legal")).get("license"))
    if licence:
        sentences.append(("라이선스: " if korean else "Licence: ") + licence + ".")
    return "\n".join(sentences)


def _software_categories(manifest: Mapping[str, Any], categories: list[str]) -> list[str]:
    found = [f for c in categories for f in FUNCTION_BY_CATEGORY.get(c, ())]
    for entity in _list(_mapping(manifest.get("dataHub")).get("entities")):
        access = set(_list(entity.get("access"))) if isinstance(entity, Mapping) else set()
        if access & DATA_READING_ACCESS:
            found.append("data-collection")
    return _unique(found)


def _development_status(manifest: Mapping[str, Any]) -> str:
    status = _required_text(manifest, "developmentStatus")
    if status not in DEVELOPMENT_STATUSES:
        raise PubliccodeError(f"developmentStatus {status!r} is not one of {', '.join(DEVELOPMENT_STATUSES)}")
    return status


def _export_legal(manifest: Mapping[str, Any]) -> dict[str, Any]:
    legal = _mapping(manifest.get("legal"))
    licence = _text(legal.get("license"))
    if not licence:
        raise PubliccodeError("publiccode.yml needs legal.license; the manifest has none")
    exported: dict[str, Any] = {"license": licence}
    owner = _text(legal.get("copyrightOwner"))
    if owner:
        exported["mainCopyrightOwner"] = owner
    return exported


def _export_maintenance(manifest: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    maintenance = _mapping(manifest.get("maintenance"))
    kind = _text(maintenance.get("type")) or "none"
    if kind not in MAINTENANCE_TYPES:
        raise PubliccodeError(f"maintenance.type {kind!r} is not one of {', '.join(MAINTENANCE_TYPES)}")
    exported: dict[str, Any] = {"type": kind}
    contractors = [
        {"name": _text(c.get("name")), "until": _iso_date(c.get("until"))}
        for c in _list(maintenance.get("contractors"))
        if isinstance(c, Mapping) and _text(c.get("name")) and _iso_date(c.get("until"))
    ]
    contacts = []
    for contact in _list(maintenance.get("contacts")):
        if isinstance(contact, Mapping) and _text(contact.get("name")):
            entry = {"name": _text(contact.get("name"))}
            if _text(contact.get("email")):
                entry["email"] = _text(contact.get("email"))
            contacts.append(entry)
    if kind == "contract":
        if not contractors:
            raise PubliccodeError("maintenance.type is 'contract' but no contractor has a name and an 'until' date")
        exported["contractors"] = contractors
    elif contractors:
        # publiccode.yml only allows contractors with type contract.
        notes.append(f"maintenance.contractors dropped: publiccode.yml allows them only with type 'contract', not {kind!r}")
    if contacts:
        exported["contacts"] = contacts
    elif kind in ("internal", "community"):
        raise PubliccodeError(f"maintenance.type {kind!r} needs at least one contact with a name in publiccode.yml")
    return exported


def _export_depends_on(manifest: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    depends_on = _mapping(manifest.get("dependsOn"))
    open_deps = []
    for block in ("solutions", "services"):
        for index, dependency in enumerate(_list(depends_on.get(block))):
            if not isinstance(dependency, Mapping) or not _text(dependency.get("name")):
                continue
            entry: dict[str, Any] = {"name": _text(dependency.get("name"))}
            version_range = _text(dependency.get("version"))
            if version_range:
                bounds = _range_to_bounds(version_range)
                if bounds is None:
                    notes.append(f"dependsOn.{block}[{index}].version {version_range!r} has no publiccode "
                                 "equivalent (only >=, <= and exact versions do); exported without a version")
                else:
                    entry.update(bounds)
            open_deps.append(entry)
    hardware = [
        {"name": _text(h.get("name"))}
        for h in _list(depends_on.get("hardware"))
        if isinstance(h, Mapping) and _text(h.get("name"))
    ]
    if any(isinstance(h, Mapping) and h.get("quantity") for h in _list(depends_on.get("hardware"))):
        notes.append("dependsOn.hardware quantities have no publiccode equivalent and were dropped")
    exported: dict[str, Any] = {}
    if open_deps:
        exported["open"] = open_deps
    if hardware:
        exported["hardware"] = hardware
    return exported


def _range_to_bounds(version_range: str) -> dict[str, str] | None:
    """``>=1.0 <=2.0`` -> versionMin/versionMax, ``==1.2``/``1.2`` -> version; anything else None."""
    if "||" in version_range:
        return None
    bounds: dict[str, str] = {}
    for part in version_range.replace(",", " ").split():
        match = _DEPENDENCY_COMPARATOR.match(part)
        if not match:
            return None
        key = {">=": "versionMin", "<=": "versionMax"}.get(match.group(1) or "==", "version")
        if key in bounds:
            return None
        bounds[key] = match.group(2)
    if "version" in bounds and len(bounds) > 1:
        return None
    return bounds or None


# --------------------------------------------------------------------------- import


def publiccode_to_manifest(text: str | bytes) -> ImportResult:
    """Build a solution.yaml skeleton from a publiccode.yml document.

    Everything that maps is converted; every field that does not is listed in
    ``notes``. The skeleton still needs the fields publiccode.yml does not have
    (funding programme and year, dataHub, deploy, ...) before it validates.
    """
    doc = _load_publiccode(text)
    problems = _invalid_fields(doc)
    if problems:
        raise PubliccodeError.of_fields(problems)
    notes: list[str] = []
    manifest: dict[str, Any] = {"manifestVersion": "1"}

    manifest["name"] = _import_name(doc, notes)
    version = _import_version(doc.get("softwareVersion"), notes)
    if version:
        manifest["version"] = version

    texts = _import_descriptions(doc, notes)
    for key in ("title", "summary", "description"):
        if texts[key]:
            manifest[key] = texts[key]
    if texts["keywords"]:
        manifest["keywords"] = texts["keywords"]

    categories = _import_categories(doc, notes)
    if categories:
        manifest["categories"] = categories
    status = _text(doc.get("developmentStatus"))
    if status in DEVELOPMENT_STATUSES:
        manifest["developmentStatus"] = status
    elif status:
        notes.append(f"developmentStatus {status!r} is not a solution.yaml status and was dropped")

    funded_by = [
        _text(o.get("name")) for o in _list(doc.get("fundedBy")) if isinstance(o, Mapping) and _text(o.get("name"))
    ]
    if funded_by:
        manifest["funding"] = {"fundedBy": ", ".join(funded_by)}
        notes.append("funding.programme and funding.year are not in publiccode.yml; fill them in")

    legal = _mapping(doc.get("legal"))
    imported_legal = {}
    if _text(legal.get("license")):
        imported_legal["license"] = _text(legal.get("license"))
    owner = _text(legal.get("mainCopyrightOwner")) or _text(legal.get("repoOwner"))
    if owner:
        imported_legal["copyrightOwner"] = owner
    if imported_legal:
        manifest["legal"] = imported_legal

    maintenance = _import_maintenance(doc, notes)
    if maintenance:
        manifest["maintenance"] = maintenance
    if _text(doc.get("url")):
        manifest["source"] = {"repository": _text(doc.get("url"))}
    depends_on = _import_depends_on(doc, notes)
    if depends_on:
        manifest["dependsOn"] = depends_on

    handled = {
        "publiccodeYmlVersion", "name", "softwareVersion", "description", "categories", "intendedAudience",
        "developmentStatus", "fundedBy", "legal", "maintenance", "url", "dependsOn", "localisation", "supports",
    }
    for key in doc:
        if key not in handled:
            notes.append(f"{key}: no solution.yaml equivalent; dropped")
    return ImportResult(manifest, notes)


def _load_publiccode(text: str | bytes) -> dict[str, Any]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_PUBLICCODE_BYTES:
        raise PubliccodeError(f"publiccode.yml is {len(data)} bytes; the limit is {MAX_PUBLICCODE_BYTES}")
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PubliccodeError(f"publiccode.yml is not UTF-8 text: {exc}") from exc
    except yaml.YAMLError as exc:
        raise PubliccodeError(f"publiccode.yml is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise PubliccodeError("publiccode.yml must be a YAML mapping at the top level")
    if "publiccodeYmlVersion" not in doc:
        raise PubliccodeError("not a publiccode.yml: publiccodeYmlVersion is missing")
    return doc


def _invalid_fields(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every field the publiccode.yml standard calls invalid, as (path, reason), in document order."""
    problems: list[tuple[str, str]] = []
    version = doc.get("publiccodeYmlVersion")
    if not isinstance(version, str):
        problems.append(("publiccodeYmlVersion", f'must be a quoted string such as "{PUBLICCODE_VERSION}", '
                                                 f"not {version!r}"))
    elif version not in SUPPORTED_VERSIONS:
        problems.append(("publiccodeYmlVersion", f"{version!r} is not a publiccode.yml version "
                                                 f"(supported: {', '.join(sorted(SUPPORTED_VERSIONS))})"))
    for key in ("name", "url"):
        if not _text(doc.get(key)):
            problems.append((key, "is required but empty" if key in doc else "is required"))
    for tag, desc in _mapping(doc.get("description")).items():
        if not _BCP47.match(str(tag)):
            problems.append((f"description.{tag}", f"{str(tag)!r} is not a BCP 47 language tag (e.g. ko, en-US)"))
        elif _language(str(tag)) and not _text(_mapping(desc).get("shortDescription")):
            problems.append((f"description.{tag}.shortDescription", "is required but empty"))
    for index, tag in enumerate(_list(_mapping(doc.get("localisation")).get("availableLanguages"))):
        if not _BCP47.match(str(tag)):
            problems.append((f"localisation.availableLanguages[{index}]", f"{tag!r} is not a BCP 47 language tag"))
    for index, country in enumerate(_list(_mapping(doc.get("intendedAudience")).get("countries"))):
        if not _ALPHA2.match(str(country)):
            problems.append((f"intendedAudience.countries[{index}]",
                             f"{country!r} is not an ISO 3166-1 alpha-2 country code (e.g. KR)"))
    maintenance = _mapping(doc.get("maintenance"))
    named = [("maintenance", "contractors", maintenance), ("maintenance", "contacts", maintenance)] + [
        ("dependsOn", block, _mapping(doc.get("dependsOn"))) for block in ("open", "proprietary", "hardware")
    ]
    for section, block, parent in named:
        for index, item in enumerate(_list(parent.get(block))):
            if not _text(_mapping(item).get("name")):
                problems.append((f"{section}.{block}[{index}].name", "is required but empty"))
    return problems


def _import_name(doc: Mapping[str, Any], notes: list[str]) -> str:
    raw = _text(doc.get("name"))
    slug = slugify(raw)
    if len(slug) < 3:
        # Names in Hangul (or other scripts) have no ASCII slug; the repository name usually does.
        from_url = slugify(_text(doc.get("url")).rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))
        notes.append(f"name {raw!r} has no usable ASCII slug; the repository name {from_url!r} was used")
        slug = from_url
    elif slug != raw:
        notes.append(f"name {raw!r} was turned into the slug {slug!r}")
    return slug


def _import_version(value: Any, notes: list[str]) -> str | None:
    text = _text(value).removeprefix("v")
    if not text:
        notes.append("softwareVersion is missing; set version (SemVer 2.0) yourself")
        return None
    if is_semver(text):
        if text != _text(value):
            notes.append(f"softwareVersion {value!r} was read as {text!r}")
        return text
    if re.fullmatch(r"\d+(\.\d+)?", text):
        padded = text + ".0" * (2 - text.count("."))
        notes.append(f"softwareVersion {value!r} is not SemVer 2.0; read as {padded!r}")
        return padded
    notes.append(f"softwareVersion {value!r} is not SemVer 2.0 and was dropped")
    return None


def _import_descriptions(doc: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    title: dict[str, str] = {}
    summary: dict[str, str] = {}
    description: dict[str, str] = {}
    keywords: list[str] = []
    for tag, desc in _mapping(doc.get("description")).items():
        lang = _language(str(tag))
        if lang is None:
            notes.append(f"description.{tag}: solution.yaml only has 'ko' and 'en' texts; dropped")
            continue
        if lang in summary:
            notes.append(f"description.{tag}: a second '{lang}' description; dropped")
            continue
        desc = _mapping(desc)
        title[lang] = _text(desc.get("localisedName")) or _text(doc.get("name"))
        summary[lang] = _text(desc.get("shortDescription"))
        long_text = _text(desc.get("longDescription"))
        description[lang] = _strip_generated(long_text, lang)
        keywords.extend(f for f in _list(desc.get("features")) if isinstance(f, str) and f.strip())
        for key in desc:
            if key not in ("localisedName", "shortDescription", "longDescription", "features", "genericName"):
                notes.append(f"description.{tag}.{key}: no solution.yaml equivalent; dropped")
    if not summary:
        notes.append("no description in Korean or English; write title, summary and description yourself")
    return {
        "title": title,
        "summary": {k: v for k, v in summary.items() if v},
        "description": {k: v for k, v in description.items() if v},
        "keywords": _unique(k.strip() for k in keywords),
    }


def _language(tag: str) -> str | None:
    primary = tag.split("-", 1)[0].lower()
    return _LANGUAGE_ALIASES.get(primary)


def _strip_generated(long_text: str, lang: str) -> str:
    marker = f"{GENERATED_SEPARATOR}{GENERATED_HEADING[lang]}\n"
    head, found, _ = long_text.partition(marker)
    return head if found else long_text


def _import_categories(doc: Mapping[str, Any], notes: list[str]) -> list[str]:
    ids = [_text(_mapping(s).get("id")) for s in _list(doc.get("supports"))]
    exact = [i.removeprefix(CATEGORY_URN_PREFIX) for i in ids if i.startswith(CATEGORY_URN_PREFIX)]
    others = [i for i in ids if i and not i.startswith(CATEGORY_URN_PREFIX)]
    if others:
        notes.append(f"supports {', '.join(others)}: no solution.yaml equivalent; dropped")
    if exact:
        # Written by this registry's export: the categories exactly as the manifest had them.
        unknown = [c for c in exact if c not in SCOPE_BY_CATEGORY]
        if unknown:
            notes.append(f"supports {', '.join(CATEGORY_URN_PREFIX + c for c in unknown)}: not a solution.yaml "
                         "category; dropped")
        return _unique(c for c in exact if c in SCOPE_BY_CATEGORY)
    scopes = _list(_mapping(doc.get("intendedAudience")).get("scope"))
    categories = _unique(CATEGORY_BY_SCOPE[s] for s in scopes if s in CATEGORY_BY_SCOPE)
    unmapped = [s for s in scopes if s not in CATEGORY_BY_SCOPE and s != AUDIENCE_SCOPE]
    if unmapped:
        notes.append(f"intendedAudience.scope {', '.join(map(str, unmapped))}: no matching solution.yaml category")
    if _list(doc.get("categories")):
        notes.append("categories (software functions) have no solution.yaml equivalent; "
                     "categories were taken from intendedAudience.scope - check them")
    if not categories:
        notes.append("no solution.yaml category could be derived; choose at least one")
    return categories


def _import_maintenance(doc: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    maintenance = _mapping(doc.get("maintenance"))
    kind = _text(maintenance.get("type"))
    if not kind:
        return {}
    if kind not in MAINTENANCE_TYPES:
        notes.append(f"maintenance.type {kind!r} is not a solution.yaml type; dropped")
        return {}
    imported: dict[str, Any] = {"type": kind}
    contractors = []
    for contractor in _list(maintenance.get("contractors")):
        if not isinstance(contractor, Mapping):
            continue
        entry: dict[str, Any] = {"name": _text(contractor.get("name"))}
        until = _as_date(contractor.get("until"))
        if until is not None:
            entry["until"] = until
        contractors.append(entry)
        if contractor.get("email") or contractor.get("website"):
            notes.append(f"maintenance.contractors: email/website of {entry['name']!r} dropped (no field for them)")
    if contractors:
        imported["contractors"] = contractors
    contacts = []
    for contact in _list(maintenance.get("contacts")):
        if not isinstance(contact, Mapping):
            continue
        entry = {"name": _text(contact.get("name"))}
        if _text(contact.get("email")):
            entry["email"] = _text(contact.get("email"))
        contacts.append(entry)
        if contact.get("phone") or contact.get("affiliation"):
            notes.append(f"maintenance.contacts: phone/affiliation of {entry['name']!r} dropped (no field for them)")
    if contacts:
        imported["contacts"] = contacts
    return imported


def _import_depends_on(doc: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    depends_on = _mapping(doc.get("dependsOn"))
    services = []
    for block in ("open", "proprietary"):
        for dependency in _list(depends_on.get(block)):
            if isinstance(dependency, Mapping) and _text(dependency.get("name")):
                entry = {"name": _text(dependency.get("name"))}
                version_range = _bounds_to_range(dependency)
                if version_range:
                    entry["version"] = version_range
                services.append(entry)
        if block == "proprietary" and _list(depends_on.get(block)):
            notes.append("dependsOn.proprietary became dependsOn.services; solution.yaml does not mark them proprietary")
    hardware = [
        {"name": _text(h.get("name"))}
        for h in _list(depends_on.get("hardware"))
        if isinstance(h, Mapping) and _text(h.get("name"))
    ]
    imported: dict[str, Any] = {}
    if services:
        imported["services"] = services
    if hardware:
        imported["hardware"] = hardware
    return imported


def _bounds_to_range(dependency: Mapping[str, Any]) -> str:
    if _text(dependency.get("version")):
        return "==" + _text(dependency.get("version"))
    parts = []
    if _text(dependency.get("versionMin")):
        parts.append(">=" + _text(dependency.get("versionMin")))
    if _text(dependency.get("versionMax")):
        parts.append("<=" + _text(dependency.get("versionMax")))
    return " ".join(parts)


# --------------------------------------------------------------------------- helpers


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _required_text(manifest: Mapping[str, Any], key: str) -> str:
    value = _text(manifest.get(key))
    if not value:
        raise PubliccodeError(f"the manifest has no {key}; publiccode.yml needs it")
    return value


def _iso_date(value: Any) -> str:
    parsed = _as_date(value)
    return parsed.isoformat() if parsed else ""


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _graphemes(text: str) -> int:
    # The reference validator counts user-perceived characters, not code points.
    return len(regex.findall(r"\X", text))


def _truncate(text: str, limit: int) -> str:
    clusters = regex.findall(r"\X", text)
    return "".join(clusters[: limit - 1]).rstrip() + "…"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
