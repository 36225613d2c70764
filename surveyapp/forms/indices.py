"""The custom-index editor and the band-table form (issue 9).

The editor lists every scale question of the campaign's frozen questionnaire (one item row
each) and a few dimension slots; the rules of a valid tree (an empty dimension, a question
that is not a scale question, a non-positive weight, …) are checked by
``services.custom_indices``, which names the field of each problem.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, FormField, HiddenField, SelectField, StringField
from wtforms import Form as SubForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from .base import Form


class DimensionForm(SubForm):
    label = StringField(_l("Dimension name"))
    weight = StringField(_l("Weight"), default="1")


class ItemForm(SubForm):
    question = HiddenField()
    # choices are filled by the view; the service refuses anything not offered
    dimension = SelectField(_l("Dimension"), choices=[], validate_choice=False)
    weight = StringField(_l("Weight"), default="1")
    scoring = SelectField(_l("Scoring"), choices=[], validate_choice=False)


class CustomIndexForm(Form):
    name = StringField(_l("Name of the index"),
                       validators=[Length(max=120, message=_l("At most 120 characters."))])
    dimensions = FieldList(FormField(DimensionForm), max_entries=30)
    items = FieldList(FormField(ItemForm), max_entries=1000)
    more = SubmitField(_l("One more dimension"))
    save = SubmitField(_l("Save as a new version"))


class BandTableForm(Form):
    name = StringField(_l("Name of the band table"),
                       validators=[Length(max=120, message=_l("At most 120 characters."))])
    bands = TextAreaField(_l("Bands, the highest first: one per line, \"name = lower "
                             "threshold\"; the last line may be a name alone"))
    reference_max = StringField(_l("Maximum the thresholds are written for (optional)"))
    scale_to_measured = BooleanField(_l("Scale the thresholds to the maximum measured"))
