"""The export form: which file format the analysis extract is written in, and whether the
free-text answers go in."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from .base import Form

FORMAT_CHOICES = [SelectChoice("sav", "SPSS (.sav)"), SelectChoice("dta", "Stata (.dta)"),
                  SelectChoice("xlsx", "Excel (.xlsx)"), SelectChoice("csv", "CSV (.zip)")]


class ExportForm(Form):
    # The service checks the value (one message for the page and the job alike).
    format = SelectField(_l("File format"), choices=FORMAT_CHOICES, validate_choice=False)
    # Off by default: respondents may write names, addresses or phone numbers into them.
    free_text = BooleanField(_l("Include free-text answers"), default=False)
