"""Every cap a package inspection applies, defined once for `solreg check` and the registry.

The CLI inspects with ``Limits()``; the registry builds its ``Limits`` from its settings
(``REGISTRY_ARCHIVE_MAX_MEMBERS``, ``…_UNPACKED_MB``, ``…_RATIO``, ``REGISTRY_SBOM_MAX_MB``,
``REGISTRY_SBOM_TIME_BUDGET_S``), whose defaults are these same values (registry/config.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from registry.spec.archive import ArchiveLimits
from registry.spec.sbom.budget import DEFAULT_TIME_BUDGET_S
from registry.spec.sbomfile import SBOM_MAX_BYTES
from registry.spec.yamlload import MANIFEST_LIMITS

MIB: Final = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    manifest_max_bytes: int = MANIFEST_LIMITS.max_bytes
    sbom_max_bytes: int = SBOM_MAX_BYTES
    sbom_time_budget_s: float = DEFAULT_TIME_BUDGET_S

    def settings(self) -> dict[str, Any]:
        """These limits as the registry's settings (their defaults in registry/config.py)."""
        return {
            "ARCHIVE_MAX_MEMBERS": self.archive.max_members,
            "ARCHIVE_MAX_UNPACKED_MB": self.archive.max_unpacked_bytes // MIB,
            "ARCHIVE_MAX_RATIO": self.archive.max_ratio,
            "SBOM_MAX_MB": self.sbom_max_bytes // MIB,
            "SBOM_TIME_BUDGET_S": self.sbom_time_budget_s,
        }

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Limits:
        """The limits an operator set (the inverse of ``settings``)."""
        archive = ArchiveLimits(
            max_members=int(settings["ARCHIVE_MAX_MEMBERS"]),
            max_unpacked_bytes=int(settings["ARCHIVE_MAX_UNPACKED_MB"]) * MIB,
            max_ratio=float(settings["ARCHIVE_MAX_RATIO"]),
        )
        return cls(archive=archive, sbom_max_bytes=int(settings["SBOM_MAX_MB"]) * MIB,
                   sbom_time_budget_s=float(settings["SBOM_TIME_BUDGET_S"]))
