"""The transparency log's page: its latest signed head, and which witnesses cosigned it and when."""

from flask import Blueprint, render_template

from registry.transparency import witnesses

bp = Blueprint("transparency", __name__)


@bp.get("/transparency")
def log_page():
    return render_template("transparency/log.html", status=witnesses.log_status())
