from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from registry.sbom.licenses import ACTIONS, CATEGORIES

_ACTION_CHOICES = list(ACTIONS)


class CategoryPolicyForm(FlaskForm):
    """One action per licence category; built with a field per category in views.py."""


def category_form(defaults: dict[str, str]) -> CategoryPolicyForm:
    class _Form(CategoryPolicyForm):
        pass

    for name in CATEGORIES:
        choices = _ACTION_CHOICES + (["review"] if name == "unknown" else [])
        setattr(_Form, f"cat_{name.replace('-', '_')}", SelectField(name, choices=choices, default=defaults[name]))
    return _Form(prefix="categories")


class LicenseRuleForm(FlaskForm):
    license = StringField(_l("SPDX licence id"), validators=[DataRequired(), Length(max=100)])
    action = SelectField(_l("Action"), choices=_ACTION_CHOICES, validators=[DataRequired()])

    def validate_license(self, field):
        from registry.sbom.licenses import normalize_entry

        normalized = normalize_entry({"id": field.data.strip()})
        if normalized is None or " " in normalized:
            raise ValidationError(_l("Give one SPDX licence id, e.g. GPL-3.0-only."))
        field.data = normalized


class DeleteRuleForm(FlaskForm):
    """A POST button carrying only the CSRF token."""
