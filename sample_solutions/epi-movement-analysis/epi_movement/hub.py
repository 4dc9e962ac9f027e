"""A minimal NGSI-LD client: only the calls this solution needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
# A broker that ignores `offset` would otherwise make pagination loop forever.
MAX_ENTITIES = 100_000


class HubError(RuntimeError):
    """The data hub could not be reached or answered with an error."""


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
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.hub_url = hub_url.rstrip("/")
        self.context = context
        self.page_size = page_size
        self.timeout = timeout
        self.session = session or requests.Session()

    def _headers(self) -> dict[str, str]:
        return {
            "Accept": "application/ld+json",
            "Link": f'<{self.context}>; rel="http://www.w3.org/ns/json-ld#context"; '
            'type="application/ld+json"',
        }

    def _get_pages(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page_params = {**params, "limit": str(self.page_size), "offset": str(offset)}
            url = f"{self.hub_url}{path}"
            try:
                response = self.session.get(
                    url, params=page_params, headers=self._headers(), timeout=self.timeout
                )
            except requests.RequestException as exc:
                raise HubError(f"data hub {self.hub_url} is unreachable: {exc}") from exc
            if response.status_code != 200:
                raise HubError(
                    f"GET {url} answered {response.status_code}: {response.text[:200]}"
                )
            page = response.json()
            if not isinstance(page, list):
                raise HubError(f"GET {url} did not return a JSON array of entities")
            yield from page
            offset += len(page)
            if len(page) < self.page_size:
                return
            if offset >= MAX_ENTITIES:
                raise HubError(f"more than {MAX_ENTITIES} entities; narrow the query")

    def temporal_entities(
        self, entity_type: str, time_at: str, end_time_at: str
    ) -> Iterator[dict[str, Any]]:
        """Temporal evolution of all entities of a type between two instants."""
        return self._get_pages(
            "/ngsi-ld/v1/temporal/entities",
            {
                "type": entity_type,
                "timerel": "between",
                "timeAt": time_at,
                "endTimeAt": end_time_at,
            },
        )
