from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from registry.web import CheckboxesField


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Keep me signed in"))


class TwoFactorForm(FlaskForm):
    code = StringField(_l("Authentication code or recovery code"), validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text"})


def _at_least_one(form: FlaskForm, field) -> None:
    # Not DataRequired: its "required" flag would put `required` on every checkbox (all must be ticked).
    if not field.data:
        raise ValidationError(_l("Choose at least one scope."))


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[Optional(), Length(max=100)])
    org = SelectField(_l("Organization"), validators=[DataRequired()])
    # Choices are what the user's role and organisations allow (set by the view).
    scopes = CheckboxesField(_l("Scopes"), validators=[_at_least_one])
    solution = StringField(_l("Only for solution (optional)"), validators=[Optional(), Length(max=64)])
    expires_days = IntegerField(_l("Expires after days (optional)"), validators=[Optional(), NumberRange(min=1, max=3650)])


class SigningKeyForm(FlaskForm):
    name = StringField(_l("Key name"), validators=[Optional(), Length(max=100)])
    public_key = TextAreaField(_l("Ed25519 public key (PEM)"), validators=[DataRequired(), Length(max=4000)])


class ConfirmForm(FlaskForm):
    """An empty form: a POST button that carries only the CSRF token."""
