"""Questionnaire builder forms: settings, sections, questions, choice lists, choices, upload."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FloatField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import ValidationError

from ..expressions import is_valid_name
from ._validators import CONTROL, length, no_markup, optional, required
from .base import Form

TEXT_MAX = 1000
EXPRESSION_MAX = 2000
METADATA_MAX = 5000


def machine_name(form, field):
    if field.data and not is_valid_name(field.data.strip()):
        raise ValidationError(_l("Start with a letter or “_”, then letters a-z, digits, “_”, "
                                 "“.” or “-” (at most 64)."))


def readable(form, field):
    """Expressions may contain < and >, so only unreadable characters are refused here; the
    expression parser checks the rest."""
    if isinstance(field.data, str) and CONTROL.search(field.data):
        raise ValidationError(_l("The text contains characters that cannot be read (the browser "
                                 "or file did not send UTF-8)."))


def json_object(form, field):
    text = (field.data or "").strip()
    if not text:
        field.parsed = {}
        return
    try:
        value = json.loads(text)
    except ValueError:
        raise ValidationError(_l("Not valid JSON, e.g. {\"points\": 2}.")) from None
    if not isinstance(value, dict):
        raise ValidationError(_l("Must be a JSON object, e.g. {\"points\": 2}."))
    field.parsed = value


def _name():
    return StringField(_l("Machine name"), validators=[required(), length(64), machine_name])


def _label(text, needed=False):
    checks = [required()] if needed else [optional()]
    return StringField(text, validators=[*checks, length(TEXT_MAX), no_markup])


def _expression(text):
    return StringField(text, validators=[optional(), length(EXPRESSION_MAX), readable])


class SettingsForm(Form):
    name = _name()
    title_vi = _label(_l("Title (Vietnamese)"), needed=True)
    title_en = _label(_l("Title (English)"))
    submit = SubmitField(_l("Save"))


class SectionForm(Form):
    name = _name()
    label_vi = _label(_l("Heading (Vietnamese)"), needed=True)
    label_en = _label(_l("Heading (English)"))
    relevant = _expression(_l("Shown when (relevance)"))
    submit = SubmitField(_l("Save"))


class QuestionForm(Form):
    section = SelectField(_l("Section"), validators=[optional()])
    name = _name()
    type = SelectField(_l("Type"), validators=[required()])
    label_vi = _label(_l("Question (Vietnamese)"))
    label_en = _label(_l("Question (English)"))
    hint_vi = _label(_l("Hint (Vietnamese)"))
    hint_en = _label(_l("Hint (English)"))
    required = BooleanField(_l("An answer is required"))
    relevant = _expression(_l("Shown when (relevance)"))
    constraint = _expression(_l("Constraint (“.” is the answer)"))
    constraint_message_vi = _label(_l("Constraint message (Vietnamese)"))
    constraint_message_en = _label(_l("Constraint message (English)"))
    calculation = _expression(_l("Calculation"))
    list_name = SelectField(_l("Choice list"), validators=[optional()])
    minimum = FloatField(_l("Minimum"), validators=[optional()])
    maximum = FloatField(_l("Maximum"), validators=[optional()])
    allow_na = BooleanField(_l("Accepts “not applicable” (na)"))
    allow_dk = BooleanField(_l("Accepts “don't know” (dk)"))
    metadata = TextAreaField(_l("Metadata (JSON object, e.g. Circular 01 points)"),
                             validators=[optional(), length(METADATA_MAX), readable, json_object])
    submit = SubmitField(_l("Save"))


class ChoiceListForm(Form):
    name = _name()
    submit = SubmitField(_l("Save"))


class ChoiceForm(Form):
    code = StringField(_l("Code"), validators=[required(), length(64), no_markup])
    label_vi = _label(_l("Label (Vietnamese)"), needed=True)
    label_en = _label(_l("Label (English)"))
    metadata = TextAreaField(_l("Metadata (JSON object, e.g. Circular 01 points)"),
                             validators=[optional(), length(METADATA_MAX), readable, json_object])
    submit = SubmitField(_l("Save"))


class ImportForm(Form):
    file = FileField(_l("XLSForm workbook (.xlsx)"),
                     validators=[FileRequired(message=_l("Choose a file."))])
    submit = SubmitField(_l("Import"))


class CopyForm(Form):
    source = SelectField(_l("Version to copy"), coerce=int, validators=[required()])
    submit = SubmitField(_l("Copy into a new draft"))


class ActionForm(Form):
    """A button that posts (CSRF only); ``direction`` for moves."""

    direction = HiddenField()
    submit = SubmitField(_l("OK"))
