"""Background jobs: the runners (thread, RQ, inline) and ``execute``, which runs one job.

A job kind is a function ``(job, ctx) -> dict`` registered in ``KINDS`` (see kinds.py).
It may report progress with ``ctx.progress(pct)`` while it only reads and checks input;
the writes it stages are committed together with the "done" status, and any exception
rolls them back and leaves the job "failed" with a readable error — never a half-written
result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app, has_app_context
from flask_babel import gettext as _

from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..models import Job
from ..models._types import utcnow
from ..models.codes import JobStatus

log = logging.getLogger(__name__)

KINDS: dict[str, Callable[[Job, JobContext], dict]] = {}


def job_kind(name: str):
    """Register a job kind under ``name``."""

    def decorator(func):
        KINDS[name] = func
        return func

    return decorator


class JobContext:
    """Handed to a job kind to report progress."""

    def __init__(self, job: Job):
        self.job = job

    def progress(self, percent: int, message: str = "") -> None:
        """Record progress (commits: call it only before the job stages its writes)."""
        self.job.progress = max(0, min(99, int(percent)))
        self.job.message = message[:255]
        db.session.commit()


def execute(job_id: int) -> None:
    """Run one queued job to the end, leaving it done or failed (needs an app context)."""
    try:
        _execute(job_id)
    except Exception as exc:  # the bookkeeping itself failed (e.g. the database went away)
        log.exception("job %s could not be run", job_id)
        db.session.rollback()
        try:
            _mark_failed(job_id, exc)
        except Exception:
            log.exception("job %s could not be marked failed", job_id)
            db.session.rollback()


def _execute(job_id: int) -> None:
    job = db.session.get(Job, job_id)
    if job is None or job.status != JobStatus.QUEUED:
        return
    job.status = JobStatus.RUNNING.value
    job.started_at = utcnow()
    db.session.commit()
    try:
        func = KINDS[job.kind]
        result = func(job, JobContext(job))
    except Exception as exc:  # every failure must end as a visible "failed" job
        db.session.rollback()
        _mark_failed(job_id, exc)
        return
    job.status = JobStatus.DONE.value
    job.progress = 100
    job.message = ""
    job.result = result
    job.input_data = None  # the uploaded file is not kept once imported
    job.finished_at = utcnow()
    db.session.commit()


def _mark_failed(job_id: int, exc: Exception) -> None:
    if isinstance(exc, ValidationFailed):
        error = "\n".join([exc.message, *exc.errors])
    elif isinstance(exc, DomainError):
        error = exc.message
    elif isinstance(exc, KeyError) and exc.args and exc.args[0] not in KINDS:
        error = _("Unknown job kind.")
    else:
        log.exception("job %s failed", job_id)
        error = _("The job stopped because of an internal error (%(kind)s). Nothing was saved.",
                  kind=type(exc).__name__)
    job = db.session.get(Job, job_id)
    job.status = JobStatus.FAILED.value
    job.error = error
    job.result = None
    job.input_data = None
    job.finished_at = utcnow()
    db.session.commit()


def rq_execute(job_id: int) -> None:
    """Entry point for RQ workers; `flask --app wsgi jobs worker` provides the app context."""
    if not has_app_context():
        raise RuntimeError("run RQ workers with `flask --app wsgi jobs worker`")
    execute(job_id)


# ---- runners -----------------------------------------------------------------------------

class InlineRunner:
    """Runs the job at once in the caller's app context (tests, tiny installations)."""

    name = "inline"

    def submit(self, job_id: int) -> None:
        execute(job_id)


class ThreadRunner:
    """Runs each job in a daemon thread of the web process (the embedded default)."""

    name = "thread"

    def __init__(self, app: Flask):
        self.app = app
        self.threads: list[threading.Thread] = []

    def submit(self, job_id: int) -> None:
        thread = threading.Thread(target=self._run, args=(job_id,), daemon=True,
                                  name=f"surveyapp-job-{job_id}")
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()

    def _run(self, job_id: int) -> None:
        with self.app.app_context():
            execute(job_id)


class RQRunner:
    """Queues jobs on Redis for `flask --app wsgi jobs worker` processes (production)."""

    name = "rq"

    def __init__(self, redis_url: str, queue_name: str):
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(queue_name, connection=self.connection)

    def submit(self, job_id: int) -> None:
        self.queue.enqueue("surveyapp.jobs.rq_execute", job_id, job_timeout=6 * 3600,
                           result_ttl=3600, failure_ttl=7 * 24 * 3600)


def init_app(app: Flask) -> None:
    """Choose the runner from JOB_RUNNER (default: rq when REDIS_URL is set, else thread)."""
    from . import kinds  # noqa: F401  (registers the job kinds)

    choice = app.config["JOB_RUNNER"]
    if choice == "rq":
        if not app.config.get("REDIS_URL"):
            raise RuntimeError("JOB_RUNNER=rq needs REDIS_URL")
        runner = RQRunner(app.config["REDIS_URL"], app.config["RQ_QUEUE"])
    elif choice == "inline":
        runner = InlineRunner()
    elif choice == "thread":
        runner = ThreadRunner(app)
    else:
        raise RuntimeError(f"unknown JOB_RUNNER {choice!r}")
    app.extensions["surveyapp.jobs"] = runner


def runner():
    return current_app.extensions["surveyapp.jobs"]
