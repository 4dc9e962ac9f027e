"""Sign-in, sign-out and the account page (API tokens and signing keys)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from registry.accounts import service, twofactor
from registry.accounts.forms import ConfirmForm, LoginForm, SigningKeyForm, TokenForm, TwoFactorForm
from registry.accounts.models import ApiToken, SigningKey, TokenScope
from registry.db import db
from registry.errors import Forbidden, RegistryError
from registry.extensions import limiter

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths, so the login form is no open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("catalog.home")


def _failed(response) -> bool:
    # Only failed attempts use up the allowance, so a user who signs in correctly is never slowed.
    return response.status_code not in (200, 302)


def _login_account_key() -> str:
    """Throttle per account too (whatever the address), by the name as sign-in normalises it;
    unknown names count like real ones."""
    return "login-account:" + (request.form.get("username") or "").strip().lower()[:64]


def _pending_account_key() -> str:
    return "login-account:" + str((session.get(PENDING) or {}).get("username", ""))


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


# Between the password and the second factor: who, where to, and since when (seconds since epoch).
PENDING = "two_factor_pending"
PENDING_SECONDS = 300


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_account_key, deduct_when=_failed)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.username.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong username or password."))
        elif user.has_two_factor:
            session[PENDING] = {"id": user.get_id(), "username": user.username, "remember": bool(form.remember.data),
                                "next": request.args.get("next"), "at": int(time.time())}
            return redirect(url_for("accounts.login_two_factor"))
        else:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if request.method == "GET" or not form.errors else 400


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_account_key, deduct_when=_failed)
def login_two_factor():
    pending = session.get(PENDING) or {}
    user = service.load_session_user(pending.get("id", ""))
    if user is None or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        flash(_("Please sign in again."))
        return redirect(url_for("accounts.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        if twofactor.verify(user, form.code.data):
            session.pop(PENDING)
            login_user(user, remember=pending["remember"])
            return redirect(_safe_next(pending.get("next")))
        form.code.errors.append(_("That authentication code is wrong or was already used."))
    return render_template("accounts/login_two_factor.html", form=form), \
        200 if request.method == "GET" and not form.errors else 400


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    """Enrol: a secret to add to an authenticator app, confirmed with one code; then the recovery codes."""
    if current_user.has_two_factor:
        return render_template("accounts/two_factor.html", enrolled=True, codes=None)
    form = TwoFactorForm()
    if form.validate_on_submit():
        codes = twofactor.confirm(current_user, form.code.data)
        if codes is not None:
            # Shown on this response only; only their hashes are stored.
            return render_template("accounts/two_factor.html", enrolled=True, codes=codes)
        form.code.errors.append(_("That authentication code is wrong or was already used."))
    uri = twofactor.provisioning_uri(current_user)
    return render_template("accounts/two_factor.html", enrolled=False, form=form, secret=current_user.totp_secret,
                           uri=uri), 200 if not form.errors else 400


# What a reviewer or admin who has not enrolled yet may still reach.
ENROLMENT_ENDPOINTS = {"accounts.two_factor", "accounts.logout", "catalog.set_language", "static"}


@bp.before_app_request
def require_two_factor_for_staff():
    if request.endpoint in ENROLMENT_ENDPOINTS or not current_user.is_authenticated:
        return None
    if not twofactor.required(current_user):
        return None
    if request.blueprint == "api":
        if request.headers.get("Authorization"):
            return None  # token requests: the token's scopes and its user's role decide
        raise Forbidden("reviewers and admins must set up two-factor sign-in on /account/two-factor first",
                        field="two_factor")
    flash(_("Reviewers and administrators must set up two-factor sign-in before anything else."))
    return redirect(url_for("accounts.two_factor"))


@bp.post("/logout")
@login_required
def logout():
    if ConfirmForm().validate_on_submit():
        # Void every cookie issued so far, so one copied before this moment stops working too.
        service.end_sessions(current_user)
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
    form.scopes.choices = [(s.value, s.value) for s in TokenScope if s in offered]
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
        if exc.status >= 500:  # the registry's own failure: the error page, not a form message
            raise
        db.session.rollback()
        form.form_errors.append(exc.detail)
        return _render_account(form, SigningKeyForm(prefix="key"), status=exc.status)
    # Shown once, on this response only; only its hash is stored.
    return _render_account(TokenForm(prefix="token"), SigningKeyForm(prefix="key"), new_token=issued.raw)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.revoke_token(token, current_user)
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
        if exc.status >= 500:  # the registry's own failure: the error page, not a form message
            raise
        db.session.rollback()
        form.public_key.errors.append(exc.detail)
        return _render_account(TokenForm(prefix="token"), form, status=exc.status)
    flash(_("Signing key registered."))
    return redirect(url_for("accounts.account"))


@bp.post("/account/keys/<int:key_id>/revoke")
@login_required
def revoke_key(key_id: int):
    key = db.get_or_404(SigningKey, key_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.revoke_signing_key(key, current_user)
    flash(_("Signing key revoked."))
    return redirect(url_for("accounts.account"))
