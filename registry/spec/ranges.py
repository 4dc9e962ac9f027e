"""Version ranges as written in solution.yaml.

Syntax: comparators (``>=``, ``>``, ``<=``, ``<``, ``==``, ``=``, ``!=``, ``^``,
``~`` or a bare version) separated by spaces or commas must all hold;
alternatives are separated by ``||``; ``*`` alone means any version. Partial versions (``>=13``, ``^1.2``) are
padded with zeros, so ``>=13`` means ``>=13.0.0`` and ``==1.2`` means ``==1.2.0``;
``^`` and ``~`` use the parts actually written (``^0`` is ``>=0.0.0 <1.0.0``,
``~1`` is ``>=1.0.0 <2.0.0``, ``~1.2`` is ``>=1.2.0 <1.3.0``).
Comparison is plain SemVer 2.0 precedence (pre-releases are not special-cased).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import semver

from registry.spec.problems import SpecError

_COMPARATOR = re.compile(r"\s*(>=|<=|==|!=|>|<|=|\^|~)?\s*([^\s,|<>=!^~]+)\s*,?")
_PARTIAL = re.compile(r"^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?((?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
_MAX_TEXT = 512


class RangeError(SpecError, ValueError):
    """A version or version range that cannot be parsed."""

    code = "invalid-range"


def parse_version(text: str) -> tuple[semver.Version, int]:
    """Parse a full or partial version; return it and how many parts were written.

    ``"13"`` -> (13.0.0, 1); ``"1.2"`` -> (1.2.0, 2); ``"1.2.3-rc.1"`` -> (1.2.3-rc.1, 3).
    A pre-release or build suffix needs all three parts.
    """
    match = _PARTIAL.match(text.strip())
    if not match:
        raise RangeError(f"{text!r} is not a version (expected e.g. 1, 1.2 or 1.2.3).")
    major, minor, patch, suffix = match.groups()
    parts = 1 + (minor is not None) + (patch is not None)
    if suffix and parts < 3:
        raise RangeError(f"{text!r}: a pre-release or build suffix needs a full MAJOR.MINOR.PATCH version.")
    try:
        version = semver.Version.parse(f"{major}.{minor or 0}.{patch or 0}{suffix}")
    except ValueError as exc:
        raise RangeError(f"{text!r} is not a valid SemVer version: {exc}.") from None
    return version, parts


def is_semver(text: object) -> bool:
    """True for a complete SemVer 2.0 version such as ``1.2.0`` or ``2.0.0-rc.1+build.5``."""
    return isinstance(text, str) and semver.Version.is_valid(text)


@dataclass(frozen=True)
class Comparator:
    operator: str  # one of >=, >, <=, <, ==, !=
    version: semver.Version

    def matches(self, version: semver.Version) -> bool:
        order = version.compare(self.version)
        return {
            ">=": order >= 0,
            ">": order > 0,
            "<=": order <= 0,
            "<": order < 0,
            "==": order == 0,
            "!=": order != 0,
        }[self.operator]

    def __str__(self) -> str:
        return f"{self.operator}{self.version}"


@dataclass(frozen=True)
class VersionRange:
    """A parsed range: any alternative whose comparators all match."""

    text: str
    alternatives: tuple[tuple[Comparator, ...], ...]

    def contains(self, version: str | semver.Version) -> bool:
        """Whether ``version`` (full or partial, e.g. ``"13.4"``) satisfies the range."""
        if not isinstance(version, semver.Version):
            version = parse_version(version)[0]
        return any(all(c.matches(version) for c in group) for group in self.alternatives)

    def __contains__(self, version: object) -> bool:
        return isinstance(version, (str, semver.Version)) and self.contains(version)

    def __str__(self) -> str:
        return self.text


def parse_range(text: str) -> VersionRange:
    """Parse a range such as ``">=1.0.0 <2.0.0 || ^3.1"``; raise :class:`RangeError`."""
    if not isinstance(text, str):
        raise RangeError(f"A version range must be text, not {type(text).__name__}.")
    if not text.strip():
        raise RangeError("The version range is empty.")
    if len(text) > _MAX_TEXT:
        raise RangeError(f"The version range is longer than {_MAX_TEXT} characters.")
    alternatives = tuple(_parse_alternative(part, text) for part in text.split("||"))
    return VersionRange(text.strip(), alternatives)


def _parse_alternative(part: str, whole: str) -> tuple[Comparator, ...]:
    if not part.strip():
        raise RangeError(f"{whole!r}: an alternative between '||' is empty.")
    if part.strip() == "*":
        return ()  # no comparator: any version
    comparators: list[Comparator] = []
    position = 0
    while position < len(part):
        match = _COMPARATOR.match(part, position)
        if not match or match.end() == position:
            raise RangeError(f"{whole!r}: cannot read a comparator at {part[position:].strip()!r}.")
        operator, version_text = match.group(1) or "==", match.group(2)
        try:
            version, parts = parse_version(version_text)
        except RangeError as exc:
            raise RangeError(f"{whole!r}: {exc}") from None
        comparators.extend(_expand(operator, version, parts))
        position = match.end()
    return tuple(comparators)


def _expand(operator: str, version: semver.Version, parts: int) -> list[Comparator]:
    if operator == "=":
        operator = "=="
    if operator == "^":
        written = [version.major, version.minor, version.patch][:parts]
        # Bump the first non-zero part written, or the last written part if all are zero.
        bump_at = next((i for i, value in enumerate(written) if value), len(written) - 1)
        return [Comparator(">=", version), Comparator("<", _bump(version, bump_at))]
    if operator == "~":
        return [Comparator(">=", version), Comparator("<", _bump(version, 0 if parts == 1 else 1))]
    return [Comparator(operator, version)]


def _bump(version: semver.Version, index: int) -> semver.Version:
    if index == 0:
        return semver.Version(version.major + 1)
    if index == 1:
        return semver.Version(version.major, version.minor + 1)
    return semver.Version(version.major, version.minor, version.patch + 1)
