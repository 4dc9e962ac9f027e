"""Hostile clients against the registry on 127.0.0.1: what does the server survive?

    python bench/hostile.py                      # both setups, writes bench/results/hostile.md
    python bench/hostile.py --setup deploy       # only nginx + deploy/gunicorn.conf.py
    python bench/hostile.py --port 8000 --token T --review-token R   # a server already running on 127.0.0.1:8000

Each setup is started on a fresh SQLite instance with a vendor and a reviewer, each with an org
and a token, made by the operator commands: the bare `gunicorn -w 2` sync setup the attacks were
found on, and the production setup of deploy/ (nginx in front, same 2 workers). Every probe is
bounded in count and time; after each one a normal request (GET /healthz from another address)
must still answer. Targets other than 127.0.0.0/8 are refused. The deploy setup needs nginx
(Debian: apt-get install nginx-light).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from common import markdown_table, write_report

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "ops"), str(ROOT / "tests" / "publishing")]
from packages import archive  # noqa: E402  (test helper modules, not packages)
from production import (  # noqa: E402
    SLOW_HEADER_OPENING,
    Target,
    Trickler,
    nginx_binary,
    operator,
    registry_env,
    require_loopback,
    slow_body_opening,
    start_bare_gunicorn,
    start_nginx,
    start_production_gunicorn,
    status_of,
)

WORKERS = 2
SLOW_CONNECTIONS = 2 * WORKERS + 4  # more than the workers can hold
HOLD_SECONDS = 6.0  # how long slow clients keep trickling while normal requests are timed
NORMAL_TIMEOUT = 5.0
CONCURRENT_UPLOADS = 20
UPLOAD_TIMEOUT = 90.0  # a cold worker's first upload takes seconds; wait for the real answer
NAME = "hostile-solution"
NORMAL_SOURCE = "127.0.0.2"  # normal requests come from another address than the attackers


@dataclass
class Tokens:
    publish: str  # a vendor's
    review: str  # a reviewer's, for the review API


@dataclass
class Result:
    probe: str
    statuses: Counter
    normal: str  # whether GET /healthz answered during or right after the probe, and how fast

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))


def normal_request(target: Target) -> str:
    try:
        status, _, seconds = target.request("GET", "/healthz", source=NORMAL_SOURCE, timeout=NORMAL_TIMEOUT)
    except OSError as exc:
        return f"**no** ({type(exc).__name__} after {NORMAL_TIMEOUT:.0f} s)" if isinstance(exc, TimeoutError) \
            else f"**no** ({type(exc).__name__})"
    return f"yes, {status} in {seconds:.2f} s" if status == 200 else f"**no** ({status} in {seconds:.2f} s)"


def one_request(target: Target, method: str, path: str, timeout: float = NORMAL_TIMEOUT + 5, **options) -> str:
    """The status, naming the request when it is a server error (so the report says which one)."""
    try:
        status = str(target.request(method, path, timeout=timeout, **options)[0])
    except OSError as exc:
        return type(exc).__name__
    return f"{status} on {method} {path[:60]}" if status.startswith("5") else status


# --- the probes ---------------------------------------------------------------------------

def held_connections(target: Target, opening: bytes) -> tuple[Counter, str]:
    """Open SLOW_CONNECTIONS connections that trickle forever; time a normal request meanwhile."""
    slow = Trickler(target)
    try:
        slow.open(SLOW_CONNECTIONS, opening)
        time.sleep(HOLD_SECONDS / 2)
        normal = normal_request(target)
        time.sleep(HOLD_SECONDS / 2)
        statuses = Counter(slow.statuses())
        statuses["still being read"] = slow.waiting()
        if slow.refused:
            statuses["connection refused"] = slow.refused
        return statuses, normal
    finally:
        slow.close()


def probe_slow_bodies(target: Target, tokens: Tokens) -> tuple[Counter, str]:
    return held_connections(target, slow_body_opening(f"/api/v1/solutions/{NAME}/releases", tokens.publish))


def probe_slow_headers(target: Target, tokens: Tokens) -> tuple[Counter, str]:
    return held_connections(target, SLOW_HEADER_OPENING)


def probe_lying_length(target: Target, tokens: Tokens) -> tuple[Counter, str]:
    """Announce 10 MB, send a few bytes, then fall silent (but keep the connection open)."""
    sockets = []
    try:
        for _ in range(SLOW_CONNECTIONS):
            sock = target.connect(timeout=HOLD_SECONDS)
            sock.sendall(slow_body_opening(f"/api/v1/solutions/{NAME}/releases", tokens.publish))
            sockets.append(sock)
        normal = normal_request(target)
        statuses: Counter = Counter()
        # An answer within the hold time would be the server giving up on the liar; silence is waiting.
        deadline = time.monotonic() + HOLD_SECONDS
        for sock in sockets:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                statuses[status_of(sock.recv(64))] += 1
            except TimeoutError:
                statuses["still being read"] += 1
        return statuses, normal
    finally:
        for sock in sockets:
            sock.close()


def probe_concurrent_uploads(target: Target, tokens: Tokens) -> tuple[Counter, str]:
    """CONCURRENT_UPLOADS different versions of one solution at once."""
    statuses: Counter = Counter()
    lock = threading.Lock()
    run = uuid.uuid4().hex[:6]

    def upload(index: int) -> None:
        boundary = uuid.uuid4().hex
        data = archive(NAME, f"1.{index}.0")
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"{run}-{index}.tar.gz\"\r\n"
                f"Content-Type: application/gzip\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        status = one_request(target, "POST", f"/api/v1/solutions/{NAME}/releases", UPLOAD_TIMEOUT, body=body,
                             headers={"Authorization": f"Bearer {tokens.publish}",
                                      "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(CONCURRENT_UPLOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(UPLOAD_TIMEOUT + 5)
    return statuses, normal_request(target)


def probe_oversized_ids(target: Target, tokens: Tokens) -> tuple[Counter, str]:
    huge = "99999999999999999999"
    paths = [f"/review/releases/{huge}", f"/review/{huge}", f"/api/v1/reviews/{huge}",
             f"/api/v1/solutions/{NAME}/releases/{huge}.0.0"]
    auth = {"Authorization": f"Bearer {tokens.review}"}
    return Counter(one_request(target, "GET", path, headers=auth) for path in paths), normal_request(target)


def probe_nul_in_queries(target: Target, tokens: Tokens) -> tuple[Counter, str]:
    paths = ["/search?q=%00", "/search?q=" + quote("교통\x00"), "/api/v1/solutions?q=%00",
             "/api/v1/solutions?category=%00"]
    return Counter(one_request(target, "GET", path) for path in paths), normal_request(target)


def probe_huge_headers(target: Target, tokens: Tokens) -> tuple[Counter, str]:
    statuses = Counter([
        one_request(target, "GET", "/healthz", headers={"X-Huge": "a" * 64 * 1024}),
        one_request(target, "GET", "/healthz", headers={f"X-Many-{i}": "a" for i in range(300)}),
        one_request(target, "GET", "/healthz", headers={"Cookie": "session=" + "b" * 32 * 1024}),
        one_request(target, "GET", "/" + "c" * 16 * 1024),
    ])
    return statuses, normal_request(target)


PROBES: list[tuple[str, Callable[[Target, Tokens], tuple[Counter, str]]]] = [
    (f"{SLOW_CONNECTIONS} slow upload bodies (10 MB announced, 1 byte / 0.5 s)", probe_slow_bodies),
    (f"{SLOW_CONNECTIONS} slow headers (1 byte / 0.5 s)", probe_slow_headers),
    (f"{SLOW_CONNECTIONS} lying Content-Length (10 MB announced, then silence)", probe_lying_length),
    (f"{CONCURRENT_UPLOADS} concurrent uploads of different versions", probe_concurrent_uploads),
    ("ids too big for the database in paths", probe_oversized_ids),
    ("NUL in search queries (web and API)", probe_nul_in_queries),
    ("huge headers, many headers, a 16 KB path", probe_huge_headers),
]


def run_probes(target: Target, tokens: Tokens) -> list[Result]:
    results = []
    for title, probe in PROBES:
        statuses, normal = probe(target, tokens)
        results.append(Result(title, statuses, normal))
        print(f"  {title}: {dict(statuses)}; normal request: {normal}", flush=True)
    return results


# --- setups -------------------------------------------------------------------------------

def make_instance(workdir: Path) -> tuple[dict[str, str], Tokens]:
    """A fresh instance with a vendor and a reviewer, each in an org with a token (the operator commands)."""
    env = registry_env(workdir, REGISTRY_LOG_LEVEL="WARNING")
    operator(env, "db", "upgrade")
    operator(env, "users", "create", "hostile", "--email", "hostile@example.org", stdin="hostile-password-1\n")
    operator(env, "orgs", "create", "hostile-soft", "--kind", "vendor", "--name", "적대적소프트")
    operator(env, "orgs", "add-member", "hostile-soft", "hostile", "--role", "owner")
    operator(env, "users", "create", "hostile-reviewer", "--email", "reviewer@example.org", "--role", "reviewer",
             stdin="hostile-password-2\n")
    operator(env, "orgs", "create", "hostile-agency", "--kind", "agency", "--name", "검토기관")
    operator(env, "orgs", "add-member", "hostile-agency", "hostile-reviewer")
    return env, Tokens(_token(env, "hostile", "hostile-soft", "publish", "read"),
                       _token(env, "hostile-reviewer", "hostile-agency", "review", "read"))


def _token(env: dict[str, str], user: str, org: str, *scopes: str) -> str:
    options = [option for scope in scopes for option in ("--scope", scope)]
    return operator(env, "tokens", "create", user, "--org", org, *options).strip().splitlines()[-1]


SETUPS = {
    "bare": f"`gunicorn -w {WORKERS}` (sync workers facing the clients)",
    "deploy": f"nginx (deploy/nginx.conf, TLS) in front of gunicorn -c deploy/gunicorn.conf.py --workers {WORKERS}",
}


def run_setup(setup: str) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        workdir = Path(tmp)
        env, tokens = make_instance(workdir)
        servers = []
        try:
            if setup == "bare":
                server, target = start_bare_gunicorn(env, workdir, WORKERS)
                servers.append(server)
            else:
                gunicorn, upstream = start_production_gunicorn(env, workdir, WORKERS)
                servers.append(gunicorn)
                nginx, target = start_nginx(workdir, upstream.port)
                servers.append(nginx)
            print(f"\n## {setup}: {SETUPS[setup]}", flush=True)
            return run_probes(target, tokens)
        finally:
            for server in reversed(servers):
                server.stop()


def versions() -> str:
    import gunicorn

    binary = nginx_binary()
    nginx = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr.strip() if binary else "no nginx"
    return f"{nginx.removeprefix('nginx version: ')}, gunicorn {gunicorn.__version__}"


def report(results: dict[str, list[Result]]) -> str:
    parts = [
        f"{versions()}. Setups on one SQLite instance each, on 127.0.0.1; {SLOW_CONNECTIONS} = 2 × {WORKERS} workers + 4. "
        f"Slow clients trickle for {HOLD_SECONDS:.0f} s from 127.0.0.1; the normal request is "
        f"`GET /healthz` from {NORMAL_SOURCE} (timeout {NORMAL_TIMEOUT:.0f} s), made while the slow clients "
        "hold on, or right after the other probes. \"still being read\": the server had neither answered nor "
        "closed the connection when the probe ended (a slow client the server keeps waiting on).",
    ]
    for setup, rows in results.items():
        parts.append(f"\n### {SETUPS[setup]}\n")
        parts.append(markdown_table(
            ["probe", "answers seen", "5xx", "normal request still answered"],
            [[r.probe, ", ".join(f"{k}: {v}" for k, v in sorted(r.statuses.items())), r.server_errors, r.normal]
             for r in rows]))
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", choices=["bare", "deploy", "both"], default="both")
    parser.add_argument("--host", default="127.0.0.1", help="a running server's address (127.0.0.0/8 only)")
    parser.add_argument("--port", type=int, help="probe a running server (plain HTTP) instead of starting one")
    parser.add_argument("--token", default="", help="a publish token of that server, for the upload probes")
    parser.add_argument("--review-token", default="", help="a review token of that server, for the id probes")
    args = parser.parse_args(argv)
    if args.port:
        results = run_probes(Target(args.port, host=require_loopback(args.host)), Tokens(args.token, args.review_token))
        print(markdown_table(["probe", "answers seen", "5xx", "normal"],
                             [[r.probe, dict(r.statuses), r.server_errors, r.normal] for r in results]))
        return 0
    setups = ["bare", "deploy"] if args.setup == "both" else [args.setup]
    results = {setup: run_setup(setup) for setup in setups}
    write_report("hostile", "Hostile clients: what the server survives", report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
