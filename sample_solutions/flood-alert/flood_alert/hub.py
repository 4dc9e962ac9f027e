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

    @property
    def link_header(self) -> str:
        return (
            f'<{self.context}>; rel="http://www.w3.org/ns/json-ld#context"; '
            'type="application/ld+json"'
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.hub_url}{path}"
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise HubError(f"data hub {self.hub_url} is unreachable: {exc}") from exc

    def entities(self, entity_type: str) -> Iterator[dict[str, Any]]:
        """All entities of a type, fetched page by page with limit/offset."""
        offset = 0
        headers = {"Accept": "application/ld+json", "Link": self.link_header}
        while True:
            params = {"type": entity_type, "limit": str(self.page_size), "offset": str(offset)}
            response = self._request("GET", "/ngsi-ld/v1/entities", params=params, headers=headers)
            if response.status_code != 200:
                raise HubError(
                    f"GET entities of {entity_type} answered {response.status_code}: "
                    f"{response.text[:200]}"
                )
            page = response.json()
            if not isinstance(page, list):
                raise HubError("GET /ngsi-ld/v1/entities did not return a JSON array")
            yield from page
            offset += len(page)
            if len(page) < self.page_size:
                return
            if offset >= MAX_ENTITIES:
                raise HubError(f"more than {MAX_ENTITIES} {entity_type} entities")

    def _post(self, path: str, body: dict[str, Any]) -> bool:
        """POST a JSON document; False when it already exists (409), True when created."""
        headers = {"Content-Type": "application/json", "Link": self.link_header}
        response = self._request("POST", path, json=body, headers=headers)
        if response.status_code == 409:
            return False
        if response.status_code not in (200, 201, 204):
            raise HubError(f"POST {path} answered {response.status_code}: {response.text[:200]}")
        return True

    def create_entity(self, entity: dict[str, Any]) -> bool:
        return self._post("/ngsi-ld/v1/entities", entity)

    def subscribe(self, subscription: dict[str, Any]) -> bool:
        return self._post("/ngsi-ld/v1/subscriptions", subscription)
