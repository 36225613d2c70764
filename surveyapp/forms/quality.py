"""Forms of the quality-control pages: drawing back-checks and recording their outcomes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FloatField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..models.codes import BACK_CHECK_OUTCOME_LABELS
from .base import Form


class BackCheckDrawForm(Form):
    share = FloatField(_l("Share of completed interviews (%)"), default=10,
                       validators=[InputRequired(_l("Enter a share between 0.1 and 100.")),
                                   NumberRange(min=0.1, max=100,
                                               message=_l("Between 0.1 and 100."))])
    seed = IntegerField(_l("Seed (empty: chosen at random and stored)"),
                        validators=[Optional(), NumberRange(min=0, max=2**31 - 1,
                                                            message=_l("A whole number."))])


class BackCheckOutcomeForm(Form):
    outcome = SelectField(_l("Outcome"), choices=[
        SelectChoice(code.value, label) for code, label in BACK_CHECK_OUTCOME_LABELS.items()],
        validators=[InputRequired(_l("Choose the outcome of the back-check."))])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
