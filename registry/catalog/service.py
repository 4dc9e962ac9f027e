"""The catalog's index of published solutions, and keeping it in sync with every write.

`reindex_solution(solution)` rewrites the solution's row in `search_documents` and its
`search_facets` from its latest published release. The "reindex" handler calls it after
every event that changes what search shows (a release published, yanked or unyanked, a
solution's state, an adoption; registry/handlers.py), once the change is committed.
"""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from registry.accounts.models import Organization
from registry.audit.models import AuditEvent
from registry.catalog import adoption, fit, search
from registry.catalog.models import (
    Adoption,
    AdoptionStage,
    DataHubProfile,
    SearchDocument,
    SearchFacet,
    SearchFacetValue,
)
from registry.catalog.search import index_changed, normalize, word_pieces
from registry.db import db, utcnow
from registry.releases.files import download_url
from registry.releases.models import Release, ReleaseState, Solution
from registry.releases.service import can_see
from registry.releases.versions import latest_published, precedence
from registry.review.models import Review
from registry.sbom.models import Component, Finding
from registry.sbom.service import risk_summary
from registry.spec.deploy import KUBE_VERSION_KINDS, UnknownDeployKind, install_commands
from registry.spec.names import artifact_filename
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
        "display": display, "head": normalize(" ".join(head_parts)), "body": body, "grams": word_pieces(body),
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
        session.execute(insert(SearchFacet), facet_links(facets))
    return True


def facet_links(facets: list[dict]) -> list[dict]:
    """The search_facets rows of build_document()'s (facet, value) rows: each value named by its id in
    search_facet_values, added there the first time the index holds it."""
    pairs = {(row["facet"], row["value"]) for row in facets}
    ids = search.value_ids(pairs)
    if len(ids) < len(pairs):
        table = SearchFacetValue.__table__
        add = (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
        # A value two solutions bring at once is added by one; the other's insert waits for it, then does nothing.
        db.session.execute(add.on_conflict_do_nothing(index_elements=["facet", "value"]),
                           [{"facet": facet, "value": value} for facet, value in sorted(pairs - ids.keys())])
        ids = search.value_ids(pairs)
    return [{"solution_id": row["solution_id"], "facet": row["facet"], "value_id": ids[row["facet"], row["value"]]}
            for row in facets]


def reindex_all() -> int:
    """Rebuild the whole index (after an import or a migration); returns how many solutions are searchable."""
    ids = db.session.scalars(select(Solution.id).order_by(Solution.id)).all()
    return sum(reindex_solution(solution_id) for solution_id in ids)


# --- what the catalog's pages and their JSON twins show -------------------------------------------

HOME_NEWEST = 8
HOME_MOST_ADOPTED = 6
HISTORY_LIMIT = 100


def reader_profile(user) -> DataHubProfile | None:
    """The data-hub profile of the signed-in reader's (first) municipality that has one."""
    for org in adoption.user_municipalities(user):
        profile = fit.get_profile(org.id)
        if profile is not None:
            return profile
    return None


def home_data() -> dict[str, Any]:
    overview = search.cached_search(search.SearchQuery())
    newest = db.session.scalars(select(Release).where(Release.state == "published")
                                .order_by(Release.published_at.desc(), Release.id.desc()).limit(HOME_NEWEST)).all()
    docs = SearchDocument.__table__
    most_adopted = db.session.execute(
        select(docs.c.name, docs.c.version, docs.c.display, docs.c.adoption_count)
        .where(docs.c.adoption_count > 0)
        .order_by(docs.c.adoption_count.desc(), docs.c.published_at.desc()).limit(HOME_MOST_ADOPTED)).all()
    counted = search.index_facet_counts(("category", "programme"))
    return {"total": overview.total, "categories": counted["category"],
            "programmes": counted["programme"], "newest": newest, "most_adopted": most_adopted}


@dataclass
class InstallStep:
    kind: str
    path: str
    commands: list[str]
    note: str = ""


def install_steps(release: Release) -> list[InstallStep]:
    """Shell commands built only from registry-checked parts, each one quoted anyway: the file name is the
    registry's own, never the one the client uploaded under, and manifest paths are text from the vendor."""
    name, version = release.solution.name, release.version
    filename = artifact_filename(name, version, "archive", "application/gzip")
    url = download_url(release, "archive")
    file, folder = shlex.quote(filename), shlex.quote(f"{name}-{version}")
    fetch = [f"curl -fLo {file} {shlex.quote(url)}", f"echo {shlex.quote(f'{release.sha256}  {filename}')} | "
             "sha256sum -c -", f"tar xzf {file} && cd {folder}"]
    steps = []
    for target in release.deploy_targets:
        try:
            commands = install_commands(target.kind, name, target.path)
        except UnknownDeployKind:  # e.g. mirrored from a registry that knows more kinds: no guessed commands
            steps.append(InstallStep(target.kind, target.path, [], _(
                "No install commands are known for the deployment kind %(kind)s.", kind=target.kind)))
            continue
        kube = (target.details or {}).get("kubeVersion") if target.kind in KUBE_VERSION_KINDS else None
        steps.append(InstallStep(target.kind, target.path, [*fetch, *commands],
                                 _("Kubernetes %(range)s", range=kube) if kube else ""))
    return steps


@dataclass
class SbomSummary:
    components: int
    licences: list[tuple[str, int]]
    findings: list[Any]
    risk: dict | None = None


def sbom_summary(release: Release) -> SbomSummary | None:
    components = db.session.scalars(select(Component).where(Component.release_id == release.id)).all()
    if not components:
        return None
    licences: dict[str, int] = {}
    for component in components:
        key = component.license_expression or ", ".join(component.licenses or []) or _("unknown")
        licences[key] = licences.get(key, 0) + 1
    findings = db.session.scalars(select(Finding).where(Finding.release_id == release.id).order_by(Finding.id)).all()
    return SbomSummary(len(components), sorted(licences.items(), key=lambda kv: (-kv[1], kv[0])), list(findings),
                       risk_summary(release))


@dataclass
class PageData:
    solution: Solution
    release: Release
    releases: list[Release]
    latest: Release | None
    adopters: list[adoption.Adopter]
    approvals: list[Review]
    history: list[AuditEvent]
    install: list[InstallStep]
    sbom: SbomSummary | None
    fit: fit.Fit | None = None
    profile_org: Organization | None = None
    state_reason: str | None = None  # why it is deprecated or archived, as the publisher said
    extra: dict = field(default_factory=dict)


def page_data(solution: Solution, release: Release, releases: list[Release], user) -> PageData:
    """What the solution page shows; `releases` are those the reader may see, and so is the history."""
    approvals = [r for r in release.reviews if r.decision == "approve"]
    version = AuditEvent.details["version"].as_string()
    history = db.session.scalars(select(AuditEvent).where(
        AuditEvent.solution_id == solution.id, or_(version.is_(None), version.in_([r.version for r in releases])))
        .order_by(AuditEvent.id.desc()).limit(HISTORY_LIMIT)).all()
    data = PageData(solution, release, releases, latest_published(solution.releases), adoption.adopters(solution),
                    list(approvals), list(history), install_steps(release), sbom_summary(release))
    profile = reader_profile(user)
    if profile is not None:
        data.fit = fit.release_fit(release, profile)
        data.profile_org = profile.org
    if solution.state != "active":
        data.state_reason = state_reason(solution)
    return data


def state_reason(solution: Solution) -> str | None:
    """The reason given with the solution's last change of state (kept in the audit log)."""
    last = db.session.scalar(select(AuditEvent).where(AuditEvent.solution_id == solution.id,
                                                      AuditEvent.action == "solution.state")
                             .order_by(AuditEvent.id.desc()).limit(1))
    return (last.details or {}).get("reason") if last else None


def visible_releases(solution: Solution, user, token=None) -> list[Release]:
    """The releases the reader may see, newest version first."""
    visible = [r for r in solution.releases if can_see(r, user, token)]
    return sorted(visible, key=lambda r: precedence(r.version), reverse=True)
