"""What a reviewer must not miss in a release, from its manifest/SBOM diff and its source diff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

WRITE_ACCESS: Final = frozenset({"write"})


@dataclass(frozen=True)
class Attention:
    kind: str  # dependency | write-access | personal-data | removed-file | licence
    subject: str


def needs_attention(diff, source) -> list[Attention]:
    """What a reviewer must not miss, from the manifest/SBOM diff (registry/review/diff.py) and the
    source diff (registry/review/sourcediff.py): new dependencies, new write access to the data hub,
    new personal-data entity types, removed files and a licence change. A first release lists none."""
    if diff.is_first:
        return []
    items = [Attention("dependency", c.name) for c in (diff.sbom.added if diff.sbom is not None else [])]
    items += [Attention("dependency", c.new) for c in diff.fields
              if c.path.startswith("dependsOn.solutions") and c.old is None and c.new is not None]
    items += [Attention("write-access", e.type) for e in diff.datahub.added if WRITE_ACCESS & set(e.access)]
    items += [Attention("write-access", a.type) for a in diff.datahub.access_changed if WRITE_ACCESS & set(a.added)]
    items += [Attention("personal-data", e.type) for e in diff.datahub.added if e.personal_data]
    items += [Attention("removed-file", c.path) for c in source.changes if c.status == "removed"]
    if diff.license_change:
        items.append(Attention("licence", f"{diff.license_change.old} → {diff.license_change.new}"))
    return items
