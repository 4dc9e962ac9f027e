"""The reviewers' web pages (queue, release review, decisions)."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.get("/")
@login_required
def queue():
    # Placeholder until the review workflow lands.
    return render_template("errors/error.html", status=200, detail="review queue"), 200
