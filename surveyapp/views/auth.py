"""Signing in and out, and the language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..auth.policy import public, requires
from ..errors import DomainError
from ..forms.auth import LoginForm, PasswordForm
from ..forms.orgs import ConfirmForm
from ..services import accounts
from ._helpers import safe_next, show_domain_error

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.login.data, form.password.data,
                                         current_app.config["LOGIN_MAX_FAILURES"],
                                         current_app.config["LOGIN_LOCK_SECONDS"])
        except accounts.LoginRefused as exc:
            show_domain_error(form, exc)
            return render_template("auth/login.html", form=form), 401
        lang = session.get("lang")
        session.clear()  # a fresh session on sign-in (no fixation)
        if lang:
            session["lang"] = lang
        login_user(user)
        return redirect(safe_next(request.args.get("next")) or url_for("main.dashboard"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    """Sign out (a POST with the CSRF token, so other sites cannot sign users out)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        lang = session.get("lang")
        logout_user()
        session.clear()
        if lang:
            session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
@public
def set_language(code: str):
    """Switch the interface language (Vietnamese or English)."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("main.dashboard"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires("dashboard.view")
def change_password():
    """Change one's own password."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data,
                                     form.new_password.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Your password was changed."), "success")
            return redirect(url_for("main.dashboard"))
    return render_template("auth/password.html", form=form)
