"""Creating background jobs and reading their status."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from ..errors import ValidationFailed
from ..extensions import db
from ..jobs import runner
from ..models import Job, User
from ..models.codes import JOB_STATUS_LABELS, JobStatus
from . import registry


def submit_job(owner: User | None, kind: str, params: dict, input_data: bytes | None = None,
               organisation_id: int | None = None) -> Job:
    """Record a queued job, commit, then hand it to the runner."""
    job = Job(kind=kind, owner_id=owner.id if owner else None, organisation_id=organisation_id,
              params=params, input_data=input_data, status=JobStatus.QUEUED.value, progress=0)
    db.session.add(job)
    db.session.commit()
    runner().submit(job.id)
    return job


def submit_registry_import(owner: User, kind: str, filename: str, data: bytes) -> Job:
    """Check that the upload can be read at all (fast), then import it in the background."""
    if kind not in registry.KINDS:
        message = _("Unknown registry part.")
        raise ValidationFailed(message, fields={"kind": message})
    try:
        registry.parse_upload(filename, data, current_app.config["IMPORT_MAX_ROWS"])
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={"file": exc.message}) from None
    return submit_job(owner, "registry_import", {"kind": kind, "filename": filename}, data)


def job_status(job: Job) -> dict:
    """The JSON the progress widget polls."""
    return {"id": job.id, "kind": job.kind, "status": job.status,
            "status_label": str(JOB_STATUS_LABELS[JobStatus(job.status)]),
            "progress": job.progress, "message": job.message, "result": job.result,
            "error": job.error,
            "finished": job.status in (JobStatus.DONE, JobStatus.FAILED)}
