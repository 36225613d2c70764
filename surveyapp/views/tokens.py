"""API tokens: create (the raw token is shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.policy import current_principal, requires
from ..errors import DomainError
from ..extensions import db
from ..forms.orgs import ConfirmForm
from ..forms.tokens import TokenForm
from ..models import Organisation
from ..models.codes import Role
from ..services import tokens
from ._helpers import actor, load_token, show_domain_error

bp = Blueprint("tokens", __name__, url_prefix="/tokens")


@bp.route("/", methods=["GET", "POST"])
@requires("token.manage")
def index():
    """The person's tokens (and their organisations' ones, for an organisation admin)."""
    p = current_principal()
    admin_orgs = sorted(p.org_ids(Role.ORG_ADMIN))
    owners = [(0, _("Me (%(login)s)", login=current_user.login))] + [
        (org.id, org.name) for org in (db.session.get(Organisation, i) for i in admin_orgs)]
    form = TokenForm()
    form.owner.choices = owners
    raw = None
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.owner.data) if form.owner.data else None
        try:
            _token, raw = tokens.create_token(
                actor(), form.name.data, form.scopes.data,
                user=None if org else current_user, organisation=org,
                valid_days=form.valid_days.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Token created. Copy it now: it will not be shown again."), "success")
            form = TokenForm(formdata=None)
            form.owner.choices = owners
    return render_template("tokens/index.html", form=form, raw_token=raw,
                           tokens=tokens.tokens_for(current_user), confirm_form=ConfirmForm())


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@requires("token.revoke", load_token)
def revoke(token):
    """Revoke a token at once."""
    if ConfirmForm().validate_on_submit():
        try:
            tokens.revoke_token(actor(), token)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Token revoked."), "success")
    return redirect(url_for("tokens.index"))
