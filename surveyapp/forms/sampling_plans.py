"""Sampling-plan forms: new plan, frame upload, column mapping and design, calculator."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import FloatField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import NumberRange

from ._validators import input_required, length, no_markup, number_range, optional, required
from .base import Form
from .campaigns import MultiCheckboxField

MAX_SEED = 2**63 - 1


class CommaFloatField(FloatField):
    """A number that may be typed with a decimal comma, as Vietnamese users write it (0,95)."""

    def process_formdata(self, valuelist):
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].strip().replace(",", "."), *valuelist[1:]]
        super().process_formdata(valuelist)


def _range(low: float, high: float):
    return NumberRange(min=low, max=high, message=_l("A number from %(min)s to %(max)s.",
                                                     min=low, max=high))


class PlanForm(Form):
    title = StringField(_l("Title"), validators=[required(), length(200, min=3), no_markup])
    submit = SubmitField(_l("Create the plan"))


class FrameForm(Form):
    file = FileField(_l("Sampling frame (.csv UTF-8 or .xlsx)"),
                     validators=[FileRequired(message=_l("Choose a file."))])
    submit = SubmitField(_l("Upload and check"))


class DesignForm(Form):
    # Column mapping (choices are the frame's columns, filled by the view).
    id_column = SelectField(_l("ID column (one row per unit)"), validators=[required()])
    label_columns = MultiCheckboxField(_l("Columns to show on work lists (name, address…)"))
    stratum_column = SelectField(_l("Stratification column (e.g. agency)"),
                                 validators=[optional()])
    size_column = SelectField(_l("Size measure (for PPS)"), validators=[optional()])
    psu_column = SelectField(_l("First-stage unit column (two-stage designs)"),
                             validators=[optional()])
    # Design.
    psu_method = SelectField(_l("Selection of first-stage units"), validators=[optional()])
    n_per_psu = IntegerField(_l("Units per selected first-stage unit"),
                             validators=[optional(), number_range(1, 100_000)])
    method = SelectField(_l("Selection method"), validators=[required()])
    sort_column = SelectField(_l("Sort order for systematic selection (optional)"),
                              validators=[optional()])
    allocation_method = SelectField(_l("Allocation across strata"), validators=[required()])
    sd_column = SelectField(_l("Standard deviation per stratum (Neyman, optimal)"),
                            validators=[optional()])
    cost_column = SelectField(_l("Cost of an interview per stratum (optimal)"),
                              validators=[optional()])
    power_exponent = CommaFloatField(_l("Power-allocation exponent (0 = equal, 1 = proportional)"),
                                default=0.5, validators=[optional(), _range(0, 1)])
    minimum = IntegerField(_l("Minimum per stratum"), default=0,
                           validators=[optional(), number_range(0, 1_000_000)])
    maximum = IntegerField(_l("Maximum per stratum"),
                           validators=[optional(), number_range(1, 10_000_000)])
    n = IntegerField(_l("Sample size n (units, or first-stage units in a two-stage design)"),
                     validators=[input_required(), number_range(1, 10_000_000)])
    reserve = IntegerField(_l("Reserves per stratum (or per first-stage unit)"), default=0,
                           validators=[optional(), number_range(0, 100_000)])
    seed = IntegerField(_l("Random seed (empty: chosen at random and recorded)"),
                        validators=[optional(), number_range(0, MAX_SEED)])
    submit = SubmitField(_l("Save the design"))


class CalculatorForm(Form):
    class Meta:
        csrf = False  # a GET form that changes nothing

    confidence_level = CommaFloatField(_l("Confidence level"), default=0.95,
                                  validators=[input_required(), _range(0.5, 0.999)])
    p = CommaFloatField(_l("Expected proportion"), default=0.5,
                   validators=[input_required(), _range(0.01, 0.99)])
    deff = CommaFloatField(_l("Design effect"), default=1.0,
                      validators=[input_required(), _range(0.1, 100)])
    response_rate = CommaFloatField(_l("Expected response rate"), default=1.0,
                               validators=[input_required(), _range(0.01, 1)])
    target_moe = CommaFloatField(_l("Target margin of error (optional, e.g. 0.05)"),
                            validators=[optional(), _range(0.001, 0.5)])
    submit = SubmitField(_l("Calculate"))


class ActionForm(Form):
    """A button that changes state (CSRF only)."""

    submit = SubmitField(_l("Confirm"))
