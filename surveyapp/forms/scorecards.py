"""The form of a new scorecard run: the weighting run, the index and the reliability options."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FloatField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from ..models.codes import SCORECARD_RULE_LABELS
from .base import Form

RULE_LABELS = SCORECARD_RULE_LABELS


class ScorecardRunForm(Form):
    weight_run = SelectField(_l("Weighting run"), choices=[], coerce=int,
                             validators=[InputRequired(_l("Choose a weighting run."))])
    index_key = SelectField(_l("Index"), choices=[],
                            validators=[InputRequired(_l("Choose an index."))])
    # not required: a form without it grades with the index's default table
    band_table = SelectField(_l("Grades (band table)"), choices=[], default="default",
                             validate_choice=False)
    confidence_level = FloatField(_l("Confidence level"), default=0.95, validators=[
        InputRequired(_l("Enter the confidence level.")),
        NumberRange(min=0.5, max=0.999, message=_l("A number from 0.5 to 0.999."))])
    min_n = IntegerField(_l("Minimum cell size (smaller cells are suppressed)"), default=10,
                         validators=[InputRequired(_l("Enter the minimum cell size.")),
                                     NumberRange(min=1, max=10_000,
                                                 message=_l("A whole number from 1 to 10000."))])
    rule = SelectField(_l("Reliability rule"), choices=[
        SelectChoice(code, label) for code, label in RULE_LABELS.items()],
                       validators=[InputRequired(_l("Choose a reliability rule."))])
    seed = IntegerField(_l("Seed of the rank simulation"), default=20240903, validators=[
        InputRequired(_l("Enter the seed.")),
        NumberRange(min=0, max=2 ** 31 - 1, message=_l("A whole number from 0 to 2147483647."))])
