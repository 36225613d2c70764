"""The form of a new weighting run: classes, calibration, totals, bounds, trimming."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import FloatField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..models.codes import WEIGHT_METHOD_LABELS
from .base import Form

METHOD_LABELS = WEIGHT_METHOD_LABELS


def _bound(label):
    return FloatField(label, validators=[Optional(), NumberRange(
        min=0, max=1000, message=_l("A number between 0 and 1000."))])


class WeightRunForm(Form):
    classes = SelectField(_l("Non-response classes"), choices=[],
                          validators=[InputRequired(_l("Choose the non-response classes."))])
    method = SelectField(_l("Calibration"), choices=[
        SelectChoice(code, label) for code, label in METHOD_LABELS.items()],
                         validators=[InputRequired(_l("Choose a calibration method."))])
    totals = TextAreaField(_l("Population totals (one line per level: variable, level, total)"),
                           validators=[Length(max=100_000)])
    totals_file = FileField(_l("…or a totals file (CSV with variable, level, total, or JSON)"))
    bounds_low = _bound(_l("Lower bound of g"))
    bounds_high = _bound(_l("Upper bound of g"))
    trim_low = _bound(_l("Trim g below"))
    trim_high = _bound(_l("Trim g above"))
    unknown_eligible_share = FloatField(
        _l("Eligible share of cases of unknown eligibility (e)"), default=1.0,
        validators=[InputRequired(_l("Enter a share between 0 and 1.")),
                    NumberRange(min=0, max=1, message=_l("Between 0 and 1."))])
