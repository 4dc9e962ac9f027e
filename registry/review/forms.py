"""Forms of the review pages. Every one carries a CSRF token (Flask-WTF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, Optional

from registry.review.service import MAX_COMMENT


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), validators=[DataRequired()], choices=[
        ("approve", _l("Approve and publish")),
        ("request_changes", _l("Request changes")),
        ("reject", _l("Reject")),
    ])
    reasons = CheckboxListField(_l("Reasons"), coerce=int, validators=[Optional()])
    comment = TextAreaField(_l("Comment to the publisher"), validators=[Optional(), Length(max=MAX_COMMENT)])


class ReasonForm(FlaskForm):
    text_ko = StringField(_l("Korean text"), validators=[DataRequired(), Length(max=500)])
    text_en = StringField(_l("English text"), validators=[DataRequired(), Length(max=500)])
    active = BooleanField(_l("Offered to reviewers"), default=True)
