"""The production setup of deploy/ on 127.0.0.1, and slow clients to throw at it.

Shared by tests/ops/test_production_setup.py and bench/hostile.py: a migrated registry
instance in a temp directory, gunicorn (bare sync workers, or deploy/gunicorn.conf.py), nginx
as a non-daemon child rendered from deploy/nginx.conf with a throw-away certificate, and a
`Trickler` that keeps many connections half-sent.
"""

from __future__ import annotations

import getpass
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
START_TIMEOUT = 60.0


def require_loopback(host: str) -> str:
    """Hostile traffic goes to this machine only."""
    if not host.startswith("127."):
        raise ValueError(f"refusing to target {host!r}: only 127.0.0.0/8 is allowed")
    return host


# --- the registry instance --------------------------------------------------------------

def registry_env(workdir: Path, **settings: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT),
            "REGISTRY_DATABASE_URL": f"sqlite:///{workdir / 'registry.db'}",
            "REGISTRY_STORAGE_PATH": str(workdir / "blobs"),
            "REGISTRY_QUEUE_URL": "immediate",  # jobs run after each request: no worker beside it
            "REGISTRY_SECRET_KEY": uuid.uuid4().hex,
            "REGISTRY_LOG_LEVEL": "INFO", **settings}


def operator(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """One `flask --app registry …` command, as an operator types it."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "registry", *args], env=env, cwd=ROOT,
                          input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`flask {' '.join(args)}` failed ({done.returncode}):\n{done.stderr or done.stdout}")
    return done.stdout


# --- servers ----------------------------------------------------------------------------

@dataclass
class Target:
    """Where clients connect: plain HTTP, or TLS checked against `cafile`."""

    port: int
    cafile: Path | None = None
    host: str = "127.0.0.1"

    def tls(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=str(self.cafile)) if self.cafile else None

    def connect(self, source: str = "127.0.0.1", timeout: float = 10.0) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout, source_address=(source, 0))
        context = self.tls()
        return context.wrap_socket(sock, server_hostname=self.host) if context else sock

    def request(self, method: str, path: str, *, source: str = "127.0.0.1", timeout: float = 10.0,
                headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, bytes, float]:
        """One request on a fresh connection: status, body and seconds taken."""
        started = time.perf_counter()
        context = self.tls()
        options = {"timeout": timeout, "source_address": (source, 0)}
        conn = (http.client.HTTPSConnection(self.host, self.port, context=context, **options) if context
                else http.client.HTTPConnection(self.host, self.port, **options))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read(), time.perf_counter() - started
        finally:
            conn.close()


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _spawn(name: str, command: list[str], env: dict[str, str], workdir: Path, ready: Target) -> Server:
    log = workdir / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log_text()[-3000:]}")
        try:
            if ready.request("GET", "/healthz", timeout=5)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer /healthz within {START_TIMEOUT:.0f} s:\n{server.log_text()[-3000:]}")


def start_bare_gunicorn(env: dict[str, str], workdir: Path, workers: int = 2) -> tuple[Server, Target]:
    """What the issue was reproduced on: `gunicorn -w 2`, sync workers facing clients directly."""
    target = Target(free_port())
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--bind", f"127.0.0.1:{target.port}",
               "registry:create_app()"]
    return _spawn("gunicorn-bare", command, env, workdir, target), target


def start_production_gunicorn(env: dict[str, str], workdir: Path, workers: int | None = None,
                              config: Path = DEPLOY / "gunicorn.conf.py") -> tuple[Server, Target]:
    """gunicorn with deploy/gunicorn.conf.py (or `config`, e.g. a variant of it), on a free port instead of 8000."""
    target = Target(free_port())
    command = [sys.executable, "-m", "gunicorn", "-c", str(config),
               "--bind", f"127.0.0.1:{target.port}"]
    if workers:
        command += ["--workers", str(workers)]
    return _spawn("gunicorn", command, env, workdir, target), target


def nginx_binary() -> str | None:
    # Debian puts it in /usr/sbin, which is not on every user's PATH.
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def render_nginx_site(upstream_port: int, https_port: int, http_port: int, cert: Path, key: Path,
                      blobs: Path | None = None, files_log: Path | None = None) -> str:
    """deploy/nginx.conf with this run's addresses and certificate; each replaced part must be there."""
    text = (DEPLOY / "nginx.conf").read_text()

    def listen(match: re.Match) -> str:
        ipv6, port, options = match.groups()
        if ipv6:
            return ""  # IPv6 may be off on the test machine
        return f"listen 127.0.0.1:{https_port if port == '443' else http_port}{options};"

    for pattern, replace in [(r"listen (\[::\]:)?(80|443)([^;]*);", listen),
                             (r"server_name registry\.example\.go\.kr;", "server_name 127.0.0.1;"),
                             (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream_port};"),
                             (r"/etc/ssl/certs/registry\.example\.go\.kr\.pem", str(cert)),
                             (r"/etc/ssl/private/registry\.example\.go\.kr\.key", str(key)),
                             (r"/var/lib/registry/blobs/", f"{blobs or '/var/lib/registry/blobs'}/"),
                             (r"/var/log/nginx/registry-files\.log", str(files_log or "/var/log/nginx/registry-files.log"))]:
        text, count = re.subn(pattern, replace, text)
        if not count:
            raise AssertionError(f"deploy/nginx.conf no longer matches {pattern!r}; update the test rendering")
    return text


def nginx_setting(name: str) -> str:
    """The value of a one-argument directive in deploy/nginx.conf (e.g. client_max_body_size)."""
    match = re.search(rf"^\s*{name}\s+([^;]+);", (DEPLOY / "nginx.conf").read_text(), re.MULTILINE)
    if not match:
        raise AssertionError(f"deploy/nginx.conf has no {name}")
    return match.group(1).strip()


def files_log_path(workdir: Path) -> Path:
    """Where the rendered deploy/nginx.conf logs /files/ (REGISTRY_DOWNLOAD_LOG_PATH of the instance)."""
    return workdir / "nginx" / "logs" / "registry-files.log"


def start_nginx(workdir: Path, upstream_port: int) -> tuple[Server, Target]:
    """nginx in the foreground with its own prefix: temp dirs, logs and pid under `workdir`."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install -y nginx-light)")
    prefix = workdir / "nginx"
    for sub in ("logs", "temp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    cert, key = prefix / "cert.pem", prefix / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    target = Target(free_port(), cafile=cert)
    site = prefix / "registry.conf"
    site.write_text(render_nginx_site(upstream_port, target.port, free_port(), cert, key, workdir / "blobs",
                                      files_log_path(workdir)))
    temp = prefix / "temp"
    main = prefix / "nginx.conf"
    # Only the main context is ours (Debian's /etc/nginx/nginx.conf plays this part in production).
    main.write_text(f"""daemon off;
user {getpass.getuser()};
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'logs' / 'error.log'} info;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix / 'logs' / 'access.log'};
    client_body_temp_path {temp / 'body'};
    proxy_temp_path {temp / 'proxy'};
    fastcgi_temp_path {temp / 'fastcgi'};
    uwsgi_temp_path {temp / 'uwsgi'};
    scgi_temp_path {temp / 'scgi'};
    include {site};
}}
""")
    return _spawn("nginx", [binary, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "logs" / "error.log")],
                  dict(os.environ), workdir, target), target


# --- slow clients -----------------------------------------------------------------------

SLOW_UPLOAD_LENGTH = 10 * 1024 * 1024  # what a lying client announces, then never sends


def slow_body_opening(path: str, token: str | None = None, length: int = SLOW_UPLOAD_LENGTH) -> bytes:
    """Headers of an upload announcing `length` bytes, and the first few of them."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
            f"Content-Type: multipart/form-data; boundary=slow\r\nContent-Length: {length}\r\n\r\n"
            f"--slow\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"a.tar.gz\"\r\n\r\n").encode()


def status_of(raw: bytes) -> str:
    """The status code at the start of a raw answer, or "closed" for none."""
    match = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return match.group(1).decode() if match else "closed"


SLOW_HEADER_OPENING = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@dataclass
class Trickler:
    """Connections sent one byte per `interval` from one thread, so they never finish."""

    target: Target
    interval: float = 0.5
    sockets: list[socket.socket] = field(default_factory=list)
    answers: dict[int, bytes] = field(default_factory=dict)  # socket index -> what the server said (b"": closed)
    refused: int = 0  # connections that could not even be opened
    _lock: threading.Lock = field(default_factory=threading.Lock)  # a TLS socket is not safe across threads
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def open(self, count: int, opening: bytes, source: str = "127.0.0.1") -> None:
        for _ in range(count):
            try:
                sock = self.target.connect(source, timeout=5)
                sock.sendall(opening)
            except OSError:
                self.refused += 1
                continue
            sock.setblocking(False)
            with self._lock:
                self.sockets.append(sock)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                for index, sock in enumerate(self.sockets):
                    if index not in self.answers:
                        try:
                            sock.send(b"a")
                        except OSError:
                            pass  # closed by the server; `collect` records it

    def collect(self) -> dict[int, bytes]:
        """Record what the server has said on each connection so far."""
        with self._lock:
            for index, sock in enumerate(self.sockets):
                if index in self.answers:
                    continue
                try:
                    self.answers[index] = sock.recv(4096)
                except (ssl.SSLWantReadError, BlockingIOError):
                    continue  # nothing yet: the server is still waiting for the rest
                except OSError:
                    self.answers[index] = b""
        return self.answers

    def waiting(self) -> int:
        """Connections the server is still reading from."""
        return len(self.sockets) - len(self.collect())

    def statuses(self) -> list[str]:
        """The status code of each answer, or "closed" when the server hung up without one."""
        return [status_of(raw) for raw in self.collect().values()]

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()
