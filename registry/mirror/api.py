"""The origin's side of an online mirror: the bundle `flask mirror pull` fetches, over HTTP."""

from __future__ import annotations

from flask import Response, request
from werkzeug.wsgi import wrap_file

from registry.errors import InvalidInput
from registry.mirror import service
from registry.web import api_bp as bp


@bp.get("/mirror/bundle")
def mirror_bundle():
    """The tar `flask mirror export --since N` writes, streamed from a temporary file."""
    raw = request.args.get("since") or "0"
    if not raw.isdigit():
        raise InvalidInput(f"since is the tree size the mirror has of this log, a whole number, not {raw[:40]!r}",
                           field="since")
    bundle = service.spool_bundle(int(raw))
    return Response(wrap_file(request.environ, bundle.file), mimetype="application/x-tar", direct_passthrough=True,
                    headers={"Content-Length": str(bundle.size), "Cache-Control": "no-store",
                             "X-Log-Tree-Size": str(bundle.summary.tree_size),
                             "Content-Disposition": f"attachment; filename=mirror-{raw}-{bundle.summary.tree_size}.tar"})
