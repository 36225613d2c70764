"""The export form: which file format the analysis extract is written in."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from .base import Form

FORMAT_CHOICES = [SelectChoice("sav", "SPSS (.sav)"), SelectChoice("dta", "Stata (.dta)"),
                  SelectChoice("xlsx", "Excel (.xlsx)"), SelectChoice("csv", "CSV (.zip)")]


class ExportForm(Form):
    # The service checks the value (one message for the page and the job alike).
    format = SelectField(_l("File format"), choices=FORMAT_CHOICES, validate_choice=False)
