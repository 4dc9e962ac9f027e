"""SBOM endpoints of the JSON API: where a package is used, and a release's components as CSV.

Registered on `registry.api.bp` when imported (``from registry.sbom import api`` in
registry/api/__init__.py).
"""

from __future__ import annotations

from flask import Response, request

from registry.web import api_bp as bp
from registry.accounts.auth import optional_token
from registry.errors import InvalidInput, NotFound
from registry.sbom.service import VISIBLE_STATES, components_csv, find_release, where_used

MAX_PURL_LENGTH = 1000


@bp.get("/components")
def components_where_used():
    purl = (request.args.get("purl") or "").strip()
    if not purl:
        raise InvalidInput("give the package URL to look for, e.g. ?purl=pkg:pypi/requests", field="purl")
    if len(purl) > MAX_PURL_LENGTH:
        raise InvalidInput(f"the purl is longer than {MAX_PURL_LENGTH} characters", field="purl")
    return {"purl": purl, "matches": [usage.to_dict() for usage in where_used(purl)]}


@bp.get("/solutions/<name>/releases/<version>/components.csv")
def release_components_csv(name: str, version: str):
    release = find_release(name, version)
    if release.state not in VISIBLE_STATES:
        # Unpublished releases are visible to their own organisation's tokens only.
        token = optional_token()
        if token is None or token.org_id != release.solution.org_id:
            raise NotFound(f"no release {version} of solution {name!r}")
    filename = f"{release.solution.name}-{release.version}-components.csv"
    return Response(components_csv(release), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
