"""Forms of the field pages: assigning cases, reviewing interviews, resolving conflicts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .base import Form


class AssignForm(Form):
    """Assign or reassign the ticked cases to one interviewer (and optionally a supervisor)."""

    case_ids = SelectMultipleField(_l("Cases"), coerce=int,
                                   validators=[DataRequired(_l("Choose at least one case."))])
    interviewer_id = SelectField(_l("Interviewer"), coerce=int,
                                 validators=[InputRequired(_l("Choose an interviewer."))])
    supervisor_id = SelectField(_l("Supervisor"), coerce=int, validators=[Optional()])


class ReviewForm(Form):
    action = SelectField(_l("Decision"), choices=[
        SelectChoice("approve", _l("Approve")),
        SelectChoice("return", _l("Return to the interviewer")),
        SelectChoice("reject", _l("Reject"))],
                         validators=[InputRequired()])
    comment = TextAreaField(_l("Comment for the interviewer"), validators=[Length(max=2000)])
    seen_version = HiddenField()


class ResolveForm(Form):
    conflict_id = IntegerField(_l("Conflicting submission"), validators=[InputRequired()])
    resolution = SelectField(_l("Resolution"), choices=[
        SelectChoice("keep", _l("Keep the stored version")),
        SelectChoice("accept", _l("Use the other submission as a new version"))],
        validators=[InputRequired()])


class ConfirmForm(Form):
    """A button that changes state: only the CSRF token."""
