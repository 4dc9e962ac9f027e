"""The public catalog: what municipalities browse."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session
from sqlalchemy import func, select

from registry.db import db
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
