"""Web forms of the catalog: adoption, following a solution, the data-hub profile, the alert webhook,
a solution's lifecycle."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from registry.catalog.models import AdoptionStage
from registry.releases.states import MAX_REASON
from registry.spec.vocabulary import ACCESS_MODES
from registry.web import CheckboxesField


def stage_choices() -> list[tuple[str, str]]:
    labels = {AdoptionStage.PILOTING: _l("Piloting"), AdoptionStage.PRODUCTION: _l("In production"),
              AdoptionStage.RETIRED: _l("Retired")}
    return [(stage.value, labels[stage]) for stage in AdoptionStage]


def access_choices() -> list[tuple[str, str]]:
    labels = {"read": _l("Read entities"), "write": _l("Write entities"), "subscribe": _l("Subscriptions"),
              "temporal": _l("Temporal (history) queries")}
    return [(mode, labels[mode]) for mode in ACCESS_MODES]


class AdoptionForm(FlaskForm):
    org = SelectField(_l("Municipality"), validators=[DataRequired()])
    version = SelectField(_l("Version deployed"), validators=[DataRequired()])
    stage = SelectField(_l("Stage"), choices=stage_choices(), validators=[DataRequired()])
    deployed_on = DateField(_l("Deployed on"), validators=[DataRequired()])


class SubscriptionForm(FlaskForm):
    """A follow / unfollow button carrying only the CSRF token."""


class ProfileForm(FlaskForm):
    spec_version = StringField(_l("NGSI-LD spec version of the data hub"), validators=[Optional(), Length(max=32)])
    access = CheckboxesField(_l("Operations the data hub allows"), choices=access_choices(),
                             default=["read", "write", "subscribe"])
    document = FileField(_l("Upload a broker answer or data-model list (JSON)"))
    pasted = TextAreaField(_l("… or paste that JSON here"), validators=[Optional(), Length(max=2 * 1024 * 1024)])
    text = TextAreaField(_l("… or list the entity types, one per line (Type: attribute, attribute)"),
                         validators=[Optional(), Length(max=200_000)])


class WebhookForm(FlaskForm):
    url = StringField(_l("Webhook URL (empty: no webhook)"), validators=[Optional(), Length(max=500)])
    new_secret = BooleanField(_l("Make a new signing secret (the current one stops working)"))


def state_actions() -> dict[str, str]:
    """What moving a solution to each state is called on its form."""
    return {"deprecated": _l("Deprecate: advise the cities running it to move on"),
            "archived": _l("Archive: it takes no new releases"), "active": _l("Reactivate")}


class SolutionStateForm(FlaskForm):
    """Deprecate, archive or reactivate a solution; shown again to confirm before anything is changed.

    Choices are left to the service to judge, so that a refusal is its sentence, on the field it names."""

    state = SelectField(_l("New state"), validators=[DataRequired()], validate_choice=False)
    successor = SelectField(_l("Successor: where the cities running it should move"), validate_choice=False)
    reason = StringField(_l("Reason, told to the cities running it"), render_kw={"maxlength": MAX_REASON})
    confirmed = HiddenField()
