"""Sign-in security: TOTP two-factor with recovery codes, staff who must enrol, and session cookies
that die at logout."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import func, select

from registry.accounts.models import RecoveryCode, User
from registry.db import db
from tests.helpers import csrf_token, login


@pytest.fixture
def app_config(app_config):
    return {**app_config, "REQUIRE_2FA_FOR_STAFF": True}


def user_named(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def enrol(client, username: str) -> tuple[pyotp.TOTP, list[str]]:
    """Enrol the signed-in user through the web pages; returns the authenticator and the recovery codes."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "otpauth://totp/" in page and f"secret={secret}" in page
    totp = pyotp.TOTP(secret)
    response = client.post("/account/two-factor", data={"csrf_token": csrf_token(client, "/account/two-factor"),
                                                        "code": totp.now()})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = re.findall(r'<li class="recovery-code"><code>([0-9a-f-]+)</code>', response.get_data(as_text=True))
    assert user_named(username).has_two_factor
    return totp, codes


def second_step(client, code: str):
    return client.post("/login/two-factor", data={"csrf_token": csrf_token(client, "/login/two-factor"), "code": code})


# --- two-factor --------------------------------------------------------------------------------

def test_enrol_then_sign_in_with_a_code(client, make_user):
    make_user("kim", org="hanbit")
    login(client, "kim")
    totp, codes = enrol(client, "kim")
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})

    response = login(client, "kim")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login/two-factor")
    assert client.get("/account").status_code == 302  # the password alone does not sign in
    wrong = second_step(client, "000000" if totp.now() != "000000" else "111111")
    assert wrong.status_code == 400 and "인증 코드" in wrong.get_data(as_text=True)
    # The code of the next time-step (accepted for clock drift): the enrolment code is spent.
    assert second_step(client, totp.at(time.time() + 30)).status_code == 302
    assert client.get("/account").status_code == 200


def test_a_totp_code_cannot_be_replayed(client, make_user):
    make_user("kim")
    login(client, "kim")
    totp, _codes = enrol(client, "kim")
    used = totp.now()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "kim")
    # The enrolment code (same time-step) is spent; so is any code of an earlier step.
    response = second_step(client, used)
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_a_recovery_code_works_once(client, make_user):
    make_user("kim")
    login(client, "kim")
    _totp, codes = enrol(client, "kim")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "kim")
    assert second_step(client, codes[0].upper().replace("-", " ")).status_code == 302
    assert db.session.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.used_at.is_not(None))) == 1
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "kim")
    assert second_step(client, codes[0]).status_code == 400
    assert client.get("/account").status_code == 302


def test_staff_without_two_factor_are_sent_to_enrolment(client, make_user):
    make_user("reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")
    login(client, "reviewer")
    for path in ("/review/", "/account", "/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/account/two-factor"), path
    api = client.get("/api/v1/solutions/parking-share/releases/1.0.0")
    assert api.status_code == 403 and api.json["errors"][0]["field"] == "two_factor"
    enrol(client, "reviewer")
    assert client.get("/review/").status_code == 200


def test_staff_rule_can_be_switched_off(app, client, make_user):
    app.config["REQUIRE_2FA_FOR_STAFF"] = False
    make_user("reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")
    login(client, "reviewer")
    assert client.get("/review/").status_code == 200


def test_a_wrong_confirmation_code_enrols_nothing(client, make_user):
    make_user("kim")
    login(client, "kim")
    client.get("/account/two-factor")
    response = client.post("/account/two-factor", data={"csrf_token": csrf_token(client, "/account/two-factor"),
                                                        "code": "12345x"})
    assert response.status_code == 400
    assert not user_named("kim").has_two_factor
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0


# --- sessions ----------------------------------------------------------------------------------

def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, client, make_user):
    make_user("kim")
    login(client, "kim")
    stolen = _session_cookie(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/account").status_code == 302


def test_a_password_change_ends_earlier_sessions(app, client, make_user):
    make_user("kim")
    login(client, "kim")
    user = user_named("kim")
    user.set_password("another-horse-2")
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_session_cookies_are_httponly_and_samesite_lax(client, make_user):
    make_user("kim")
    response = login(client, "kim")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    token = csrf_token(client, "/login")
    remembered = client.post("/login", data={"username": "kim", "password": "correct-horse-1", "remember": "y",
                                              "csrf_token": token})
    remember = [c for c in remembered.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "SameSite=Lax" in remember[0]
