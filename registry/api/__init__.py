"""JSON API v1. Every endpoint is described in registry/api/openapi.py."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from registry.api import accounts, openapi, publishing  # noqa: E402,F401  (registers routes)
from registry.review import api as review_api  # noqa: E402,F401
from registry.sbom import api as sbom_api  # noqa: E402,F401
from registry.catalog import api as catalog_api  # noqa
from registry.transparency import api as transparency_api  # noqa: E402,F401
from registry.notifications import api as notifications_api  # noqa: E402,F401
