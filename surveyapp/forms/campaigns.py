"""Survey campaign forms."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ._validators import input_required, length, no_markup, number_range, optional, required
from .base import Form


def _coerce_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(Form):
    organisation_id = SelectField(_l("Organisation"), coerce=_coerce_int, validators=[required()])
    title = StringField(_l("Title"), validators=[required(), length(200, min=3), no_markup])
    year = IntegerField(_l("Survey year"), validators=[input_required(), number_range(2000, 2100)])
    fieldwork_start = DateField(_l("Fieldwork starts"), validators=[optional()])
    fieldwork_end = DateField(_l("Fieldwork ends"), validators=[optional()])
    description = TextAreaField(_l("Description"), validators=[optional(), length(5000), no_markup])
    agencies = MultiCheckboxField(_l("Target agencies"), coerce=int)
    procedures = MultiCheckboxField(_l("Target procedures"), coerce=int)
    submit = SubmitField(_l("Save"))


class TransitionForm(Form):
    target = HiddenField(validators=[required()])
    submit = SubmitField(_l("Change status"))
