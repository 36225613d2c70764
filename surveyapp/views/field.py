"""Field pages: the interviewer's list and entry form (offline-capable), the supervisor's
assignment and review pages."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from ..auth.policy import can, current_principal, public, requires
from ..errors import DomainError
from ..extensions import db
from ..forms.field import AssignForm, ConfirmForm, ResolveForm, ReviewForm
from ..models import Assignment, Interview
from ..models.codes import (
    ASSIGNMENT_STATUS_LABELS,
    DISPOSITION_LABELS,
    QC_FLAG_LABELS,
    REVIEW_STATUS_LABELS,
    Disposition,
)
from ..questionnaires import Questionnaire as Definition
from ..services import assignments as assignment_service
from ..services import interviews as interview_service
from ..services import quality as quality_service
from ..services import respondents as respondent_service
from ._helpers import actor, load_campaign, show_domain_error

bp = Blueprint("field", __name__, url_prefix="/field")


def load_assignment(assignment_id: int) -> Assignment:
    return db.get_or_404(Assignment, assignment_id)


def load_interview(interview_id: int) -> Interview:
    return db.get_or_404(Interview, interview_id)


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


def _labels() -> dict:
    return {"assignment": ASSIGNMENT_STATUS_LABELS, "review": REVIEW_STATUS_LABELS,
            "disposition": DISPOSITION_LABELS}


# ---- the interviewer ---------------------------------------------------------------------

@bp.route("/")
@requires("assignment.list")
def index():
    """My assignments (returned ones first) and, for supervisors, the campaigns they manage."""
    p = current_principal()
    rows = assignment_service.my_assignments(p)
    return render_template("field/index.html", rows=rows,
                           summaries={a.id: assignment_service.assignment_summary(a)
                                      for a in rows},
                           campaigns=assignment_service.managed_campaigns(p), labels=_labels())


@bp.route("/assignments/<int:assignment_id>/entry")
@requires("assignment.enter", load_assignment)
def entry(assignment):
    """The interview form of one assignment: sections as pages, works offline."""
    try:
        ctx = assignment_service.entry_context(assignment)
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("field.index"))
    d = Definition.from_dict(ctx.version.document)
    return render_template("field/entry.html", ctx=ctx, d=d, document=d.to_dict(),
                           lang=_lang(), dispositions=list(Disposition), labels=_labels())


# What the entry pages need offline, kept by the service worker (cache-first).
OFFLINE_ASSETS = (
    "vendor/bootstrap/bootstrap.min.css", "css/app.css", "vendor/bootstrap/bootstrap.bundle.min.js",
    "js/app.js", "js/expressions.js", "js/field_offline.js", "js/form_engine.js",
    "js/field_entry.js", "favicon.svg",
)


@lru_cache(maxsize=4)
def offline_assets_digest(static_folder: str) -> str:
    """SHA-256 of the offline assets' bytes: it names the worker's cache, so a new release
    of any of them changes ``sw.js`` and phones fetch the new files (cache-first would
    otherwise serve the old ones for ever)."""
    digest = hashlib.sha256()
    for name in OFFLINE_ASSETS:
        digest.update(name.encode() + b"\0" + (Path(static_folder) / name).read_bytes())
    return digest.hexdigest()


@bp.route("/sw.js")
@public
def service_worker():
    """The service worker, served under /field/ so that its scope covers the field pages."""
    body = render_template("field/sw.js", assets=OFFLINE_ASSETS,
                           version=offline_assets_digest(current_app.static_folder)[:16])
    return Response(body, mimetype="text/javascript",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/field/"})


# ---- the supervisor ------------------------------------------------------------------------

def _assign_form(campaign, rows) -> AssignForm:
    form = AssignForm()
    form.case_ids.choices = [(r.case.id, r.case.unit_id) for r in rows]
    form.interviewer_id.choices = [(u.id, u.full_name) for u in
                                   assignment_service.staff(campaign, _role("interviewer"))]
    form.supervisor_id.choices = [(0, "—")] + [
        (u.id, u.full_name) for u in assignment_service.staff(campaign, _role("supervisor"))]
    return form


def _role(value: str):
    from ..models.codes import Role

    return Role(value)


@bp.route("/campaigns/<int:campaign_id>/assignments")
@requires("field.manage", load_campaign)
def assignments(campaign):
    """The locked sample's cases with their interviewers; assign, reassign, bulk-assign."""
    rows = assignment_service.case_rows(campaign)
    return render_template("field/assignments.html", campaign=campaign, rows=rows,
                           form=_assign_form(campaign, rows),
                           plan=assignment_service.locked_plan(campaign),
                           weights=assignment_service.campaign_weights(campaign),
                           reserve_form=ConfirmForm(), labels=_labels())


@bp.route("/campaigns/<int:campaign_id>/assign", methods=["POST"])
@requires("field.manage", load_campaign)
def assign(campaign):
    """Assign the ticked cases to the chosen interviewer."""
    rows = assignment_service.case_rows(campaign)
    form = _assign_form(campaign, rows)
    if form.validate_on_submit():
        try:
            done = assignment_service.assign_cases(
                actor(), campaign, form.case_ids.data, form.interviewer_id.data,
                form.supervisor_id.data or None)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("%(n)s cases assigned.", n=len(done)), "success")
    else:
        _flash_form_errors(form)
    return redirect(url_for("field.assignments", campaign_id=campaign.id))


def _flash_form_errors(form) -> None:
    """Each error with the field it belongs to (WTForms' own messages name no field)."""
    for name, errors in form.errors.items():
        field = getattr(form, name, None)
        label = str(field.label.text) if field is not None and name != "csrf_token" else ""
        for message in errors:
            flash(f"{label}: {message}" if label else str(message), "danger")


@bp.route("/assignments/<int:assignment_id>/reserve", methods=["POST"])
@requires("field.manage", load_assignment)
def open_reserve(assignment):
    """Replace an approved non-response by the next reserve of its group."""
    if ConfirmForm().validate_on_submit():
        try:
            replacement = assignment_service.open_reserve(actor(), assignment)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Reserve case %(unit)s opened.", unit=replacement.case.unit_id), "success")
    return redirect(url_for("field.assignments", campaign_id=assignment.campaign_id))


@bp.route("/campaigns/<int:campaign_id>/review")
@requires("field.manage", load_campaign)
def review_queue(campaign):
    """Interviews waiting for review (and kept conflicts), oldest first."""
    status = request.args.get("status") or None
    if status not in (None, *interview_service.REVIEW_ACTIONS_STATUSES):
        status = None
    interviews = interview_service.review_queue(campaign, status)
    return render_template("field/review_queue.html", campaign=campaign, status=status,
                           interviews=interviews, labels=_labels(),
                           # issue 8: the automatic QC flags of the listed interviews
                           flags=quality_service.flags_for(campaign, interviews),
                           flag_names=QC_FLAG_LABELS)


@bp.route("/interviews/<int:interview_id>")
@requires("interview.review", load_interview)
def interview(interview):
    """One interview: its answers, versions, kept conflicts, and the review decision."""
    form = ReviewForm(seen_version=str(interview.version))
    d = Definition.from_dict(interview.current.questionnaire_version.document)
    show = can("respondent.view", interview)
    return render_template("field/interview.html", interview=interview, d=d, lang=_lang(),
                           form=form, resolve_form=ResolveForm(), labels=_labels(),
                           has_respondent=respondent_service.has_respondent(interview),
                           respondent=respondent_service.respondent_data(interview)
                           if show else None)


@bp.route("/interviews/<int:interview_id>/review", methods=["POST"])
@requires("interview.review", load_interview)
def review(interview):
    """Approve, return with a comment, or reject."""
    form = ReviewForm()
    if form.validate_on_submit():
        seen = int(form.seen_version.data) if (form.seen_version.data or "").isdigit() else None
        try:
            interview_service.review_interview(actor(), interview, form.action.data,
                                               form.comment.data, seen)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Decision recorded."), "success")
            return redirect(url_for("field.review_queue", campaign_id=interview.campaign_id))
    else:
        _flash_form_errors(form)
    return redirect(url_for("field.interview", interview_id=interview.id))


@bp.route("/interviews/<int:interview_id>/resolve", methods=["POST"])
@requires("interview.review", load_interview)
def resolve(interview):
    """Resolve a kept conflicting submission."""
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            interview_service.resolve_conflict(actor(), interview, form.conflict_id.data,
                                               form.resolution.data == "accept")
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Conflict resolved."), "success")
    else:
        _flash_form_errors(form)
    return redirect(url_for("field.interview", interview_id=interview.id))
