from datetime import timedelta

from sqlalchemy import select

from registry.accounts.models import ApiToken
from registry.db import db, utcnow


def auth(raw):
    return {"Authorization": f"Bearer {raw}"}


def test_whoami_with_a_good_token(client, make_user, make_token):
    user = make_user("kim", org="hanbit")
    raw = make_token(user, "hanbit", ["publish", "read"])
    response = client.get("/api/v1/whoami", headers=auth(raw))
    assert response.status_code == 200
    assert response.json == {"user": {"username": "kim"}, "org": {"slug": "hanbit", "name": "Hanbit"},
                             "scopes": ["publish", "read"], "solution": None}
    assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_bad_tokens_get_401_json(client, make_user, make_token):
    user = make_user("kim", org="hanbit")
    raw = make_token(user, "hanbit")
    for header in ({}, {"Authorization": "Basic abc"}, auth("solreg_notarealtoken"), auth(raw + "x")):
        response = client.get("/api/v1/whoami", headers=header)
        assert response.status_code == 401
        error = response.json["errors"][0]
        assert error["code"] == "unauthorized" and error["detail"]
    token = db.session.scalar(select(ApiToken))
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get("/api/v1/whoami", headers=auth(raw))
    assert response.status_code == 401 and "expired" in response.json["errors"][0]["detail"]


def test_wrong_scope_gets_403(client, make_user, make_token):
    user = make_user("kim", org="hanbit")
    raw = make_token(user, "hanbit", ["read"])
    response = client.post("/api/v1/keys", headers=auth(raw), json={"public_key": "x"})
    assert response.status_code == 403
    assert response.json["errors"][0]["field"] == "scope"


def test_register_signing_key_and_list_org_keys(client, make_user, make_token):
    from registry.spec.provenance import generate_key, key_id, public_key_to_pem

    user = make_user("kim", org="hanbit")
    raw = make_token(user, "hanbit")
    private = generate_key()
    pem = public_key_to_pem(private.public_key())
    response = client.post("/api/v1/keys", headers=auth(raw), json={"public_key": pem, "name": "laptop"})
    assert response.status_code == 201
    assert response.json["key"]["keyid"] == key_id(private.public_key())
    again = client.post("/api/v1/keys", headers=auth(raw), json={"public_key": pem})
    assert again.status_code == 409
    bad = client.post("/api/v1/keys", headers=auth(raw), json={"public_key": "-----BEGIN PUBLIC KEY-----\nnope\n"})
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "public_key"
    keys = client.get("/api/v1/orgs/hanbit/keys").json["keys"]
    assert [k["username"] for k in keys] == ["kim"] and "BEGIN PUBLIC KEY" in keys[0]["public_key"]


def test_non_json_body_is_a_clear_400(client, make_user, make_token):
    user = make_user("kim", org="hanbit")
    raw = make_token(user, "hanbit")
    response = client.post("/api/v1/keys", headers=auth(raw), data="not json")
    assert response.status_code == 400
    assert "JSON" in response.json["errors"][0]["detail"]
    deep = "[" * 5000 + "]" * 5000
    response = client.post("/api/v1/keys", headers={**auth(raw), "Content-Type": "application/json"}, data=deep)
    assert response.status_code == 400
