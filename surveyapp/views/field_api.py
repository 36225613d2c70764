"""The submission API (/api/v1/interviews, /api/v1/assignments): the devices' contract.

Checks in this order: 401/403 (``@requires`` and the service's PermissionDenied), 422
``{"error", "fields"}``, then 201/200 ``{"uuid", "receipt", "version"}`` or 409.
Messages follow ``Accept-Language`` (Vietnamese unless English is preferred).
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user

from ..auth.policy import current_principal, requires
from ..errors import PermissionDenied
from ..models.codes import TokenScope
from ..services import assignments as assignment_service
from ..services import interviews as service

bp = Blueprint("field_api", __name__, url_prefix="/api/v1")


def _language() -> str:
    return request.accept_languages.best_match(["vi", "en"], default="vi") or "vi"


def load_interview(interview_uuid: str):
    interview = service.get_by_uuid(interview_uuid)
    if interview is None:
        abort(404)
    return interview


def _answer(call):
    """Run a service call and turn its outcome or refusal into the contract's response."""
    language = _language()
    try:
        outcome = call(language)
    except service.SubmissionInvalid as exc:
        return jsonify({"error": exc.error, "fields": exc.fields}), 422
    except PermissionDenied as exc:
        return jsonify({"error": exc.message}), 403
    return jsonify(outcome.body), outcome.status


def _payload():
    return request.get_json(silent=True)


@bp.route("/interviews", methods=["POST"])
@requires("interview.submit", scope=TokenScope.INTERVIEWS_WRITE)
def submit():
    """Store a new interview (201), acknowledge an identical resend (200) or keep a
    conflicting one (409)."""
    data = _payload()
    return _answer(lambda lang: service.submit_interview(current_principal(), current_user,
                                                         data, lang))


@bp.route("/interviews/<interview_uuid>", methods=["PUT"])
@requires("interview.correct", load_interview, scope=TokenScope.INTERVIEWS_WRITE)
def correct(interview):
    """Store a correction as a new version (200), or 409 when its base version is stale."""
    data = _payload()
    return _answer(lambda lang: service.correct_interview(current_principal(), current_user,
                                                          interview, data, lang))


@bp.route("/interviews/<interview_uuid>", methods=["GET"])
@requires("interview.view", load_interview, scope=TokenScope.INTERVIEWS_WRITE)
def status(interview):
    """Where an interview is in the review loop, with its receipt and version."""
    return jsonify(service.interview_status(interview))


@bp.route("/assignments")
@requires("assignment.list", scope=TokenScope.INTERVIEWS_WRITE)
def assignments():
    """The caller's own assignments, with the questionnaire version to use."""
    rows = assignment_service.my_assignments(current_principal().user_id)
    return jsonify([assignment_service.assignment_summary(a) for a in rows])
