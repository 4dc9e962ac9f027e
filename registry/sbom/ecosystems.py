"""Package ecosystems: from a purl to OSV's (ecosystem, name), and each ecosystem's version order.

Names are normalised the same way on both sides (component purls and OSV records), so the
(ecosystem, name) pair is an exact-match key:

- PyPI: PEP 503 (lowercase, runs of - _ . folded to -)
- NuGet, Packagist: lowercase (both registries are case-insensitive)
- npm: ``@scope/name``, case kept; Maven: ``group:artifact``; Go: the module path;
  everything else as written.

OSV ecosystems with a suffix (``Debian:12``, ``Maven:https://…``) are indexed under the
part before the first colon.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from packageurl import PackageURL
from univers.versions import (
    ComposerVersion,
    DebianVersion,
    MavenVersion,
    NugetVersion,
    PypiVersion,
    RubygemsVersion,
    SemverVersion,
    Version,
)

PURL_TYPE_TO_ECOSYSTEM = {
    "pypi": "PyPI",
    "npm": "npm",
    "maven": "Maven",
    "golang": "Go",
    "cargo": "crates.io",
    "gem": "RubyGems",
    "nuget": "NuGet",
    "composer": "Packagist",
    "deb": "Debian",
}

# Version order used for ECOSYSTEM ranges and for comparing two versions of one package.
ECOSYSTEM_VERSION_CLASS: dict[str, type[Version]] = {
    "PyPI": PypiVersion,
    "npm": SemverVersion,
    "Maven": MavenVersion,
    "Go": SemverVersion,  # Go module versions are SemVer with a "v" prefix, stripped first
    "crates.io": SemverVersion,
    "RubyGems": RubygemsVersion,
    "NuGet": NugetVersion,
    "Packagist": ComposerVersion,
    "Debian": DebianVersion,
}

_PEP503 = re.compile(r"[-_.]+")


class UnorderedVersion(ValueError):
    """A version string this ecosystem's ordering cannot read."""


def index_ecosystem(ecosystem: str) -> str:
    return ecosystem.split(":", 1)[0]


def normalize_package_name(ecosystem: str, name: str) -> str:
    ecosystem = index_ecosystem(ecosystem)
    if ecosystem == "PyPI":
        return _PEP503.sub("-", name).lower()
    if ecosystem in ("NuGet", "Packagist"):
        return name.lower()
    return name


@lru_cache(maxsize=100_000)
def parse_purl(purl: str) -> PackageURL:
    """Parse a purl or raise ValueError with a readable message (cached: PackageURL is immutable)."""
    try:
        return PackageURL.from_string(purl)
    except ValueError as exc:
        raise ValueError(f"{purl!r} is not a valid package URL: {exc}") from None


def purl_base(purl: str | None) -> str | None:
    """The purl without version, qualifiers and subpath: every version of one package."""
    if not purl:
        return None
    try:
        parsed = parse_purl(purl)
    except ValueError:
        return None
    return PackageURL(type=parsed.type, namespace=parsed.namespace, name=parsed.name).to_string()


def osv_package(purl: str | None) -> tuple[str, str] | None:
    """(OSV ecosystem, normalised name) for a purl, or None when OSV has no such ecosystem."""
    if not purl:
        return None
    try:
        parsed = parse_purl(purl)
    except ValueError:
        return None
    ecosystem = PURL_TYPE_TO_ECOSYSTEM.get(parsed.type)
    if ecosystem is None or not parsed.name:
        return None
    namespace = parsed.namespace
    if ecosystem == "Maven":
        if not namespace:
            return None
        name = f"{namespace}:{parsed.name}"
    elif ecosystem in ("npm", "Go", "Packagist") and namespace:
        name = f"{namespace}/{parsed.name}"
    else:
        name = parsed.name
    return ecosystem, normalize_package_name(ecosystem, name)


def _clean(ecosystem: str | None, text: str) -> str:
    text = text.strip()
    if ecosystem in ("Go", None) and text[:1] == "v" and text[1:2].isdigit():
        return text[1:]
    return text


@lru_cache(maxsize=200_000)
def parse_ecosystem_version(ecosystem: str | None, text: str) -> Version:
    """`text` in `ecosystem`'s order (None: SemVer, as OSV's SEMVER ranges use); raise UnorderedVersion."""
    cls = SemverVersion if ecosystem is None else ECOSYSTEM_VERSION_CLASS.get(index_ecosystem(ecosystem))
    if cls is None:
        raise UnorderedVersion(f"no version ordering known for ecosystem {ecosystem!r}")
    try:
        return cls(_clean(ecosystem, text))
    except Exception as exc:  # univers raises InvalidVersion, and sometimes ValueError/TypeError for odd input
        raise UnorderedVersion(f"{text!r} is not a {ecosystem or 'SemVer'} version: {exc}") from None


def compare_versions(ecosystem: str | None, a: str, b: str) -> int | None:
    """-1, 0 or 1 by the ecosystem's ordering; None when either side cannot be ordered."""
    try:
        left, right = parse_ecosystem_version(ecosystem, a), parse_ecosystem_version(ecosystem, b)
    except UnorderedVersion:
        return None
    return (left > right) - (left < right)


def version_of(purl: str | None, fallback: Any = None) -> str | None:
    """The purl's version, else `fallback`."""
    if purl:
        try:
            return parse_purl(purl).version or fallback
        except ValueError:
            pass
    return fallback
