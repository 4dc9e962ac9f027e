"""Transparency log endpoints of the JSON API: the signed head, the leaves, and proofs against heads.

Hashes in JSON are lowercase hex; a leaf's `data` is the exact UTF-8 text that was hashed.
"""

from __future__ import annotations

from flask import Response, request

from registry.errors import InvalidInput, PayloadTooLarge
from registry.spec.note import MAX_NOTE
from registry.transparency import mirrored as mirror
from registry.transparency import service, witnesses
from registry.web import api_bp as bp
from registry.web import int_arg


def _hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def _mirrored() -> str | None:
    """`?origin=` names another registry's log this one mirrors; without it, or with its own name, the local log."""
    origin = request.args.get("origin") or None
    return None if origin == service.origin() else origin


@bp.get("/log/checkpoint")
def log_checkpoint():
    origin = _mirrored()
    signed = mirror.latest_checkpoint(origin) if origin else witnesses.cosigned_checkpoint()
    return Response(signed, mimetype="text/plain", headers={"Cache-Control": "no-cache"})


@bp.post("/log/cosignatures")
def log_cosign():
    """A witness sends the checkpoint it fetched with its cosignature line added (`solreg witness cosign`)."""
    body = request.stream.read(MAX_NOTE + 1)
    if len(body) > MAX_NOTE:
        raise PayloadTooLarge(f"a cosigned checkpoint is at most {MAX_NOTE} bytes", field="checkpoint")
    try:
        message = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body is a signed checkpoint in UTF-8 text", field="checkpoint") from None
    accepted = witnesses.record_cosignatures(message)
    return {"cosignatures": [{"witness": a.witness, "tree_size": a.tree_size, "signed_at": a.signed_at.isoformat(),
                              "new": a.new} for a in accepted]}, 201 if any(a.new for a in accepted) else 200


@bp.get("/log/key")
def log_key():
    origin = _mirrored()
    key = mirror.known_origin(origin).verifier_key if origin else service.verifier().encode()
    return Response(key + "\n", mimetype="text/plain")


@bp.get("/log/leaves")
def log_leaves():
    start = int_arg("start", default=0)
    limit = int_arg("limit", default=100, minimum=1)
    if limit > service.MAX_PAGE:
        raise InvalidInput(f"limit is at most {service.MAX_PAGE}", field="limit")
    origin = _mirrored()
    page = mirror.leaves(origin, start, limit) if origin else service.leaves(start, limit)
    return {"start": start, "size": mirror.log_size(origin) if origin else service.log_size(),
            "leaves": [{"index": leaf.index, "kind": leaf.kind, "data": leaf.data, "hash": leaf.leaf_hash}
                       for leaf in page]}


@bp.get("/log/proof/inclusion")
def log_inclusion_proof():
    origin = _mirrored()
    if origin:
        return _mirrored_inclusion(origin)
    size = int_arg("size", default=service.log_size(), minimum=1)
    digest = (request.args.get("hash") or "").strip()
    if digest:
        if len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
            raise InvalidInput("hash is a leaf hash in 64 hex digits", field="hash")
        index = service.leaf_by_hash(digest).index
    else:
        index = int_arg("index")
    proof = service.inclusion_proof(index, size)
    leaf = service.leaves(index, 1)[0]
    return {"index": index, "size": size, "leaf_hash": leaf.leaf_hash, "proof": _hexes(proof)}


@bp.get("/log/proof/consistency")
def log_consistency_proof():
    old, new = int_arg("old"), int_arg("new")
    origin = _mirrored()
    if origin:
        tree = mirror.tree(origin)
        if not 0 <= old <= new <= tree.size:
            raise InvalidInput(f"old and new must satisfy 0 <= old <= new <= {tree.size}", field="new")
        return {"old": old, "new": new, "proof": _hexes(tree.consistency_proof(old, new))}
    return {"old": old, "new": new, "proof": _hexes(service.consistency_proof(old, new))}


def _mirrored_inclusion(origin: str):
    """Proofs from the origin's leaves as imported (by index; the local log also finds leaves by hash)."""
    tree = mirror.tree(origin)
    size, index = int_arg("size", default=tree.size, minimum=1), int_arg("index")
    if not 0 <= index < size <= tree.size:
        raise InvalidInput(f"leaf {index} is not in a tree of {size} leaves of {tree.size}", field="index")
    return {"index": index, "size": size, "leaf_hash": tree.leaf(index).hex(), "origin": origin,
            "proof": _hexes(tree.inclusion_proof(index, size))}
