"""Web pages of the SBOM domain: the admins' licence policy."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.sbom import licenses, service
from registry.sbom.forms import DeleteRuleForm, LicenseRuleForm, category_form

bp = Blueprint("sbom", __name__)


def _require_admin() -> None:
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(403)


def _field_name(category: str) -> str:
    return f"cat_{category.replace('-', '_')}"


def _render_policy(form=None, rule_form=None, status: int = 200):
    policy = licenses.load_policy()
    form = form or category_form(dict(policy.by_category))
    rules = service.license_rules()
    return render_template("sbom/license_policy.html", form=form, rule_form=rule_form or LicenseRuleForm(prefix="rule"),
                           rules=rules, delete_form=DeleteRuleForm(), categories=licenses.CATEGORIES,
                           defaults=licenses.DEFAULT_POLICY, field_name=_field_name), status


@bp.route("/admin/license-policy", methods=["GET", "POST"])
def license_policy():
    _require_admin()
    if request.method == "GET":
        return _render_policy()
    form = category_form(dict(licenses.load_policy().by_category))
    if not form.validate_on_submit():
        return _render_policy(form=form, status=400)
    service.set_policy_categories(current_user, {c: getattr(form, _field_name(c)).data for c in licenses.CATEGORIES})
    flash(_("Licence policy saved; every release's licence check was recomputed."))
    return redirect(url_for("sbom.license_policy"))


@bp.post("/admin/license-policy/rules")
def add_license_rule():
    _require_admin()
    form = LicenseRuleForm(prefix="rule")
    if not form.validate_on_submit():
        return _render_policy(rule_form=form, status=400)
    service.set_license_rule(current_user, form.license.data, form.action.data)
    flash(_("Rule for %(license)s saved.", license=form.license.data))
    return redirect(url_for("sbom.license_policy"))


@bp.post("/admin/license-policy/rules/<int:rule_id>/delete")
def delete_license_rule(rule_id: int):
    _require_admin()
    if not DeleteRuleForm().validate_on_submit():
        abort(400)
    subject = service.remove_license_rule(current_user, rule_id)
    flash(_("Rule for %(license)s removed.", license=subject))
    return redirect(url_for("sbom.license_policy"))
