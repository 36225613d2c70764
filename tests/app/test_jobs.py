"""Background jobs: inline, thread and RQ runners; a failure ends "failed", nothing half-written."""

import time
import uuid
from datetime import date

import builders
import pytest
from sqlalchemy import func, select

from surveyapp import create_app
from surveyapp.extensions import db as _db
from surveyapp.jobs import KINDS, JobContext
from surveyapp.models import AdminUnit, Job
from surveyapp.models.codes import Role
from surveyapp.services.jobs import job_status, submit_job


def stage_then_explode(job: Job, ctx: JobContext) -> dict:
    ctx.progress(30, "half way")
    _db.session.add(AdminUnit(code="999", name="Nửa chừng", level="district",
                              valid_from=date(2024, 1, 1)))
    _db.session.flush()
    raise RuntimeError("boom")


def count_units_and_progress(job: Job, ctx: JobContext) -> dict:
    for pct in (20, 60):
        ctx.progress(pct, f"{pct}%")
        time.sleep(0.05)
    _db.session.add(AdminUnit(code="998", name="Xong", level="district",
                              valid_from=date(2024, 1, 1)))
    return {"units": 1}


@pytest.fixture
def kinds(monkeypatch):
    monkeypatch.setitem(KINDS, "test_explodes", stage_then_explode)
    monkeypatch.setitem(KINDS, "test_ok", count_units_and_progress)


def owner():
    org = builders.make_org()
    return builders.make_user("chu", org, Role.ANALYST)


def test_inline_job_done_with_result(app, db, kinds):
    with app.app_context():
        job = submit_job(owner(), "test_ok", {})
        assert job.status == "done" and job.progress == 100 and job.result == {"units": 1}
        assert db.session.scalar(select(func.count()).select_from(AdminUnit)) == 1


def test_failing_job_is_failed_with_a_clear_error_and_writes_nothing(app, db, kinds):
    with app.app_context():
        job = submit_job(owner(), "test_explodes", {})
        assert job.status == "failed" and job.result is None
        assert "Tác vụ dừng do lỗi hệ thống (RuntimeError)" in job.error
        assert db.session.scalar(select(func.count()).select_from(AdminUnit)) == 0
        assert job_status(job)["finished"] is True


def test_unknown_kind_fails_cleanly(app, db):
    with app.app_context():
        job = submit_job(owner(), "no-such-kind", {})
        assert job.status == "failed" and job.error == "Loại tác vụ không xác định."


def test_progress_endpoint_and_page(app, db, client, auth, kinds):
    with app.app_context():
        job_id = submit_job(owner(), "test_ok", {}).id
    auth.login("chu")
    status = client.get(f"/api/v1/jobs/{job_id}").json
    assert status["status"] == "done" and status["progress"] == 100
    assert status["status_label"] == "Hoàn thành"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-job-status-url="/api/v1/jobs/' in page and "js/jobs.js" in page


def separate_app(tmp_path, **config):
    """An app with its own committed SQLite database (threads and workers cannot share the
    test's rolled-back connection)."""
    from flask_migrate import upgrade
    app = create_app(builders.app_config(f"sqlite:///{tmp_path / 'jobs.sqlite3'}", **config))
    with app.app_context():
        upgrade()
    return app


def wait_finished(app, job_id, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            job = _db.session.get(Job, job_id)
            if job.status in ("done", "failed"):
                return job.status, job.result, job.error
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_thread_runner(tmp_path, kinds):
    app = separate_app(tmp_path, JOB_RUNNER="thread")
    with app.app_context():
        ok = submit_job(owner(), "test_ok", {}).id
        bad = submit_job(_db.session.scalar(select(builders.User)), "test_explodes", {}).id
    assert wait_finished(app, ok)[:2] == ("done", {"units": 1})
    status, result, error = wait_finished(app, bad)
    assert status == "failed" and result is None and "RuntimeError" in error
    with app.app_context():
        assert [u.code for u in _db.session.scalars(select(AdminUnit))] == ["998"]
        _db.engine.dispose()


def test_rq_runner_with_a_burst_worker(tmp_path, kinds):
    from rq import SimpleWorker

    queue = f"surveyapp-test-{uuid.uuid4().hex[:8]}"
    app = separate_app(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15", JOB_RUNNER="rq",
                       RQ_QUEUE=queue)
    runner = app.extensions["surveyapp.jobs"]
    try:
        with app.app_context():
            user = owner()
            ok = submit_job(user, "test_ok", {}).id
            bad = submit_job(user, "test_explodes", {}).id
            assert _db.session.get(Job, ok).status == "queued"  # nothing ran in the request
            assert len(runner.queue) == 2
            SimpleWorker([runner.queue], connection=runner.connection).work(burst=True)
        assert wait_finished(app, ok)[:2] == ("done", {"units": 1})
        status, result, error = wait_finished(app, bad)
        assert status == "failed" and result is None and "RuntimeError" in error
    finally:
        runner.queue.delete(delete_jobs=True)
        runner.connection.close()
        with app.app_context():
            _db.engine.dispose()


def test_cli_worker_refuses_without_redis(runner):
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output
