"""JSON shapes shared by API endpoints."""

from __future__ import annotations

from registry.releases.files import download_url
from registry.releases.service import queue_position, release_link
from registry.releases.versions import latest_published
from registry.transparency import mirrored
from registry.transparency import service as transparency
from registry.web import iso


def check_json(check) -> dict:
    return {"name": check.name, "status": check.status, "summary": check.summary, "details": check.details,
            "ran_at": iso(check.ran_at)}


def release_json(release, show_checks: bool = False) -> dict:
    """`show_checks`: the reader is of the publishing organization or a reviewer (`may_see_checks`);
    anyone else gets `"checks": null`."""
    name, version = release.solution.name, release.version
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
        "url": release_link(release),
        "archive_url": download_url(release, "archive"),
        "provenance_url": download_url(release, "provenance"),
        "signature_url": download_url(release, "signature"),
        "sbom_url": download_url(release, "sbom"),
        "signer": {"username": signer.user.username, "keyid": signer.keyid} if signer else None,
        "provenance": {"repository": release.provenance_repository, "tag": release.provenance_tag,
                       "commit": release.provenance_commit} if release.provenance_commit else None,
        "queue_position": queue_position(release),
        "reviews": [review_json(r) for r in release.reviews],
        "checks": [check_json(c) for c in sorted(release.checks, key=lambda c: c.id or 0)] if show_checks else None,
        "yank_reason": release.yank_reason,
        "org": release.solution.org.slug,
        "download_count": release.download_count,
        "transparency": _transparency(release),
        "mirrored_from": release.solution.mirrored_from,
    }


def _transparency(release) -> dict | None:
    """The release's "published" leaf; for a mirrored release, in the origin's log (`origin` names it)."""
    origin = release.solution.mirrored_from
    index = (mirrored.mirrored_leaf_index if origin else transparency.published_leaf_index)(release.id)
    if index is None:
        return None
    return {"leaf_index": index, "origin": origin} if origin else {"leaf_index": index}


def review_json(review) -> dict:
    return {"id": review.id, "reasons": review.reasons, "decision": review.decision, "comment": review.comment, "reviewer": review.reviewer.username,
            "created_at": iso(review.created_at)}


def solution_json(solution, releases, show_checks=lambda release: False) -> dict:
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
        "releases": [release_json(r, show_checks(r)) for r in releases],
    }
