"""Minimal NGSI-LD client: paged entity queries and attribute patches.

Understands both the normalised representation (``{"type": "Property", "value": ...}``)
and ``keyValues``, because brokers behind city data hubs are configured either way.
"""
from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

import requests

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
EARTH_RADIUS_M = 6_371_008.8

Entity = dict[str, Any]


class NgsiLdError(RuntimeError):
    """The data hub answered with an error or with something that is not NGSI-LD."""


class NgsiLdClient:
    def __init__(
        self,
        hub_url: str,
        *,
        context: str = CORE_CONTEXT,
        page_size: int = 100,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        if not hub_url.startswith(("http://", "https://")):
            raise ValueError(f"hub URL must start with http:// or https://, got {hub_url!r}")
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be between 1 and 1000, got {page_size}")
        self.base_url = hub_url.rstrip("/") + "/ngsi-ld/v1"
        self.context = context
        self.page_size = page_size
        self.timeout = timeout
        self.session = session or requests.Session()

    def _link_header(self) -> str:
        return f'<{self.context}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'

    def entities(self, entity_type: str) -> list[Entity]:
        """Every entity of ``entity_type``, following ``limit``/``offset`` pages to the end.

        Asks for ``count=true`` so that a broker capping ``limit`` below our page size
        still gets paged through to the reported total.
        """
        found: list[Entity] = []
        seen_ids: set[str] = set()
        offset = 0
        while True:
            response = self._request(
                "GET",
                f"{self.base_url}/entities",
                params={"type": entity_type, "limit": self.page_size, "offset": offset, "count": "true"},
                headers={"Accept": "application/ld+json", "Link": self._link_header()},
            )
            page = self._json(response, f"query of {entity_type} entities")
            if not isinstance(page, list):
                raise NgsiLdError(f"query of {entity_type} entities: expected a JSON array, got {type(page).__name__}")
            new = [entity for entity in page if entity.get("id") not in seen_ids]
            if page and not new:
                # A broker that ignores offset would otherwise make us loop forever.
                raise NgsiLdError(f"query of {entity_type} entities: broker repeated a page at offset {offset}")
            found.extend(new)
            seen_ids.update(entity.get("id") for entity in new)
            offset += len(page)
            total = response.headers.get("NGSILD-Results-Count")
            if not page or (offset >= int(total) if total and total.isdigit() else len(page) < self.page_size):
                return found

    def update_attrs(self, entity_id: str, attrs: dict[str, Any]) -> None:
        """Partially update existing attributes (``PATCH /entities/{id}/attrs``)."""
        response = self._request(
            "PATCH",
            f"{self.base_url}/entities/{quote(entity_id, safe=':')}/attrs",
            json=attrs,
            headers={"Content-Type": "application/json", "Link": self._link_header()},
        )
        if response.status_code != 204:
            raise NgsiLdError(f"update of {entity_id}: HTTP {response.status_code} {_detail(response)}")

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise NgsiLdError(f"data hub unreachable: {exc}") from exc

    @staticmethod
    def _json(response: requests.Response, what: str) -> Any:
        if response.status_code != 200:
            raise NgsiLdError(f"{what}: HTTP {response.status_code} {_detail(response)}")
        try:
            return response.json()
        except ValueError as exc:
            raise NgsiLdError(f"{what}: response is not JSON") from exc


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)
    return str(body)[:200]


def value(entity: Entity, attr: str, default: Any = None) -> Any:
    """The plain value of a Property, GeoProperty or Relationship in either representation."""
    raw = entity.get(attr)
    if raw is None:
        return default
    if isinstance(raw, dict):
        if "value" in raw:
            return raw["value"]
        if "object" in raw:
            return raw["object"]
    return raw


def point(entity: Entity, attr: str = "location") -> tuple[float, float] | None:
    """(latitude, longitude) of a GeoJSON Point attribute, or None when absent or not a point."""
    geometry = value(entity, attr)
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    lon, lat = geometry["coordinates"][:2]
    return float(lat), float(lon)


def property_attr(val: Any) -> dict[str, Any]:
    return {"type": "Property", "value": val}


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))
