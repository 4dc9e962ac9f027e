"""Web pages of the SBOM domain: the admins' licence policy, and where a package is used."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from registry.audit.service import record
from registry.db import db
from registry.errors import InvalidInput
from registry.sbom import licenses
from registry.sbom.forms import DeleteRuleForm, LicenseRuleForm, category_form
from registry.sbom.models import LicensePolicyRule
from registry.sbom.service import relicense_all, where_used

bp = Blueprint("sbom", __name__)


def _require_admin() -> None:
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(403)


def _field_name(category: str) -> str:
    return f"cat_{category.replace('-', '_')}"


def _render_policy(form=None, rule_form=None, status: int = 200):
    policy = licenses.load_policy()
    form = form or category_form(dict(policy.by_category))
    rules = db.session.scalars(select(LicensePolicyRule).where(LicensePolicyRule.kind == "license")
                               .order_by(LicensePolicyRule.subject)).all()
    return render_template("sbom/license_policy.html", form=form, rule_form=rule_form or LicenseRuleForm(prefix="rule"),
                           rules=rules, delete_form=DeleteRuleForm(), categories=licenses.CATEGORIES,
                           defaults=licenses.DEFAULT_POLICY, field_name=_field_name), status


def _upsert(kind: str, subject: str, action: str) -> None:
    rule = db.session.scalar(select(LicensePolicyRule).where(LicensePolicyRule.kind == kind, LicensePolicyRule.subject == subject))
    if rule is None:
        db.session.add(LicensePolicyRule(kind=kind, subject=subject, action=action))
    else:
        rule.action = action


def _policy_changed(details: dict) -> None:
    db.session.flush()
    relicense_all()
    record("license_policy.changed", actor=current_user, details=details)
    db.session.commit()


@bp.route("/admin/license-policy", methods=["GET", "POST"])
def license_policy():
    _require_admin()
    if request.method == "GET":
        return _render_policy()
    form = category_form(dict(licenses.load_policy().by_category))
    if not form.validate_on_submit():
        return _render_policy(form=form, status=400)
    chosen = {c: getattr(form, _field_name(c)).data for c in licenses.CATEGORIES}
    for category, action in chosen.items():
        _upsert("category", category, action)
    _policy_changed({"categories": chosen})
    flash(_("Licence policy saved; every release's licence check was recomputed."))
    return redirect(url_for("sbom.license_policy"))


@bp.post("/admin/license-policy/rules")
def add_license_rule():
    _require_admin()
    form = LicenseRuleForm(prefix="rule")
    if not form.validate_on_submit():
        return _render_policy(rule_form=form, status=400)
    _upsert("license", form.license.data, form.action.data)
    _policy_changed({"license": form.license.data, "action": form.action.data})
    flash(_("Rule for %(license)s saved.", license=form.license.data))
    return redirect(url_for("sbom.license_policy"))


@bp.post("/admin/license-policy/rules/<int:rule_id>/delete")
def delete_license_rule(rule_id: int):
    _require_admin()
    if not DeleteRuleForm().validate_on_submit():
        abort(400)
    rule = db.session.get(LicensePolicyRule, rule_id)
    if rule is None or rule.kind != "license":
        abort(404)
    subject = rule.subject
    db.session.delete(rule)
    _policy_changed({"removed_license": subject})
    flash(_("Rule for %(license)s removed.", license=subject))
    return redirect(url_for("sbom.license_policy"))


@bp.get("/components")
def components():
    purl = (request.args.get("purl") or "").strip()
    usages, error = [], None
    if purl:
        try:
            usages = where_used(purl)
        except InvalidInput as exc:
            error = exc.detail
    return render_template("sbom/where_used.html", purl=purl, usages=usages, error=error), 400 if error else 200
