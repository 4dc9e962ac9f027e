"""Benchmark the review queue with thousands of pending releases: the JSON API and the queue page.

    python bench/bench_review_queue.py                 # 2,500 pending releases, 7 runs per request
    python bench/bench_review_queue.py --pending 10000 --runs 3

One real release is uploaded through the API into a throw-away app (SQLite, local blobs); the
others are copies of its rows (release, checks) under new versions, spread over 50 solutions of
5 organizations, a fifth of them updates of a published release. Each request is timed with the
Flask test client as a reviewer (token for the API, signed in for the page).
Target: a queue request answers in under 200 ms at 2,500 pending releases, filtered or not.
Results are printed as a markdown table and written to bench/results/review_queue.md.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import markdown_table, summarize, write_report  # noqa: E402

TARGET_MS = 200


def setup(workdir: Path, pending: int):
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from registry import create_app
    from registry.accounts import service as accounts
    from registry.db import db, utcnow
    from registry.releases.models import Check, Release, ReleaseState, Solution
    from tests.publishing.packages import archive

    app = create_app({"DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "STORAGE_PATH": str(workdir / "blobs"),
                      "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
                      "REQUIRE_2FA_FOR_STAFF": False, "REVIEW_CODE_CHECKS": False})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        vendor = accounts.create_user("vendor", "vendor@example.org", "correct-horse-1", None)
        reviewer = accounts.create_user("reviewer", "reviewer@example.org", "correct-horse-1", "reviewer")
        orgs = [accounts.create_org(f"org{n}", f"기관 {n}", "vendor") for n in range(5)]
        for org in orgs:
            accounts.add_member(org, vendor, "owner")
        accounts.add_member(accounts.create_org("agency", "심사 기관", "agency"), reviewer, "member")
        publish = accounts.issue_token(vendor, orgs[0], ["publish"]).raw
        review = accounts.issue_token(reviewer, accounts.get_org("agency"), ["review"]).raw
        db.session.commit()
        org_ids = [org.id for org in orgs]
    client = app.test_client()
    response = client.post("/api/v1/solutions/parking-share/releases",
                           data={"archive": (io.BytesIO(archive("parking-share", "1.0.0")), "parking-share.tar.gz")},
                           headers={"Authorization": f"Bearer {publish}"}, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    with app.app_context():
        model = db.session.get(Release, response.json["release"]["id"])
        row = {c.name: getattr(model, c.key) for c in Release.__table__.columns if c.name != "id"}
        check_rows = [{c.name: getattr(check, c.key) for c in Check.__table__.columns if c.name not in ("id", "release_id")}
                      for check in model.checks]
        solution = db.session.get(Solution, model.solution_id)
        solution_row = {c.name: getattr(solution, c.key) for c in Solution.__table__.columns if c.name != "id"}
        solution_ids = []
        for n in range(50):
            solution_ids.append(db.session.execute(insert(Solution).values(
                {**solution_row, "name": f"solution-{n:02d}", "normalized_name": f"solution-{n:02d}", "org_id": org_ids[n % 5]})
                .returning(Solution.id)).scalar_one())
        now = utcnow()
        for n, solution_id in enumerate(solution_ids[:10]):  # a published release: the later ones are updates
            db.session.execute(insert(Release).values({**row, "solution_id": solution_id, "version": "0.9.0",
                                                       "state": ReleaseState.PUBLISHED, "published_at": now}))
        for n in range(pending):
            release_id = db.session.execute(insert(Release).values(
                {**row, "solution_id": solution_ids[n % 50], "version": f"1.{n // 50}.0",
                 "state": ReleaseState.PENDING_REVIEW}).returning(Release.id)).scalar_one()
            db.session.execute(insert(Check), [{**c, "release_id": release_id} for c in check_rows])
        db.session.commit()
        count = len(db.session.scalars(select(Release.id).where(Release.state == ReleaseState.PENDING_REVIEW)).all())
    signed_in = app.test_client()
    assert signed_in.post("/login", data={"username": "reviewer", "password": "correct-horse-1"}).status_code == 302
    return client, signed_in, review, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=2500)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    import os

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as scratch:
        client, signed_in, token, count = setup(Path(scratch), options.pending)
        requests = [("API, first page", client, "/api/v1/reviews/queue", {"Authorization": f"Bearer {token}"}),
                    ("API, page 40", client, "/api/v1/reviews/queue?page=40", {"Authorization": f"Bearer {token}"}),
                    ("API, updates of org3 failing a check", client,
                     "/api/v1/reviews/queue?org=org3&kind=update&checks=warn", {"Authorization": f"Bearer {token}"}),
                    ("queue page, first page", signed_in, "/review/", {}),
                    ("queue page, first releases only", signed_in, "/review/?kind=first", {})]
        rows, slowest = [], 0.0
        for label, http, path, headers in requests:
            samples, size = [], 0
            for _ in range(options.runs):
                started = time.perf_counter()
                response = http.get(path, headers=headers)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)
                size = len(response.data)
            stats = summarize(samples)
            slowest = max(slowest, stats["median"])
            rows.append([label, f"{stats['median'] * 1000:.0f}", f"{stats['p95'] * 1000:.0f}", f"{size // 1024}"])
    verdict = "meets" if slowest * 1000 < TARGET_MS else "MISSES"
    body = (f"{count:,} pending releases over 50 solutions of 5 organizations; {options.runs} runs per request, Flask "
            f"test client, SQLite. Load average (1 min) {load_before:.2f} at start, {os.getloadavg()[0]:.2f} at end.\n\n"
            + markdown_table(["request", "median ms", "p95 ms", "KiB"], rows)
            + f"\n\nSlowest median {slowest * 1000:.0f} ms: {verdict} the {TARGET_MS} ms target. The database "
            "filters, counts and pages the queue (a window function gives each release its place in the whole "
            "queue); only one page of releases is loaded.")
    write_report("review_queue", "Review: the queue at thousands of pending releases", body)


if __name__ == "__main__":
    main()
