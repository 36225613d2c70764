"""Sampling-plan wizard inside a campaign: frame, design, calculator, draw, lock, downloads."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.policy import can, requires
from ..errors import DomainError
from ..extensions import db
from ..forms.sampling_plans import ActionForm, CalculatorForm, DesignForm, FrameForm, PlanForm
from ..models import SamplingPlan
from ..models.codes import CASE_STATUS_LABELS, SAMPLING_PLAN_STATUS_LABELS
from ..services import sampling_plans as plans
from ._helpers import actor, load_campaign, show_domain_error

bp = Blueprint("sampling_plans", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def load_plan(plan_id: int) -> SamplingPlan:
    return db.get_or_404(SamplingPlan, plan_id)


def _detail(plan: SamplingPlan):
    return redirect(url_for("sampling_plans.detail", plan_id=plan.id))


@bp.route("/campaigns/<int:campaign_id>/sampling/")
@requires("sampling.view", load_campaign)
def index(campaign):
    """The campaign's sampling plans (versions, newest first)."""
    return render_template("sampling_plans/index.html", campaign=campaign,
                           plans=plans.list_plans(campaign), form=PlanForm(),
                           status_labels=SAMPLING_PLAN_STATUS_LABELS,
                           can_manage=can("sampling.manage", campaign))


@bp.route("/campaigns/<int:campaign_id>/sampling/new", methods=["POST"])
@requires("sampling.manage", load_campaign)
def create(campaign):
    """Start a new plan (a draft)."""
    form = PlanForm()
    if form.validate_on_submit():
        try:
            plan = plans.create_plan(actor(), campaign, form.title.data)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Sampling plan created. Upload the frame."), "success")
            return redirect(url_for("sampling_plans.frame", plan_id=plan.id))
    for errors in form.errors.values():
        for message in errors:
            flash(message, "danger")
    return redirect(url_for("sampling_plans.index", campaign_id=campaign.id))


@bp.route("/sampling/<int:plan_id>")
@requires("sampling.view", load_plan)
def detail(plan):
    """A plan: the wizard's steps, its design, the draw and what can be done next."""
    return render_template("sampling_plans/detail.html", plan=plan, form=ActionForm(),
                           status_labels=SAMPLING_PLAN_STATUS_LABELS,
                           case_labels=CASE_STATUS_LABELS,
                           method_labels=plans.METHOD_LABELS,
                           allocation_labels=plans.ALLOCATION_LABELS,
                           cases=plan.cases[:200] if plan.draw_record else [],
                           label_columns=[c for c in plan.label_columns or []
                                          if c != plan.id_column]
                           if can("case_labels.view", plan) else [],
                           can_manage=can("sampling.manage", plan))


@bp.route("/sampling/<int:plan_id>/frame", methods=["GET", "POST"])
@requires("sampling.manage", load_plan)
def frame(plan):
    """Step 1: upload the frame (checked by the library; nothing stored on error)."""
    form = FrameForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            plans.upload_frame(actor(), plan, upload.filename or "", upload.read())
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Frame uploaded: %(rows)s rows.", rows=plan.frame_rows), "success")
            return redirect(url_for("sampling_plans.design", plan_id=plan.id))
    return render_template("sampling_plans/frame.html", plan=plan, form=form)


def _fill_design_choices(form: DesignForm, plan: SamplingPlan) -> None:
    columns = [(c, c) for c in plan.frame_columns or []]
    none = [("", _("— none —"))]
    form.id_column.choices = columns
    form.label_columns.choices = columns
    form.stratum_column.choices = none + columns
    form.size_column.choices = none + columns
    form.psu_column.choices = none + columns
    form.sd_column.choices = none + columns
    form.cost_column.choices = none + columns
    form.sort_column.choices = none + columns
    form.method.choices = plans.method_choices()
    form.psu_method.choices = none + plans.method_choices()
    form.allocation_method.choices = plans.allocation_choices()


def _design_data(form: DesignForm) -> plans.DesignData:
    return plans.DesignData(
        id_column=form.id_column.data, label_columns=list(form.label_columns.data or []),
        stratum_column=form.stratum_column.data or None,
        size_column=form.size_column.data or None, psu_column=form.psu_column.data or None,
        method=form.method.data, psu_method=form.psu_method.data or None,
        n_per_psu=form.n_per_psu.data, allocation_method=form.allocation_method.data,
        power_exponent=form.power_exponent.data if form.power_exponent.data is not None
        else 0.5, minimum=form.minimum.data or 0, maximum=form.maximum.data, n=form.n.data,
        reserve=form.reserve.data or 0, seed=form.seed.data,
        sd_column=form.sd_column.data or None, cost_column=form.cost_column.data or None,
        sort_column=form.sort_column.data or None)


@bp.route("/sampling/<int:plan_id>/design", methods=["GET", "POST"])
@requires("sampling.manage", load_plan)
def design(plan):
    """Steps 2-3: map the columns; choose strata, size measure, stages, allocation, n, seed."""
    if plan.frame_columns is None:
        flash(_("Upload the sampling frame first."), "warning")
        return redirect(url_for("sampling_plans.frame", plan_id=plan.id))
    stored = plans.design_data(plan)
    form = DesignForm(obj=stored) if stored and request.method == "GET" else DesignForm()
    _fill_design_choices(form, plan)
    if form.validate_on_submit():
        try:
            plans.set_design(actor(), plan, _design_data(form))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Design saved. Check the expected precision before drawing."), "success")
            return redirect(url_for("sampling_plans.preview", plan_id=plan.id))
    return render_template("sampling_plans/design.html", plan=plan, form=form)


@bp.route("/sampling/<int:plan_id>/preview")
@requires("sampling.view", load_plan)
def preview(plan):
    """Step 4: the allocation and the expected margin of error per stratum (calculator)."""
    if not plan.allocation:
        flash(_("Set the design first."), "warning")
        return _detail(plan)
    form = CalculatorForm(request.args)
    calculation = None
    if "confidence_level" not in request.args or form.validate():
        data = plans.CalculatorInput(
            confidence_level=form.confidence_level.data, p=form.p.data, deff=form.deff.data,
            response_rate=form.response_rate.data, target_moe=form.target_moe.data)
        try:
            calculation = plans.calculate(plan, data)
        except DomainError as exc:
            show_domain_error(form, exc)
    return render_template("sampling_plans/preview.html", plan=plan, form=form,
                           calculation=calculation, action_form=ActionForm(),
                           method_labels=plans.METHOD_LABELS,
                           allocation_labels=plans.ALLOCATION_LABELS,
                           can_manage=can("sampling.manage", plan))


@bp.route("/sampling/<int:plan_id>/draw", methods=["POST"])
@requires("sampling.manage", load_plan)
def draw(plan):
    """Step 5: draw the sample (seed recorded; record and cases stored together)."""
    if ActionForm().validate_on_submit():
        try:
            summary, job = plans.request_draw(actor(), plan)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            if job is not None:
                flash(_("The frame is large: the sample is being drawn in the background."),
                      "info")
                return redirect(url_for("jobs.detail", job_id=job.id))
            flash(_("Sample drawn: %(selected)s units and %(reserves)s reserves (seed %(seed)s).",
                    **{k: summary[k] for k in ("selected", "reserves", "seed")}), "success")
    return _detail(plan)


@bp.route("/sampling/<int:plan_id>/verify", methods=["POST"])
@requires("sampling.view", load_plan)
def verify(plan):
    """Re-run the draw from the stored frame and record: yes or no."""
    if ActionForm().validate_on_submit():
        try:
            outcome = plans.verify_plan(plan)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            if outcome.ok:
                flash(_("Verified: YES. The stored frame and draw record reproduce exactly this "
                        "sample."), "success")
            else:
                flash(_("Verified: NO."), "danger")
                for message in outcome.messages:
                    flash(message, "danger")
    return _detail(plan)


@bp.route("/sampling/<int:plan_id>/lock", methods=["POST"])
@requires("sampling.manage", load_plan)
def lock(plan):
    """Step 6: lock the plan; its sample becomes the list of cases to interview."""
    if ActionForm().validate_on_submit():
        try:
            plans.lock_plan(actor(), plan)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Plan locked. Its cases are ready for field assignments."), "success")
    return _detail(plan)


@bp.route("/sampling/<int:plan_id>/new-version", methods=["POST"])
@requires("sampling.manage", load_plan)
def new_version(plan):
    """Copy the plan into a new draft version."""
    if ActionForm().validate_on_submit():
        try:
            copy = plans.new_version(actor(), plan)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Version %(version)s created as a draft.", version=copy.version), "success")
            return _detail(copy)
    return _detail(plan)


def _download(plan, build):
    try:
        filename, content = build(plan)
    except DomainError as exc:
        show_domain_error(None, exc)
        return _detail(plan)
    return Response(content, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/sampling/<int:plan_id>/sample.xlsx")
@requires("sampling.view", load_plan)
def download_sample(plan):
    """The drawn sample (with reserves, inclusion probabilities and weights) as XLSX."""
    return _download(plan, lambda p: plans.sample_workbook(
        p, with_labels=can("case_labels.view", p)))


@bp.route("/sampling/<int:plan_id>/worklists.xlsx")
@requires("sampling.view", load_plan)
def download_worklists(plan):
    """Per-interviewer work lists as XLSX."""
    return _download(plan, lambda p: plans.worklists_workbook(
        p, with_labels=can("case_labels.view", p)))


@bp.route("/sampling/<int:plan_id>/draw-record.json")
@requires("sampling.view", load_plan)
def download_record(plan):
    """The library's draw record (for `python -m sampling verify`)."""
    if plan.draw_record is None:
        flash(_("This plan has no drawn sample yet."), "warning")
        return _detail(plan)
    body = json.dumps(plan.draw_record, ensure_ascii=False, indent=2) + "\n"
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition":
            f'attachment; filename="draw-campaign{plan.campaign_id}-v{plan.version}.json"'})
