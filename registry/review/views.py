"""The review pages: the reviewers' queue, one release under review, decisions, claims, the
admins' reasons, and the publishing organization's own view of its releases (/review/mine)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.accounts.forms import ConfirmForm
from registry.db import db
from registry.errors import Conflict, Forbidden, InvalidInput, NotFound
from registry.releases.models import Release
from registry.releases.service import can_see
from registry.review import checks as check_registry
from registry.review import service
from registry.review.attention import needs_attention
from registry.review.diff import previous_published, release_diff
from registry.review.files import release_files, tree, view_file
from registry.review.forms import DecisionForm, ReasonForm
from registry.review.models import ReviewDecision, ReviewReason
from registry.review.sourcediff import MAX_ROWS, file_diff, source_diff
from registry.spec.vocabulary import PROGRAMME_LABELS
from registry.web import reader_locale

bp = Blueprint("review", __name__, url_prefix="/review")

FILES_PER_PAGE = 50  # files whose diffs one page of a source diff shows
GENERATED_LISTED = 200  # generated files named in the collapsed list; the rest are counted


def _reason_label(reason: ReviewReason) -> str:
    return reason.text_en if reader_locale() == "en" else reason.text_ko


def _decision_form(formdata=None) -> DecisionForm:
    form = DecisionForm(formdata=formdata) if formdata is not None else DecisionForm()
    form.reasons.choices = [(r.id, _reason_label(r)) for r in service.active_reasons()]
    return form


@bp.app_template_global("review_status")
def review_status(release: Release) -> service.PublisherStatus | None:
    """For templates/review/_publisher_status.html: the status, only for the org's members and reviewers."""
    user = current_user
    if not getattr(user, "is_authenticated", False):
        return None
    if not (user.member_of(release.solution.org_id) or user.is_reviewer):
        return None
    return service.publisher_status(release)


@bp.app_template_filter("waited")
def waited(delta) -> str:
    return format_timedelta(delta, threshold=0.9)


@bp.get("/")
@login_required
def queue():
    service.require_reviewer(current_user)
    filters = service.QueueFilters.parse(request.args)
    page = request.args.get("page", "1")
    result = service.queue(filters, page=int(page) if page.isdigit() and int(page) > 0 else 1)
    return render_template("review/queue.html", result=result, filters=filters, orgs=service.queue_orgs(),
                           programmes=PROGRAMME_LABELS)


def _render_release(release: Release, form: DecisionForm | None = None, error: str | None = None,
                    status: int = 200):
    holder = service.active_claim_holder(release)
    changes = release_diff(release)
    base = changes.base
    source = source_diff(release_files(base) if base is not None else None, release_files(release))
    return render_template(
        "review/release.html", release=release, solution=release.solution, checks=service.sorted_checks(release),
        running=service.running_checks(release),
        rerunnable={c.name for c in release.checks if check_registry.can_rerun(c)},
        diff=changes, attention=needs_attention(changes, source), reviews=release.reviews,
        form=form or _decision_form(),
        confirm=ConfirmForm(), holder=holder, claim_expires_at=service.claim_expires_at(release) if holder else None,
        own_org=current_user.member_of(release.solution.org_id), first_release=service.is_first_release(release),
        two_approvals=service.needs_two_approvals(release), approvals=service.approvals(release),
        status=service.publisher_status(release), error=error,
    ), status


@bp.get("/releases/<int:release_id>")
@login_required
def release(release_id: int):
    service.require_reviewer(current_user)
    return _render_release(service.get_release(release_id))


@bp.post("/releases/<int:release_id>/decide")
@login_required
def decide(release_id: int):
    service.require_reviewer(current_user)
    target = service.get_release(release_id)
    form = _decision_form(request.form)
    if not form.validate_on_submit():
        return _render_release(target, form, status=400)
    try:
        outcome = service.decide(current_user, target, form.decision.data, form.comment.data or "",
                                 form.reasons.data or [])
    except InvalidInput as exc:
        db.session.rollback()
        getattr(form, exc.field or "comment").errors.append(exc.detail)
        return _render_release(service.get_release(release_id), form, status=400)
    except Conflict as exc:
        db.session.rollback()
        return _render_release(service.get_release(release_id), form, error=exc.detail, status=409)
    if outcome.published:
        flash(_("Approved: %(name)s %(version)s is published.", name=target.solution.name, version=target.version))
    elif outcome.review.decision == ReviewDecision.APPROVE:
        flash(_("First approval recorded; a second reviewer has to approve this first release."))
    else:
        flash(_("Decision recorded and the publisher notified."))
    return redirect(url_for("review.queue"))


@bp.post("/releases/<int:release_id>/claim")
@login_required
def claim(release_id: int):
    return _claim_action(release_id, service.claim, _("You are reviewing this release now; others see your name."))


@bp.post("/releases/<int:release_id>/unclaim")
@login_required
def unclaim(release_id: int):
    return _claim_action(release_id, service.unclaim, _("Claim released."))


def _claim_action(release_id: int, action, message: str):
    service.require_reviewer(current_user)
    target = service.get_release(release_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, target)
    except Conflict as exc:
        db.session.rollback()
        return _render_release(service.get_release(release_id), error=exc.detail, status=409)
    flash(message)
    return redirect(url_for("review.release", release_id=release_id))


@bp.post("/releases/<int:release_id>/checks/<name>/rerun")
@login_required
def rerun_check(release_id: int, name: str):
    service.require_reviewer(current_user)
    target = service.get_release(release_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        check_registry.rerun(current_user, target, name)
    except (Conflict, NotFound, Forbidden) as exc:
        db.session.rollback()
        return _render_release(service.get_release(release_id), error=exc.detail, status=exc.status)
    flash(_("The check %(name)s runs again; its result appears here when it is done.", name=name))
    return redirect(url_for("review.release", release_id=release_id))


# --- reasons (admins) -------------------------------------------------------------------------

def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


def _render_reasons(new_form: ReasonForm | None = None, edited: tuple[int, ReasonForm] | None = None,
                    status: int = 200):
    reasons = service.all_reasons()
    edit_forms = {r.id: ReasonForm(prefix=f"r{r.id}", obj=r, formdata=None) for r in reasons}
    if edited:
        edit_forms[edited[0]] = edited[1]
    return render_template("review/reasons.html", reasons=reasons, edit_forms=edit_forms,
                           form=new_form or ReasonForm(prefix="new", formdata=None)), status


@bp.route("/reasons", methods=["GET", "POST"])
@login_required
def reasons():
    _require_admin()
    if request.method == "GET":
        return _render_reasons()
    form = ReasonForm(prefix="new")
    if not form.validate_on_submit():
        return _render_reasons(new_form=form, status=400)
    service.save_reason(current_user, form.text_ko.data, form.text_en.data, form.active.data)
    flash(_("Reason added."))
    return redirect(url_for("review.reasons"))


@bp.post("/reasons/<int:reason_id>")
@login_required
def edit_reason(reason_id: int):
    _require_admin()
    reason = db.get_or_404(ReviewReason, reason_id)
    form = ReasonForm(prefix=f"r{reason_id}")
    if not form.validate_on_submit():
        return _render_reasons(edited=(reason_id, form), status=400)
    service.save_reason(current_user, form.text_ko.data, form.text_en.data, form.active.data, reason=reason)
    flash(_("Reason saved."))
    return redirect(url_for("review.reasons"))


# --- the publisher's view ---------------------------------------------------------------------

@bp.get("/mine")
@login_required
def mine():
    return render_template("review/mine.html", statuses=service.org_releases(current_user))



# --- files and source diff (reviewers, the publishing org, and the public for published releases) ---

@bp.app_template_global("file_kind_label")
def file_kind_label(kind: str) -> str:
    return {"text": _("text"), "binary": _("binary"), "image": _("image"), "archive": _("archive"),
            "unknown": _("large file")}.get(kind, kind)


def _visible_release(release_id: int) -> Release:
    """Who may see the release may read its files; anyone else gets a 404, as if it did not exist."""
    release = db.session.get(Release, release_id)
    if release is None or not can_see(release, current_user, None):
        abort(404)
    return release


@bp.get("/releases/<int:release_id>/files")
def files(release_id: int):
    release = _visible_release(release_id)
    listing = release_files(release)
    return render_template("review/files.html", release=release, solution=release.solution,
                           root=tree(listing.entries), count=len(listing.entries))


@bp.get("/releases/<int:release_id>/files/<path:path>")
def file(release_id: int, path: str):
    release = _visible_release(release_id)
    view = view_file(release, path)
    if view is None:
        abort(404)
    return render_template("review/file.html", release=release, solution=release.solution, view=view,
                           parents=path.split("/")[:-1])


@bp.get("/releases/<int:release_id>/diff")
def diff(release_id: int):
    release = _visible_release(release_id)
    return render_source_diff("review/diff.html", previous_published(release), release, "review.diff",
                              {"release_id": release_id})


def render_source_diff(template: str, base: Release | None, release: Release, endpoint: str, args: dict):
    """A source diff page: the file list paged, each page's diffs; ?file= one file; ?view=unified."""
    old = release_files(base) if base is not None else None
    new = release_files(release)
    changes = source_diff(old, new)
    view = "unified" if request.args.get("view") == "unified" else "split"
    selected = request.args.get("file")
    if selected is not None:
        change = changes.change(selected)
        if change is None:
            abort(404)
        shown, page, pages = [change], 1, 1
    else:
        page = request.args.get("page", 1, type=int)
        reviewable = changes.reviewable
        pages = max(1, -(-len(reviewable) // FILES_PER_PAGE))
        if not 1 <= page <= pages:
            abort(404)
        shown = reviewable[(page - 1) * FILES_PER_PAGE:page * FILES_PER_PAGE]
    if old is not None:
        old.prefetch(c.old.path for c in shown if c.old is not None)  # the page's files, one pass per archive
    new.prefetch(c.new.path for c in shown if c.new is not None)
    return render_template(template, release=release, solution=release.solution, base=base, changes=changes,
                           shown=[(c, file_diff(c, old, new)) for c in shown], selected=selected, view=view,
                           page=page, pages=pages, endpoint=endpoint, args=args, generated_listed=GENERATED_LISTED,
                           max_rows=MAX_ROWS)
