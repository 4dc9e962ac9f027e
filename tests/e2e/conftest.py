"""A real registry server process on a loopback port, for the real `solreg` CLI to talk to."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.ports import free_port


class Registry:
    def __init__(self, root: Path, db_url: str):
        self.root = root
        self.env = {**os.environ, "REGISTRY_DATABASE_URL": db_url, "REGISTRY_STORAGE_PATH": str(root / "blobs"),
                    "REGISTRY_SECRET_KEY": "e2e", "REGISTRY_QUEUE_URL": "immediate",
                    "REGISTRY_LOG_KEY_PATH": str(root / "log_key"), "REGISTRY_RATELIMIT_ENABLED": "false", "REGISTRY_LOG_LEVEL": "WARNING"}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def flask(self, *args: str, input: str | None = None) -> str:
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "registry", *args], env=self.env,
                                input=input, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def flask_many(self, *commands: tuple[tuple[str, ...], str | None]) -> None:
        """Run several `flask` commands, each (args, input), in one process: the app is imported once."""
        script = (
            "import io, sys\n"
            "from flask.cli import cli\n"
            "for args, given in COMMANDS:\n"
            "    sys.stdin = io.StringIO(given or '')\n"
            "    cli.main(['--app', 'registry', *args], prog_name='flask', standalone_mode=False)\n")
        result = subprocess.run([sys.executable, "-c", f"COMMANDS = {list(commands)!r}\n{script}"], env=self.env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr

    def start(self) -> None:
        # Its output goes to a file: a pipe nobody reads would block the server once it fills.
        self.root.mkdir(parents=True, exist_ok=True)
        self.log = self.root / "server.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "registry", "run", "--host", "127.0.0.1",
                 "--port", str(self.port)], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or its first answer is slow
                time.sleep(0.1)
        self.stop()  # never leave a half-started server behind
        raise RuntimeError(f"registry did not start:\n{self.log.read_text(errors='replace')[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def registry_server(tmp_path):
    """Migrated, seeded with a vendor (owner of hanbit) and a reviewer (of agency), serving on 127.0.0.1.

    SQLite only: the same API runs on PostgreSQL in tests/publishing; here the point is the
    real CLI talking to a real server process.
    """
    server = Registry(tmp_path / "registry", f"sqlite:///{tmp_path / 'registry.db'}")
    server.flask_many(
        (("db", "upgrade"), None),
        (("users", "create", "vendor", "--email", "vendor@example.org"), "vendor-password\n"),
        (("users", "create", "reviewer", "--email", "reviewer@example.org", "--role", "reviewer"),
         "reviewer-password\n"),
        (("orgs", "create", "hanbit", "--kind", "vendor", "--name", "한빛소프트"), None),
        (("orgs", "add-member", "hanbit", "vendor", "--role", "owner"), None),
        (("orgs", "create", "agency", "--kind", "agency", "--name", "검토기관"), None),
        (("orgs", "add-member", "agency", "reviewer"), None))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def solreg(tmp_path):
    """Run the real console script with an isolated config dir; returns CompletedProcess."""
    return solreg_at(tmp_path / "home")


def solreg_at(home: Path):
    """The real console script on a computer of its own: `home` holds its config (and nothing else does)."""
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLREG_")}
    env.update(XDG_CONFIG_HOME=str(home / ".config"), HOME=str(home))
    script = Path(sys.executable).with_name("solreg")

    def run(*args: str, input: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *args], env=env, input=input, cwd=cwd, capture_output=True, text=True,
                              timeout=120)

    return run
