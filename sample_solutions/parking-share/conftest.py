"""Test setup: put this solution's root on sys.path and provide a fake NGSI-LD broker."""
from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

ENTITIES_PATH = "/ngsi-ld/v1/entities"


@dataclass
class FakeBroker:
    """An in-memory NGSI-LD broker: type queries with limit/offset/count, PATCH of attrs."""

    entities: dict[str, dict[str, Any]]
    max_page: int = 1000  # like real brokers, cap the page size whatever limit asks for
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def of_type(self, entity_type: str) -> list[dict[str, Any]]:
        return sorted((e for e in self.entities.values() if e["type"] == entity_type), key=lambda e: e["id"])


def _handler(broker: FakeBroker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, val in (headers or {}).items():
                self.send_header(name, val)
            if body is not None:
                self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            broker.requests.append({"method": "GET", "path": url.path, "query": query, "headers": dict(self.headers)})
            if url.path != ENTITIES_PATH:
                return self._send(404, {"title": "Not found"})
            if "type" not in query:
                return self._send(400, {"title": "BadRequestData", "detail": "type is required"})
            matching = broker.of_type(query["type"])
            limit = min(int(query.get("limit", 20)), broker.max_page)
            offset = int(query.get("offset", 0))
            headers = {"NGSILD-Results-Count": str(len(matching))} if query.get("count") == "true" else {}
            self._send(200, matching[offset : offset + limit], headers)

        def do_PATCH(self) -> None:
            url = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            broker.requests.append({"method": "PATCH", "path": url.path, "body": body, "headers": dict(self.headers)})
            prefix, suffix = ENTITIES_PATH + "/", "/attrs"
            if not (url.path.startswith(prefix) and url.path.endswith(suffix)):
                return self._send(404, {"title": "Not found"})
            entity = broker.entities.get(unquote(url.path[len(prefix) : -len(suffix)]))
            if entity is None:
                return self._send(404, {"title": "ResourceNotFound"})
            entity.update(body)
            self._send(204)

    return Handler


@pytest.fixture
def fake_broker() -> Iterator[Any]:
    """Factory: ``fake_broker(entities, max_page=...)`` starts a broker on 127.0.0.1."""
    servers: list[ThreadingHTTPServer] = []

    def start(entities: list[dict[str, Any]], max_page: int = 1000) -> FakeBroker:
        broker = FakeBroker({e["id"]: e for e in entities}, max_page)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(broker))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        broker.url = f"http://127.0.0.1:{server.server_address[1]}"
        return broker

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
