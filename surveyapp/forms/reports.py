"""The form that asks for a new annual report: the scorecard run it is built from."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import InputRequired

from .base import Form


class ReportForm(Form):
    scorecard_run = SelectField(_l("Scorecard run"), choices=[], coerce=int,
                                validators=[InputRequired(_l("Choose a scorecard run."))])
