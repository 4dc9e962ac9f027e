"""The catalog's index of published solutions, and keeping it in sync with every write.

`reindex_solution(solution)` rewrites the solution's row in `search_documents` and its
`search_facets` from its latest published release. The "reindex" handler calls it after
every event that changes what search shows (a release published, yanked or unyanked, a
solution's state, an adoption; registry/handlers.py), once the change is committed.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, func, insert, select

from registry.accounts.models import Organization
from registry.catalog.models import Adoption, AdoptionStage, SearchDocument, SearchFacet
from registry.catalog.search import bigrams, index_changed, normalize
from registry.db import db, utcnow
from registry.releases.models import Release, ReleaseState, Solution
from registry.releases.versions import latest_published
from registry.spec.vocabulary import CATEGORY_LABELS

log = logging.getLogger("registry.catalog")


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(v) for v in value.values() if v]
    return [str(value)] if value else []


def build_document(*, solution_id: int, name: str, org_id: int, org_name: str, release_id: int, version: str,
                   manifest: dict, published_at, adoption_count: int) -> tuple[dict, list[dict]]:
    """The search_documents row and search_facets rows of one solution (pure: the benchmark uses it too)."""
    funding = manifest.get("funding") or {}
    data_hub = manifest.get("dataHub") or {}
    entities = data_hub.get("entities") or []
    categories = list(manifest.get("categories") or [])
    deploy_kinds = sorted({t.get("kind") for t in (manifest.get("deploy") or {}).get("targets") or [] if t.get("kind")})
    license_ = (manifest.get("legal") or {}).get("license")
    municipality = funding.get("municipality")

    head_parts = [name, *_texts(manifest.get("title")), *(str(k) for k in manifest.get("keywords") or [])]
    body_parts = [
        *head_parts, *_texts(manifest.get("summary")), *_texts(manifest.get("description")),
        *(str(e.get("type")) for e in entities if e.get("type")), org_name, municipality or "",
        *(label for c in categories for label in CATEGORY_LABELS.get(c, {}).values()),
    ]
    display = {
        "title": manifest.get("title") or {}, "summary": manifest.get("summary") or {},
        "categories": categories, "programme": funding.get("programme"), "year": funding.get("year"),
        "municipality": municipality, "status": manifest.get("developmentStatus"), "license": license_,
        "deploy": deploy_kinds,
    }
    body = normalize(" ".join(body_parts))
    document = {
        "solution_id": solution_id, "release_id": release_id, "name": name, "version": version, "org_id": org_id,
        "display": display, "head": normalize(" ".join(head_parts)), "body": body, "grams": bigrams(body),
        "requirements": entities, "spec_range": data_hub.get("specVersion"),
        "adoption_count": adoption_count, "published_at": published_at, "indexed_at": utcnow(),
    }
    values = {
        "category": categories,
        "programme": [funding.get("programme")],
        "year": [str(funding["year"])] if funding.get("year") is not None else [],
        "entity_type": [e.get("type") for e in entities],
        "deploy": deploy_kinds,
        "license": [license_],
        "status": [manifest.get("developmentStatus")],
        "maintenance": [(manifest.get("maintenance") or {}).get("type")],
        "municipality": [municipality],
    }
    facets = [{"solution_id": solution_id, "facet": facet, "value": str(value)[:200]}
              for facet, chosen in values.items() for value in dict.fromkeys(chosen) if value]
    return document, facets


def latest_published_release(solution_id: int) -> Release | None:
    published = db.session.scalars(select(Release).where(Release.solution_id == solution_id,
                                                         Release.state == ReleaseState.PUBLISHED)).all()
    return latest_published(published)


def adoption_count(solution_id: int) -> int:
    """Municipalities running any version of the solution (retired deployments do not count)."""
    return db.session.scalar(select(func.count(func.distinct(Adoption.org_id))).where(
        Adoption.solution_id == solution_id, Adoption.stage != AdoptionStage.RETIRED)) or 0


def reindex_solution(solution: Solution | int) -> bool:
    """Rewrite the solution's search entry; returns whether it is searchable (has a published release)."""
    solution_id = solution if isinstance(solution, int) else solution.id
    session = db.session
    # Reindexing one solution takes turns (two jobs at once would delete and insert the same rows).
    session.execute(select(Solution.id).where(Solution.id == solution_id).with_for_update(key_share=True))
    index_changed()
    session.execute(delete(SearchFacet).where(SearchFacet.solution_id == solution_id))
    session.execute(delete(SearchDocument).where(SearchDocument.solution_id == solution_id))
    row = session.execute(select(Solution.name, Solution.org_id, Organization.name)
                          .join(Organization, Organization.id == Solution.org_id)
                          .where(Solution.id == solution_id)).first()
    release = latest_published_release(solution_id) if row else None
    if release is None:
        return False
    name, org_id, org_name = row
    document, facets = build_document(
        solution_id=solution_id, name=name, org_id=org_id, org_name=org_name, release_id=release.id,
        version=release.version, manifest=release.manifest or {}, published_at=release.published_at,
        adoption_count=adoption_count(solution_id))
    session.execute(insert(SearchDocument), [document])
    if facets:
        session.execute(insert(SearchFacet), facets)
    return True


def reindex_all() -> int:
    """Rebuild the whole index (after an import or a migration); returns how many solutions are searchable."""
    ids = db.session.scalars(select(Solution.id).order_by(Solution.id)).all()
    return sum(reindex_solution(solution_id) for solution_id in ids)
