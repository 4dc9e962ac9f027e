"""Who am I, and the signing keys the registry trusts."""

from __future__ import annotations

from registry.accounts import service as accounts
from registry.accounts.auth import current_token
from registry.accounts.models import SigningKey
from registry.web import api_bp as bp
from registry.web import iso, json_body


@bp.get("/whoami")
def whoami():
    token = current_token()
    return {
        "user": {"username": token.user.username},
        "org": {"slug": token.org.slug, "name": token.org.name},
        "scopes": token.scopes,
        "solution": token.solution_name,
    }


@bp.post("/keys")
def register_key():
    token = current_token()
    accounts.require_scope(token, "publish")
    body = json_body()
    key = accounts.register_signing_key(token.user, str(body.get("public_key") or ""), str(body.get("name") or ""))
    return {"key": key_json(key)}, 201


@bp.get("/orgs/<slug>/keys")
def org_keys(slug: str):
    org = accounts.get_org(slug)
    keys = accounts.org_signing_keys(org)
    return {"keys": [key_json(k, with_public_key=True) for k in keys]}


def key_json(key: SigningKey, *, with_public_key: bool = False) -> dict:
    data = {
        "keyid": key.keyid,
        "name": key.name,
        "username": key.user.username,
        "created_at": iso(key.created_at),
        "revoked": key.revoked_at is not None,
    }
    if with_public_key:
        data["public_key"] = key.public_key_pem
    return data
