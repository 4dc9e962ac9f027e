"""The OpenAPI 3.1 document, assembled from one YAML fragment per domain in api/openapi/.

A test compares it with the routes Flask really serves, so the two cannot drift apart.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from registry.web import api_bp as bp

FRAGMENTS = Path(__file__).parent / "openapi"


@cache
def openapi_document() -> dict:
    document = yaml.safe_load((FRAGMENTS / "_base.yaml").read_text(encoding="utf-8"))
    for fragment in sorted(FRAGMENTS.glob("[!_]*.yaml")):
        part = yaml.safe_load(fragment.read_text(encoding="utf-8")) or {}
        for path, operations in (part.get("paths") or {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        for section, items in (part.get("components") or {}).items():
            document["components"].setdefault(section, {}).update(items)
        document["tags"].extend(part.get("tags") or [])
    _facet_vocabularies(document)
    return document


def _facet_vocabularies(document: dict) -> None:
    """The search filters' allowed values are the facets' own vocabularies (registry/catalog/search.py)."""
    from registry.catalog.search import FACETS

    for parameter in document["paths"]["/solutions"]["get"]["parameters"]:
        vocabulary = FACETS.get(parameter["name"])
        if vocabulary is not None:
            parameter["schema"]["items"]["enum"] = list(vocabulary)


@bp.get("/openapi.json")
def openapi_json():
    return openapi_document()
