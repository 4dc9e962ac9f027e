"""Mixed load on one node: simulated users browsing, searching, reading and downloading while releases
are uploaded and approved, against the production setup and against the embedded default.

    python bench/load.py                                # 50 users, 2 minutes, both setups
    python bench/load.py --users 50 --duration 60 --setups production
    python bench/load.py --users 10,50 --duration 30    # one run per number of users

Needs httpx (`pip install '.[bench]'`), wrk is not used here. Per setup, a fresh registry:

* **production**: PostgreSQL, local blobs, `REGISTRY_QUEUE_URL` and `REGISTRY_RATELIMIT_STORAGE_URI`
  on Redis (docs/operations.md), gunicorn with 2 × cores + 1 sync workers (deploy/gunicorn.conf.py),
  one job worker process (`flask --app registry worker --workers 2`);
* **embedded**: the default of `pip install .`: SQLite, local blobs, the SQLite queue file, rate-limit
  counts in memory, the same gunicorn and worker.

Each gets the synthetic catalog of bench/bench_search.py (Korean titles; --solutions) and the eight
sample solutions of sample_solutions/, uploaded and approved through the API, so downloads and
solution pages have real releases. Then, for --duration seconds:

* --users simulated users (closed loop, a random think time of 0–2×--think between requests) each
  choose an action: browse the catalog page (`/search?page=N`), search it (`/search?q=<Korean query>`,
  or the JSON API), open a solution page (`/solutions/<name>`), or download a published archive;
* one upload per second (--upload-rate; open loop, each on its own connection) of a real sample
  package at a fresh version, built before the run by tests/review/samples.py;
* a reviewer who reads the review queue every 2 s and approves, through the API, what has finished
  its checks (approval waits for the checks the worker runs).

Rate limits stay on, configured for the benchmark: every simulated user comes from 127.0.0.1, so the
per-address API limit (600/min by default) would refuse most of them within seconds; here
`REGISTRY_RATELIMIT_API=1000000 per minute` and `REGISTRY_RATELIMIT_UPLOAD=600 per minute`.

Reported per action: count, errors (any answer >= 400 but the reviewer's 409 "checks running", and
any transport error or timeout), p50/p95/p99 latency; throughput; peak RSS of the web workers and
of the job worker; the queue left at the end; the load generator's own CPU (one asyncio process:
near 100% of a core would mean it, not the server, is the limit). Writes bench/results/load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import markdown_table, write_report  # noqa: E402
from node import Node, approve_when_checked, children, cpu_seconds, rss_mb, upload  # noqa: E402

SAMPLES = sorted(p.name for p in (ROOT / "sample_solutions").iterdir() if (p / "solution.yaml").exists())
QUERIES = ["주차", "버스", "주차장", "스마트 횡단보도", "대기질", "침수 경보", "천안시", "돌봄", "가로등", "관광",
           "스마트팜", "에너지", "데이터 허브", "미세먼지", "수요응답형", "광명시 주차", "버스 정류장", "독거노인"]
ACTIONS = {"browse": 25, "search page": 20, "search API": 10, "solution page": 25, "download": 20}
LIMITS = {"RATELIMIT_ENABLED": "true", "RATELIMIT_API": "1000000 per minute", "RATELIMIT_UPLOAD": "600 per minute"}


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, str] = field(default_factory=dict)  # the first error of each action
    refused_running: int = 0

    def record(self, action: str, started: float, ok: bool, what: str = "") -> None:
        self.latencies[action].append(time.perf_counter() - started)
        if not ok:
            self.errors[action] += 1
            self.samples.setdefault(action, what[:200])


# --- the node -------------------------------------------------------------------------------------

def postgres(pg_url: str, name: str, create: bool) -> str:
    from bench_search import postgres_database

    return postgres_database(pg_url, name, create)


def reset_sequences(url: str) -> None:
    """The catalog is bulk-inserted with explicit ids; PostgreSQL's sequences must move past them."""
    from sqlalchemy import create_engine, text

    from registry.config import normalize_database_url

    engine = create_engine(normalize_database_url(url))
    with engine.begin() as conn:
        tables = conn.execute(text("SELECT table_name FROM information_schema.columns WHERE column_name = 'id' "
                                   "AND table_schema = 'public' AND column_default LIKE 'nextval%'")).scalars()
        for table in list(tables):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"))
    engine.dispose()


def build_node(setup: str, work: Path, args: argparse.Namespace, pg_name: str) -> Node:
    from bench_search import load_catalog, make_app

    if setup == "production":
        database = postgres(args.pg_url, pg_name, create=True)
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()  # only the benchmark's own database number
        node = Node(work, database, args.redis_url, RATELIMIT_STORAGE_URI=args.redis_url, **LIMITS)
    else:
        node = Node(work, **LIMITS)
        database = node.env["REGISTRY_DATABASE_URL"]
    app = make_app(database, work)
    loaded = load_catalog(app, args.solutions, 2)
    with app.app_context():
        from registry.db import db

        db.engine.dispose()
    if setup == "production":
        reset_sequences(database)
    node.catalog = loaded  # type: ignore[attr-defined]
    return node


def publish_samples(node: Node, port: int, tokens: dict[str, str]) -> list[str]:
    """Upload and approve each sample at 1.0.0; return their archive paths (the download targets)."""
    from tests.review.samples import sample_package

    ids = []
    for sample in SAMPLES:
        status, answer = upload(port, tokens["publisher"], sample, sample_package("1.0.0", sample))
        if status != 201:
            raise RuntimeError(f"seeding {sample}: {status} {answer}")
        ids.append(answer["release"]["id"])
    for release_id in ids:
        approve_when_checked(port, tokens["reviewer"], release_id, timeout=600)
    return [f"/api/v1/solutions/{s}/releases/1.0.0/archive" for s in SAMPLES]


# --- the simulated users --------------------------------------------------------------------------

async def user(client, rng: random.Random, stop_at: float, stats: Stats, solutions: int, downloads: list[str],
               think: float) -> None:
    names, weights = list(ACTIONS), list(ACTIONS.values())
    while time.perf_counter() < stop_at:
        action = rng.choices(names, weights)[0]
        if action == "browse":
            path = f"/search?page={rng.randint(1, 20)}"
        elif action == "search page":
            path = "/search?q=" + quote(rng.choice(QUERIES))
        elif action == "search API":
            path = "/api/v1/solutions?q=" + quote(rng.choice(QUERIES)) + f"&page={rng.randint(1, 3)}"
        elif action == "solution page":
            name = rng.choice(SAMPLES) if rng.random() < 0.3 else f"solution-{rng.randrange(solutions):05d}"
            path = f"/solutions/{name}"
        else:
            path = rng.choice(downloads)
        started = time.perf_counter()
        try:
            response = await client.get(path)
            await response.aread()
            # A synthetic solution whose last release is pending or yanked has no page: 404 is its answer.
            ok = response.status_code < 400 or (action == "solution page" and response.status_code == 404)
            stats.record(action, started, ok, f"{response.status_code} {path}")
        except Exception as exc:  # transport errors and timeouts count as errors
            stats.record(action, started, False, f"{type(exc).__name__} {path}")
        await asyncio.sleep(rng.uniform(0, 2 * think))


async def uploader(base_url: str, token: str, packages: list[tuple[str, bytes]], rate: float, stop_at: float,
                   stats: Stats) -> None:
    import httpx

    async def one(name: str, archive: bytes) -> None:
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
                response = await client.post(f"/api/v1/solutions/{name}/releases",
                                             headers={"Authorization": f"Bearer {token}"},
                                             files={"archive": (f"{name}.tar.gz", archive, "application/gzip")})
            stats.record("upload", started, response.status_code == 201, f"{response.status_code} {response.text}")
        except Exception as exc:
            stats.record("upload", started, False, f"{type(exc).__name__}")

    if rate <= 0:  # --upload-rate 0: reads (and the reviewer) only
        return
    tasks, n, begun = [], 0, time.perf_counter()
    while time.perf_counter() < stop_at and n < len(packages):
        tasks.append(asyncio.create_task(one(*packages[n])))
        n += 1
        await asyncio.sleep(max(0.0, begun + n / rate - time.perf_counter()))
    await asyncio.gather(*tasks)


async def reviewer(client, token: str, stop_at: float, stats: Stats) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        try:
            response = await client.get("/api/v1/reviews/queue", headers=headers)
            stats.record("review queue", started, response.status_code == 200, f"{response.status_code}")
            entries = response.json()["queue"] if response.status_code == 200 else []
        except Exception as exc:
            stats.record("review queue", started, False, type(exc).__name__)
            entries = []
        for entry in [e for e in entries if e["check_status"] != "running"][:5]:
            if time.perf_counter() >= stop_at:
                break
            started = time.perf_counter()
            try:
                response = await client.post(f"/api/v1/reviews/{entry['release_id']}", headers=headers,
                                             json={"decision": "approve", "comment": "부하 시험 승인"})
                if response.status_code == 409 and "checks-running" in response.text:
                    stats.refused_running += 1
                    continue
                stats.record("approve", started, response.status_code == 200, f"{response.status_code} {response.text}")
            except Exception as exc:
                stats.record("approve", started, False, type(exc).__name__)
        await asyncio.sleep(2.0)


class Sampler:
    """Peak RSS of the web workers and the job worker, sampled every second during the run."""

    def __init__(self, node: Node, worker: subprocess.Popen) -> None:
        self.node, self.worker = node, worker
        self.web_peak = self.web_sum_peak = self.worker_peak = 0.0

    async def run(self, stop_at: float) -> None:
        while time.perf_counter() < stop_at:
            web = [rss_mb(pid) for pid in self.node.web_workers()]
            self.web_peak = max(self.web_peak, *web, 0.0)
            self.web_sum_peak = max(self.web_sum_peak, sum(web))
            job = rss_mb(self.worker.pid) + sum(rss_mb(pid) for pid in children(self.worker.pid))
            self.worker_peak = max(self.worker_peak, job)
            await asyncio.sleep(1.0)


async def drive(base_url: str, tokens: dict[str, str], args: argparse.Namespace, users: int, solutions: int,
                downloads: list[str], packages: list[tuple[str, bytes]], sampler: Sampler) -> tuple[Stats, float, float]:
    import httpx

    stats = Stats()
    limits = httpx.Limits(max_connections=users + 10, max_keepalive_connections=users + 10)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        stop_at = wall0 + args.duration
        rng = random.Random(17)
        await asyncio.gather(
            *(user(client, random.Random(rng.random()), stop_at, stats, solutions, downloads, args.think)
              for _ in range(users)),
            uploader(base_url, tokens["publisher"], packages, args.upload_rate, stop_at, stats),
            reviewer(client, tokens["reviewer"], stop_at, stats),
            sampler.run(stop_at))
        wall = time.perf_counter() - wall0
        return stats, wall, (time.process_time() - cpu0) / wall


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def run_setup(setup: str, args: argparse.Namespace, users_list: list[int]) -> str:
    import httpx

    from tests.review.samples import sample_package

    work = Path(tempfile.mkdtemp(prefix=f"bench-load-{setup}-"))
    pg_name = f"h_load_bench_{os.getpid()}"
    node = build_node(setup, work, args, pg_name)
    sections = []
    try:
        tokens = node.accounts()
        worker = node.start_worker(threads=2)
        port = node.start_web(workers=args.web_workers)
        base_url = f"http://127.0.0.1:{port}"
        downloads = publish_samples(node, port, tokens)
        seeded = {"web": max(rss_mb(pid) for pid in node.web_workers()),
                "worker": rss_mb(worker.pid) + sum(rss_mb(pid) for pid in children(worker.pid))}
        for run, users in enumerate(users_list):
            count = int(args.duration * args.upload_rate) + 2
            packages = [(SAMPLES[n % len(SAMPLES)], sample_package(f"2.{run}.{n}", SAMPLES[n % len(SAMPLES)]))
                        for n in range(count)]
            sampler = Sampler(node, worker)
            web_cpu0 = sum(cpu_seconds(pid) for pid in node.web_workers())
            job_cpu0 = cpu_seconds(worker.pid)
            print(f"{setup}: {users} users for {args.duration} s", flush=True)
            stats, wall, own_cpu = asyncio.run(drive(base_url, tokens, args, users, args.solutions, downloads,
                                                     packages, sampler))
            web_cpu = (sum(cpu_seconds(pid) for pid in node.web_workers()) - web_cpu0) / wall
            job_cpu = (cpu_seconds(worker.pid) - job_cpu0) / wall
            health = httpx.get(base_url + "/healthz", timeout=30).json()
            sections.append(report_run(setup, users, args, stats, wall, own_cpu, (web_cpu, job_cpu), sampler, seeded,
                                       health))
            print(sections[-1], flush=True)
    finally:
        node.stop()
        if setup == "production":
            postgres(args.pg_url, pg_name, create=False)
            import redis

            redis.Redis.from_url(args.redis_url).flushdb()
        shutil.rmtree(work, ignore_errors=True)
    return "\n\n".join(sections)


def report_run(setup: str, users: int, args, stats: Stats, wall: float, own_cpu: float, cpu: tuple[float, float],
               sampler: Sampler, seeded: dict, health: dict) -> str:
    rows, total, errors = [], 0, 0
    for action in [*ACTIONS, "upload", "review queue", "approve"]:
        values = sorted(stats.latencies.get(action, []))
        if not values:
            rows.append([action, 0, 0, "—", "—", "—", "—"])
            continue
        total += len(values)
        errors += stats.errors.get(action, 0)
        rows.append([action, len(values), stats.errors.get(action, 0), f"{len(values) / wall:.1f}",
                     *(f"{percentile(values, p) * 1000:.0f}" for p in (0.5, 0.95, 0.99))])
    queue = health.get("queue", {})
    lines = [
        f"### {setup}, {users} users, {wall:.0f} s (think time 0–{2 * args.think:g} s, "
        f"{args.upload_rate:g} upload/s, {args.web_workers} gunicorn workers)",
        markdown_table(["action", "requests", "errors", "per s", "p50 ms", "p95 ms", "p99 ms"], rows),
        f"Throughput **{total / wall:.0f} requests/s**, errors **{errors}** (target 0)"
        + (f"; approvals refused while checks ran: {stats.refused_running}" if stats.refused_running else "") + ". "
        f"RSS: web worker after seeding {seeded['web']:.0f} MB, peak {sampler.web_peak:.0f} MB (all web workers together peak "
        f"{sampler.web_sum_peak:.0f} MB); job worker after seeding {seeded['worker']:.0f} MB, peak {sampler.worker_peak:.0f} MB. "
        f"CPU: web workers {cpu[0]:.0%} of one core in total, job worker {cpu[1]:.0%}, the load generator "
        f"{own_cpu:.0%} (one asyncio process; {os.cpu_count()} cores in all, shared with other work). "
        f"Queue at the end: {queue.get('pending', '?')} pending, worker {queue.get('worker', '?')}.",
        # The web workers' CPU per answer does not depend on how much of the machine others took.
        f"Web CPU per request (this mix, uploads included): **{cpu[0] * wall / max(total, 1) * 1000:.0f} ms**, so "
        f"one core given wholly to the web workers would answer about {max(total, 1) / (cpu[0] * wall or 1):.0f} "
        "requests/s of it.",
    ]
    if stats.samples:
        lines.append("First error of each action: " + "; ".join(f"{a}: `{s}`" for a, s in stats.samples.items()))
    return "\n\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="50", help="simulated users; a comma list runs each in turn")
    parser.add_argument("--duration", type=int, default=120, help="seconds per run")
    parser.add_argument("--think", type=float, default=0.5, help="mean think time between a user's requests (s)")
    parser.add_argument("--upload-rate", type=float, default=1.0, help="uploads per second")
    parser.add_argument("--solutions", type=int, default=10_000, help="synthetic catalog size")
    parser.add_argument("--setups", default="production,embedded")
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--report", default="load", help="bench/results/<report>.md")
    args = parser.parse_args()
    try:
        import httpx  # noqa: F401
    except ImportError:
        raise SystemExit("bench/load.py needs httpx: pip install '.[bench]'") from None
    from bench_search import logging_quiet

    logging_quiet()
    users_list = [int(u) for u in args.users.split(",")]
    load1 = os.getloadavg()[0]
    sections = [run_setup(setup.strip(), args, users_list) for setup in args.setups.split(",") if setup.strip()]
    load2 = os.getloadavg()[0]
    header = (f"Load average (1 min) at start {load1:.2f}, at end {load2:.2f}. Catalog: {args.solutions} synthetic "
              f"solutions (bench/bench_search.py) plus the {len(SAMPLES)} samples, uploaded and approved. Rate limits "
              "on, set for the benchmark: `REGISTRY_RATELIMIT_API=1000000 per minute` (every simulated user is "
              "127.0.0.1), `REGISTRY_RATELIMIT_UPLOAD=600 per minute`. Code checks on (the default): each upload "
              "queues its code and SBOM checks for the job worker. A quarter of the synthetic solutions' last releases are "
              f"pending review (bench/bench_search.py's mix), so the reviewer's queue lists about {args.solutions // 4} "
              "releases besides the uploads: the reviewer reads its first page of a very long queue (the database counts and pages it).")
    write_report(args.report, "Mixed load on one node (bench/load.py)", header + "\n\n" + "\n\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
