"""Bearer-token authentication for the API."""

from __future__ import annotations

from flask import Response, request

from registry.accounts import service as accounts
from registry.accounts.models import ApiToken
from registry.api import bp

PRIVATE = "private, no-store"


def current_token() -> ApiToken:
    """The request's token, resolved once; raises Unauthorized (401) when missing or bad."""
    # Cached per request (not in `g`, which outlives a request when an app context is already pushed).
    if "registry.api_token" not in request.environ:
        request.environ["registry.api_token"] = accounts.token_from_header(request.headers.get("Authorization"))
    return request.environ["registry.api_token"]


def optional_token() -> ApiToken | None:
    return current_token() if request.headers.get("Authorization") else None


@bp.after_request
def _private_unless_said_otherwise(response: Response) -> Response:
    """API answers depend on who asks (pending releases, reviews, an org's data): no cache may keep
    one unless its route chose otherwise, as downloads of published releases do."""
    response.headers.setdefault("Cache-Control", PRIVATE)
    return response
