"""Sign-in form."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo

from ._validators import length, required
from .base import Form


class LoginForm(Form):
    login = StringField(_l("Login"), validators=[required(), length(64)])
    password = PasswordField(_l("Password"), validators=[required(), length(256)])
    submit = SubmitField(_l("Sign in"))


class PasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[required(), length(256)])
    new_password = PasswordField(_l("New password"), validators=[required(), length(256, min=10)])
    confirm = PasswordField(_l("New password again"), validators=[
        required(), EqualTo("new_password", message=_l("The two new passwords differ."))])
    submit = SubmitField(_l("Change password"))
