"""Catalog endpoints of the JSON API: the JSON twins of the catalog pages, data-hub profiles, adoptions."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict
from functools import lru_cache

from flask import Response, request, url_for
from flask_login import current_user
from werkzeug.sansio.utils import get_current_url

from registry.accounts import service as accounts
from registry.accounts.auth import current_token, optional_token
from registry.accounts.models import ApiToken, Organization
from registry.accounts.service import require_scope
from registry.catalog import adoption, dashboard, fit, search, service, whereused
from registry.db import replica_reads
from registry.errors import InvalidInput, NotFound
from registry.releases.files import download_url
from registry.releases.service import can_see, get_release, get_solution, release_link
from registry.releases.versions import latest_published
from registry.spec.publiccode import PubliccodeError, export_publiccode, publiccode_to_yaml
from registry.spec.vocabulary import CATEGORY_LABELS, PROGRAMME_LABELS
from registry.web import api_bp as bp
from registry.web import conditional, iso, json_body, localized_for_reader, reader_locale


def _hit_json(hit: search.Hit) -> dict:
    display = hit.display or {}
    return {
        "name": hit.name,
        "title": localized_for_reader(display.get("title")) or hit.name,
        "summary": localized_for_reader(display.get("summary")),
        "titles": display.get("title") or {},
        "summaries": display.get("summary") or {},
        "latest_version": hit.version,
        "org": hit.org_slug,
        "org_name": hit.org_name,
        "categories": display.get("categories") or [],
        "programme": display.get("programme"),
        "year": display.get("year"),
        "municipality": display.get("municipality"),
        "license": display.get("license"),
        "status": display.get("status"),
        "deploy": display.get("deploy") or [],
        "adoption_count": hit.adoption_count,
        "published_at": iso(hit.published_at),
        "url": _ORIGIN.decode() + url_for("catalog.solution_page", name=hit.name),
    }


def _token_profile(token: ApiToken | None):
    if token is None or token.org.kind != "municipality":
        return None
    return fit.get_profile(token.org_id)


@bp.get("/solutions")
@replica_reads
def search_solutions():
    query = search.SearchQuery.from_args(request.args)
    token = optional_token()
    profile = _token_profile(token) or service.reader_profile(current_user)
    if query.fits_hub and profile is None:
        raise InvalidInput("fits_hub needs a data-hub profile: send a token of a municipality that recorded one",
                           field="fits_hub")
    fit_ids = fit.fitting_solution_ids(profile) if profile else None
    # The encoded answer is cached on nothing the client chooses but the search itself (not the
    # Host header: the origin of its URLs is put in per request), in a bounded LRU.
    key = (search.index_state(), tuple(query.to_args(page=query.page)), fit_ids, reader_locale())
    rendered = search.rendered_cache()
    body, digest = rendered.get(key) or (None, None)
    if body is None:
        body = json.dumps(_search_json(search.cached_search(query, fit_ids)), ensure_ascii=False,
                          separators=(",", ":")).encode()
        digest = hashlib.blake2b(body, digest_size=16).digest()
        search.remember(rendered, key, (body, digest))
    else:
        rendered.move_to_end(key)
    origin = _origin(request.scheme, request.host)
    response = Response(body.replace(_ORIGIN, origin), mimetype="application/json")
    response.set_etag(hashlib.blake2b(digest + origin, digest_size=16).hexdigest())
    return conditional(response)


# Stands for the request's origin in cached answers; random, so no stored text can contain it.
_ORIGIN = f"origin-{secrets.token_hex(16)}".encode()


@lru_cache(maxsize=16)
def _origin(scheme: str, host: str) -> bytes:
    """`request.host_url` without its slash, encoded: the same few hosts ask again and again (bounded,
    so a client changing its Host header only pushes older ones out)."""
    return get_current_url(scheme, host).rstrip("/").encode()


def _search_json(result: search.SearchResult) -> dict:
    query = result.query
    facets = {facet: [{"value": v.value, "count": v.count, "selected": v.selected} for v in values]
              for facet, values in result.facets.items()}
    if result.fits_hub_count is not None:
        facets["fits_hub"] = [{"value": "1", "count": result.fits_hub_count, "selected": query.fits_hub}]
    # Beyond search.COUNT_CAP matches, `total` and the counts of the facets named in
    # `estimated_facets` are lower bounds (see docs/catalog.md, "Counts").
    return {"query": query.text, "results": [_hit_json(h) for h in result.hits], "total": result.total,
            "total_is_estimate": result.total_is_estimate, "count_cap": search.COUNT_CAP,
            "page": result.page, "pages": result.pages, "has_next": result.has_next,
            "page_size": search.PAGE_SIZE, "sort": query.sort, "shortened": result.shortened,
            "facets": facets, "estimated_facets": sorted(result.estimated_facets)}


@bp.get("/catalog")
@replica_reads
def catalog_home():
    data = service.home_data()
    lang = reader_locale()

    def counted(values, labels):
        return [{"value": v.value, "label": labels.get(v.value, {}).get(lang, v.value), "count": v.count}
                for v in values]

    return {
        "total": data["total"],
        "categories": counted(data["categories"], CATEGORY_LABELS),
        "programmes": counted(data["programmes"], PROGRAMME_LABELS),
        "newest": [{"name": r.solution.name, "version": r.version, "title": localized_for_reader(r.manifest.get("title")),
                    "summary": localized_for_reader(r.manifest.get("summary")), "org": r.solution.org.slug,
                    "published_at": iso(r.published_at),
                    "url": release_link(r)}
                   for r in data["newest"]],
        "most_adopted": [{"name": row.name, "version": row.version, "title": localized_for_reader(row.display.get("title")),
                          "adoption_count": row.adoption_count} for row in data["most_adopted"]],
    }


@bp.get("/reuse")
@replica_reads
def reuse_dashboard():
    """The reuse dashboard as JSON: the summary and every table, or the one asked for (?table=)."""
    table = request.args.get("table")
    if table is not None and table not in dashboard.TABLES:
        raise InvalidInput(f"unknown table {table!r}; choose one of {', '.join(dashboard.TABLES)}", field="table")
    data = dashboard.reuse_dashboard()
    summary = data.summary
    return {"summary": {**asdict(summary), "reuse_share": summary.reuse_share},
            "tables": {name: dashboard.table_records(data, name) for name in ([table] if table else dashboard.TABLES)}}


@bp.get("/solutions/<name>/releases/<version>/publiccode.yml")
@replica_reads
def publiccode_yml(name: str, version: str):
    release = get_release(name, version)
    if not can_see(release, None, optional_token()):
        raise NotFound(f"{release.solution.name} has no version {version!r}", field="version")
    try:
        exported = export_publiccode(release.manifest or {},
                                     release_date=(release.published_at or release.created_at).date(),
                                     landing_url=url_for("catalog.solution_page", name=release.solution.name,
                                                         _external=True))
    except PubliccodeError as exc:
        raise InvalidInput(f"this manifest cannot be exported as publiccode.yml: {exc}") from None
    return Response(publiccode_to_yaml(exported.document), mimetype="application/yaml",
                    headers={"Content-Disposition": 'inline; filename="publiccode.yml"'})


@bp.get("/solutions/<name>/overview")
@replica_reads
def solution_overview(name: str):
    """The solution page as JSON: versions, adopters, requirements, install steps, SBOM, provenance, fit."""
    solution = get_solution(name)
    token = optional_token()
    releases = service.visible_releases(solution, current_user, token)
    if not releases:
        raise NotFound(f"no solution named {name!r}", field="name")
    release = latest_published(solution.releases) or releases[0]
    page = service.page_data(solution, release, releases, current_user)
    profile = _token_profile(token)
    page_fit = fit.release_fit(release, profile) if profile else page.fit
    sbom = page.sbom
    return {
        "name": solution.name,
        "version": release.version,
        "state": release.state,
        "title": (release.manifest or {}).get("title"),
        "summary": (release.manifest or {}).get("summary"),
        "org": solution.org.slug,
        "funding": (release.manifest or {}).get("funding"),
        "versions": [{"version": r.version, "state": r.state, "published_at": iso(r.published_at),
                      "yank_reason": r.yank_reason} for r in releases],
        "adopters": [{"org": a.org.slug, "name": a.org.name, "province": a.org.province, "version": a.version,
                      "stage": a.stage, "deployed_on": a.deployed_on.isoformat()} for a in page.adopters],
        "datahub_requirements": [{"type": r.entity_type, "typeUri": r.type_uri, "access": r.access,
                                  "attributes": r.attributes} for r in release.datahub_requirements],
        "install": [{"kind": s.kind, "path": s.path, "commands": s.commands} for s in page.install],
        "sbom": None if sbom is None else {"components": sbom.components, "licenses": dict(sbom.licences),
                                           "findings": [{"id": f.vulnerability_id, "severity": f.severity,
                                                         "component": f.component.name} for f in sbom.findings],
                                           "risk": sbom.risk},
        "provenance": {"repository": release.provenance_repository, "tag": release.provenance_tag,
                       "commit": release.provenance_commit,
                       "signer": release.signer_key.user.username if release.signer_key else None,
                       "approved_by": [r.reviewer.username for r in page.approvals]},
        "sha256": release.sha256,
        "archive_url": download_url(release, "archive"),
        "publiccode_url": url_for("api.publiccode_yml", name=solution.name, version=release.version, _external=True),
        "history": [{"at": iso(e.created_at), "action": e.action, "actor": e.actor_name,
                     "version": (e.details or {}).get("version")} for e in page.history],
        "fit": page_fit.to_json() if page_fit else None,
    }


# --- organizations: data-hub profile and adoptions ---------------------------------------------

def _org_token(slug: str, scope: str) -> tuple[ApiToken, Organization]:
    token = current_token()
    org = accounts.get_org(slug)
    require_scope(token, scope, org_id=org.id)
    return token, org


def _profile_json(org: Organization) -> dict:
    profile = fit.get_profile(org.id)
    if profile is None:
        raise NotFound(f"{org.slug} has recorded no data-hub profile yet", field="org")
    return {"org": org.slug, "specVersion": profile.spec_version, "entityTypes": profile.entity_types,
            "updated_at": iso(profile.updated_at)}


@bp.get("/orgs/<slug>/datahub-profile")
def get_datahub_profile(slug: str):
    _token, org = _org_token(slug, "read")
    return _profile_json(org)


@bp.put("/orgs/<slug>/datahub-profile")
def put_datahub_profile(slug: str):
    token, org = _org_token(slug, "adopt")
    body = json_body()
    document = body.get("entityTypes", body.get("document"))
    if document is None:
        raise InvalidInput("send the entity types as 'entityTypes' (any accepted document shape)", field="entityTypes")
    access = body.get("access")
    types = fit.parse_profile_document(document, access)
    spec_version = fit.check_spec_version(body.get("specVersion") if isinstance(body.get("specVersion"), str) else None)
    adoption.save_profile(token.user, org, spec_version, types)
    return _profile_json(org)


def _adoption_json(a) -> dict:
    return {"org": a.org.slug, "solution": a.solution.name, "version": a.release.version, "stage": a.stage,
            "deployed_on": a.deployed_on.isoformat(), "release_state": a.release.state,
            "recorded_at": iso(a.created_at)}


@bp.get("/orgs/<slug>/adoptions")
def list_adoptions(slug: str):
    org = accounts.get_org(slug)
    return {"org": org.slug, "adoptions": [_adoption_json(a) for a in adoption.org_adoptions(org)]}


@bp.post("/orgs/<slug>/adoptions")
def create_adoption(slug: str):
    token, org = _org_token(slug, "adopt")
    body = json_body()
    for key in ("solution", "version", "stage"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            raise InvalidInput(f"'{key}' is required", field=key)
    release = get_release(body["solution"], body["version"])
    if not can_see(release, None, None):
        raise NotFound(f"{release.solution.name} has no version {body['version']!r}", field="version")
    deployed_on = adoption.parse_date(body.get("deployed_on") if isinstance(body.get("deployed_on"), str) else None)
    record = adoption.record_adoption(token.user, org, release, body["stage"], deployed_on)
    return {"adoption": _adoption_json(record)}, 201


# --- following a solution ------------------------------------------------------------------------

def _follow(name: str, subscribed: bool) -> dict:
    token = current_token()
    require_scope(token, "read")
    solution = get_solution(name)
    if not any(r.state in ("published", "yanked") for r in solution.releases):
        raise NotFound(f"no solution named {name!r}", field="name")
    adoption.set_subscription(token.user, solution, subscribed)
    return {"solution": solution.name, "subscribed": subscribed}


@bp.put("/solutions/<name>/subscription")
def subscribe(name: str):
    return _follow(name, True)


@bp.delete("/solutions/<name>/subscription")
def unsubscribe(name: str):
    return _follow(name, False)


MAX_PURL_LENGTH = 1000


@bp.get("/components")
def components_where_used():
    purl = (request.args.get("purl") or "").strip()
    if not purl:
        raise InvalidInput("give the package URL to look for, e.g. ?purl=pkg:pypi/requests", field="purl")
    if len(purl) > MAX_PURL_LENGTH:
        raise InvalidInput(f"the purl is longer than {MAX_PURL_LENGTH} characters", field="purl")
    return {"purl": purl, "matches": [usage.to_dict() for usage in whereused.where_used(purl)]}
