"""Benchmark the reviewer's source diff: a release that changes 5,000 files against its predecessor.

    python bench/bench_review_diff.py              # 5,000 changed files, 7 runs per page
    python bench/bench_review_diff.py --files 2000 --runs 3

Both releases are uploaded through the real API into a throw-away app (SQLite, local blobs),
the first approved, and each page is fetched with the Flask test client as a signed-in
reviewer, so the time covers loading both releases' file indexes (or, warm, the cached listings),
the file-level diff, reading and line-diffing one page of files, and rendering. Target: the diff
page renders in under 1 s, the first (cold) load included, at p95.
Results are printed as a markdown table and written to bench/results/review.md.
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import markdown_table, summarize, write_report  # noqa: E402

TARGET_SECONDS = 1.0


def source(index: int, version: str) -> bytes:
    """A small Python module; each version changes one line of it."""
    lines = [f'"""모듈 {index}: 주차장 정보 처리."""', "", "import math", ""]
    lines += [f"def f{index}_{n}(x):\n    return math.sqrt(x) + {n}\n" for n in range(12)]
    lines.append(f'VERSION = "{version}"')
    return "\n".join(lines).encode()


def package(version: str, files: int) -> bytes:
    from tests.publishing.packages import build_archive, package_files

    contents = package_files("parking-share", version)
    contents.update({f"src/pkg{i // 100:02d}/mod{i:05d}.py": source(i, version) for i in range(files)})
    return build_archive(contents, root=f"parking-share-{version}")


def setup(workdir: Path, files: int):
    from flask_migrate import upgrade

    from registry import create_app
    from registry.accounts import service as accounts
    from registry.db import db

    app = create_app({"DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "STORAGE_PATH": str(workdir / "blobs"),
                      "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
                      "REQUIRE_2FA_FOR_STAFF": False, "REVIEW_CODE_CHECKS": False})  # bench_checks.py times those
    gc.freeze()  # as deploy/gunicorn.conf.py does once a worker has made the app
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        vendor = accounts.create_user("vendor", "vendor@example.org", "correct-horse-1", None)
        reviewer = accounts.create_user("reviewer", "reviewer@example.org", "correct-horse-1", "reviewer")
        accounts.add_member(accounts.create_org("hanbit", "Hanbit", "vendor"), vendor, "owner")
        accounts.add_member(accounts.create_org("agency", "Agency", "agency"), reviewer, "member")
        publish = accounts.issue_token(vendor, accounts.get_org("hanbit"), ["publish"]).raw
        review = accounts.issue_token(reviewer, accounts.get_org("agency"), ["review"]).raw
        db.session.commit()
    client = app.test_client()
    ids = []
    for version in ("1.0.0", "1.0.1"):
        response = client.post("/api/v1/solutions/parking-share/releases",
                               data={"archive": (io.BytesIO(package(version, files)), "parking-share.tar.gz")},
                               headers={"Authorization": f"Bearer {publish}"}, content_type="multipart/form-data")
        assert response.status_code == 201, response.json
        ids.append(response.json["release"]["id"])
        if version == "1.0.0":
            with app.app_context():  # approval waits for the job checks; no worker runs here, so run them
                from registry.releases.models import Release
                from registry.review import checks

                release = db.session.get(Release, ids[0])
                checks.run_job_checks(release.id, [c.name for c in checks.running(release)])
            approved = client.post(f"/api/v1/reviews/{ids[0]}", json={"decision": "approve"},
                                   headers={"Authorization": f"Bearer {review}"})
            assert approved.status_code == 200, approved.json
    signed_in = client.post("/login", data={"username": "reviewer", "password": "correct-horse-1"})
    assert signed_in.status_code == 302, signed_in.status_code
    return app, client, ids[1]


class _FullCollections:
    """Seconds spent in full (generation 2) garbage collections while it listens."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds.append(time.perf_counter() - self._started)

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    from registry.review import files

    with tempfile.TemporaryDirectory(prefix="bench-review-") as scratch:
        app, client, release_id = setup(Path(scratch), options.files)
        pages = [("diff, first page (split view)", f"/review/releases/{release_id}/diff"),
                 ("diff, page 50 (unified view)", f"/review/releases/{release_id}/diff?page=50&view=unified"),
                 ("diff, one file", f"/review/releases/{release_id}/diff?file=src/pkg10/mod01000.py"),
                 ("file tree", f"/review/releases/{release_id}/files"),
                 ("file view", f"/review/releases/{release_id}/files/src/pkg10/mod01000.py")]
        rows, cold, collections = [], [], []
        assert client.get(pages[0][1]).status_code == 200  # a server that has rendered a page: templates compiled
        full_gc = _FullCollections()
        for _ in range(options.runs):
            files._cache = files._ArchiveCache(files.CACHE_BYTES)  # neither archive read yet
            full_gc.seconds.clear()
            started = time.perf_counter()
            response = client.get(pages[0][1])
            cold.append(time.perf_counter() - started)
            collections.append(sum(full_gc.seconds))
            assert response.status_code == 200
        full_gc.close()
        stats = summarize(cold)
        slowest_diff = stats["median"]
        rows.append(["diff, first page, cold (nothing cached)", f"{stats['median'] * 1000:.0f}",
                     f"{stats['p95'] * 1000:.0f}", f"{len(response.data) // 1024}"])
        # The peer: releases from before the file index, whose archives are read whole (and the index written).
        unindexed = []
        for _ in range(options.runs):
            with app.app_context():
                from registry.db import db
                from registry.releases.models import ReleaseFileIndex

                db.session.execute(ReleaseFileIndex.__table__.delete())
                db.session.commit()
            files._cache = files._ArchiveCache(files.CACHE_BYTES)
            started = time.perf_counter()
            response = client.get(pages[0][1])
            unindexed.append(time.perf_counter() - started)
            assert response.status_code == 200
        peer = summarize(unindexed)
        rows.append(["diff, first page, cold, no file index (archives read whole)", f"{peer['median'] * 1000:.0f}",
                     f"{peer['p95'] * 1000:.0f}", f"{len(response.data) // 1024}"])
        for label, path in pages:
            samples = []
            for _ in range(options.runs):
                started = time.perf_counter()
                response = client.get(path)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)
            stats = summarize(samples)
            if label.startswith("diff"):
                slowest_diff = max(slowest_diff, stats["median"])
            rows.append([label, f"{stats['median'] * 1000:.0f}", f"{stats['p95'] * 1000:.0f}",
                         f"{len(response.data) // 1024}"])
    verdict = "meets" if slowest_diff < TARGET_SECONDS else "MISSES"
    cold_stats = summarize(cold)
    cold_p95 = cold_stats["p95"]
    with_gc = [c for c in collections if c]
    gc_note = (f"{len(with_gc)} of the {options.runs} cold runs included a full garbage collection of the process "
               f"({', '.join(f'{c * 1000:.0f} ms' for c in with_gc)}), which whatever request allocates past the "
               "threshold pays. " if with_gc else "No cold run included a full garbage collection. ")
    body = (f"A release changing {options.files:,} files (one line each) against its published predecessor; "
            f"{options.runs} runs per page, Flask test client, signed-in reviewer. \"Cold\" empties the per-process "
            "listing cache first (after one earlier page, so the templates are compiled); the other rows are warm "
            "(the listings and the shown files were read by an earlier request).\n\n"
            + markdown_table(["page", "median ms", "p95 ms", "HTML KiB"], rows)
            + f"\n\nSlowest diff page median (cold included) {slowest_diff * 1000:.0f} ms: {verdict} the {TARGET_SECONDS:g} s target. "
            f"Cold p95 {cold_p95 * 1000:.0f} ms: {'meets' if cold_p95 < TARGET_SECONDS else 'MISSES'} the "
            f"{TARGET_SECONDS:g} s target; {peer['median'] / cold_stats['median']:.1f}x faster at the median and "
            f"{peer['p95'] / cold_stats['p95']:.1f}x at p95 than the same page without the file index. {gc_note}"
            "Cold reads each release's file index (one row, registry/review/files.py) and only the shown page's "
            "files from the two archives (registry/spec/archive.py read_members: a forward pass of the gzip stream "
            "to each member's offset, its SHA-256 checked), never a whole archive.")
    write_report("review", "Review: source diff and file pages", body)


if __name__ == "__main__":
    main()
