"""Registry import form."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SubmitField

from ._validators import required
from .base import Form


class ImportForm(Form):
    kind = SelectField(_l("What the file contains"), validators=[required()])
    file = FileField(_l("File (.csv UTF-8 or .xlsx)"),
                     validators=[FileRequired(message=_l("Choose a file."))])
    submit = SubmitField(_l("Import"))
