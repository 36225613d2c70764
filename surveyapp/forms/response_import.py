"""The form of the bulk import of responses (issue 8)."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import Length

from .base import Form


class ResponseImportForm(Form):
    file = FileField(_l("File (.csv UTF-8 or .xlsx)"),
                     validators=[FileRequired(message=_l("Choose a file."))])
    mapping = TextAreaField(_l("Column mapping (JSON, optional)"),
                            validators=[Length(max=100_000)])
    approve = BooleanField(_l("Approve the imported interviews (already checked by a "
                              "supervisor)"))
    preview = SubmitField(_l("Preview the mapping"))
    submit = SubmitField(_l("Import"))
