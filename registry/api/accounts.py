"""Who am I, and the signing keys the registry trusts."""


from registry.accounts import service as accounts
from registry.api import bp
from registry.api.auth import current_token
from registry.api.serializers import json_body, key_json
from registry.db import db


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
    db.session.commit()
    return {"key": key_json(key)}, 201


@bp.get("/orgs/<slug>/keys")
def org_keys(slug: str):
    org = accounts.get_org(slug)
    keys = accounts.org_signing_keys(org)
    return {"keys": [key_json(k, with_public_key=True) for k in keys]}
