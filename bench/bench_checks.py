"""Benchmark the automated checks of one large release: 20,000 files, about 100 MB unpacked.

    python bench/bench_checks.py                 # 20,000 files, ~100 MB
    python bench/bench_checks.py --files 5000 --megabytes 25

The release is the smart-bus-shelter sample (its LICENSE, SBOM, compose and Kubernetes files) with a
generated source tree added: Python and JavaScript modules, tests, a vendored node_modules with a few
minified bundles, some binaries and images, CSV data and more Kubernetes manifests. Two paths:

- `solreg check`: each code check of registry/spec/codechecks.py on the archive read once, in turn.
- the registry's job: the release uploaded through the real API into a throw-away app (SQLite, local
  blobs, the archive member cap raised to 25,000), then `run_job_checks` (registry/review/checks.py)
  as the worker runs it, every job check timed.

Budget: every check ends within its own budget (20 s and 64 MB read per code check, 60 s for the
licences, 120 s for the vulnerabilities) with a real result, not "timed_out". Results are printed
as a markdown table and written to bench/results/checks.md.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import markdown_table, write_report  # noqa: E402

MEMBER_CAP = 25_000  # the operator's REGISTRY_ARCHIVE_MAX_MEMBERS for this release (the default is 10,000)


def python_module(index: int, size: int) -> bytes:
    head = [f'"""정류장 {index}번 센서 처리: 온도, 혼잡도, 도착 안내."""', "", "import json", "import logging", "",
            "log = logging.getLogger(__name__)", ""]
    body, n = [], 0
    while sum(map(len, body)) < size:
        body.append(f"def reading_{index}_{n}(payload):\n    # 센서 값 {n}: 범위를 벗어나면 버린다\n"
                    f"    value = json.loads(payload).get('v{n}', 0)\n    if value > {n * 7 % 97}:\n"
                    f"        log.info('정류장 %s 값 %s', {index}, value)\n    return value * {n % 13 + 1}\n\n")
        n += 1
    return "\n".join(head + body).encode()


def test_module(index: int) -> bytes:
    return (f"from app.pkg{index % 50:02d}.mod{index:05d} import reading_{index}_0\n\n\n"
            f"def test_reading_{index}():\n    # 한국어 주석: 값이 작으면 그대로\n"
            f"    assert reading_{index}_0('{{\"v0\": 1}}') == 1\n").encode()


def js_module(index: int, size: int, vendored: bool) -> bytes:
    name = f"dep{index}" if vendored else f"view{index}"
    lines = [f"// {'vendored' if vendored else '정류장 화면'} module {name}", "'use strict';", ""]
    n = 0
    while sum(map(len, lines)) < size:
        lines.append(f"function {name}_{n}(el, data) {{\n  const rows = data.items.filter((x) => x.id % {n + 2} === 0);\n"
                     f"  el.textContent = rows.length + ' 대 도착 예정';\n  return rows;\n}}\n")
        n += 1
    lines.append(f"module.exports = {{ {name}_0 }};\n")
    return "\n".join(lines).encode()


def minified(index: int, size: int) -> bytes:
    chunk = f"var a{index}=function(b){{return b*{index}+1}};"
    return (chunk * (size // len(chunk) + 1))[:size].encode()


def k8s_object(index: int) -> bytes:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shelter-zone-{index}\n  labels:\n"
            f"    app: smart-bus-shelter\ndata:\n  zone: \"구역-{index}\"\n  threshold: \"{index % 40}\"\n").encode()


def generated_tree(files: int, megabytes: int, rng: random.Random) -> dict[str, bytes]:
    """`files` files adding up to about `megabytes` MB, in proportions a real web-and-sensor solution has."""
    scale = files / 20_000
    counts = {"py": int(5000 * scale), "tests": int(500 * scale), "js": int(3000 * scale), "bundles": 10,
              "images": 20, "binaries": 4, "csv": 5, "k8s": 20}
    counts["vendored"] = files - sum(counts.values())
    budget = megabytes * 1024 * 1024
    fixed = {"bundles": 300 * 1024, "images": 400 * 1024, "binaries": 1536 * 1024, "csv": 2 * 1024 * 1024}
    left = budget - sum(fixed[k] * counts[k] for k in fixed)
    per_source = max(1024, left // (counts["py"] + counts["js"] + counts["vendored"] + counts["tests"]))
    tree: dict[str, bytes] = {}
    for i in range(counts["py"]):
        tree[f"app/pkg{i % 50:02d}/mod{i:05d}.py"] = python_module(i, per_source)
    for i in range(counts["tests"]):
        tree[f"tests/test_mod{i:05d}.py"] = test_module(i)
    for i in range(counts["js"]):
        tree[f"web/src/views/view{i:05d}.js"] = js_module(i, per_source, vendored=False)
    for i in range(counts["vendored"]):
        package = f"web/node_modules/dep{i // 25:04d}"
        tree[f"{package}/{'package.json' if i % 25 == 0 else f'lib/part{i:05d}.js'}"] = (
            json.dumps({"name": f"dep{i // 25}", "version": "1.0.0", "license": "MIT"}).encode() if i % 25 == 0
            else js_module(i, per_source, vendored=True))
    for i in range(counts["bundles"]):
        tree[f"web/node_modules/dep{i:04d}/dist/bundle.min.js"] = minified(i, fixed["bundles"])
    for i in range(counts["images"]):
        tree[f"web/public/img/map{i:02d}.png"] = b"\x89PNG\r\n\x1a\n" + rng.randbytes(fixed["images"] - 8)
    for i, (path, magic) in enumerate([("bin/shelter-agent", b"\x7fELF\x02\x01\x01\x00"),
                                       ("lib/libfastgeo.so", b"\x7fELF\x02\x01\x01\x00"),
                                       ("tools/flash.exe", b"MZ\x90\x00"), ("tools/legacy.jar", b"PK\x03\x04")]):
        tree[path] = magic + rng.randbytes(fixed["binaries"] - len(magic))
    for i in range(counts["csv"]):
        row = "2026-11-01T09:00:00+09:00,정류장-{n},{t},{c}\n"
        tree[f"data/readings{i}.csv"] = "".join(row.format(n=n % 400, t=n % 35, c=n % 60)
                                                for n in range(fixed["csv"] // 40)).encode()[:fixed["csv"]]
    for i in range(counts["k8s"]):
        tree[f"deploy/k8s/zone-{i:02d}.yaml"] = k8s_object(i)
    return tree


def release_package(files: int, megabytes: int) -> tuple[bytes, int, int]:
    from tests.review.samples import sample_package

    tree = generated_tree(files, megabytes, random.Random(15))
    archive = sample_package("2.0.0", "smart-bus-shelter", files=tree)
    from registry.spec.archive import ArchiveLimits, read_archive

    contents = read_archive(archive, ArchiveLimits(max_members=MEMBER_CAP))
    return archive, len(contents.members), contents.unpacked_bytes


def spec_path(archive: bytes) -> tuple[list[list], float]:
    """What `solreg check` does: read the archive (own files kept first), each code check in turn."""
    import yaml

    from registry.spec import codechecks
    from registry.spec.archive import ArchiveLimits

    started = time.perf_counter()
    contents = codechecks.read_for_checks(lambda: io.BytesIO(archive), ArchiveLimits(max_members=MEMBER_CAP))
    code = codechecks.code_input(contents, yaml.safe_load(contents.files["solution.yaml"]))
    read = time.perf_counter() - started
    rows = [["(read the archive)", f"{read:.1f}", "", "", "", ""]]
    try:
        for name in codechecks.CHECKS:
            started = time.perf_counter()
            result = codechecks.run_code_check(name, code)
            took = time.perf_counter() - started
            rows.append([name, f"{took:.1f}", f"{codechecks.SECONDS:g}", result.status, _covered(result.extra),
                         _summary(result.summary)])
    finally:
        code.close()
    return rows, read


def job_path(archive: bytes, workdir: Path) -> list[list]:
    """What the registry does: the upload, then the job `run_checks`, each check timed as it runs."""
    from flask_migrate import upgrade

    from registry import create_app
    from registry.accounts import service as accounts
    from registry.db import db
    from registry.releases.models import Check
    from registry.review import checks

    app = create_app({"DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "STORAGE_PATH": str(workdir / "blobs"),
                      "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "REQUIRE_2FA_FOR_STAFF": False,
                      "ARCHIVE_MAX_MEMBERS": MEMBER_CAP})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        vendor = accounts.create_user("vendor", "vendor@example.org", "correct-horse-1", None)
        accounts.add_member(accounts.create_org("hanbit", "Hanbit", "vendor"), vendor, "owner")
        token = accounts.issue_token(vendor, accounts.get_org("hanbit"), ["publish"]).raw
        db.session.commit()
    started = time.perf_counter()
    response = app.test_client().post("/api/v1/solutions/smart-bus-shelter/releases",
                                      data={"archive": (io.BytesIO(archive), "smart-bus-shelter.tar.gz")},
                                      headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
    upload = time.perf_counter() - started
    assert response.status_code == 201, response.json
    release_id = response.json["release"]["id"]
    timings: dict[str, float] = {}
    reading: dict[str, float] = {}  # the check during which the job read the archive, and how long that took
    run_one, code = checks._run_one, checks.JobInput.code
    current = {"name": ""}

    def timed_run(kind, release, given):  # the job's own step, timed from outside
        began, current["name"] = time.perf_counter(), kind.name
        try:
            return run_one(kind, release, given)
        finally:
            timings[kind.name] = time.perf_counter() - began

    def timed_code(self):
        began, first = time.perf_counter(), self._code is None
        try:
            return code(self)
        finally:
            if first:
                reading[current["name"]] = time.perf_counter() - began

    checks._run_one, checks.JobInput.code = timed_run, timed_code
    try:
        with app.app_context():
            names = [c.name for c in db.session.query(Check).filter_by(release_id=release_id, status="running")]
            started = time.perf_counter()
            checks.run_job_checks(release_id, names)
            job = time.perf_counter() - started
            stored = {c.name: c for c in db.session.query(Check).filter_by(release_id=release_id)}
    finally:
        checks._run_one, checks.JobInput.code = run_one, code
    budgets = {k.name: k.seconds for k in checks.CHECKS.values()}
    rows = [["(upload: inspect, store, upload checks)", f"{upload:.1f}", "", "", "", ""],
            ["(read the archive, once for the job)", f"{sum(reading.values()):.1f}", "", "", "", ""]]
    for name in names:  # the read happens inside the first code check's time; shown apart
        took = timings.get(name, 0.0) - reading.get(name, 0.0)
        rows.append([name, f"{took:.1f}", f"{budgets[name]:g}", stored[name].status, _covered(stored[name].details),
                     _summary(stored[name].summary)])
    rows.append(["(the whole job)", f"{job:.1f}", "", "", "", ""])
    return rows


def _covered(extra: dict) -> str:
    """How much of the package a check got through, where it says so."""
    if "reuse_files" in extra:
        return f"{extra['reuse_files'][0]:,} / {extra['reuse_files'][1]:,} own files (REUSE)"
    if "text_files" in extra:
        return f"{extra['scanned']:,} / {extra['text_files']:,} text files"
    if "python_files" in extra:
        return f"{extra['scanned']:,} / {extra['python_files']:,} own .py files"
    return "part (no count)" if "timed_out" in extra else "all"


def _summary(text: str) -> str:
    return text.replace("|", "/")[:110]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--megabytes", type=int, default=100)
    options = parser.parse_args()
    import os

    load = os.getloadavg()
    started = time.perf_counter()
    archive, members, unpacked = release_package(options.files, options.megabytes)
    built = time.perf_counter() - started
    spec_rows, _read = spec_path(archive)
    with tempfile.TemporaryDirectory(prefix="bench-checks-") as scratch:
        job_rows = job_path(archive, Path(scratch))
    headers = ["step", "seconds", "budget s", "status", "covered", "summary"]
    checks = [r for r in job_rows if r[2]]
    dominant = max(checks, key=lambda r: float(r[1]))
    over = [r[0] for r in checks if float(r[1]) > float(r[2]) or r[3] == "timed_out"]
    verdict = ("every check ended within its budget with a result" if not over
               else f"MISSED for {', '.join(over)} (over its seconds, or timed out on its seconds or bytes)")
    body = (f"One release of {members:,} files, {unpacked / 2**20:.0f} MB unpacked, {len(archive) / 2**20:.1f} MB "
            f"compressed (built in {built:.0f} s): the smart-bus-shelter sample with a generated source tree. Load "
            f"average before the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}. One run of each check: the "
            "numbers say which check dominates, not a distribution.\n\n"
            "### `solreg check`: registry/spec/codechecks.py on the archive read for the checks\n\n"
            + markdown_table(headers, spec_rows)
            + "\n\n### The registry's job `run_checks` (registry/review/checks.py), after a real upload\n\n"
            + markdown_table(headers, job_rows)
            + f"\n\nBudget: each check ends within its own seconds (20 s and 64 MB read per code check, 60 s licences, "
            f"120 s vulnerabilities) with a result. Verdict: {verdict}. Slowest check: {dominant[0]} "
            f"({dominant[1]} s)" + ("; the checks that ran out all stop at their budget, so the covered column, not "
                                   "the seconds, says which dominates." if over else "."))
    write_report("checks", "Checks: one 100 MB, 20,000-file release", body)


if __name__ == "__main__":
    main()
