"""Organisations, their people and roles (organisation admins manage their own)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ..auth.policy import can, current_principal, requires
from ..errors import DomainError
from ..forms.orgs import AddMemberForm, ConfirmForm, NewUserForm, OrganisationForm
from ..models.codes import ROLE_LABELS, Role
from ..services import accounts, organisations
from ._helpers import actor, load_membership, load_org, show_domain_error

bp = Blueprint("orgs", __name__, url_prefix="/orgs")


def _type_choices():
    return [(t.id, t.name_vi if str(get_locale()) == "vi" else t.name_en)
            for t in organisations.organisation_types()]


@bp.route("/")
@requires("org.list")
def index():
    """Organisations the person belongs to (all, for a system administrator)."""
    return render_template("orgs/index.html",
                           organisations=organisations.list_organisations(current_principal()),
                           can_create=can("org.create"))


@bp.route("/new", methods=["GET", "POST"])
@requires("org.create")
def create():
    """Create an organisation."""
    form = OrganisationForm()
    form.type_id.choices = _type_choices()
    if form.validate_on_submit():
        try:
            org = organisations.create_organisation(actor(), form.name.data, form.short_name.data,
                                                    form.type_id.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Organisation created."), "success")
            return redirect(url_for("orgs.detail", org_id=org.id))
    return render_template("orgs/form.html", form=form, org=None)


@bp.route("/<int:org_id>")
@requires("org.view", load_org)
def detail(org):
    """An organisation and its people."""
    return render_template("orgs/detail.html", org=org, members=accounts.members(org),
                           role_labels=ROLE_LABELS, can_manage=can("org.manage_members", org),
                           can_edit=can("org.edit", org), confirm_form=ConfirmForm())


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@requires("org.edit", load_org)
def edit(org):
    """Edit an organisation's name, type, status."""
    form = OrganisationForm(obj=org)
    form.type_id.choices = _type_choices()
    if form.validate_on_submit():
        try:
            organisations.update_organisation(actor(), org, form.name.data, form.short_name.data,
                                              form.type_id.data, form.active.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("orgs.detail", org_id=org.id))
    return render_template("orgs/form.html", form=form, org=org)


@bp.route("/<int:org_id>/users/new", methods=["GET", "POST"])
@requires("org.manage_members", load_org)
def new_user(org):
    """Create a person with a role in this organisation."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            accounts.create_user(actor(), org, form.login.data, form.full_name.data,
                                 form.password.data, Role(form.role.data), form.email.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("User created."), "success")
            return redirect(url_for("orgs.detail", org_id=org.id))
    return render_template("orgs/new_user.html", form=form, org=org)


@bp.route("/<int:org_id>/members/add", methods=["GET", "POST"])
@requires("org.manage_members", load_org)
def add_member(org):
    """Give an existing person (maybe of another organisation) a role here."""
    form = AddMemberForm()
    if form.validate_on_submit():
        try:
            accounts.add_membership(actor(), org, form.login.data, Role(form.role.data))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Role added."), "success")
            return redirect(url_for("orgs.detail", org_id=org.id))
    return render_template("orgs/add_member.html", form=form, org=org)


@bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@requires("membership.remove", load_membership)
def remove_member(membership):
    """Take a role away."""
    org_id = membership.organisation_id
    if ConfirmForm().validate_on_submit():
        try:
            accounts.remove_membership(actor(), membership)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Role removed."), "success")
    return redirect(url_for("orgs.detail", org_id=org_id))
