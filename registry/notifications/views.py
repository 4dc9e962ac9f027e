"""The signed-in user's notifications."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from registry.accounts.forms import ConfirmForm
from registry.notifications import service

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def inbox():
    return render_template("notifications/inbox.html", notes=service.inbox(current_user), confirm=ConfirmForm())


@bp.post("/notifications/read")
@login_required
def mark_read():
    if ConfirmForm().validate_on_submit():
        service.mark_all_read(current_user)
    return redirect(url_for("notifications.inbox"))
