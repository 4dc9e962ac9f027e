"""The first upload in a fresh gunicorn worker against a warm one, with and without the warm-up.

    python bench/bench_first_upload.py [--rounds 3]

Each round starts a server with one sync worker on a new database and uploads four real sample
packages (the full example manifest, a CycloneDX 1.6 SBOM) one after the other, with the job queue
in a file and no worker (the checks wait in the queue, as the web workers of production leave them); the first is the
fresh worker's first upload, the others are warm. Three setups, side by side in the same run:

* bare `gunicorn 'registry:create_app()'`: nothing is built before the first upload;
* `gunicorn -c deploy/gunicorn.conf.py` with REGISTRY_UPLOAD_REHEARSAL=false: preload_app, with
  deploy/wsgi.py's warm-up in the master but not the upload rehearsal (the state before it);
* `gunicorn -c deploy/gunicorn.conf.py`: preload_app, warm-up and upload rehearsal
  (registry/ops/rehearsal.py) in the master.

The servers run without rfc3987-syntax, as a production install (`pip install '.[server]'`) does: the
test extra brings it for tests/spec/sbom/test_formats.py, and jsonschema would import it if present
(3-5 s of grammar compilation on first use). A stub on PYTHONPATH hides it from the servers.

Target (issue "Fast where it counts"): the first upload within 2x a warm one. The worker's idle RSS
(VmRSS after start, before any request) is reported too (target < 100 MB).
Writes bench/results/first_upload.md.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import markdown_table, write_report  # noqa: E402
from tests.ops.production import operator, registry_env, start_bare_gunicorn, start_production_gunicorn  # noqa: E402
from tests.publishing.packages import archive  # noqa: E402


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = "solreg-bench-boundary"
    body = io.BytesIO()
    body.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"a.tar.gz\"\r\n"
               "Content-Type: application/gzip\r\n\r\n".encode())
    body.write(data)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def _worker_rss_mb(server) -> float:
    """VmRSS of the server's (only) worker: the child of the gunicorn master."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    status = Path(f"/proc/{children[0]}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


SETUPS = {"bare": "bare gunicorn",
          "no-rehearsal": "deploy/gunicorn.conf.py, REGISTRY_UPLOAD_REHEARSAL=false (preload + warm-up)",
          "deploy": "deploy/gunicorn.conf.py (preload + warm-up + upload rehearsal)"}


def one_round(setup: str, packages: list[bytes]) -> tuple[list[float], float]:
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
        server, target = start({**env, **rehearsal, "PYTHONPATH": f"{hidden}:{env['PYTHONPATH']}"}, workdir, workers=1)
        try:
            idle = _worker_rss_mb(server)
            times = []
            for package in packages:
                body, content_type = _multipart(package)
                status, answer, seconds = target.request(
                    "POST", "/api/v1/solutions/parking-share/releases", body=body, timeout=120,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
                if status != 201:
                    raise RuntimeError(f"upload answered {status}: {answer[:300]!r}")
                times.append(seconds * 1000)
        finally:
            server.stop()
        if "upload rehearsal skipped" in server.log_text():
            raise RuntimeError(f"the upload rehearsal failed in the master:\n{server.log_text()[-2000:]}")
    return times, idle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    packages = [archive(version=f"1.2.{i}") for i in range(4)]
    rows, summary = [], []
    results = {setup: ([], [], []) for setup in SETUPS}
    for _ in range(rounds):  # setups take turns, so a busier minute of the machine does not fall on one alone
        for setup, (firsts, warms, idles) in results.items():
            times, idle = one_round(setup, packages)
            firsts.append(times[0])
            warms.extend(times[1:])
            idles.append(idle)
    for setup, (firsts, warms, idles) in results.items():
        first, warm = statistics.median(firsts), statistics.median(warms)
        label = SETUPS[setup]
        rows.append([label, f"{first:,.0f}", f"{warm:,.0f}", f"{first / warm:.1f}×", f"{statistics.median(idles):.0f}"])
        summary.append((label, first / warm))
    table = markdown_table(["setup", "first upload ms (median)", "warm upload ms (median)", "first / warm",
                            "worker RSS idle MB"], rows)
    print(table)
    verdicts = "\n".join(f"- {label}: first upload {ratio:.1f}× a warm one "
                         f"({'meets' if ratio <= 2 else 'MISSES'} the 2× target)" for label, ratio in summary)
    write_report("first_upload", "First upload in a fresh worker",
                 f"{rounds} rounds per setup, one sync worker, SQLite, the sample package with a CycloneDX 1.6 "
                 "SBOM; medians.\n\n" + table + "\n" + verdicts + "\n")


if __name__ == "__main__":
    main()
