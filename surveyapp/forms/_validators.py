"""Validators with messages in the user's language (WTForms ships no Vietnamese catalogue)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

TAG = re.compile(r"<\s*[a-zA-Z/!?]")


def required():
    return DataRequired(message=_l("This field is required."))


def input_required():
    return InputRequired(message=_l("This field is required."))


def length(max: int, min: int = -1):  # noqa: A002  (WTForms' own argument names)
    if min > 0:
        return Length(min=min, max=max, message=_l("Between %(min)d and %(max)d characters.",
                                                   min=min, max=max))
    return Length(max=max, message=_l("At most %(max)d characters.", max=max))


def number_range(min: int, max: int):  # noqa: A002
    return NumberRange(min=min, max=max, message=_l("A number from %(min)s to %(max)s.",
                                                    min=min, max=max))


def optional():
    return Optional()


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def no_markup(form, field):
    """Plain text only: no HTML tags, no control characters, no undecodable bytes."""
    if not isinstance(field.data, str):
        return
    if CONTROL.search(field.data):
        raise ValidationError(_l("The text contains characters that cannot be read (the browser "
                                 "or file did not send UTF-8)."))
    if TAG.search(field.data):
        raise ValidationError(_l("HTML tags are not allowed here."))


LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def login_chars(form, field):
    if field.data and not LOGIN_PATTERN.match(field.data.strip().lower()):
        raise ValidationError(_l("Use only letters a-z, digits, dot, dash and underscore."))


EMAIL_PATTERN = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def email_address(form, field):
    if field.data and not EMAIL_PATTERN.match(field.data.strip()):
        raise ValidationError(_l("Not a valid e-mail address."))
