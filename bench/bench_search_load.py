"""Search at 50,000 solutions on SQLite and PostgreSQL: latency in-process, throughput with wrk.

    python bench/bench_search_load.py                         # 50,000 solutions, both engines, wrk
    python bench/bench_search_load.py --solutions 5000 --engines sqlite --duration 5
    python bench/bench_search_load.py --keep /tmp/catalogs    # reuse the generated catalogs next time

1. The synthetic catalog of bench/bench_search.py (Korean/English titles and summaries, the
   sample manifests' categories, programmes, entity types; search documents built by the
   registry's own code), 50,000 solutions with 2 releases each, on a SQLite file and a
   PostgreSQL database.
2. Latency in-process, uncached `search()` (the result cache is not used), a query mix with one-syllable (`차`), two-syllable (`주차`, `버스`), very common
   (`스마트`, `데이터`, `solution`), English terms, browsing without a query and facet filters:
   p50/p95/p99 per engine. Targets: p95 < 50 ms, p99 < 150 ms. Reported apart: the first search of a
   fresh process, which also reads the facet index.
3. Throughput with wrk (-t2 -c16) against gunicorn -w 2: the registry's GET /api/v1/solutions
   cached (one URL repeated) and uncached (a fresh query string per request, by a Lua script), and
   in the same run a bare Flask endpoint under the same gunicorn settings returning a body of the
   same size (the peer). Targets: cached >= 60%, uncached >= 25% of the peer.

Writes bench/results/search.md. Never a timed test: numbers are reported, not asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(HERE))

from bench_search import load_catalog, logging_quiet, make_app, postgres_database, start_gunicorn  # noqa: E402
from common import markdown_table, write_report  # noqa: E402
from flask import Flask, Response  # noqa: E402

# (label, query string arguments) — every entry a separate search.
QUERY_MIX: list[tuple[str, dict]] = [
    ("1 syllable 차", {"q": "차"}),
    ("1 syllable 시", {"q": "시"}),
    ("주차", {"q": "주차"}),
    ("버스", {"q": "버스"}),
    ("주차장을 (particle)", {"q": "주차장을"}),
    ("스마트 횡단보도", {"q": "스마트 횡단보도"}),
    ("common 스마트", {"q": "스마트"}),
    ("common 데이터", {"q": "데이터"}),
    ("common solution", {"q": "solution"}),
    ("english parking", {"q": "parking"}),
    ("english air quality", {"q": "air quality"}),
    ("english OffStreetParking", {"q": "OffStreetParking"}),
    ("browse (no query)", {}),
    ("browse, newest, page 7", {"sort": "newest", "page": "7"}),
    ("facet category", {"category": ["mobility"]}),
    ("버스 + programme + year", {"q": "버스", "programme": ["hub"], "year": ["2023"]}),
    ("차 + deploy + status", {"q": "차", "deploy": ["helm"], "status": ["stable"]}),
    ("common 스마트 + category", {"q": "스마트", "category": ["safety"], "sort": "adopted"}),
]

# --- the peer: bare Flask answering a prepared body of the registry's size -----------------------

peer_app = Flask("peer")
_PEER_BODY = json.dumps({"results": [{"name": "x" * 40}], "pad": "x" * int(os.environ.get("PEER_BYTES", "2000"))})


@peer_app.get("/search")
def peer_search():
    return Response(_PEER_BODY, mimetype="application/json")


# --- in-process latency ---------------------------------------------------------------------------

def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def measure_latency(app, repeats: int, freeze: bool = True) -> tuple[list[list], list[float], float]:
    """Per query of the mix, `repeats` runs of search() (the result cache is not used); and the first
    search of a fresh process (nothing is read ahead: it pays only for its own connection).

    With `freeze`, the process is first made what a production worker is: deploy/gunicorn.conf.py's
    post_worker_init sets the objects alive after start-up apart from the garbage collector, without
    which one search in a few dozen waits for a full collection of the whole heap (70-80 ms here)."""
    from werkzeug.datastructures import MultiDict

    from registry.catalog import search

    if freeze:
        gc.freeze()
    rows, everything = [], []
    with app.test_request_context("/"):
        search.reset_caches()
        started = time.perf_counter()
        search.search(search.SearchQuery())
        first = (time.perf_counter() - started) * 1000
        for label, args in QUERY_MIX:
            multi = MultiDict([(k, v) for k, vs in args.items() for v in (vs if isinstance(vs, list) else [vs])])
            query = search.SearchQuery.from_args(multi)
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                result = search.search(query)
                samples.append((time.perf_counter() - started) * 1000)
            samples.sort()
            everything += samples
            rows.append([label, result.total, f"{percentile(samples, 0.5):.1f}", f"{percentile(samples, 0.95):.1f}",
                         f"{samples[-1]:.1f}"])
    return rows, sorted(everything), first


# --- wrk ------------------------------------------------------------------------------------------

UNCACHED_LUA = """
counter = 0
terms = {%s}
request = function()
  counter = counter + 1
  local term = terms[(counter %% #terms) + 1]
  return wrk.format("GET", "/api/v1/solutions?q=" .. term .. "%%20" .. counter)
end
"""


def wrk(url: str, seconds: int, script: Path | None = None) -> float:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"] + (["-s", str(script)] if script else []) + [url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def measure_throughput(db_url: str, seconds: int, work: Path) -> list[list]:
    import requests

    env = {**os.environ, "REGISTRY_DATABASE_URL": db_url, "REGISTRY_RATELIMIT_ENABLED": "false",
           "REGISTRY_LOG_LEVEL": "WARNING", "REGISTRY_SECRET_KEY": "bench", "PYTHONPATH": str(REPO_ROOT)}
    registry, registry_url = start_gunicorn("registry:create_app()", env)
    try:
        cached_url = f"{registry_url}/api/v1/solutions?q=%EC%A3%BC%EC%B0%A8"  # 주차
        size = len(requests.get(cached_url, timeout=30).content)
        peer, peer_url = start_gunicorn("bench.bench_search_load:peer_app", {**env, "PEER_BYTES": str(size)})
        try:
            script = work / "uncached.lua"
            terms = ["주차", "버스", "스마트", "데이터", "parking", "bus", "대기질", "돌봄", "차", "안내"]
            script.write_text(UNCACHED_LUA % ", ".join(f'"{quote(t)}"' for t in terms))
            wrk(cached_url, 2)  # warm-up: imports, connections, the cached page
            wrk(peer_url + "/search", 2)
            runs = {"peer": [], "cached": [], "uncached": []}
            for _ in range(2):  # alternate, so a noisy neighbour hits both alike
                runs["peer"].append(wrk(peer_url + "/search", seconds))
                runs["cached"].append(wrk(cached_url, seconds))
                runs["uncached"].append(wrk(f"{registry_url}/api/v1/solutions", seconds, script))
        finally:
            peer.terminate()
            peer.wait(timeout=30)
    finally:
        registry.terminate()
        registry.wait(timeout=30)
    peer_rps = sum(runs["peer"]) / len(runs["peer"])
    rows = [["bare Flask peer", size, f"{peer_rps:.0f}", "100%", "—"]]
    for label, target in (("cached", 0.60), ("uncached", 0.25)):
        rps = sum(runs[label]) / len(runs[label])
        rows.append([f"registry {label}", size if label == "cached" else "~", f"{rps:.0f}", f"{rps / peer_rps:.0%}",
                     "yes" if rps / peer_rps >= target else f"**no** (target {target:.0%})"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solutions", type=int, default=50_000)
    parser.add_argument("--releases-per-solution", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=12, help="uncached runs of each query")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--pg-name", help="the PostgreSQL database to create (and drop unless --keep); "
                        "default solreg_bench_load_<solutions>")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--no-freeze", action="store_true",
                        help="measure without gc.freeze() (a production worker freezes: deploy/gunicorn.conf.py)")
    parser.add_argument("--keep", type=Path, help="directory holding generated catalogs to reuse")
    args = parser.parse_args()

    logging_quiet()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-search-load-"))
    work.mkdir(parents=True, exist_ok=True)
    load1 = os.getloadavg()[0]
    sections = []
    pg_name = args.pg_name or f"solreg_bench_load_{args.solutions}"
    try:
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            marker = work / f"{engine}-{args.solutions}.ready"
            if engine == "sqlite":
                url = f"sqlite:///{work / f'search-{args.solutions}.db'}"
            else:
                url = postgres_database(args.pg_url, pg_name, create=not marker.exists()) if not marker.exists() \
                    else postgres_url(args.pg_url, pg_name)
            if not marker.exists():
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True) if engine == "sqlite" else None
                app = make_app(url, work)
                loaded = load_catalog(app, args.solutions, args.releases_per_solution)
                marker.write_text(json.dumps(loaded))
                print(f"{engine}: loaded {loaded['documents']} searchable solutions in {loaded['seconds']:.0f} s")
            else:
                app = make_app(url, work)
            rows, everything, first = measure_latency(app, args.repeats, freeze=not args.no_freeze)
            p95, p99 = percentile(everything, 0.95), percentile(everything, 0.99)
            verdict = (f"first search of a fresh process: {first:.0f} ms; "
                       f"all queries: p50 {percentile(everything, 0.5):.1f} ms, **p95 {p95:.1f} ms** "
                       f"({'met' if p95 < 50 else 'MISSED'}: < 50), **p99 {p99:.1f} ms** "
                       f"({'met' if p99 < 150 else 'MISSED'}: < 150)")
            print(engine, verdict)
            heap = "heap not frozen" if args.no_freeze else "heap frozen after start-up, as a production worker's"
            section = (f"### {engine}: {args.solutions} solutions, {args.repeats} uncached runs per query, {heap}\n\n"
                       + markdown_table(["query", "results", "p50 ms", "p95 ms", "max ms"], rows) + f"\n\n{verdict}")
            if not args.no_throughput:
                section += ("\n\nwrk -t2 -c16, gunicorn -w 2 on both sides, alternating, 2 runs each of "
                            f"{args.duration} s:\n\n" + markdown_table(
                                ["server", "body bytes", "requests/s", "of peer", "target met"],
                                measure_throughput(url, args.duration, work)))
            sections.append(section)
            with app.app_context():
                from registry.db import db

                db.engine.dispose()
    finally:
        if not args.keep:
            if "postgres" in args.engines:
                postgres_database(args.pg_url, pg_name, create=False)
            shutil.rmtree(work, ignore_errors=True)
    load2 = os.getloadavg()[0]
    header = (f"Load average (1 min) at start {load1:.2f}, at end {load2:.2f} — the machine is shared with other "
              "work, so compare the ratios within one run.\n\n")
    write_report("search", "Search at 50,000 solutions (bench/bench_search_load.py)", header + "\n\n".join(sections))


def postgres_url(base_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    from registry.config import normalize_database_url

    return make_url(normalize_database_url(base_url)).set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
