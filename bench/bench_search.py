"""Benchmark catalog search on SQLite and PostgreSQL, and the JSON search API under gunicorn.

    python bench/bench_search.py                       # 10,000 solutions / 50,000 releases, both engines
    python bench/bench_search.py --solutions 2000 --engines sqlite --duration 5

1. A synthetic catalog (bulk inserts of organizations, solutions, releases with realistic
   Korean/English manifests, and their search documents built by the same code the registry
   uses) is loaded into a fresh SQLite file and a fresh PostgreSQL database
   (postgresql://postgres@127.0.0.1:5432/<created and dropped here>; --pg-url to change).
2. Search latency: a fixed set of Korean and English queries, with and without facet filters,
   each run --repeats times in-process (facet counts included); p50/p95 per group. Target p95 < 50 ms.
3. Throughput: gunicorn (2 sync workers, 127.0.0.1) serving the registry's
   GET /api/v1/solutions, then a minimal Flask JSON endpoint under the same gunicorn settings;
   a small bounded load generator (threads + requests, fixed duration and request cap) drives
   each in turn. Reported: requests/s of both and their ratio (target >= 40%).

Writes bench/results/search.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(HERE))

from common import markdown_table, summarize, write_report  # noqa: E402
from flask import Flask  # noqa: E402

# --- the minimal endpoint gunicorn serves for comparison ------------------------------------

minimal_app = Flask("minimal")


@minimal_app.get("/search")
def minimal_search():
    return {"results": [], "total": 0, "page": 1, "pages": 1}


# --- synthetic catalog -------------------------------------------------------------------------

TOPICS = [
    # (Korean title stem, English title stem, categories, entity type, keywords)
    ("스마트 주차 공유", "Smart Parking Sharing", ["mobility", "parking"], "OffStreetParking", ["주차", "parking"]),
    ("공영주차장 안내", "Public Parking Guide", ["parking"], "ParkingSpot", ["주차장", "guide"]),
    ("버스 정류장 쉼터", "Smart Bus Shelter", ["transport-infrastructure"], "WeatherObserved", ["버스", "shelter"]),
    ("수요응답형 버스", "Demand-Responsive Bus", ["mobility"], "Vehicle", ["버스", "DRT"]),
    ("스마트 횡단보도", "Smart Crosswalk", ["safety"], "TrafficFlowObserved", ["횡단보도", "crosswalk"]),
    ("대기질 대시보드", "Air Quality Dashboard", ["environment"], "AirQualityObserved", ["대기질", "미세먼지"]),
    ("침수 경보", "Flood Alert", ["disaster", "water"], "WaterObserved", ["침수", "flood"]),
    ("독거노인 돌봄", "Elderly Care Monitoring", ["welfare", "health"], "Device", ["돌봄", "care"]),
    ("스마트 가로등", "Smart Streetlight", ["energy", "safety"], "Streetlight", ["가로등", "lighting"]),
    ("관광 혼잡도 안내", "Tourist Crowd Guide", ["tourism"], "CrowdFlowObserved", ["관광", "crowd"]),
    ("스마트팜 관제", "Smart Farm Control", ["agriculture"], "AgriParcel", ["농업", "farm"]),
    ("에너지 절감 건물", "Building Energy Saver", ["smart-building", "energy"], "Building", ["에너지", "building"]),
]
PLACES = ["천안시", "광명시", "태백시", "경산시", "세종특별자치시", "부산광역시", "대구광역시", "전주시", "춘천시",
          "여수시", "김해시", "안양시", "수원시", "청주시", "창원시", "포항시", "원주시", "순천시", "목포시", "강릉시"]
VENDOR_WORDS = ["한빛", "누리", "어반", "스마트", "미래", "도시", "데이터", "그린", "세움", "가온"]
PROGRAMMES = ["hub", "small-strong-climate", "small-strong-population", "solution-spread", "data-hub-pilot", "other"]
LICENSES = ["Apache-2.0", "MIT", "EUPL-1.2", "GPL-3.0-only", "BSD-3-Clause", "MPL-2.0"]
STATUSES = ["concept", "development", "beta", "stable", "stable", "stable"]
MAINTENANCE = ["contract", "internal", "community", "none"]
KINDS = ["helm", "compose", "kubernetes", "vm"]

QUERIES = {
    "korean": ["주차", "버스", "주차장을", "스마트 횡단보도", "대기질", "침수 경보", "천안", "돌봄"],
    "english": ["parking", "bus", "air quality", "Flood", "OffStreetParking", "crowd guide", "streetlight", "farm"],
}
FACETS = [{"category": ["mobility"]}, {"programme": ["hub"], "year": ["2023"]},
          {"deploy": ["helm"], "status": ["stable"]}]


def manifest(rng: random.Random, index: int, version: str) -> dict:
    ko, en, categories, entity, keywords = TOPICS[index % len(TOPICS)]
    place = PLACES[index % len(PLACES)]
    kinds = sorted(set(rng.sample(KINDS, rng.randint(1, 2))))
    return {
        "manifestVersion": "1", "name": f"solution-{index:05d}", "version": version,
        "title": {"ko": f"{place} {ko} {index}", "en": f"{en} {index}"},
        "summary": {"ko": f"{place}에서 실증한 {ko} 서비스로 도시 데이터 허브와 연계합니다",
                    "en": f"{en} piloted in {place}, connected to the city data hub"},
        "description": {"ko": f"{ko} 솔루션은 데이터 허브의 {entity} 엔티티를 구독하여 시민에게 정보를 제공합니다. "
                              "설치는 배포 안내를 따르십시오.",
                        "en": f"The {en.lower()} solution subscribes to {entity} entities of the data hub and "
                              "informs residents. Follow the deployment guide to install it."},
        "keywords": keywords + [f"k{index % 97}"],
        "categories": categories,
        "developmentStatus": rng.choice(STATUSES),
        "funding": {"programme": rng.choice(PROGRAMMES), "year": rng.randint(2019, 2025), "municipality": place},
        "legal": {"license": rng.choice(LICENSES), "copyrightOwner": place},
        "maintenance": {"type": rng.choice(MAINTENANCE)},
        "source": {"repository": f"https://git.example.org/{index}"},
        "dataHub": {"api": "ngsi-ld", "specVersion": ">=1.6.1", "entities": [
            {"type": entity, "access": ["read", "subscribe"],
             "attributes": [{"name": "location", "attributeType": "GeoProperty", "required": True},
                            {"name": "dateObserved", "attributeType": "Property"}]}]},
        "deploy": {"targets": [{"kind": k, "path": f"deploy/{k}"} for k in kinds]},
        "sbom": "sbom.cdx.json",
    }


def load_catalog(app, solutions: int, releases_per_solution: int, seed: int = 7) -> dict:
    """Bulk-insert the synthetic catalog; returns counts and seconds taken."""
    from sqlalchemy import insert

    from registry.accounts.models import Organization
    from registry.catalog.models import SearchDocument, SearchFacet
    from registry.catalog.service import build_document, facet_links
    from registry.db import db
    from registry.releases.models import Release, Solution

    rng = random.Random(seed)
    started = time.perf_counter()
    now = datetime.now(timezone.utc)
    with app.app_context():
        vendors = [{"id": i + 1, "slug": f"vendor-{i}", "name": f"{rng.choice(VENDOR_WORDS)}소프트 {i}",
                    "kind": "vendor", "created_at": now} for i in range(200)]
        db.session.execute(insert(Organization), vendors)
        solution_rows, release_rows, documents, facets = [], [], [], []
        release_id = 0
        for index in range(solutions):
            vendor = vendors[index % len(vendors)]
            solution_rows.append({"id": index + 1, "name": f"solution-{index:05d}",
                                  "normalized_name": f"solution-{index:05d}", "org_id": vendor["id"],
                                  "state": "active", "created_at": now})
            latest = None
            for minor in range(releases_per_solution):
                release_id += 1
                version = f"1.{minor}.0"
                state = "published" if minor < releases_per_solution - 1 else rng.choice(
                    ["published", "published", "pending_review", "yanked"])
                published_at = now - timedelta(days=rng.randint(0, 1500)) if state != "pending_review" else None
                doc = manifest(rng, index, version)
                digest = hashlib.sha256(f"{index}/{version}".encode()).hexdigest()
                release_rows.append({"id": release_id, "solution_id": index + 1, "version": version, "state": state,
                                     "manifest": doc, "sha256": digest, "size": 1000, "download_count": 0,
                                     "created_at": now, "published_at": published_at,
                                     "yank_reason": "bench" if state == "yanked" else None})
                if state == "published":
                    latest = (release_id, version, doc, published_at)
            if latest is not None:
                document, rows = build_document(
                    solution_id=index + 1, name=f"solution-{index:05d}", org_id=vendor["id"], org_name=vendor["name"],
                    release_id=latest[0], version=latest[1], manifest=latest[2], published_at=latest[3],
                    adoption_count=rng.choice([0, 0, 0, 1, 2, 5]))
                documents.append(document)
                facets.extend(rows)
        for table, rows in ((Solution, solution_rows), (Release, release_rows), (SearchDocument, documents),
                            (SearchFacet, facet_links(facets))):
            for start in range(0, len(rows), 5000):
                db.session.execute(insert(table), rows[start:start + 5000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk load: statistics and the visibility map.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(db.text("VACUUM ANALYZE"))
    return {"solutions": solutions, "releases": len(release_rows), "documents": len(documents),
            "seconds": time.perf_counter() - started}


def measure_latency(app, repeats: int) -> dict[str, dict[str, float]]:
    from werkzeug.datastructures import MultiDict

    from registry.catalog.search import SearchQuery, search

    groups: dict[str, list[float]] = {}
    with app.test_request_context("/"):
        for language, queries in QUERIES.items():
            for with_facets in (False, True):
                samples = groups.setdefault(f"{language}, {'with' if with_facets else 'no'} facets", [])
                for n, text in enumerate(queries):
                    args = MultiDict([("q", text)])
                    if with_facets:
                        for key, values in FACETS[n % len(FACETS)].items():
                            args.setlist(key, values)
                    query = SearchQuery.from_args(args)
                    search(query)  # warm the statement cache
                    for _ in range(repeats):
                        started = time.perf_counter()
                        search(query)
                        samples.append((time.perf_counter() - started) * 1000)
    return {group: summarize(samples) for group, samples in groups.items()}


# --- throughput -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(target: str, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir",
         str(REPO_ROOT), "--log-level", "warning", target], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(200):
        try:
            requests.get(url + "/", timeout=1)
            return process, url
        except requests.RequestException:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {target} exited: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn {target} did not start")


def load(urls: list[str], threads: int, duration: float, cap: int) -> dict:
    """Requests from `threads` threads for `duration` seconds (at most `cap` in total); bounded."""
    import requests

    done, errors = [0], [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration

    def worker(offset: int) -> None:
        session = requests.Session()
        i = offset
        while time.perf_counter() < stop_at:
            with lock:
                if done[0] + errors[0] >= cap:
                    return
            response = session.get(urls[i % len(urls)], timeout=30)
            i += 1
            with lock:
                if response.status_code == 200:
                    done[0] += 1
                else:
                    errors[0] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"requests": done[0], "errors": errors[0], "seconds": elapsed, "rps": done[0] / elapsed}


def measure_throughput(db_url: str, threads: int, duration: float, cap: int, rounds: int) -> dict:
    """Both servers run side by side; load alternates between them in `rounds`, so a noisy
    neighbour on a shared machine hits both alike. Totals over all rounds give the ratio."""
    from urllib.parse import urlencode

    env = {**os.environ, "REGISTRY_DATABASE_URL": db_url, "REGISTRY_RATELIMIT_ENABLED": "false",
           "REGISTRY_LOG_LEVEL": "WARNING", "REGISTRY_SECRET_KEY": "bench", "PYTHONPATH": str(REPO_ROOT)}
    queries = [q for group in QUERIES.values() for q in group]
    servers = {"registry GET /api/v1/solutions": ("registry:create_app()", "/api/v1/solutions"),
               "minimal Flask JSON": ("bench.bench_search:minimal_app", "/search")}
    processes, urls = [], {}
    try:
        for label, (target, path) in servers.items():
            process, url = start_gunicorn(target, env)
            processes.append(process)
            urls[label] = [f"{url}{path}?{urlencode({'q': q})}" for q in queries]
            load(urls[label], threads, min(2.0, duration), cap)  # warm-up: imports, connections, caches
        totals = {label: {"requests": 0, "errors": 0, "seconds": 0.0} for label in servers}
        for _ in range(rounds):
            for label in servers:
                run = load(urls[label], threads, duration / rounds, cap // rounds)
                for key in ("requests", "errors", "seconds"):
                    totals[label][key] += run[key]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    for run in totals.values():
        run["rps"] = run["requests"] / run["seconds"] if run["seconds"] else 0.0
    registry_rps = totals["registry GET /api/v1/solutions"]["rps"]
    minimal_rps = totals["minimal Flask JSON"]["rps"]
    return {"runs": totals, "ratio": registry_rps / minimal_rps if minimal_rps else 0.0}


# --- databases ------------------------------------------------------------------------------------

def make_app(db_url: str, instance: Path):
    from flask_migrate import upgrade

    from registry import create_app
    from registry.db import db

    app = create_app({"DATABASE_URL": db_url, "STORAGE_PATH": str(instance / "blobs"), "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.session.remove()
    return app


def postgres_database(base_url: str, name: str, create: bool) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from registry.config import normalize_database_url

    base = make_url(normalize_database_url(base_url))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solutions", type=int, default=10_000)
    parser.add_argument("--releases-per-solution", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=15, help="runs of each query")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--threads", type=int, default=4, help="load generator threads")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds of load per server (all rounds)")
    parser.add_argument("--rounds", type=int, default=4, help="alternations between the two servers")
    parser.add_argument("--cap", type=int, default=50_000, help="at most this many requests per server")
    parser.add_argument("--no-throughput", action="store_true")
    args = parser.parse_args()

    logging_quiet()
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    sections, latency_rows, load_rows = [], [], []
    throughput = None
    pg_name = f"solreg_bench_search_{os.getpid()}"
    try:
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            if engine == "sqlite":
                url = f"sqlite:///{work / 'search.db'}"
            elif engine == "postgres":
                url = postgres_database(args.pg_url, pg_name, create=True)
            else:
                raise SystemExit(f"unknown engine {engine!r}")
            app = make_app(url, work)
            loaded = load_catalog(app, args.solutions, args.releases_per_solution)
            load_rows.append([engine, loaded["solutions"], loaded["releases"], loaded["documents"],
                              f"{loaded['seconds']:.1f}"])
            for group, stats in measure_latency(app, args.repeats).items():
                latency_rows.append([engine, group, f"{stats['median']:.1f}", f"{stats['p95']:.1f}",
                                     f"{stats['max']:.1f}", "yes" if stats["p95"] < 50 else "**no**"])
            if engine == "sqlite" and not args.no_throughput:
                throughput = measure_throughput(url, args.threads, args.duration, args.cap, args.rounds)
            with app.app_context():
                from registry.db import db

                db.engine.dispose()
    finally:
        if "postgres" in args.engines:
            postgres_database(args.pg_url, pg_name, create=False)
        shutil.rmtree(work, ignore_errors=True)

    sections.append("## Synthetic catalog\n\n" + markdown_table(
        ["engine", "solutions", "releases", "searchable", "load s"], load_rows))
    sections.append("## Search latency (in-process, facet counts included)\n\n"
                    f"Queries: {json.dumps(QUERIES, ensure_ascii=False)}; facet filters rotate over "
                    f"{json.dumps(FACETS)}; {args.repeats} runs each.\n\n" + markdown_table(
                        ["engine", "queries", "p50 ms", "p95 ms", "max ms", "p95 < 50 ms"], latency_rows))
    if throughput:
        rows = [[label, run["requests"], run["errors"], f"{run['seconds']:.1f}", f"{run['rps']:.0f}"]
                for label, run in throughput["runs"].items()]
        sections.append(
            f"## JSON search throughput under gunicorn (2 sync workers, SQLite catalog, {args.threads} client threads, "
            f"{args.rounds} alternating rounds)\n\n"
            "The registry answers repeated searches from its result cache (keyed by the index state); "
            "each request still authenticates, reads the index state and serialises the (cached) JSON page. "
            "The latency table above measures uncached `search()`.\n\n"
            + markdown_table(["server", "requests", "errors", "seconds", "requests/s"], rows)
            + f"\n\nRatio registry / minimal: **{throughput['ratio']:.0%}** (target >= 40%).")
    write_report("search", "Catalog search benchmark", "\n\n".join(sections))


def logging_quiet() -> None:
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("REGISTRY_LOG_LEVEL", "WARNING")


if __name__ == "__main__":
    main()
