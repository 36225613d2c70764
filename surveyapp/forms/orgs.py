"""Organisation, user and membership forms."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField

from ..models.codes import ROLE_LABELS
from ._validators import email_address, length, login_chars, no_markup, optional, required
from .base import Form


def _coerce_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class OrganisationForm(Form):
    name = StringField(_l("Name"), validators=[required(), length(200), no_markup])
    short_name = StringField(_l("Short name"), validators=[optional(), length(60), no_markup])
    type_id = SelectField(_l("Type"), coerce=_coerce_int, validators=[required()])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


def role_choices():
    return [(role.value, label) for role, label in ROLE_LABELS.items()]


class NewUserForm(Form):
    login = StringField(_l("Login"), validators=[required(), length(64, min=3), login_chars])
    full_name = StringField(_l("Full name"), validators=[required(), length(200), no_markup])
    email = EmailField(_l("E-mail"), validators=[optional(), length(200),
                                                 email_address])
    password = PasswordField(_l("Initial password"), validators=[required(), length(256, min=10)])
    role = SelectField(_l("Role"), choices=role_choices, validators=[required()])
    submit = SubmitField(_l("Create user"))


class AddMemberForm(Form):
    login = StringField(_l("Login of an existing user"),
                        validators=[required(), length(64), login_chars])
    role = SelectField(_l("Role"), choices=role_choices, validators=[required()])
    submit = SubmitField(_l("Add role"))


class ConfirmForm(Form):
    """An empty form: a button with its CSRF token (removals, revocations, transitions)."""

    submit = SubmitField(_l("Confirm"))
