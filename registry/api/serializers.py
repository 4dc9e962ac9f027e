"""JSON shapes shared by API endpoints."""

from __future__ import annotations

from flask import request, url_for

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


def release_json(release) -> dict:
    from registry.publishing.service import queue_position

    name, version = release.solution.name, release.version

    def link(kind: str) -> str | None:
        if release.artifact(kind) is None:
            return None
        return url_for("api.download_artifact", name=name, version=version, kind=kind, _external=True)

    signer = release.signer_key
    return {
        "id": release.id,
        "name": name,
        "version": version,
        "state": release.state,
        "sha256": release.sha256,
        "size": release.size,
        "created_at": iso(release.created_at),
        "published_at": iso(release.published_at),
        "url": url_for("catalog.release_page", name=name, version=version, _external=True),
        "archive_url": link("archive"),
        "provenance_url": link("provenance"),
        "signature_url": link("signature"),
        "sbom_url": link("sbom"),
        "signer": {"username": signer.user.username, "keyid": signer.keyid} if signer else None,
        "provenance": {"repository": release.provenance_repository, "tag": release.provenance_tag,
                       "commit": release.provenance_commit} if release.provenance_commit else None,
        "queue_position": queue_position(release),
        "reviews": [review_json(r) for r in _reviews(release)],
        "checks": [{"name": c.name, "status": c.status, "summary": c.summary} for c in release.checks],
        "yank_reason": release.yank_reason,
        "org": release.solution.org.slug,
        "download_count": release.download_count,
        "transparency": _transparency(release),
        "mirrored_from": release.solution.mirrored_from,
    }


def _transparency(release) -> dict | None:
    """The release's "published" leaf; for a mirrored release, in the origin's log (`origin` names it)."""
    from registry.transparency import mirror, service

    origin = release.solution.mirrored_from
    index = (mirror if origin else service).published_leaf_index(release.id)
    if index is None:
        return None
    return {"leaf_index": index, "origin": origin} if origin else {"leaf_index": index}


def _reviews(release):
    from sqlalchemy import select

    from registry.db import db
    from registry.review.models import Review

    return db.session.scalars(select(Review).where(Review.release_id == release.id).order_by(Review.id)).all()


def review_json(review) -> dict:
    return {"id": review.id, "reasons": review.reasons, "decision": review.decision, "comment": review.comment, "reviewer": review.reviewer.username,
            "created_at": iso(review.created_at)}


def solution_json(solution, releases) -> dict:
    from registry.publishing.versions import latest_published

    latest = latest_published(solution.releases)
    shown = latest or (releases[-1] if releases else None)
    manifest = shown.manifest if shown else {}
    return {
        "name": solution.name,
        "title": manifest.get("title"),
        "summary": manifest.get("summary"),
        "org": solution.org.slug,
        "state": solution.state,
        "successor": solution.successor.name if solution.successor else None,
        "mirrored_from": solution.mirrored_from,
        "latest_version": latest.version if latest else None,
        "releases": [release_json(r) for r in releases],
    }
