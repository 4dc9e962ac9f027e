"""The public catalog: home, search, solution pages, a municipality's data hub and alerts, feeds."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.accounts import service as accounts
from registry.accounts.forms import ConfirmForm
from registry.accounts.models import Organization
from registry.catalog import adoption, alerts, dashboard, feeds, fit, koreamap, search, service, whereused
from registry.catalog.forms import (
    AdoptionForm,
    ProfileForm,
    SolutionStateForm,
    SubscriptionForm,
    WebhookForm,
    state_actions,
)
from registry.catalog.markdown import render_markdown
from registry.db import db, replica_reads
from registry.errors import InvalidInput, RegistryError
from registry.notifications import deliveries
from registry.releases.files import download_url
from registry.releases.models import Release, Solution
from registry.releases.service import (
    authorise_state_change,
    can_see,
    get_release,
    get_solution,
    plan_solution_state,
    possible_successors,
    set_solution_state,
)
from registry.releases.states import next_solution_states
from registry.releases.versions import latest_published
from registry.review.views import render_source_diff
from registry.spec.vocabulary import (
    CATEGORIES,
    CATEGORY_LABELS,
    DEVELOPMENT_STATUS_LABELS,
    MAINTENANCE_TYPE_LABELS,
    PROGRAMME_LABELS,
    PROVINCE_LABELS,
    label,
)
from registry.web import csv_text, localized_for_reader, reader_locale

bp = Blueprint("catalog", __name__)
# Download links in pages: the public /files/ URL of a published release (registry/releases/files.py).
bp.add_app_template_global(download_url, "download_url")

HOME_NEWEST = 8
HOME_MOST_ADOPTED = 6
HISTORY_LIMIT = 100


@bp.app_context_processor
def _catalog_helpers() -> dict[str, Any]:
    lang = reader_locale()
    labels = {"category": CATEGORY_LABELS, "programme": PROGRAMME_LABELS, "status": DEVELOPMENT_STATUS_LABELS,
              "maintenance": MAINTENANCE_TYPE_LABELS, "province": PROVINCE_LABELS}

    def vocabulary_label(kind: str, key: str | None) -> str:
        return label(labels[kind], key, lang) if key else ""

    def search_url(args: list[tuple[str, str]]) -> str:
        """The search page URL holding a whole search, so it can be shared."""
        return url_for("catalog.search_page") + ("?" + urlencode(args) if args else "")

    def my_municipalities() -> list[Organization]:
        return adoption.user_municipalities(current_user)

    return {"vocabulary_label": vocabulary_label, "format_number": format_decimal, "search_url": search_url,
            "my_municipalities": my_municipalities}


# --- the reader's data hub --------------------------------------------------------------------

# --- home and search ------------------------------------------------------------------------

@bp.get("/")
@replica_reads
def home():
    return render_template("catalog/home.html", **service.home_data())


@bp.get("/search")
@replica_reads
def search_page():
    try:
        query = search.SearchQuery.from_args(request.args)
    except InvalidInput as exc:
        return render_template("catalog/search.html", error=exc.detail, query=None, result=None), 400
    profile = service.reader_profile(current_user)
    fit_ids = fit.fitting_solution_ids(profile) if profile else None
    result = search.cached_search(query, fit_ids)
    return render_template("catalog/search.html", error=None, query=query, result=result, has_profile=bool(profile),
                           facet_names=facet_names(), count_cap=search.COUNT_CAP)


def facet_names() -> dict[str, str]:
    return {"category": _("Category"), "programme": _("Funding programme"), "year": _("Funding year"),
            "entity_type": _("Data-hub entity type"), "deploy": _("Deployment"), "license": _("Licence"),
            "status": _("Development status"), "maintenance": _("Maintenance"),
            "municipality": _("Origin municipality")}


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the reader's language in the session and a long-lived cookie."""
    from registry.web import LOCALES

    target = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else "/"
    response = redirect(target)
    if code in LOCALES:
        session["lang"] = code
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
    return response


# --- solution pages -------------------------------------------------------------------------

def _render_solution(solution: Solution, release: Release, releases: list[Release], adoption_form=None,
                     status: int = 200, state_form=None):
    data = service.page_data(solution, release, releases, current_user)
    if state_form is None and _may_change_state(solution):
        state_form = _state_form(solution)
    municipalities = adoption.user_municipalities(current_user)
    if adoption_form is None and municipalities:
        adoption_form = AdoptionForm(prefix="adopt")
    if adoption_form is not None:
        adoption_form.org.choices = [(o.slug, o.name) for o in municipalities]
        adoption_form.version.choices = [(r.version, r.version) for r in releases if r.state in ("published", "yanked")]
        if request.method == "GET":
            adoption_form.version.data = release.version
    readme = render_markdown(release.readme) if release.readme else None
    description = render_markdown(localized_for_reader((release.manifest or {}).get("description")))
    return render_template("catalog/solution.html", page=data, solution=solution, release=release, releases=releases,
                           readme=readme, description=description, adoption_form=adoption_form,
                           subscription_form=SubscriptionForm(prefix="follow"),
                           subscribed=adoption.is_subscribed(current_user, solution),
                           is_member=getattr(current_user, "is_authenticated", False)
                           and current_user.member_of(solution.org_id), state_form=state_form), status


def _may_change_state(solution: Solution) -> bool:
    if not current_user.is_authenticated:
        return False
    try:
        authorise_state_change(current_user, solution)
    except RegistryError:
        return False
    return True


def _state_form(solution: Solution) -> SolutionStateForm:
    form = SolutionStateForm(prefix="state")
    actions = state_actions()
    form.state.choices = [(state, actions[state]) for state in next_solution_states(solution)]
    form.successor.choices = [("", _("No successor"))] + [(s.name, _successor_label(s))
                                                          for s in possible_successors(solution)]
    return form


def _successor_label(candidate: Solution) -> str:
    latest = latest_published(candidate.releases)
    title = localized_for_reader((latest.manifest or {}).get("title")) if latest else ""
    return f"{title} ({candidate.name})" if title else candidate.name


def _shown_release(solution: Solution) -> tuple[Release, list[Release]]:
    releases = service.visible_releases(solution, current_user)
    if not releases:
        abort(404)
    return latest_published(solution.releases) or releases[0], releases


@bp.get("/solutions/<name>")
@replica_reads
def solution_page(name: str):
    solution = get_solution(name)
    return _render_solution(solution, *_shown_release(solution))


@bp.post("/solutions/<name>/state")
@login_required
def change_solution_state(name: str):
    """Deprecate, archive or reactivate: the first post shows what will happen, the confirmed one does it."""
    solution = get_solution(name)
    authorise_state_change(current_user, solution)  # anyone else gets the error page, not the form
    shown, releases = _shown_release(solution)
    form = _state_form(solution)
    if not form.validate_on_submit():
        return _render_solution(solution, shown, releases, state_form=form, status=400)
    confirmed = form.confirmed.data == "yes"
    # Unconfirmed, the change is only checked (nothing is written) and shown for confirmation.
    make_or_check = set_solution_state if confirmed else plan_solution_state
    try:
        change = make_or_check(current_user, solution, form.state.data, form.successor.data or None,
                               form.reason.data or "")
    except RegistryError as exc:
        db.session.rollback()
        field = {"state": form.state, "successor": form.successor, "reason": form.reason}.get(exc.field or "")
        (field.errors if field is not None else form.form_errors).append(exc.detail)
        return _render_solution(solution, shown, releases, state_form=form, status=exc.status)
    if not confirmed:
        form.confirmed.data = "yes"
        return render_template("catalog/solution_state_confirm.html", solution=solution, change=change, form=form,
                               action=state_actions()[change.target], told=alerts.solution_adopters(solution))
    flash({"deprecated": _("%(name)s is deprecated; the cities running it are told."),
           "archived": _("%(name)s is archived; the cities running it are told."),
           "active": _("%(name)s is active again.")}[change.target] % {"name": solution.name})
    return redirect(url_for("catalog.solution_page", name=solution.name))


@bp.get("/solutions/<name>/<version>")
@replica_reads
def release_page(name: str, version: str):
    release = get_release(name, version)
    if not can_see(release, current_user, None):
        abort(404)
    return _render_solution(release.solution, release, service.visible_releases(release.solution, current_user))


@bp.get("/solutions/<name>/compare/<old>...<new>")
@replica_reads
def compare(name: str, old: str, new: str):
    """The source diff between two versions the reader may see (the public: published or yanked)."""
    base, release = get_release(name, old), get_release(name, new)
    if not (can_see(base, current_user, None) and can_see(release, current_user, None)):
        abort(404)
    return render_source_diff("catalog/compare.html", base, release, "catalog.compare",
                              {"name": name, "old": old, "new": new})


@bp.post("/solutions/<name>/adoptions")
@login_required
def record_adoption(name: str):
    solution = get_solution(name)
    shown, releases = _shown_release(solution)
    form = AdoptionForm(prefix="adopt")
    form.org.choices = [(o.slug, o.name) for o in adoption.user_municipalities(current_user)]
    form.version.choices = [(r.version, r.version) for r in releases if r.state in ("published", "yanked")]
    if not form.validate_on_submit():
        return _render_solution(solution, shown, releases, form, status=400)
    try:
        release = get_release(solution.name, form.version.data)
        org = accounts.get_org(form.org.data)
        adoption.record_adoption(current_user, org, release, form.stage.data, form.deployed_on.data)
    except RegistryError as exc:
        if exc.status >= 500:  # the registry's own failure: the error page, not a form message
            raise
        db.session.rollback()
        form.form_errors.append(exc.detail)
        return _render_solution(solution, shown, releases, form, status=exc.status)
    recorded = {"piloting": _("Recorded: %(org)s is piloting %(name)s %(version)s."),
                "production": _("Recorded: %(org)s runs %(name)s %(version)s in production."),
                "retired": _("Recorded: %(org)s has retired %(name)s %(version)s.")}[form.stage.data]
    flash(recorded % {"org": org.name, "name": solution.name, "version": release.version})
    return redirect(url_for("catalog.solution_page", name=solution.name) + "#adopters")


@bp.post("/solutions/<name>/subscription")
@login_required
def toggle_subscription(name: str):
    solution = get_solution(name)
    if not service.visible_releases(solution, current_user):
        abort(404)
    if SubscriptionForm(prefix="follow").validate_on_submit():
        following = adoption.set_subscription(current_user, solution, request.form.get("action") == "follow")
        flash(_("You follow %(name)s: new releases arrive in your notifications.", name=solution.name) if following
              else _("You no longer follow %(name)s.", name=solution.name))
    return redirect(url_for("catalog.solution_page", name=solution.name))


# --- a municipality's data hub, deployments and alerts ---------------------------------------

def _org_for_member(slug: str) -> Organization:
    org = accounts.get_org(slug)
    accounts.require_member(current_user, org)
    return org


def _render_datahub(org: Organization, profile_form=None, webhook_form=None, status: int = 200,
                    new_secret: str | None = None):
    profile = fit.get_profile(org.id)
    if profile_form is None:
        profile_form = ProfileForm(prefix="profile")
        if profile is not None:
            profile_form.spec_version.data = profile.spec_version
            profile_form.text.data = fit.profile_text(profile.entity_types or [])
            modes = {m for e in profile.entity_types or [] for m in e.get("access") or []}
            profile_form.access.data = [m for m in ("read", "write", "subscribe", "temporal") if m in modes] or None
    if webhook_form is None:
        webhook_form = WebhookForm(prefix="webhook")
        webhook_form.url.data = org.webhook_url
    is_owner = org.id in adoption.owner_orgs(current_user)
    return render_template("catalog/datahub.html", org=org, profile=profile, profile_form=profile_form,
                           webhook_form=webhook_form, is_owner=is_owner, new_secret=new_secret,
                           deliveries=deliveries.log_of(org) if is_owner else [], confirm=ConfirmForm(),
                           adoptions=adoption.org_adoptions(org)), status


@bp.get("/orgs/<slug>/datahub")
@login_required
def datahub(slug: str):
    org = _org_for_member(slug)
    adoption.require_municipality(org)
    return _render_datahub(org)


@bp.post("/orgs/<slug>/datahub")
@login_required
def save_datahub(slug: str):
    org = _org_for_member(slug)
    form = ProfileForm(prefix="profile")
    if not form.validate_on_submit():
        return _render_datahub(org, profile_form=form, status=400)
    try:
        spec_version = fit.check_spec_version(form.spec_version.data)
        access = form.access.data or ["read"]
        upload = form.document.data
        if upload and getattr(upload, "filename", ""):
            types = fit.parse_profile_document(upload.read(fit.MAX_DOCUMENT_BYTES + 1), access)
        elif (form.pasted.data or "").strip():
            types = fit.parse_profile_document(form.pasted.data, access)
        else:
            types = fit.parse_profile_text(form.text.data or "", access)
        adoption.save_profile(current_user, org, spec_version, types)
    except RegistryError as exc:
        if exc.status >= 500:  # the registry's own failure: the error page, not a form message
            raise
        db.session.rollback()
        form.form_errors.append(exc.detail)
        return _render_datahub(org, profile_form=form, status=exc.status)
    flash(_("Data hub profile saved: %(count)s entity types.", count=len(types)))
    return redirect(url_for("catalog.datahub", slug=org.slug))


@bp.post("/orgs/<slug>/webhook")
@login_required
def save_webhook(slug: str):
    org = _org_for_member(slug)
    form = WebhookForm(prefix="webhook")
    if not form.validate_on_submit():
        return _render_datahub(org, webhook_form=form, status=400)
    try:
        secret = adoption.set_webhook(current_user, org, form.url.data, new_secret=form.new_secret.data)
    except RegistryError as exc:
        if exc.status >= 500:  # the registry's own failure: the error page, not a form message
            raise
        db.session.rollback()
        (form.url.errors if exc.field == "webhook_url" else form.form_errors).append(exc.detail)
        return _render_datahub(org, webhook_form=form, status=exc.status)
    if secret:
        # Shown on this answer only (not flashed: the session cookie is readable), and not cached.
        response = make_response(_render_datahub(org, new_secret=secret))
        response.headers["Cache-Control"] = "no-store"
        return response
    flash(_("Alert webhook saved.") if org.webhook_url else _("Alert webhook removed."))
    return redirect(url_for("catalog.datahub", slug=org.slug))


# --- the reuse dashboard --------------------------------------------------------------------

@bp.get("/reuse")
@replica_reads
def reuse():
    data = dashboard.reuse_dashboard()
    levels, legend = koreamap.shading({row.key: row.adoptions for row in data.by_province
                                       if row.key != dashboard.UNKNOWN})
    return render_template("catalog/reuse.html", data=data, korea=koreamap.korea_map(),
                           levels=levels, legend=legend, credit=koreamap.CREDIT, row_label=dashboard.row_label,
                           format_percent=format_percent)


@bp.get("/reuse.csv")
@replica_reads
def reuse_csv():
    table = request.args.get("table", "")
    if table not in dashboard.TABLES:
        abort(400, description=_("No table %(table)s; choose one of %(tables)s.", table=table,
                                 tables=", ".join(dashboard.TABLES)))
    columns = dashboard.table_columns(table)
    records = dashboard.table_records(dashboard.reuse_dashboard(), table)
    # With a byte-order mark, spreadsheet programs read the file as UTF-8 (Korean labels) rather than
    # in the system's legacy code page.
    body = "\ufeff" + csv_text(columns, [[record[c] for c in columns] for record in records])
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="reuse-{table}.csv"'})


# --- feeds ----------------------------------------------------------------------------------

def _atom(category: str | None) -> Response:
    body = feeds.atom_feed(feeds.recent_releases(category), title=feeds.feed_title(category, reader_locale()),
                           self_url=request.base_url, lang=reader_locale())
    return Response(body, mimetype="application/atom+xml")


@bp.get("/feeds/releases.atom")
@replica_reads
def releases_feed():
    return _atom(None)


@bp.get("/feeds/categories/<category>.atom")
@replica_reads
def category_feed(category: str):
    if category not in CATEGORIES:
        abort(404, description=_("No category %(category)s.", category=category))
    return _atom(category)


@bp.post("/orgs/<slug>/webhook/deliveries/<int:delivery_id>/resend")
@login_required
def resend_delivery(slug: str, delivery_id: int):
    org = accounts.get_org(slug)
    accounts.require_member(current_user, org, owner=True)
    if ConfirmForm().validate_on_submit():
        deliveries.resend(org, delivery_id)
        flash(_("The delivery is sent again, with the same webhook-id."))
    return redirect(url_for("catalog.datahub", slug=org.slug) + "#deliveries-h")


@bp.get("/components")
@replica_reads
def components():
    purl = (request.args.get("purl") or "").strip()
    usages, error = [], None
    if purl:
        try:
            usages = whereused.where_used(purl)
        except InvalidInput as exc:
            error = exc.detail
    return render_template("catalog/where_used.html", purl=purl, usages=usages, error=error), 400 if error else 200
