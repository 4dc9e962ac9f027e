"""JSON shapes shared by API endpoints."""

from __future__ import annotations

from flask import request

from registry.accounts.models import SigningKey
from registry.errors import InvalidInput

MAX_JSON_DEPTH = 20


def json_body() -> dict:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise InvalidInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object body with Content-Type: application/json")
    if _depth(body) > MAX_JSON_DEPTH:
        raise InvalidInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return body


def _depth(value, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def iso(dt) -> str | None:
    return dt.isoformat() if dt else None


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
