"""Release ordering by SemVer precedence: which versions are the same, and which release is latest.

Build metadata (`+…`) has no precedence (SemVer 2.0 §10), so `1.1.0+evil` is the same version as
`1.1.0` and cannot be published next to it.

"Latest" is what a city should install: the highest published stable release. Pre-releases are
for trying out, so they never hide a stable release; only a solution with nothing stable published
yet shows its highest published pre-release. Yanked, pending and refused releases are never latest.
"""

from __future__ import annotations

from collections.abc import Iterable

import semver

from registry.releases.models import Release, ReleaseState


def precedence(version: str) -> semver.Version:
    """The key releases sort by; equal keys are the same version."""
    return semver.Version.parse(version)


def same_precedence(existing: Iterable[str], version: str) -> str | None:
    """The existing version that `version` is the same as, if any."""
    key = precedence(version)
    return next((other for other in existing if precedence(other) == key), None)


def is_prerelease(version: str) -> bool:
    return precedence(version).prerelease is not None


def latest_published(releases: Iterable[Release]) -> Release | None:
    published = [r for r in releases if r.state == ReleaseState.PUBLISHED]
    stable = [r for r in published if not is_prerelease(r.version)]
    return max(stable or published, key=lambda r: precedence(r.version), default=None)
