"""Fixtures: a minimal valid solution package in a real git repository, an isolated config dir."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest

FULL_EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "manifests" / "full-example.yaml"

CHART = "apiVersion: v2\nname: parking-share\nversion: 1.2.0\nappVersion: \"1.2.0\"\n"
COMPOSE = "services:\n  app:\n    image: registry.example.org/parking-share:1.2.0\n"
SBOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "metadata": {"component": {"type": "application", "name": "parking-share", "version": "1.2.0",
                               "bom-ref": "parking-share@1.2.0"}},
    "components": [],
}


def write_solution(directory: Path) -> Path:
    """The full example manifest plus every file it references."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(FULL_EXAMPLE, directory / "solution.yaml")
    chart = directory / "deploy" / "helm" / "parking-share"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART)
    (directory / "deploy" / "compose.yaml").write_text(COMPOSE)
    (directory / "sbom.cdx.json").write_text(json.dumps(SBOM, indent=2) + "\n")
    script = directory / "bin" / "start.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\nexec parking-share\n")
    script.chmod(0o755)
    (directory / "README.md").write_text("# 스마트 주차 공유\n")
    return directory


def init_repo(path: Path) -> git.Repo:
    repo = git.Repo.init(path, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test Publisher")
        config.set_value("user", "email", "publisher@example.org")
        config.set_value("commit", "gpgsign", "false")
        config.set_value("tag", "gpgsign", "false")
    return repo


def commit_all(repo: git.Repo, message: str = "release", when: str = "2024-03-01T09:30:00+09:00") -> str:
    repo.git.add("--all")
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    repo.git.commit("-m", message, env={**os.environ, **env})
    return repo.head.commit.hexsha


class RepoKit:
    """Helpers for tests that shape their own repositories."""

    write_solution = staticmethod(write_solution)
    init_repo = staticmethod(init_repo)
    commit_all = staticmethod(commit_all)


@pytest.fixture
def kit() -> type[RepoKit]:
    return RepoKit


@pytest.fixture
def solution_repo(tmp_path: Path) -> Path:
    """A repository whose root is the solution, HEAD tagged v1.2.0."""
    root = write_solution(tmp_path / "parking-share")
    repo = init_repo(root)
    commit_all(repo)
    repo.create_tag("v1.2.0")
    return root


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty XDG config home; env overrides cleared."""
    home = tmp_path / "xdg"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("SOLREG_TOKEN", raising=False)
    monkeypatch.delenv("SOLREG_REGISTRY_URL", raising=False)
    return home


def run_solreg(*args: str, env: dict[str, str] | None = None, input: str | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a real subprocess, like a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "publisher_cli", *args], capture_output=True, text=True,
                          env=full_env, input=input, cwd=cwd, timeout=120)


@pytest.fixture
def solreg(config_home: Path):
    """``solreg(*args)`` runs the CLI in a subprocess with the isolated config home."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run_solreg(*args, env={"XDG_CONFIG_HOME": str(config_home), **(env or {})},
                          input=input, cwd=cwd)

    return run


# --------------------------------------------------------------------------- stub registry

import threading  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)


class StubRegistry:
    """A tiny HTTP server on 127.0.0.1 answering from a script.

    ``on(method, path, (status, body), ...)`` queues replies for a route; the last one repeats.
    Every request is recorded (with its full body) in ``requests``.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[Recorded] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
                path = self.path.split("?", 1)[0]
                replies = stub.routes.get((self.command, path)) or [Reply(404, {"errors": [
                    {"code": "not-found", "detail": f"no route {self.command} {path}", "field": None}]})]
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                payload = reply.body
                headers = dict(reply.headers)
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload).encode()
                    headers.setdefault("Content-Type", "application/json")
                self.send_response(reply.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    def on(self, method: str, path: str, *replies: tuple) -> None:
        """Each reply is ``(status, body)`` or ``(status, body, headers)``; body bytes or JSON-able."""
        self.routes[(method, path)] = [Reply(*reply) for reply in replies]

    def hits(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.split("?", 1)[0] == path]


@pytest.fixture
def stub():
    registry = StubRegistry()
    registry.thread.start()
    yield registry
    registry.server.shutdown()
    registry.server.server_close()


def parse_multipart(recorded: Recorded) -> dict[str, tuple[str | None, bytes]]:
    """field -> (filename, content), parsed with the standard library's MIME parser."""
    from email.parser import BytesParser
    from email.policy import HTTP

    head = f"Content-Type: {recorded.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + recorded.body)
    assert message.is_multipart()
    parts = {}
    for part in message.iter_parts():
        parts[part.get_param("name", header="content-disposition")] = (
            part.get_filename(), part.get_payload(decode=True))
    return parts


@pytest.fixture
def multipart():
    return parse_multipart
