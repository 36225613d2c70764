"""Submission packages (issue 11): list, create, edit a draft, the workflow's steps, the
frozen snapshot, its check and the reports generated from it."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.policy import can, current_principal, requires
from ..errors import DomainError
from ..extensions import db
from ..forms.packages import (
    AgencyFindingsForm,
    NewPackageForm,
    RemoveSurveyForm,
    StepForm,
    SurveyForm,
    TextsForm,
)
from ..models import Organisation, PackageVersion
from ..models.codes import PACKAGE_STATUS_LABELS, PackageStatus
from ..services import organisations, package_workflow, submissions
from ._helpers import actor, show_domain_error

bp = Blueprint("packages", __name__, url_prefix="/packages")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def load_version(package_version_id: int, **_other) -> PackageVersion:
    return db.get_or_404(PackageVersion, package_version_id)


def _to_detail(version: PackageVersion):
    return redirect(url_for("packages.detail", package_version_id=version.id))


@bp.route("/")
@requires("package.list")
def index():
    """The package versions the person may read."""
    return render_template("packages/index.html",
                           versions=submissions.list_versions(current_principal()),
                           status_labels=PACKAGE_STATUS_LABELS,
                           can_create=can("package.create"),
                           can_deadlines=can("package.deadlines"))


@bp.route("/new", methods=["GET", "POST"])
@requires("package.create")
def create():
    """Start the package of one of the person's organisations for a year."""
    p = current_principal()
    form = NewPackageForm()
    form.organisation_id.choices = [(o.id, o.name) for o in organisations.list_organisations(p)
                                    if can("package.create", o, p)]
    if not form.is_submitted():
        form.year.data = date.today().year
    if form.validate_on_submit():
        org = db.get_or_404(Organisation, form.organisation_id.data)
        if not can("package.create", org):
            abort(403)
        try:
            version = submissions.create_package(actor(), org, form.year.data, form.title.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("The package is created as a draft."), "success")
            return _to_detail(version)
    return render_template("packages/new.html", form=form), 400 if form.errors else 200


@bp.route("/<int:package_version_id>")
@requires("package.view", load_version)
def detail(version):
    """A version: status, deadline, surveys, findings, history, digest, next steps."""
    page = submissions.detail_page(version, date.today())
    endpoints = {action: endpoint for _u, endpoint, _t, action in STEP_ROUTES}
    steps = [(target, endpoints[action]) for target, action in page.pop("steps")
             if can(action, version)]
    # Only the versions this person may read are named (the office never sees a draft).
    page["chain"] = [v for v in page["chain"] if can("package.view", v)]
    if page["amended_by"] is not None and not can("package.view", page["amended_by"]):
        page["amended_by"] = None
    return render_template("packages/detail.html", **page, steps=steps, step_form=StepForm(),
                           status_labels=PACKAGE_STATUS_LABELS, statuses=PackageStatus,
                           can_edit=can("package.edit", version)
                           and version.status == PackageStatus.DRAFT,
                           can_amend=can("package.amend", version))


@bp.route("/<int:package_version_id>/edit", methods=["GET", "POST"])
@requires("package.edit", load_version)
def edit(version):
    """The draft's title, overall findings and recommendations, and its surveys."""
    submissions.require_draft(version)
    form = TextsForm(obj=version)
    if form.validate_on_submit():
        try:
            submissions.update_texts(actor(), version, form.title.data, form.findings.data,
                                     form.recommendations.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("packages.edit", package_version_id=version.id))
    choices = submissions.survey_choices(version)
    survey_forms = []
    for choice in choices:
        sf = SurveyForm(formdata=None, campaign_id=choice["campaign"].id,
                        scorecard_run_id=choice["included_run"] or choice["runs"][0].id)
        sf.scorecard_run_id.choices = [(r.id, _("Run %(number)s (%(index)s, %(date)s)",
                                                number=r.number, index=r.index_key,
                                                date=r.created_at.strftime("%d/%m/%Y")))
                                       for r in choice["runs"]]
        survey_forms.append((choice, sf))
    return render_template("packages/edit.html", version=version, form=form,
                           survey_forms=survey_forms, remove_form=RemoveSurveyForm()), \
        400 if form.errors else 200


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.route("/<int:package_version_id>/surveys", methods=["POST"])
@requires("package.edit", load_version)
def add_survey(version):
    """Include a survey with its chosen scorecard run."""
    form = SurveyForm()
    try:
        submissions.add_survey(actor(), version, _int(form.campaign_id.data),
                               _int(form.scorecard_run_id.raw_data[0]
                                    if form.scorecard_run_id.raw_data else None))
    except DomainError as exc:
        flash(exc.message, "danger")
    else:
        flash(_("The survey is in the package."), "success")
    return redirect(url_for("packages.edit", package_version_id=version.id))


@bp.route("/<int:package_version_id>/surveys/remove", methods=["POST"])
@requires("package.edit", load_version)
def remove_survey(version):
    """Leave a survey out of the draft."""
    form = RemoveSurveyForm()
    try:
        submissions.remove_survey(actor(), version, _int(form.campaign_id.data))
    except DomainError as exc:
        flash(exc.message, "danger")
    else:
        flash(_("The survey is no longer in the package."), "success")
    return redirect(url_for("packages.edit", package_version_id=version.id))


@bp.route("/<int:package_version_id>/findings", methods=["GET", "POST"])
@requires("package.edit", load_version)
def findings(version):
    """The findings and recommendations to each agency the surveys report."""
    submissions.require_draft(version)
    agencies = submissions.agencies_of(version)
    names = dict(agencies)
    if request.method == "GET":
        existing = {f.agency_code: f for f in version.agency_findings}
        form = AgencyFindingsForm(formdata=None, data={"agencies": [
            {"code": code, "findings": existing[code].findings if code in existing else "",
             "recommendations": existing[code].recommendations if code in existing else ""}
            for code, _name in agencies]})
    else:
        form = AgencyFindingsForm()
        if form.validate():
            try:
                submissions.set_agency_findings(actor(), version, [
                    submissions.AgencyText(e.code.data or "", e.findings.data or "",
                                           e.recommendations.data or "")
                    for e in form.agencies])
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                flash(_("Saved."), "success")
                return _to_detail(version)
    return render_template("packages/findings.html", version=version, form=form, names=names), \
        400 if form.errors else 200


def _step_view(target: PackageStatus, done_message):
    def view(version):
        form = StepForm()
        if not form.validate():
            flash(_("Please correct the highlighted fields."), "danger")
            return _to_detail(version)
        try:
            package_workflow.transition(actor(), version, target.value, form.comment.data or "")
        except DomainError as exc:
            flash(exc.message, "danger")
            return _to_detail(version)
        flash(_("The package version is now “%(status)s”.", status=done_message), "success")
        return _to_detail(version)

    view.__doc__ = f"The workflow step to “{target.value}”."
    return view


# (url, endpoint, target status, policy action): one POST route per step.
STEP_ROUTES = (
    ("request-review", "request_review", PackageStatus.INTERNAL_REVIEW, "package.request_review"),
    ("reopen", "reopen", PackageStatus.DRAFT, "package.reopen"),
    ("approve", "approve", PackageStatus.APPROVED, "package.approve"),
    ("submit", "submit", PackageStatus.SUBMITTED, "package.submit"),
    ("receive", "receive", PackageStatus.RECEIVED, "package.receive"),
    ("return", "return_package", PackageStatus.RETURNED, "package.return"),
    ("accept", "accept", PackageStatus.ACCEPTED, "package.accept"),
    ("publish", "publish", PackageStatus.PUBLISHED, "package.publish"),
)
for _url, _endpoint, _target, _action in STEP_ROUTES:
    bp.add_url_rule(f"/<int:package_version_id>/{_url}", _endpoint,
                    requires(_action, load_version)(
                        _step_view(_target, PACKAGE_STATUS_LABELS[_target])),
                    methods=["POST"])


@bp.route("/<int:package_version_id>/amend", methods=["POST"])
@requires("package.amend", load_version)
def amend(version):
    """Start a new version (amendment) replacing this returned or published one."""
    try:
        new = submissions.amend(actor(), version)
    except DomainError as exc:
        flash(exc.message, "danger")
        return _to_detail(version)
    flash(_("Version %(number)d is a new draft amending version %(old)d.", number=new.number,
            old=version.number), "success")
    return _to_detail(new)


@bp.route("/<int:package_version_id>/verify")
@requires("package.view", load_version)
def verify(version):
    """Check the stored snapshot against its digest and a recomputation."""
    result = submissions.verify(version)
    return render_template("packages/verify.html", version=version, result=result), \
        200 if result.ok else 409


@bp.route("/<int:package_version_id>/snapshot.json")
@requires("package.view", load_version)
def snapshot(version):
    """The frozen snapshot as its RFC 8785 canonical bytes (what the digest is of)."""
    data = submissions.canonical_bytes(version)
    return Response(data, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="package_{version.id}.json"',
        "X-Content-SHA256": version.digest or ""})


@bp.route("/<int:package_version_id>/reports/<int:campaign_id>.xlsx")
@requires("package.view", load_version)
def report_xlsx(version):
    """A survey's annual report as XLSX, generated from the frozen snapshot."""
    from ..reporting.annual_xlsx import render_xlsx

    campaign_id = request.view_args["campaign_id"]
    data = submissions.survey_report(version, campaign_id)
    return Response(render_xlsx(data), mimetype=XLSX, headers={
        "Content-Disposition":
            f'attachment; filename="package_{version.id}_survey_{campaign_id}.xlsx"'})


@bp.route("/<int:package_version_id>/reports/<int:campaign_id>")
@requires("package.view", load_version)
def report_print(version):
    """A survey's printable annual report (HTML), generated from the frozen snapshot."""
    from ..reporting.annual_html import render_html

    data = submissions.survey_report(version, request.view_args["campaign_id"])
    return Response(render_html(data), mimetype="text/html")
