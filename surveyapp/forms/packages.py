"""Forms of the submission packages (issue 11): shape only; the services check the rules."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms import Form as PlainForm

from ._validators import input_required, length, no_markup, number_range, optional, required
from .base import Form
from .campaigns import _coerce_int

TEXT_MAX = 20_000


class NewPackageForm(Form):
    organisation_id = SelectField(_l("Organisation"), coerce=_coerce_int, validators=[required()])
    year = IntegerField(_l("Year"), validators=[input_required(), number_range(2000, 2100)])
    title = StringField(_l("Title"), validators=[required(), length(200, min=3), no_markup])
    submit = SubmitField(_l("Create the package"))


class TextsForm(Form):
    title = StringField(_l("Title"), validators=[required(), length(200, min=3), no_markup])
    findings = TextAreaField(_l("Findings (overall)"), validators=[optional(),
                                                                     length(TEXT_MAX), no_markup])
    recommendations = TextAreaField(_l("Recommendations (overall)"),
                                    validators=[optional(), length(TEXT_MAX), no_markup])
    submit = SubmitField(_l("Save"))


class SurveyForm(Form):
    campaign_id = HiddenField(validators=[required()])
    scorecard_run_id = SelectField(_l("Scorecard run"), coerce=_coerce_int,
                                   validators=[required()])
    submit = SubmitField(_l("Include"))


class RemoveSurveyForm(Form):
    campaign_id = HiddenField(validators=[required()])
    submit = SubmitField(_l("Remove"))


class AgencyTextForm(PlainForm):
    """One agency's texts (a sub-form: the CSRF token is the outer form's)."""

    code = HiddenField()
    findings = TextAreaField(_l("Findings"), validators=[optional(), length(TEXT_MAX), no_markup])
    recommendations = TextAreaField(_l("Recommendations"),
                                    validators=[optional(), length(TEXT_MAX), no_markup])


class AgencyFindingsForm(Form):
    agencies = FieldList(FormField(AgencyTextForm), max_entries=2000)
    submit = SubmitField(_l("Save"))


class StepForm(Form):
    """A workflow step: a button, and a comment (required when the office returns it)."""

    comment = TextAreaField(_l("Comment"), validators=[optional(), length(5000), no_markup])
    submit = SubmitField(_l("Confirm"))


class DeadlineForm(Form):
    year = IntegerField(_l("Year"), validators=[input_required(), number_range(2000, 2100)])
    due_on = DateField(_l("Due on"), validators=[input_required()])
    note = StringField(_l("Note"), validators=[optional(), length(500)])
    submit = SubmitField(_l("Save"))
