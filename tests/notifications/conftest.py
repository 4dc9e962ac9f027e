"""Fixtures of the webhook tests: a municipality with an owner, and HTTP receivers on loopback addresses."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from registry.db import db


class Receiver:
    """A webhook endpoint that keeps what it receives; answers `status` (and `location` for redirects)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, status: int = 204, location: str | None = None):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    """Make receivers; all are shut down after the test."""
    made: list[Receiver] = []

    def _make(**kw) -> Receiver:
        made.append(Receiver(**kw))
        return made[-1]

    yield _make
    for r in made:
        r.close()


@pytest.fixture
def cheonan(make_user):
    """The municipality "cheonan" (천안시) with its owner "cheonan"."""
    from registry.accounts import service

    user = make_user("cheonan")
    org = service.create_org("cheonan", "천안시", "municipality")
    service.add_member(org, user, "owner")
    db.session.commit()
    return org


class FakeDNS:
    """Answers for chosen names: each lookup takes the next answer (a list of IPs), the last one repeats."""

    def __init__(self, real):
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []

    def getaddrinfo(self, host, port, *args, **kw):
        if host not in self.answers:
            return self.real(host, port, *args, **kw)
        self.lookups.append(host)
        queue = self.answers[host]
        ips = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)) if ":" in ip else
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]


@pytest.fixture
def dns(monkeypatch) -> FakeDNS:
    fake = FakeDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake
