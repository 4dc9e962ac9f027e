"""SBOM endpoints of the JSON API: a release's components as CSV."""

from __future__ import annotations

from flask import Response

from registry.accounts.auth import optional_token
from registry.errors import NotFound
from registry.releases.service import get_release
from registry.sbom.service import VISIBLE_STATES, components_csv
from registry.web import api_bp as bp


@bp.get("/solutions/<name>/releases/<version>/components.csv")
def release_components_csv(name: str, version: str):
    release = get_release(name, version)
    if release.state not in VISIBLE_STATES:
        # Unpublished releases are visible to their own organisation's tokens only.
        token = optional_token()
        if token is None or token.org_id != release.solution.org_id:
            raise NotFound(f"no release {version} of solution {name!r}")
    filename = f"{release.solution.name}-{release.version}-components.csv"
    return Response(components_csv(release), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
