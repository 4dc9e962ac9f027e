import re

from sqlalchemy import select

from registry.accounts.models import ApiToken
from registry.db import db
from tests.helpers import csrf_token, login


def test_sign_in_and_out(client, make_user):
    make_user("kim")
    response = login(client, "kim")
    assert response.status_code == 302
    assert "kim" in client.get("/account").get_data(as_text=True)
    token = csrf_token(client, "/account")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302  # back to the sign-in page


def test_wrong_password_shows_a_message_on_the_form(client, make_user):
    make_user("kim")
    response = login(client, "kim", "wrong-password")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Wrong username or password" in body or "아이디 또는 비밀번호" in body
    assert client.get("/account").status_code == 302


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user("kim")
    response = client.post("/login", data={"username": "kim", "password": "correct-horse-1"})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_open_redirect_is_not_followed(client, make_user):
    make_user("kim")
    token = csrf_token(client, "/login")
    response = client.post("/login?next=//evil.example/x", data={"username": "kim", "password": "correct-horse-1", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_token_created_on_account_page_is_shown_once(client, make_user):
    make_user("kim", org="hanbit")
    login(client, "kim")
    token = csrf_token(client, "/account")
    response = client.post("/account/tokens", data={
        "token-csrf_token": token, "token-name": "ci", "token-org": "hanbit", "token-scopes": ["publish", "read"],
    })
    assert response.status_code == 200
    raw = re.search(r'id="new-token">(solreg_[^<]+)<', response.get_data(as_text=True)).group(1)
    stored = db.session.scalar(select(ApiToken))
    assert stored.scopes == ["publish", "read"]
    assert raw not in client.get("/account").get_data(as_text=True)
    whoami = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {raw}"})
    assert whoami.json["org"]["slug"] == "hanbit"


def test_token_form_errors_are_shown(client, make_user):
    make_user("kim", org="hanbit")
    login(client, "kim")
    token = csrf_token(client, "/account")
    response = client.post("/account/tokens", data={"token-csrf_token": token, "token-org": "hanbit"})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None
