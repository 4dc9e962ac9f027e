"""The public catalog: what municipalities browse."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import func, select

from registry.db import db
from registry.publishing import service as publishing
from registry.publishing.models import Release, Solution

bp = Blueprint("catalog", __name__)


@bp.get("/")
def home():
    newest = db.session.scalars(
        select(Release).where(Release.state == "published").order_by(Release.published_at.desc()).limit(10)
    ).all()
    solution_count = db.session.scalar(select(func.count(Solution.id)))
    return render_template("catalog/home.html", newest=newest, solution_count=solution_count)


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the reader's language in the session and a long-lived cookie."""
    from registry.app import LOCALES

    target = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else "/"
    response = redirect(target)
    if code in LOCALES:
        session["lang"] = code
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@bp.get("/solutions/<name>")
def solution_page(name: str):
    solution = publishing.get_solution(name)
    releases = [r for r in solution.releases if publishing.can_see(r, current_user, None)]
    if not releases:
        abort(404)
    latest = publishing.latest_published(solution) or releases[-1]
    return render_template("catalog/solution.html", solution=solution, release=latest, releases=releases)


@bp.get("/solutions/<name>/<version>")
def release_page(name: str, version: str):
    release = publishing.get_release(name, version)
    if not publishing.can_see(release, current_user, None):
        abort(404)
    releases = [r for r in release.solution.releases if publishing.can_see(r, current_user, None)]
    return render_template("catalog/solution.html", solution=release.solution, release=release, releases=releases)
