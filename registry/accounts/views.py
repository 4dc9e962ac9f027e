"""Sign-in, sign-out and the account page (API tokens and signing keys)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from registry.accounts import service
from registry.accounts.forms import ConfirmForm, LoginForm, SigningKeyForm, TokenForm
from registry.accounts.models import TOKEN_SCOPES, ApiToken, SigningKey
from registry.db import db
from registry.errors import RegistryError
from registry.extensions import limiter

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths, so the login form is no open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("catalog.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.username.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong username or password."))
        else:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if request.method == "GET" or not form.errors else 400


@bp.post("/logout")
@login_required
def logout():
    if ConfirmForm().validate_on_submit():
        logout_user()
    return redirect(url_for("catalog.home"))


@bp.get("/account")
@login_required
def account():
    return _render_account(TokenForm(prefix="token"), SigningKeyForm(prefix="key"))


def _with_choices(form: TokenForm) -> TokenForm:
    """Offer the user's organisations and the scopes that any of them allows the user to hold."""
    form.org.choices = [(o.slug, o.name) for o in current_user.orgs]
    offered = {s for o in current_user.orgs for s in service.allowed_scopes(current_user, o)}
    form.scopes.choices = [(s, s) for s in TOKEN_SCOPES if s in offered]
    return form


def _render_account(token_form, key_form, new_token: str | None = None, status: int = 200):
    _with_choices(token_form)
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc()))
    keys = db.session.scalars(select(SigningKey).where(SigningKey.user_id == current_user.id).order_by(SigningKey.id.desc()))
    return render_template("accounts/account.html", token_form=token_form, key_form=key_form, tokens=list(tokens),
                           keys=list(keys), new_token=new_token, confirm=ConfirmForm()), status


@bp.post("/account/tokens")
@login_required
def create_token():
    form = _with_choices(TokenForm(prefix="token"))
    if not form.validate_on_submit():
        return _render_account(form, SigningKeyForm(prefix="key"), status=400)
    org = service.get_org(form.org.data)
    refused = [s for s in form.scopes.data if s not in service.allowed_scopes(current_user, org)]
    if refused:
        form.scopes.errors.append(_("%(org)s cannot hold the scope %(scope)s; choose from: %(allowed)s.", org=org.name,
                                    scope=refused[0], allowed=", ".join(service.allowed_scopes(current_user, org))))
        return _render_account(form, SigningKeyForm(prefix="key"), status=403)
    try:
        issued = service.issue_token(current_user, org, form.scopes.data,
                                     name=form.name.data or "", solution=form.solution.data or None,
                                     expires_days=form.expires_days.data)
    except RegistryError as exc:
        db.session.rollback()
        form.form_errors.append(exc.detail)
        return _render_account(form, SigningKeyForm(prefix="key"), status=exc.status)
    db.session.commit()
    # Shown once, on this response only; only its hash is stored.
    return _render_account(TokenForm(prefix="token"), SigningKeyForm(prefix="key"), new_token=issued.raw)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.revoke_token(token, current_user)
    db.session.commit()
    flash(_("Token revoked."))
    return redirect(url_for("accounts.account"))


@bp.post("/account/keys")
@login_required
def add_key():
    form = SigningKeyForm(prefix="key")
    if not form.validate_on_submit():
        return _render_account(TokenForm(prefix="token"), form, status=400)
    try:
        service.register_signing_key(current_user, form.public_key.data, form.name.data or "")
    except RegistryError as exc:
        db.session.rollback()
        form.public_key.errors.append(exc.detail)
        return _render_account(TokenForm(prefix="token"), form, status=exc.status)
    db.session.commit()
    flash(_("Signing key registered."))
    return redirect(url_for("accounts.account"))


@bp.post("/account/keys/<int:key_id>/revoke")
@login_required
def revoke_key(key_id: int):
    key = db.get_or_404(SigningKey, key_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.revoke_signing_key(key, current_user)
    db.session.commit()
    flash(_("Signing key revoked."))
    return redirect(url_for("accounts.account"))
