"""The first upload in a fresh gunicorn worker against a warm one, with and without the warm-up.

    python bench/bench_first_upload.py [--rounds 3]

Each round starts a server with one sync worker on a new database and uploads four real sample
packages (the full example manifest, a CycloneDX 1.6 SBOM) one after the other, with the job queue
in a file and no worker (the checks wait in the queue, as the web workers of production leave them); the first is the
fresh worker's first upload, the others are warm. Four setups, side by side in the same run:

* bare `gunicorn 'registry:create_app()'`: nothing is built before the first upload;
* `gunicorn -c deploy/gunicorn.conf.py` with REGISTRY_UPLOAD_REHEARSAL=false: preload_app, with
  deploy/wsgi.py's warm-up in the master but not the upload rehearsal;
* deploy/gunicorn.conf.py without its pre_fork hook (the master does not trim its heap before it
  forks; the state before that hook);
* `gunicorn -c deploy/gunicorn.conf.py`: preload_app, warm-up and upload rehearsal
  (registry/ops/rehearsal.py) in the master, its heap trimmed before each fork.

The servers run without rfc3987-syntax, as a production install (`pip install '.[server]'`) does: the
test extra brings it for tests/spec/sbom/test_formats.py, and jsonschema would import it if present
(3-5 s of grammar compilation on first use). A stub on PYTHONPATH hides it from the servers.

Target (issue "Fast where it counts"): the first upload within 2x a warm one. The worker's idle RSS
(after start, before any request) is reported too (target < 100 MB), and beside it, as context, its
USS and PSS and the master's, idle and after the uploads (/proc/<pid>/smaps_rollup): with preload
most of a worker's RSS is pages it shares with the master; its USS is what one more worker costs.
Writes bench/results/first_upload.md.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import markdown_table, write_report  # noqa: E402
from bench.node import children, memory_mb  # noqa: E402
from tests.ops.production import DEPLOY, operator, registry_env, start_bare_gunicorn, start_production_gunicorn  # noqa: E402
from tests.publishing.packages import archive  # noqa: E402


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = "solreg-bench-boundary"
    body = io.BytesIO()
    body.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"a.tar.gz\"\r\n"
               "Content-Type: application/gzip\r\n\r\n".encode())
    body.write(data)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def _memory(server) -> dict[str, dict[str, float]]:
    """The memory of the server's (only) worker, the child of the gunicorn master, and of the master."""
    master = server.process.pid
    worker = children(master)[0]
    return {"worker": memory_mb(worker), "master": memory_mb(master)}


# The worker answers /healthz before the master has gone back to sleep: a moment for both to settle.
IDLE_SETTLE = 1.0
MEMORY = [(when, process, kind) for when in ("idle", "after") for process in ("worker", "master")
          for kind in ("rss", "uss", "pss")]

SETUPS = {"bare": "bare gunicorn",
          "no-rehearsal": "deploy/gunicorn.conf.py, REGISTRY_UPLOAD_REHEARSAL=false (preload + warm-up)",
          "no-trim": "deploy/gunicorn.conf.py without its pre_fork (no heap trim in the master)",
          "deploy": "deploy/gunicorn.conf.py (preload + warm-up + upload rehearsal; heap trimmed before the fork)"}

# deploy/gunicorn.conf.py as it was before its pre_fork hook: the same file, with that hook undone.
_NO_TRIM = """__file__ = {path!r}
exec(compile(open(__file__).read(), __file__, "exec"))
del pre_fork
"""


def one_round(setup: str, packages: list[bytes]) -> tuple[list[float], dict, dict]:
    with tempfile.TemporaryDirectory(prefix="bench-first-") as scratch:
        workdir = Path(scratch)
        # A queue of its own and no worker: as in production, the web worker only enqueues the checks.
        env = registry_env(workdir, REGISTRY_RATELIMIT_ENABLED="false", REGISTRY_LOG_LEVEL="WARNING",
                           REGISTRY_QUEUE_URL=f"sqlite:///{workdir / 'queue.db'}")
        operator(env, "db", "upgrade")
        operator(env, "users", "create", "vendor", "--email", "vendor@example.org", stdin="correct-horse-1\n")
        operator(env, "orgs", "create", "hanbit", "--kind", "vendor", "--name", "한빛소프트")
        operator(env, "orgs", "add-member", "hanbit", "vendor", "--role", "owner")
        token = operator(env, "tokens", "create", "vendor", "--org", "hanbit", "--scope", "publish").split()[-1]
        start = start_bare_gunicorn if setup == "bare" else start_production_gunicorn
        hidden = workdir / "no-test-extras"
        hidden.mkdir()
        (hidden / "rfc3987_syntax.py").write_text('raise ImportError("not in a production install")\n')
        rehearsal = {"REGISTRY_UPLOAD_REHEARSAL": "false"} if setup == "no-rehearsal" else {}
        options = {}
        if setup == "no-trim":
            options["config"] = workdir / "gunicorn-no-trim.conf.py"
            options["config"].write_text(_NO_TRIM.format(path=str(DEPLOY / "gunicorn.conf.py")))
        server, target = start({**env, **rehearsal, "PYTHONPATH": f"{hidden}:{env['PYTHONPATH']}"}, workdir,
                               workers=1, **options)
        try:
            time.sleep(IDLE_SETTLE)
            idle = _memory(server)
            times = []
            for package in packages:
                body, content_type = _multipart(package)
                status, answer, seconds = target.request(
                    "POST", "/api/v1/solutions/parking-share/releases", body=body, timeout=120,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
                if status != 201:
                    raise RuntimeError(f"upload answered {status}: {answer[:300]!r}")
                times.append(seconds * 1000)
            after = _memory(server)
        finally:
            server.stop()
        if "upload rehearsal skipped" in server.log_text():
            raise RuntimeError(f"the upload rehearsal failed in the master:\n{server.log_text()[-2000:]}")
    return times, idle, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    packages = [archive(version=f"1.2.{i}") for i in range(4)]
    rows, memory_rows, summary = [], [], []
    results = {setup: ([], [], {key: [] for key in MEMORY}) for setup in SETUPS}
    for _ in range(rounds):  # setups take turns, so a busier minute of the machine does not fall on one alone
        for setup, (firsts, warms, memory) in results.items():
            times, idle, after = one_round(setup, packages)
            firsts.append(times[0])
            warms.extend(times[1:])
            for when, process, kind in MEMORY:
                memory[when, process, kind].append((idle if when == "idle" else after)[process][kind])
    for setup, (firsts, warms, memory) in results.items():
        first, warm = statistics.median(firsts), statistics.median(warms)
        mb = {key: statistics.median(values) for key, values in memory.items()}
        label = SETUPS[setup]
        rows.append([label, f"{first:,.0f}", f"{warm:,.0f}", f"{first / warm:.1f}×", f"{mb['idle', 'worker', 'rss']:.0f}",
                     f"{mb['idle', 'worker', 'uss']:.0f}", f"{mb['idle', 'worker', 'pss']:.0f}",
                     f"{mb['after', 'worker', 'rss']:.0f}", f"{mb['after', 'worker', 'uss']:.0f}"])
        memory_rows.append([label] + [f"{mb[key]:.0f}" for key in MEMORY])
        summary.append((label, first / warm, mb["idle", "worker", "rss"]))
    table = markdown_table(["setup", "first upload ms (median)", "warm upload ms (median)", "first / warm",
                            "worker RSS idle MB", "worker USS idle MB", "worker PSS idle MB",
                            f"worker RSS after {len(packages)} uploads MB", f"worker USS after {len(packages)} uploads MB"],
                           rows)
    memory_table = markdown_table(["setup"] + [f"{process} {kind.upper()} {when}" for when, process, kind in MEMORY],
                                  memory_rows)
    print(table)
    verdicts = "\n".join(f"- {label}: first upload {ratio:.1f}× a warm one "
                         f"({'meets' if ratio <= 2 else 'MISSES'} the 2× target); worker RSS idle {rss:.0f} MB "
                         f"({'meets' if rss < 100 else 'MISSES'} the < 100 MB target)" for label, ratio, rss in summary)
    write_report("first_upload", "First upload in a fresh worker",
                 f"{rounds} rounds per setup, one sync worker, SQLite, the sample package with a CycloneDX 1.6 "
                 "SBOM; medians.\n\n" + table + "\n\n" + verdicts + "\n\n"
                 "Memory in MB (from /proc/<pid>/smaps_rollup, medians), of the worker and of the gunicorn master, "
                 f"idle (after start, before any request) and after the {len(packages)} uploads. The target is on "
                 "RSS, which counts the pages a worker shares with the master too; USS (Private_Clean + "
                 "Private_Dirty) is what one more worker costs, PSS the worker's share of the pages it shares; "
                 "context, not the target.\n\n" + memory_table + "\n")

if __name__ == "__main__":
    main()
