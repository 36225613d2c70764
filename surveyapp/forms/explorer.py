"""The explorer's, cross-tab's and key-driver page's query forms (GET forms that change
nothing, hence no CSRF token); the views fill the choices from the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from ..models.codes import SCORECARD_RULE_LABELS
from .base import Form
from .sampling_plans import CommaFloatField, _range


class _QueryForm(Form):
    class Meta:
        csrf = False  # a GET form that changes nothing

    run = SelectField(_l("Weighting run"), choices=[], coerce=int, validators=[Optional()],
                      validate_choice=True)
    confidence_level = CommaFloatField(_l("Confidence level"), default=0.95,
                                       # DataRequired: a value left out of the query
                                       # string keeps its default, an empty one is refused
                                       validators=[DataRequired(_l("Enter the confidence "
                                                                   "level.")),
                                                   _range(0.5, 0.999)])


class _RulesForm(_QueryForm):
    min_n = IntegerField(_l("Minimum cell size (smaller cells are suppressed)"), default=10,
                         validators=[DataRequired(_l("Enter the minimum cell size.")),
                                     NumberRange(min=3, max=10_000,
                                                 message=_l("A whole number from 3 to 10000."))])
    rule = SelectField(_l("Reliability rule"), default="auto",
                       choices=[SelectChoice(k, v) for k, v in SCORECARD_RULE_LABELS.items()])


class ExploreForm(_RulesForm):
    indicator = SelectMultipleField(_l("Indicators"), choices=[], validators=[
        InputRequired(_l("Choose at least one indicator."))])
    by = SelectField(_l("Breakdown"), choices=[], default="")
    statistic = SelectField(_l("Statistic"), choices=[], default="auto")


class CrossTabForm(_RulesForm):
    rows = SelectField(_l("Rows"), choices=[], validators=[
        InputRequired(_l("Choose the variable of the rows."))])
    cols = SelectField(_l("Columns"), choices=[], validators=[
        InputRequired(_l("Choose the variable of the columns."))])


class DriversForm(_QueryForm):
    scheme = SelectField(_l("Index (its dimensions are the drivers)"), choices=[],
                         validators=[InputRequired(_l("Choose an index."))])
    outcome = SelectField(_l("Overall question (the outcome)"), choices=[],
                          validators=[InputRequired(_l("Choose the overall question."))])
