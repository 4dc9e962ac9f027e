"""One registry node for benchmarks: gunicorn web, the job worker, nginx, set up with the operator commands.

Used by bench/load.py, bench/bench_download_ttfb.py, bench/bench_upload_cost.py and
bench/bench_search_wrk.py. Every process is a child of the benchmark, stopped at its end.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VENDOR_ORG = "hanbit"
PASSWORD = "bench-password-not-secret\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of one process (VmRSS now, VmHWM its peak), MB = 2**20 bytes."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith(field + ":")) / 1024


def memory_mb(pid: int) -> dict[str, float]:
    """RSS, USS and PSS of one process from /proc/<pid>/smaps_rollup, MB = 2**20 bytes.

    RSS counts every resident page the process maps, shared or not; USS (Private_Clean +
    Private_Dirty) the pages only it maps, what it costs beside the others; PSS each page divided by
    the number of processes that map it (a worker's share of what it shares with the master)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        fields[name] = int(value.split()[0]) / 1024
    return {"rss": fields["Rss"], "uss": fields["Private_Clean"] + fields["Private_Dirty"], "pss": fields["Pss"]}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, with that of its children it has waited for (check tools)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def wait_http(port: int, path: str, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:4]} exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered {path} on port {port} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Node:
    """A registry's settings, its operator commands and the processes serving it."""

    def __init__(self, workdir: Path, database_url: str | None = None, queue_url: str | None = None,
                 **settings: str) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.storage = workdir / "blobs"
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
        self.env.update({
            "PYTHONPATH": str(ROOT),  # never the load generator's extra paths
            "REGISTRY_DATABASE_URL": database_url or f"sqlite:///{workdir / 'registry.db'}",
            "REGISTRY_STORAGE_PATH": str(self.storage),
            "REGISTRY_QUEUE_URL": queue_url or f"sqlite:///{workdir / 'queue.db'}",
            "REGISTRY_SECRET_KEY": uuid.uuid4().hex,
            "REGISTRY_SIGNING_KEY_PATH": str(workdir / "signing-key.pem"),
            "REGISTRY_LOG_KEY_PATH": str(workdir / "log_key"),
            "REGISTRY_LOG_LEVEL": "WARNING",
        })
        self.env.update({f"REGISTRY_{key}": str(value) for key, value in settings.items()})
        self.processes: list[subprocess.Popen] = []

    def flask(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "registry", *args], env=self.env, cwd=ROOT,
                              input=stdin, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"`flask {' '.join(args)}` failed ({done.returncode}):\n{done.stderr or done.stdout}")
        return done.stdout

    def token(self, user: str, org: str, *scopes: str) -> str:
        args = [arg for scope in scopes for arg in ("--scope", scope)]
        return self.flask("tokens", "create", user, "--org", org, *args).strip().splitlines()[-1]

    def set_up(self) -> dict[str, str]:
        """Schema, a vendor with a publisher, an agency with a reviewer; return their tokens."""
        self.flask("db", "upgrade")
        return self.accounts()

    def accounts(self) -> dict[str, str]:
        self.flask("users", "create", "vendor", "--email", "vendor@example.org", stdin=PASSWORD)
        self.flask("orgs", "create", VENDOR_ORG, "--kind", "vendor", "--name", "한빛소프트")
        self.flask("orgs", "add-member", VENDOR_ORG, "vendor", "--role", "owner")
        self.flask("users", "create", "reviewer", "--email", "reviewer@example.org", "--role", "reviewer",
                   stdin=PASSWORD)
        self.flask("orgs", "create", "agency", "--kind", "agency", "--name", "검토기관")
        self.flask("orgs", "add-member", "agency", "reviewer")
        return {"publisher": self.token("vendor", VENDOR_ORG, "publish", "read"),
                "reviewer": self.token("reviewer", "agency", "review", "read")}

    def start_web(self, workers: int = 2, **settings: str) -> int:
        """gunicorn with `workers` sync workers (as deploy/gunicorn.conf.py), on a free port; return it."""
        port = free_port()
        env = {**self.env, **{f"REGISTRY_{key}": str(value) for key, value in settings.items()}}
        log = self.workdir / f"web-{port}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
                 "--timeout", "120", "--bind", f"127.0.0.1:{port}", "registry:create_app()"],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        wait_http(port, "/healthz", process, log)
        while len(children(process.pid)) < workers:
            time.sleep(0.1)
        process.port = port  # type: ignore[attr-defined]
        return port

    def web_workers(self) -> list[int]:
        return [pid for p in self.processes if getattr(p, "port", None) for pid in children(p.pid)]

    def start_worker(self, threads: int = 2) -> subprocess.Popen:
        log = self.workdir / "worker.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "registry", "worker", "--workers",
                                        str(threads)], env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop(process)
        self.processes.clear()


def deploy_files_location(tree: Path, log: Path) -> tuple[str, str]:
    """deploy/nginx.conf's log_format registry_files and `location /files/`, with this run's tree and log."""
    import re

    text = (ROOT / "deploy" / "nginx.conf").read_text()
    log_format = re.search(r"^log_format registry_files [^;]+;", text, re.MULTILINE).group(0)
    location = re.search(r"^    location /files/ \{.*?^    \}", text, re.MULTILINE | re.DOTALL).group(0)
    location = location.replace("/var/lib/registry/blobs/public/", f"{tree}/").replace(
        "/var/log/nginx/registry-files.log", str(log))
    return log_format, location


class Nginx:
    """nginx as a non-daemon child with its config, logs and temp files in `prefix`, on a free 127.0.0.1 port.

    Either a static root, or a proxy to `upstream_port` with the internal /_blobs/ location of
    deploy/nginx.conf (alias `blobs`) for X-Accel-Redirect, and, with `public_files` (the tree, the log),
    deploy/nginx.conf's own `location /files/` (its access log included) with those two paths."""

    def __init__(self, prefix: Path, static_root: Path | None = None, upstream_port: int | None = None,
                 blobs: Path | None = None, public_files: tuple[Path, Path] | None = None) -> None:
        self.prefix, self.port = prefix, free_port()
        prefix.mkdir(parents=True, exist_ok=True)
        log_format = ""
        if static_root is not None:
            locations = f"location / {{ root {static_root}; }}"
        else:
            if public_files:
                log_format, files = deploy_files_location(*public_files)
            locations = (files if public_files else "") + f"""
        location /_blobs/ {{
            internal;
            alias {blobs}/;
            default_type application/gzip;
            add_header Digest $upstream_http_digest always;
        }}
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_buffering on;
            proxy_read_timeout 130s;
        }}"""
        # Run as root (as here), nginx's workers would drop to nobody and could not read a private temp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    {log_format}
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_max_body_size 1100m;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{self.port};
        {locations}
    }}
}}
""")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Nginx:
        log = self.prefix / "stderr.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(["nginx", "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
                                             "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT)
        wait_http(self.port, "/", self.process, log, timeout=20)
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            stop(self.process)


def upload(port: int, token: str, name: str, archive: bytes) -> tuple[int, dict]:
    """POST one package as the CLI does (multipart field `archive`); status and JSON answer."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; filename="{name}.tar.gz"\r\n'
            "Content-Type: application/gzip\r\n\r\n").encode() + archive + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("POST", f"/api/v1/solutions/{name}/releases", body=body,
                     headers={"Authorization": f"Bearer {token}",
                              "Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def api(port: int, method: str, path: str, token: str, payload: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        body = None
        if payload is not None:
            body, headers["Content-Type"] = json.dumps(payload).encode(), "application/json"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def approve_when_checked(port: int, reviewer: str, release_id: int, timeout: float = 300.0) -> dict:
    """Approve a release through the API once its job checks have run (approval waits for them)."""
    deadline = time.monotonic() + timeout
    while True:
        status, answer = api(port, "POST", f"/api/v1/reviews/{release_id}", reviewer,
                             {"decision": "approve", "comment": "벤치마크 승인"})
        if status == 200:
            return answer
        if status != 409 or time.monotonic() > deadline:
            raise RuntimeError(f"approving release {release_id}: {status} {answer}")
        time.sleep(0.5)
