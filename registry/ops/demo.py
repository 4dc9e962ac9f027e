"""`flask --app registry demo`: a registry full of demo content, safe to run again."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from registry import events
from registry.accounts import service as accounts
from registry.accounts.models import Membership, Organization, User
from registry.catalog.service import reindex_all
from registry.db import db, utcnow

DEMO_DATA = Path(__file__).parent / "demo_data"
DEMO_PASSWORD = "demo-password"
# Reviewers and admins must sign in with a second factor; the demo's share this published key
# (a demo only: a real account enrols with a secret of its own on /account/two-factor).
DEMO_TOTP_SECRET = "SOLREGDEMOTOTPSECRETFORREVIEWERS"

# slug, kind, name, province (시·도; the reuse dashboard's map counts by it)
ORGS = [
    ("smartcity-agency", "agency", "스마트시티 솔루션 검토기관", None),
    ("cheonan", "municipality", "천안시", "south-chungcheong"),
    ("gwangmyeong", "municipality", "광명시", "gyeonggi"),
    ("taebaek", "municipality", "태백시", "gangwon"),
    ("gyeongsan", "municipality", "경산시", "north-gyeongsang"),
    ("hanbit-soft", "vendor", "한빛소프트웨어", None),
    ("urban-data-lab", "vendor", "어반데이터랩", None),
]

# username, e-mail, site role, [(org, membership role)]
USERS = [
    ("admin", "admin@registry.example", "admin", [("smartcity-agency", "owner")]),
    ("reviewer", "reviewer@registry.example", "reviewer", [("smartcity-agency", "member")]),
    ("reviewer2", "reviewer2@registry.example", "reviewer", [("smartcity-agency", "member")]),
    ("vendor", "vendor@hanbit.example", None, [("hanbit-soft", "owner")]),
    ("vendor2", "dev@urbandata.example", None, [("urban-data-lab", "owner")]),
    ("cheonan", "smartcity@cheonan.example", None, [("cheonan", "owner")]),
    ("gwangmyeong", "smartcity@gwangmyeong.example", None, [("gwangmyeong", "owner")]),
]


def seed_accounts() -> list[str]:
    """Create missing demo orgs, users and memberships; return what was created."""
    created = []
    for slug, kind, name, province in ORGS:
        if not db.session.scalar(select(Organization).where(Organization.slug == slug)):
            accounts.create_org(slug, name, kind, province)
            created.append(f"org {slug}")
    for username, email, role, memberships in USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = accounts.create_user(username, email, DEMO_PASSWORD, role)
            created.append(f"user {username}")
        if user.is_staff and not user.has_two_factor:
            user.totp_secret, user.totp_confirmed_at = DEMO_TOTP_SECRET, utcnow()
        for slug, member_role in memberships:
            org = accounts.get_org(slug)
            if not db.session.scalar(select(Membership).where(Membership.user_id == user.id, Membership.org_id == org.id)):
                accounts.add_member(org, user, member_role)
    db.session.commit()
    return created


def import_advisories(echo=print) -> None:
    """Real OSV advisories for dependencies the samples pin, through the real importer: the cities
    running parking-share 1.1.0 (requests 2.31.0) are alerted, drt-ageing-town 1.1.0's check fails."""
    from registry.sbom.osv import import_osv

    report = import_osv(DEMO_DATA / "osv")  # commits file by file, then rematches every release
    echo(f"  OSV advisories: {report.imported} new, {report.unchanged} unchanged")


def save_datahub_profile(echo=print) -> None:
    """천안시's data hub as its broker describes itself (GET /ngsi-ld/v1/types?details=true)."""
    from registry.catalog import adoption, fit

    org = accounts.get_org("cheonan")
    if fit.get_profile(org.id) is not None:
        return
    types = fit.parse_profile_document((DEMO_DATA / "cheonan-types.json").read_bytes(), ["read", "write", "subscribe"])
    adoption.save_profile(accounts.get_user("cheonan"), org, "1.8.1", types)
    db.session.commit()
    echo(f"  {org.name}: data hub profile with {len(types)} entity types")


# solution, its successor, why; deprecated by the owning vendor's user
DEPRECATIONS = [("bus-route-optimizer", "drt-ageing-town", "vendor",
                 "노선을 줄이는 대신 수요응답형 교통(DRT)으로 바꾸는 도시가 늘어 개발을 멈춥니다")]


def deprecate_solutions(echo=print) -> None:
    from registry.releases.service import get_solution, set_solution_state

    for name, successor, username, reason in DEPRECATIONS:
        solution = get_solution(name)
        if solution.state != "active":
            continue
        set_solution_state(accounts.get_user(username), solution, "deprecated", successor, reason)
        db.session.commit()
        echo(f"  {name}: deprecated, successor {successor}")


def load_demo(echo=print) -> int:
    """Fill a migrated database with the demo content (what `flask demo` does before serving; the
    browser tests and docs/screenshots/make.py use it too); returns how many releases were new."""
    created = seed_accounts()
    echo(f"demo accounts ready ({len(created)} new records); publishing the sample solutions:")
    from registry.ops.demo_publish import publish_samples, record_adoptions

    published = publish_samples(echo=echo)
    record_adoptions(echo=echo)
    import_advisories(echo=echo)
    save_datahub_profile(echo=echo)
    deprecate_solutions(echo=echo)
    # Search is ready before the first page is served; the rest (alerts, mail) goes to the worker.
    reindex_all()
    db.session.commit()
    events.dispatch_pending()
    return published


@click.command("demo")
@click.option("--serve/--no-serve", default=False, help="Serve the registry on 127.0.0.1 afterwards.")
@click.option("--port", default=5000, show_default=True, envvar="PORT", help="Port to serve on (also the PORT variable).")
@with_appcontext
def demo_command(serve: bool, port: int):
    """Migrate the database and fill it with demo organizations, users and solutions."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
    published = load_demo(echo=click.echo)
    click.echo(f"demo data ready ({published} new releases)")
    click.echo("sign in with any of these (password: %s):" % DEMO_PASSWORD)
    for username, _email, role, memberships in USERS:
        click.echo(f"  {username:<12} {role or 'member':<9} {', '.join(s for s, _ in memberships)}")
    click.echo(f"admin and reviewers then ask for a two-factor code: add the key {DEMO_TOTP_SECRET} to an "
               "authenticator app, or print the current code with:")
    click.echo(f"  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\"")
    if serve:
        from werkzeug.serving import run_simple

        worker = _start_worker()
        click.echo(f"serving the registry on http://127.0.0.1:{port}  (Ctrl+C stops it)")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a terminated demo stops its worker too
        try:
            # Flask refuses app.run() inside a CLI command, so serve with Werkzeug directly.
            run_simple("127.0.0.1", port, current_app._get_current_object(), threaded=True)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)


def _start_worker() -> subprocess.Popen | None:
    """One worker beside the web server, as a process of its own: the huey consumer needs the main thread
    (it installs signal handlers), and a separate process is what production runs too."""
    if current_app.extensions["jobs"].huey.immediate:
        return None
    click.echo("starting a worker: flask --app registry worker --workers 2")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "registry", "worker", "--workers", "2"])
