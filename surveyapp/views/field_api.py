"""The submission API (/api/v1/interviews, /api/v1/assignments): the devices' contract.

Checks in this order: 401/403 (``@requires`` and the service's PermissionDenied), 422
``{"error", "fields"}``, then 201/200 ``{"uuid", "receipt", "version"}`` or 409 (a
conflict, a stale correction, or a campaign that is not fielding: nothing stored).
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
    except service.NotFielding as exc:
        return jsonify({"error": exc.error}), 409
    return jsonify(outcome.body), outcome.status


# An interview nests three levels (body, answers, a multiple choice); checking deeper data
# recursively could exhaust Python's stack.
MAX_DEPTH = 32


def _nested_deeper_than(value, limit: int) -> bool:
    """Whether JSON data nests more than ``limit`` objects/arrays (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _payload(language: str):
    """The JSON body (None, answered 422 by the service, when it is not JSON), or a 422 when
    it nests too deeply — including too deeply to parse at all: ``silent`` catches the
    parser's ValueError but not its RecursionError."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        too_deep = True
    else:
        too_deep = _nested_deeper_than(data, MAX_DEPTH)
    if too_deep:
        raise service.SubmissionInvalid({"": service.message("too_deep", language)}, language)
    return data


@bp.route("/interviews", methods=["POST"])
@requires("interview.submit", scope=TokenScope.INTERVIEWS_WRITE)
def submit():
    """Store a new interview (201), acknowledge an identical resend (200) or keep a
    conflicting one (409)."""
    return _answer(lambda lang: service.submit_interview(current_principal(), current_user,
                                                         _payload(lang), lang))


@bp.route("/interviews/<interview_uuid>", methods=["PUT"])
@requires("interview.correct", load_interview, scope=TokenScope.INTERVIEWS_WRITE)
def correct(interview):
    """Store a correction as a new version (200), or 409 when its base version is stale or
    the campaign is no longer fielding."""
    return _answer(lambda lang: service.correct_interview(current_principal(), current_user,
                                                          interview, _payload(lang), lang))


@bp.route("/interviews/<interview_uuid>", methods=["GET"])
@requires("interview.view", load_interview, scope=TokenScope.INTERVIEWS_WRITE)
def status(interview):
    """Where an interview is in the review loop, with its receipt and version."""
    return jsonify(service.interview_status(interview))


@bp.route("/assignments")
@requires("assignment.list", scope=TokenScope.INTERVIEWS_WRITE)
def assignments():
    """The caller's own assignments, with the questionnaire version to use."""
    rows = assignment_service.my_assignments(current_principal())
    return jsonify([assignment_service.assignment_summary(a) for a in rows])
