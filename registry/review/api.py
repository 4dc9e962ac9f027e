"""Review endpoints of the JSON API: the queue, one release's review picture, claims, decisions.

Every endpoint needs a token with the `review` scope whose user is a reviewer.
"""

from __future__ import annotations

from flask import request

from registry.accounts.auth import current_token
from registry.accounts.models import User
from registry.accounts.service import require_scope
from registry.errors import InvalidInput
from registry.releases import service as releases
from registry.releases.serializers import release_json
from registry.review import checks as check_registry
from registry.review import service
from registry.review.diff import release_diff
from registry.review.models import Review
from registry.web import api_bp as bp
from registry.web import int_arg, iso, json_body

MAX_PER_PAGE = 200


def _reviewer() -> User:
    token = current_token()
    require_scope(token, "review")
    return service.require_reviewer(token.user)


def review_detail_json(review: Review) -> dict:
    return {"id": review.id, "release_id": review.release_id, "decision": review.decision, "comment": review.comment,
            "reasons": review.reasons, "reviewer": review.reviewer.username, "created_at": iso(review.created_at)}


def check_json(check) -> dict:
    return {"name": check.name, "status": check.status, "summary": check.summary, "details": check.details,
            "ran_at": iso(check.ran_at), "rerunnable": check_registry.can_rerun(check)}


def _claim_json(release) -> dict:
    holder = service.active_claim_holder(release)
    return {"release_id": release.id, "claimed_by": holder.username if holder else None,
            "expires_at": iso(service.claim_expires_at(release)) if holder else None}


@bp.get("/reviews/queue")
def review_queue():
    _reviewer()
    result = service.queue(service.QueueFilters.parse(request.args), page=int_arg("page", default=1, minimum=1),
                           per_page=int_arg("per_page", default=service.QUEUE_PAGE_SIZE, minimum=1,
                                            maximum=MAX_PER_PAGE))
    return {"queue": [{
        "release_id": e.release.id, "position": e.position, "name": e.release.solution.name,
        "version": e.release.version, "org": e.release.solution.org.slug, "programme": e.programme,
        "check_status": e.check_status, "first_release": e.first_release,
        "waiting_seconds": int(e.waited.total_seconds()), "created_at": iso(e.release.created_at),
        "claimed_by": e.holder.username if e.holder else None, "claim_expires_at": iso(e.claim_expires_at),
        "approvals": e.approvals, "answers_review_id": e.release.answers_review_id,
    } for e in result.entries], "total": result.total, "pending": result.pending, "page": result.page,
        "per_page": result.per_page, "pages": result.pages, "has_next": result.has_next}


@bp.get("/reviews/<int:release_id>")
def review_picture(release_id: int):
    _reviewer()
    release = service.get_release(release_id)
    return {
        "release": release_json(release, show_checks=True),
        "checks": [check_json(c) for c in service.sorted_checks(release)],
        "checks_running": service.running_checks(release),
        "diff": release_diff(release).to_dict(),
        "reviews": [review_detail_json(r) for r in release.reviews],
        "claim": _claim_json(release),
        "answers_review_id": release.answers_review_id,
    }


@bp.post("/reviews/<int:release_id>")
def review_decide(release_id: int):
    user = _reviewer()
    body = json_body()
    decision, comment, reasons = body.get("decision"), body.get("comment") or "", body.get("reasons") or []
    if not isinstance(decision, str):
        raise InvalidInput("decision must be one of approve, request_changes, reject", field="decision")
    if not isinstance(comment, str):
        raise InvalidInput("comment must be a string", field="comment")
    if not isinstance(reasons, list):
        raise InvalidInput("reasons must be a list of reason ids", field="reasons")
    outcome = service.decide(user, service.get_release(release_id), decision, comment, reasons)
    return {"release": release_json(outcome.release, show_checks=True), "review": review_detail_json(outcome.review),
            "published": outcome.published}


@bp.post("/reviews/<int:release_id>/claim")
def review_claim(release_id: int):
    user = _reviewer()
    return {"claim": _claim_json(service.claim(user, service.get_release(release_id)))}


@bp.delete("/reviews/<int:release_id>/claim")
def review_unclaim(release_id: int):
    user = _reviewer()
    return {"claim": _claim_json(service.unclaim(user, service.get_release(release_id)))}


@bp.post("/solutions/<name>/releases/<version>/checks/<check>/rerun")
def rerun_check(name: str, version: str, check: str):
    """Run a failed, timed-out or broken job check again (reviewers; audited). 202: it is queued."""
    user = _reviewer()
    row = check_registry.rerun(user, releases.get_release(name, version), check)
    return {"check": check_json(row)}, 202
