"""Audit log filter form (GET, so no CSRF token)."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField

from ..models.codes import AuditAction
from ._validators import length, no_markup, optional
from .base import Form


def _action_choices():
    return [("", "—")] + [(a.value, a.value) for a in AuditAction]


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    object_type = SelectField(_l("Object"), validators=[optional()])
    action = SelectField(_l("Action"), choices=_action_choices,
                         validators=[optional()])
    actor = StringField(_l("User (login)"), validators=[optional(), length(64), no_markup])
    date_from = DateField(_l("From"), validators=[optional()])
    date_to = DateField(_l("To"), validators=[optional()])
