"""The job kinds; a later issue registers its own long task here with @job_kind."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from ..errors import DomainError
from ..extensions import db
from ..models import Job, User
from ..services import registry
from . import JobContext, job_kind


@job_kind("registry_import")
def registry_import(job: Job, ctx: JobContext) -> dict:
    """Import one part of the registry from the uploaded CSV/XLSX file kept on the job."""
    ctx.progress(10, _("Reading the file"))
    table = registry.parse_upload(job.params["filename"], job.input_data or b"",
                                  current_app.config["IMPORT_MAX_ROWS"])
    ctx.progress(40, _("Checking %(n)s rows", n=len(table.rows)))
    actor = db.session.get(User, job.owner_id) if job.owner_id else None
    counts = registry.apply_import(actor, job.params["kind"], table)
    return {"kind": job.params["kind"], "rows": len(table.rows), **counts}


@job_kind("sampling_draw")
def sampling_draw(job: Job, ctx: JobContext) -> dict:
    """Draw a sampling plan's sample from a large frame; record and cases commit with "done"."""
    from ..models import SamplingPlan
    from ..services import sampling_plans

    ctx.progress(10, _("Reading the frame"))
    plan = db.session.get(SamplingPlan, job.params["plan_id"])
    if plan is None:
        raise DomainError(_("The sampling plan no longer exists."))
    sampling_plans.plan_frame(plan)
    ctx.progress(40, _("Drawing the sample"))
    actor = db.session.get(User, job.owner_id) if job.owner_id else None
    return sampling_plans.stage_draw(actor, plan)


@job_kind("response_import")
def response_import(job: Job, ctx: JobContext) -> dict:
    """Import responses from the uploaded CSV/XLSX kept on the job (all rows or none).

    A file with problems ends the job "done" with ``ok: false`` and the report by row and
    column (shown and downloadable on the import page); nothing is stored then."""
    from ..models import Campaign
    from ..services import response_import as service

    ctx.progress(2, _("Reading the file"))
    campaign = db.session.get(Campaign, job.params["campaign_id"])
    if campaign is None:
        raise DomainError(_("The campaign no longer exists."))
    actor = db.session.get(User, job.owner_id) if job.owner_id else None
    try:
        summary = service.import_responses(
            actor, campaign, job.params["filename"], job.input_data or b"",
            job.params.get("mapping") or {}, approve=bool(job.params.get("approve")),
            language=job.params.get("language", "vi"), progress=ctx.progress, commit=False)
    except service.ImportFailed as exc:
        db.session.rollback()
        return {"ok": False, "error": exc.message, "problems": exc.total,
                "report": [p.to_dict() for p in exc.report]}
    return {"ok": True, **summary}


@job_kind("campaign_export")
def campaign_export(job: Job, ctx: JobContext) -> dict:
    """Write a campaign's analysis extract (CSV/XLSX/SAV/DTA) into the instance folder."""
    from ..services import exports

    ctx.progress(2, _("Reading the approved interviews"))
    return exports.run_export_job(job, ctx.progress)


@job_kind("notification_mail")
def notification_mail(job: Job, ctx: JobContext) -> dict:
    """E-mail copies of a workflow step's notifications (issue 11), after the step's commit."""
    from ..services import notifications

    return notifications.deliver_mail(list(job.params.get("notification_ids") or []))


@job_kind("annual_report")
def annual_report(job: Job, ctx: JobContext) -> dict:
    """Generate a campaign's annual report (XLSX, HTML, PDF) from a scorecard run; the new
    report version commits with "done"."""
    from ..services import reports

    ctx.progress(2, _("Reading the runs"))
    actor = db.session.get(User, job.owner_id) if job.owner_id else None
    return reports.run_report_job(job, actor, ctx.progress)
