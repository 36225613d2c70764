"""Flask-Login wiring: users from the session cookie, API tokens from the Authorization header."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import lazy_gettext as _l

from ..extensions import db, login_manager
from ..models import User
from ..security import bearer_request
from . import passwords


class TokenClient:
    """``current_user`` of a request authenticated by an API token.

    Carries what services read of an actor (id, login, name) from the token's identity
    without loading the user; anything else (a user token's memberships, say) loads the
    user on first use. An organisation-only token has no user: id None, no memberships.
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, identity):
        self.token = identity
        self.id = identity.user_id
        if identity.user_id is None:
            self.login = f"token:{identity.prefix}"
            self.full_name = identity.name
            self.memberships = []
        else:
            self.login = identity.user_login
            self.full_name = identity.user_full_name

    def __getattr__(self, name: str):
        # Only reached for attributes not set above, i.e. on a user token.
        if name.startswith("__") or self.__dict__.get("id") is None:
            raise AttributeError(name)
        user = self.__dict__.get("_user")
        if user is None:
            user = self.__dict__["_user"] = db.session.get(User, self.id)
        return getattr(user, name)

    def get_id(self) -> str:
        return ""


def init_app(app: Flask) -> None:
    passwords.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str):
    if bearer_request():  # a token request is judged by its token alone
        return None
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


@login_manager.request_loader
def load_user_from_token(req):
    """Bearer tokens are accepted on /api/ routes only (pages need a signed-in session)."""
    from ..services.tokens import authenticate_token

    if not bearer_request():
        return None
    token = authenticate_token(req.headers["Authorization"][7:].strip())
    if token is None:
        return None
    g.api_token = token
    return TokenClient(token)
