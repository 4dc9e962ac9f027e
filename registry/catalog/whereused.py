"""Where a package is used: the published releases whose SBOM lists it, and the municipalities running them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from registry.catalog.models import Adoption
from registry.db import db
from registry.errors import InvalidInput
from registry.releases.models import Release, Solution
from registry.sbom.ecosystems import parse_purl, purl_base
from registry.sbom.models import Component
from registry.sbom.service import VISIBLE_STATES


@dataclass
class RunBy:
    org: str  # slug
    name: str
    stage: str


@dataclass
class Usage:
    solution: str
    version: str
    state: str
    component: dict[str, str | None]
    adopters: list[RunBy] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"solution": self.solution, "version": self.version, "state": self.state, "component": self.component,
                "adopters": [a.__dict__ for a in self.adopters]}


def where_used(purl: str) -> list[Usage]:
    """Published and yanked releases containing the package, with the municipalities that adopted them.

    A purl with a version matches that version exactly; without one, any version. Ordered by
    solution name, then upload order.
    """
    try:
        parsed = parse_purl((purl or "").strip())
    except ValueError as exc:
        raise InvalidInput(str(exc), field="purl") from None
    base = purl_base(parsed.to_string())
    query = (select(Component, Release, Solution).join(Release, Release.id == Component.release_id)
             .join(Solution, Solution.id == Release.solution_id)
             .where(Component.purl_base == base, Release.state.in_(VISIBLE_STATES))
             .order_by(Solution.name, Release.id, Component.id))
    usages: list[Usage] = []
    release_usage: dict[int, Usage] = {}
    for component, release, solution in db.session.execute(query):
        if parsed.version and component.version != parsed.version and \
                (component.purl is None or parse_purl(component.purl).version != parsed.version):
            continue
        if release.id in release_usage:
            continue  # one entry per release, even if the SBOM lists the package twice
        usage = Usage(solution.name, release.version, release.state,
                      {"name": component.name, "version": component.version, "purl": component.purl})
        release_usage[release.id] = usage
        usages.append(usage)
    if release_usage:
        for adoption in db.session.scalars(select(Adoption).where(Adoption.release_id.in_(release_usage))
                                           .order_by(Adoption.id)):
            release_usage[adoption.release_id].adopters.append(RunBy(adoption.org.slug, adoption.org.name, adoption.stage))
    return usages
