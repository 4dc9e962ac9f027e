"""Bearer-token authentication for the API."""

from __future__ import annotations

from flask import request

from registry.accounts import service as accounts
from registry.accounts.models import ApiToken


def current_token() -> ApiToken:
    """The request's token, resolved once; raises Unauthorized (401) when missing or bad."""
    # Cached per request (not in `g`, which outlives a request when an app context is already pushed).
    if "registry.api_token" not in request.environ:
        request.environ["registry.api_token"] = accounts.token_from_header(request.headers.get("Authorization"))
    return request.environ["registry.api_token"]


def optional_token() -> ApiToken | None:
    return current_token() if request.headers.get("Authorization") else None
