"""Transparency log endpoints of the JSON API: the signed head, the leaves, and proofs against heads.

Hashes in JSON are lowercase hex; a leaf's `data` is the exact UTF-8 text that was hashed.
"""

from __future__ import annotations

from flask import Response, request

from registry.api import bp
from registry.errors import InvalidInput
from registry.transparency import service


def _int_arg(name: str, *, default: int | None = None, minimum: int = 0) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise InvalidInput(f"give {name} as a whole number", field=name)
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise InvalidInput(f"{name} must be a whole number of at least {minimum}, not {raw[:40]!r}", field=name)
    return int(raw)


def _hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


@bp.get("/log/checkpoint")
def log_checkpoint():
    return Response(service.latest_checkpoint(), mimetype="text/plain", headers={"Cache-Control": "no-cache"})


@bp.get("/log/key")
def log_key():
    return Response(service.verifier().encode() + "\n", mimetype="text/plain")


@bp.get("/log/leaves")
def log_leaves():
    start = _int_arg("start", default=0)
    limit = _int_arg("limit", default=100, minimum=1)
    if limit > service.MAX_PAGE:
        raise InvalidInput(f"limit is at most {service.MAX_PAGE}", field="limit")
    page = service.leaves(start, limit)
    return {"start": start, "size": service.log_size(),
            "leaves": [{"index": leaf.index, "kind": leaf.kind, "data": leaf.data, "hash": leaf.leaf_hash}
                       for leaf in page]}


@bp.get("/log/proof/inclusion")
def log_inclusion_proof():
    size = _int_arg("size", default=service.log_size(), minimum=1)
    digest = (request.args.get("hash") or "").strip()
    if digest:
        if len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
            raise InvalidInput("hash is a leaf hash in 64 hex digits", field="hash")
        index = service.leaf_by_hash(digest).index
    else:
        index = _int_arg("index")
    proof = service.inclusion_proof(index, size)
    leaf = service.leaves(index, 1)[0]
    return {"index": index, "size": size, "leaf_hash": leaf.leaf_hash, "proof": _hexes(proof)}


@bp.get("/log/proof/consistency")
def log_consistency_proof():
    old, new = _int_arg("old"), _int_arg("new")
    return {"old": old, "new": new, "proof": _hexes(service.consistency_proof(old, new))}
