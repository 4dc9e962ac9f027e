"""The audit log for admins."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.db import db

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
PAGE_SIZE = 50


@bp.get("/")
@login_required
def log():
    if not current_user.is_admin:
        abort(403)
    action = (request.args.get("action") or "").strip()[:64]
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    # A page past the end shows the last one; the offset must stay a number the database can take.
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    events = db.session.scalars(query.order_by(AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return render_template("audit/log.html", events=events, actions=actions, action=action, page=page,
                           pages=pages, total=total)

