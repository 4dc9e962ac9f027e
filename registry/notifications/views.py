"""The signed-in user's notifications, the unsubscribe link of every mail, and the admins' outbox."""

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from registry.accounts.forms import ConfirmForm
from registry.errors import Forbidden
from registry.extensions import csrf
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


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    # A GET changes nothing: mail scanners open links. The button POSTs.
    if service.user_of_token(token) is None:
        abort(404)
    return render_template("notifications/unsubscribe.html", token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # the signed token is the authority, and RFC 8058 one-click POSTs carry no CSRF token
def unsubscribe(token: str):
    user_id = service.user_of_token(token)
    if user_id is None:
        abort(404)
    service.unsubscribe(user_id)
    return render_template("notifications/unsubscribe.html", token=token, done=True)


@bp.get("/admin/outbox")
@login_required
def outbox():
    if not current_user.is_admin:
        raise Forbidden("only admins read the mail outbox")
    return render_template("notifications/outbox.html", mails=service.outbox())
