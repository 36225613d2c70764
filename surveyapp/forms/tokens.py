"""API token form."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, SubmitField

from ..models.codes import TokenScope
from ._validators import length, no_markup, number_range, optional, required
from .base import Form
from .campaigns import MultiCheckboxField


def _coerce_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _scope_choices():
    return [(s.value, s.value) for s in TokenScope]


class TokenForm(Form):
    name = StringField(_l("Name (what the token is for)"),
                       validators=[required(), length(100), no_markup])
    scopes = MultiCheckboxField(_l("Scopes"), choices=_scope_choices,
                                validators=[required()])
    owner = SelectField(_l("Owner"), coerce=_coerce_int, validators=[optional()])
    valid_days = IntegerField(_l("Valid for (days, empty = no expiry)"),
                              validators=[optional(), number_range(1, 3650)])
    submit = SubmitField(_l("Create token"))
