"""Sign-in form."""

from flask_babel import lazy_gettext as _l
from .base import Form
from wtforms import PasswordField, StringField, SubmitField

from ._validators import length, required


class LoginForm(Form):
    login = StringField(_l("Login"), validators=[required(), length(64)])
    password = PasswordField(_l("Password"), validators=[required(), length(256)])
    submit = SubmitField(_l("Sign in"))
