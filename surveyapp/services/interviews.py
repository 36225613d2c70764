"""Interview submissions, corrections, review and conflicts: "nothing lost, nothing doubled".

The rules (each has a test in tests/app/test_field_api.py):

* a submission carries the UUID its device created when the interview started; none → 422;
* ``interview.uuid`` is UNIQUE in the database; a new interview, its first version, its
  respondent row and its audit event are added in one transaction and committed once; the
  receipt is returned only after that commit;
* two concurrent first submissions of the same UUID race on the unique key, not on a
  check-then-insert: the loser catches the IntegrityError, rolls back, re-reads and answers
  200 (identical) or 409 (different, the payload kept as a conflict);
* "identical" = the same canonical JSON (RFC 8785 style: keys sorted by UTF-16 code units,
  no whitespace, UTF-8, ECMAScript number form) of everything but ``paradata``;
  the receipt is the SHA-256 of that canonical JSON;
* a correction is a new version pointing to the previous one and carries the version it
  started from; a stale one is refused (409) — unless it is a resend of the correction that
  already made the next version (same base, same content), which answers 200.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, bindparam, cast, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..auth.policy import Principal
from ..db_statements import single_statements
from ..errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from ..extensions import db
from ..models import (
    Assignment,
    AuditEvent,
    Campaign,
    Interview,
    InterviewConflict,
    InterviewRespondent,
    InterviewVersion,
    Questionnaire,
    QuestionnaireVersion,
    RespondentKey,
    SamplingPlan,
)
from ..models._types import MAX_ID, utcnow
from ..models.codes import (
    AssignmentStatus,
    AuditAction,
    CampaignStatus,
    ConflictStatus,
    Disposition,
    QuestionnaireVersionStatus,
    ReviewStatus,
    Role,
    SamplingPlanStatus,
)
from ..questionnaires import Questionnaire as Definition
from ..questionnaires import QuestionnaireInvalid, check_and_compute, compile_questionnaire
from . import audit, respondent_keys

# Who may submit and correct interviews of an organisation's campaigns.
FIELD_ROLES = (Role.INTERVIEWER, Role.SUPERVISOR, Role.ORG_ADMIN)
REVIEW_ROLES = (Role.SUPERVISOR, Role.ORG_ADMIN)
CONTENT_FIELDS = ("uuid", "assignment_id", "questionnaire_version_id", "started_at",
                  "finished_at", "disposition", "answers", "respondent")
MAX_RESPONDENT_KEYS = 50
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{12}$")

# (English, Vietnamese) — the API answers in the caller's Accept-Language.
MESSAGES = {
    "invalid": ("The submission is not valid", "Bài nộp không hợp lệ"),
    "not_object": ("The request body must be a JSON object",
                   "Nội dung yêu cầu phải là một đối tượng JSON"),
    "too_deep": ("The request body is nested too deeply",
                 "Nội dung yêu cầu lồng nhau quá nhiều cấp"),
    "uuid_missing": ("The interview UUID is required (created on the device when the "
                     "interview starts)",
                     "Bắt buộc có UUID của phiếu (tạo trên thiết bị khi bắt đầu phỏng vấn)"),
    "uuid_invalid": ("Not a valid UUID", "UUID không hợp lệ"),
    "uuid_mismatch": ("The UUID does not match the address", "UUID không khớp với địa chỉ"),
    "integer": ("Must be a whole number", "Phải là số nguyên"),
    "assignment_unknown": ("There is no such assignment", "Không có phân công này"),
    "assignment_needed": ("This campaign interviews sampled cases only: an assignment is "
                          "required",
                          "Cuộc khảo sát này chỉ phỏng vấn các trường hợp được chọn mẫu: "
                          "bắt buộc có phân công"),
    "assignment_taken": ("This assignment already has an interview; correct that one "
                         "instead of starting another",
                         "Phân công này đã có phiếu; hãy sửa phiếu đó thay vì lập phiếu mới"),
    "assignment_changed": ("A correction cannot change the assignment",
                           "Bản sửa không được đổi phân công"),
    "version_unknown": ("There is no such questionnaire version",
                        "Không có phiên bản bảng hỏi này"),
    "version_not_frozen": ("This questionnaire version is not frozen; interviews use frozen "
                           "versions only",
                           "Phiên bản bảng hỏi này chưa được khóa; chỉ phỏng vấn bằng phiên "
                           "bản đã khóa"),
    "version_other_campaign": ("This questionnaire version belongs to another campaign",
                               "Phiên bản bảng hỏi này thuộc cuộc khảo sát khác"),
    "datetime": ("Must be a date and time in ISO 8601 (e.g. 2024-09-01T08:30:00+07:00)",
                 "Phải là ngày giờ theo ISO 8601 (ví dụ 2024-09-01T08:30:00+07:00)"),
    "datetime_missing": ("The time is required", "Bắt buộc có thời điểm"),
    "finished_before": ("The end is before the start", "Thời điểm kết thúc trước khi bắt đầu"),
    "disposition": ("Must be one of: " + ", ".join(d.value for d in Disposition),
                    "Phải là một trong: " + ", ".join(d.value for d in Disposition)),
    "object": ("Must be a JSON object", "Phải là một đối tượng JSON"),
    "respondent_size": ("Too many fields", "Quá nhiều trường"),
    "base_version": ("The version the correction started from is required (a whole number)",
                     "Bắt buộc có phiên bản mà bản sửa bắt đầu từ đó (số nguyên)"),
    "not_number": ("Numbers must be finite", "Số phải hữu hạn"),
    "conflict": ("Another interview with this UUID and different content is already stored; "
                 "this one is kept for a supervisor to resolve",
                 "Đã có phiếu khác cùng UUID với nội dung khác; phiếu này được giữ lại để "
                 "giám sát viên xử lý"),
    "stale": ("The interview was changed since the version this correction started from",
              "Phiếu đã được sửa sau phiên bản mà bản sửa này bắt đầu từ đó"),
    "forbidden": ("You may not submit interviews for this assignment",
                  "Bạn không được nộp phiếu cho phân công này"),
    "not_fielding": ("This survey is not in fieldwork (not started or already closed): "
                     "interviews can no longer be submitted or corrected",
                     "Cuộc khảo sát không ở giai đoạn thu thập thông tin (chưa bắt đầu hoặc đã "
                     "kết thúc): không thể nộp hoặc sửa phiếu"),
}


def message(key: str, language: str) -> str:
    en, vi = MESSAGES[key]
    return en if language == "en" else vi


class NotFielding(Exception):
    """A 409: the campaign is not fielding, so no interview is stored or corrected."""

    def __init__(self, language: str):
        super().__init__(message("not_fielding", language))
        self.error = message("not_fielding", language)


class SubmissionInvalid(Exception):
    """A 422: ``fields`` maps a payload field (or question name) to its message."""

    def __init__(self, fields: dict[str, str], language: str):
        super().__init__(message("invalid", language))
        self.error = message("invalid", language)
        self.fields = fields


@dataclass(frozen=True)
class Outcome:
    """What the API answers: the HTTP status and the JSON body."""

    status: int
    body: dict


# ---- canonical JSON and the receipt ----------------------------------------------------

def _number(value: float) -> str:
    """A finite float in ECMAScript's Number-to-String form (as RFC 8785 requires)."""
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        exp = int(exponent)
        if -7 < exp < 21:  # ES writes these positionally
            positional = format(Decimal(text), "f")
            return positional.rstrip("0").rstrip(".") if "." in positional else positional
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{'+' if exp > 0 else '-'}{abs(exp)}"
    return text


# What json.dumps(s, ensure_ascii=False) does to a string, without its per-call set-up; keys
# repeat in every interview, so their sort key and text are cached.
_encode_string = json.encoder.encode_basestring
_utf16 = functools.lru_cache(maxsize=4096)(lambda key: key.encode("utf-16-be"))
_key_text = functools.lru_cache(maxsize=4096)(lambda key: _encode_string(str(key)))


def _canonical(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None or value is True or value is False:
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite number")
        out.append(_number(value))
    elif isinstance(value, (dict, Mapping)):
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16)):
            if i:
                out.append(",")
            out.append(_key_text(key))
            out.append(":")
            _canonical(value[key], out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _canonical(item, out)
        out.append("]")
    else:
        raise TypeError(f"not JSON data: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """RFC 8785-style canonical JSON, UTF-8 encoded."""
    out: list[str] = []
    _canonical(value, out)
    return "".join(out).encode("utf-8")


def receipt_of(content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a submission without its paradata."""
    return hashlib.sha256(canonical_json(
        {k: v for k, v in content.items() if k != "paradata"})).hexdigest()


# ---- reading and checking a payload -------------------------------------------------------

@dataclass(frozen=True)
class CampaignRef:
    """The little of a campaign a submission needs (read without loading the row)."""

    id: int
    organisation_id: int
    status: str  # CampaignStatus: interviews are stored only while fielding

    @property
    def fielding(self) -> bool:
        return self.status == CampaignStatus.FIELDING.value

    @classmethod
    def of(cls, campaign: Campaign | CampaignRef) -> CampaignRef:
        return cls(campaign.id, campaign.organisation_id, campaign.status)


@dataclass(frozen=True)
class VersionRef:
    id: int
    frozen: bool
    digest: str
    campaign_id: int | None
    organisation_id: int | None
    campaign_status: str | None
    # Its campaign takes walk-in interviews: it has no locked sample (see _walk_in_allowed).
    walk_in_allowed: bool = False


@dataclass
class Submission:
    """A checked payload, ready to store."""

    uuid: str
    assignment: Assignment | None
    campaign: CampaignRef
    questionnaire_version: VersionRef
    started_at: datetime
    finished_at: datetime
    disposition: str
    answers: dict
    calculated: dict
    respondent: dict
    paradata: dict
    content: dict  # the canonical content (everything but paradata)
    receipt: str
    base_version: int | None = None


_COMPILED: dict[tuple[int, str], Any] = {}  # frozen versions never change: compile once


def _compiled(version: VersionRef):
    """The compiled questionnaire of a version (the digest names its document exactly)."""
    key = (version.id, version.digest)
    if key not in _COMPILED:
        if len(_COMPILED) > 200:
            _COMPILED.clear()
        document = db.session.scalar(select(QuestionnaireVersion.document).where(
            QuestionnaireVersion.id == version.id))
        _COMPILED[key] = compile_questionnaire(Definition.from_dict(document))
    return _COMPILED[key]


# Built once (bound per call): the version's state, its campaign's organisation and whether
# that campaign has a locked sample — what a submission reads of its version, in one query.
_VERSION_REF = (
    select(QuestionnaireVersion.id, QuestionnaireVersion.status, QuestionnaireVersion.digest,
           Questionnaire.campaign_id, Campaign.organisation_id,
           Campaign.status.label("campaign_status"),
           exists().where(SamplingPlan.campaign_id == Questionnaire.campaign_id,
                          SamplingPlan.status == SamplingPlanStatus.LOCKED.value)
           .label("sample_locked"))
    .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
    .outerjoin(Campaign, Campaign.id == Questionnaire.campaign_id)
    .where(QuestionnaireVersion.id == bindparam("version_id")))


def _version_ref(version_id: int) -> VersionRef | None:
    """One query: the version's state and its campaign's organisation (no document). On
    the session's connection: a Core query needs none of the ORM's execution layers."""
    row = db.session.connection().execute(_VERSION_REF, {"version_id": version_id}).first()
    if row is None:
        return None
    return VersionRef(row.id, row.status == QuestionnaireVersionStatus.FROZEN.value, row.digest,
                      row.campaign_id, row.organisation_id, row.campaign_status,
                      not row.sample_locked)


def _assignment(assignment_id: int) -> Assignment | None:
    return db.session.scalar(select(Assignment).where(Assignment.id == assignment_id)
                             .options(joinedload(Assignment.campaign)))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _int_or_none(value: Any) -> tuple[bool, int | None]:
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        return False, None
    return True, value


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _may_work_on(p: Principal, campaign, assignment: Assignment | None) -> bool:
    """The assignment's interviewer, or a supervisor/administrator of the organisation.

    The interviewer only while holding a field role in the campaign's organisation: not once
    removed from it, nor with a token limited to another organisation."""
    if p.system_admin or p.has_role(campaign.organisation_id, *REVIEW_ROLES):
        return True
    if not p.has_role(campaign.organisation_id, *FIELD_ROLES):
        return False
    if assignment is not None:
        return p.user_id is not None and assignment.interviewer_id == p.user_id
    return True


def _walk_in_allowed(campaign: CampaignRef) -> bool:
    """Walk-in interviews (no assignment) are for campaigns without a locked sample: a
    design that takes respondents as they come (e.g. exit interviews at the one-stop desk)."""
    locked = db.session.scalar(select(func.count()).select_from(SamplingPlan).where(
        SamplingPlan.campaign_id == campaign.id,
        SamplingPlan.status == SamplingPlanStatus.LOCKED.value))
    return not locked


class Lookups:
    """How ``read_submission`` reads assignments and versions (with their campaign's design)
    from the database; a bulk import passes one that answers from rows it loaded once."""

    def assignment(self, assignment_id: int) -> Assignment | None:
        return _assignment(assignment_id)

    def version(self, version_id: int) -> VersionRef | None:
        return _version_ref(version_id)


_DB_LOOKUPS = Lookups()


def read_submission(p: Principal, data: Any, language: str, *,
                    interview: Interview | None = None,
                    lookups: Lookups | None = None) -> Submission:
    """Check a payload in the contract's order: what identifies the target, then who may
    (PermissionDenied → 403), then everything else (SubmissionInvalid → 422)."""
    lookups = lookups or _DB_LOOKUPS
    if not isinstance(data, Mapping):
        raise SubmissionInvalid({"": message("not_object", language)}, language)
    fields: dict[str, str] = {}
    raw_uuid = data.get("uuid")
    if interview is not None:
        if raw_uuid is not None and str(raw_uuid).lower() != interview.uuid:
            fields["uuid"] = message("uuid_mismatch", language)
        uuid_text = interview.uuid
    elif raw_uuid is None or raw_uuid == "":
        fields["uuid"] = message("uuid_missing", language)
        uuid_text = ""
    elif not isinstance(raw_uuid, str) or not UUID_RE.match(raw_uuid):
        fields["uuid"] = message("uuid_invalid", language)
        uuid_text = ""
    else:
        uuid_text = str(uuid_module.UUID(raw_uuid))
    ok_a, assignment_id = _int_or_none(data.get("assignment_id"))
    ok_v, version_id = _int_or_none(data.get("questionnaire_version_id"))
    assignment = version = None
    if not ok_a:
        fields["assignment_id"] = message("integer", language)
    elif assignment_id is not None:
        assignment = lookups.assignment(assignment_id)
        if assignment is None:
            fields["assignment_id"] = message("assignment_unknown", language)
    if not ok_v or version_id is None:
        fields["questionnaire_version_id"] = message("integer", language)
    else:
        version = lookups.version(version_id)
        if version is None:
            fields["questionnaire_version_id"] = message("version_unknown", language)
    if interview is not None and (ok_a and assignment_id != interview.assignment_id):
        fields["assignment_id"] = message("assignment_changed", language)
    # The campaign: the interview's, the assignment's, or (walk-in) the questionnaire's.
    campaign = None
    if interview is not None:
        campaign = CampaignRef.of(interview.campaign)
    elif assignment is not None:
        campaign = CampaignRef.of(assignment.campaign)
    elif version is not None and version.campaign_id is not None:
        campaign = CampaignRef(version.campaign_id, version.organisation_id,
                               version.campaign_status)
    if campaign is not None:
        # 403 before 422: may the caller work on this campaign / assignment at all?
        if not _may_work_on(p, campaign, assignment if interview is None
                            else interview.assignment):
            raise PermissionDenied(message("forbidden", language))
    elif "questionnaire_version_id" not in fields:
        fields["questionnaire_version_id"] = message("version_other_campaign", language)
    if version is not None and campaign is not None:
        if not version.frozen:
            fields["questionnaire_version_id"] = message("version_not_frozen", language)
        elif version.campaign_id != campaign.id:
            fields["questionnaire_version_id"] = message("version_other_campaign", language)
    # A walk-in's campaign is its version's (above), so the version's row tells.
    if campaign is not None and interview is None and ok_a and assignment_id is None \
            and not version.walk_in_allowed:
        fields["assignment_id"] = message("assignment_needed", language)
    times = {}
    for key in ("started_at", "finished_at"):
        if data.get(key) in (None, ""):
            fields[key] = message("datetime_missing", language)
        else:
            times[key] = _parse_time(data.get(key))
            if times[key] is None:
                fields[key] = message("datetime", language)
    if times.get("started_at") and times.get("finished_at") and \
            times["finished_at"] < times["started_at"]:
        fields["finished_at"] = message("finished_before", language)
    disposition = data.get("disposition")
    if disposition not in {d.value for d in Disposition}:
        fields["disposition"] = message("disposition", language)
    respondent = data.get("respondent") or {}
    if not isinstance(respondent, Mapping):
        fields["respondent"] = message("object", language)
    elif len(respondent) > MAX_RESPONDENT_KEYS:
        fields["respondent"] = message("respondent_size", language)
    elif not _finite(respondent):
        fields["respondent"] = message("not_number", language)
    paradata = data.get("paradata") or {}
    if not isinstance(paradata, Mapping):
        fields["paradata"] = message("object", language)
    elif not _finite(paradata):
        fields["paradata"] = message("not_number", language)
    answers = data.get("answers")
    calculated: dict = {}
    if not isinstance(answers, Mapping):
        fields["answers"] = message("object", language)
    elif not _finite(answers):
        fields["answers"] = message("not_number", language)
    elif version is not None and "questionnaire_version_id" not in fields:
        try:
            compiled = _compiled(version)
        except QuestionnaireInvalid:
            fields["questionnaire_version_id"] = message("version_unknown", language)
        else:
            found, evaluation = check_and_compute(compiled, answers)
            # Only a complete interview must answer every required question.
            for name, error in found.items():
                if error.code == "required" and disposition != Disposition.COMPLETE.value:
                    continue
                fields[name or "answers"] = error.message(language)
            if not found:
                calculated = evaluation.calculated
    if fields:
        raise SubmissionInvalid(fields, language)
    content = {"uuid": uuid_text, "assignment_id": assignment_id,
               "questionnaire_version_id": version_id,
               "started_at": data["started_at"], "finished_at": data["finished_at"],
               "disposition": disposition, "answers": dict(answers),
               "respondent": dict(respondent)}
    return Submission(uuid_text, assignment, campaign, version, times["started_at"],
                      times["finished_at"], disposition, dict(answers),
                      {k: v for k, v in calculated.items() if v is not None},
                      dict(respondent), dict(paradata), content, receipt_of(content))


def _base_version(data: Any, language: str) -> int:
    value = data.get("base_version") if isinstance(data, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SubmissionInvalid({"base_version": message("base_version", language)}, language)
    return value


# ---- storing -------------------------------------------------------------------------------

def _receipt_body(interview_uuid: str, version: InterviewVersion) -> dict:
    return {"uuid": interview_uuid, "receipt": version.content_sha256, "version": version.number}


def _actor(user):
    return user if user is not None and getattr(user, "login", None) else None


def _add_version(interview: Interview, s: Submission, actor, number: int,
                 previous: InterviewVersion | None, base_version: int | None) -> InterviewVersion:
    version = InterviewVersion(
        interview=interview, number=number, previous_id=previous.id if previous else None,
        base_version=base_version, questionnaire_version_id=s.questionnaire_version.id,
        disposition=s.disposition, started_at=s.started_at, finished_at=s.finished_at,
        answers=s.answers, calculated=s.calculated, paradata=s.paradata,
        content_sha256=s.receipt, submitted_by_id=getattr(actor, "id", None))
    db.session.add(version)
    db.session.flush()
    if s.respondent:
        db.session.add(InterviewRespondent(version_id=version.id, data=s.respondent))
        # QC (issue 8): the keyed hash of the plaintext contact data, for duplicate flags.
        respondent_keys.store_key(db.session.connection(), version.id, interview.campaign_id,
                                  s.respondent)
    return version


def _mark_assignment(assignment: Assignment | None, s: Submission) -> None:
    if assignment is not None:
        assignment.status = AssignmentStatus.SUBMITTED.value
        assignment.disposition = s.disposition


def _assignment_taken(assignment_id: int) -> bool:
    return db.session.scalar(select(Interview.id).where(
        Interview.assignment_id == assignment_id).limit(1)) is not None


def _find(interview_uuid: str) -> Interview | None:
    return db.session.scalar(select(Interview).where(Interview.uuid == interview_uuid)
                             .options(selectinload(Interview.versions)))


def submit_interview(p: Principal, actor, data: Any, language: str = "vi") -> Outcome:
    """POST /api/v1/interviews: 201 new, 200 identical resend, 409 conflict (kept)."""
    # Insert straight away: the unique key on uuid, not a prior look-up, decides whether this
    # is new — so two concurrent first submissions cannot both store. This is the hot path of
    # the API, so the rows go in as Core INSERTs (on PostgreSQL one statement, which is its
    # own transaction: no BEGIN/COMMIT round trips, see db_statements; no unit-of-work
    # bookkeeping); the rows and the audit event are the same as elsewhere.
    try:
        with single_statements():
            s = read_submission(p, data, language)
            if s.campaign.fielding:
                _insert_new(s, actor)
    except IntegrityError:
        db.session.rollback()
        existing = _find(s.uuid)
        if existing is None:
            if s.assignment is not None and _assignment_taken(s.assignment.id):
                # One interview per case (a unique key, not a look-up before the insert): a
                # second UUID for the same case would count it twice in analysis.
                raise SubmissionInvalid({"assignment_id": message("assignment_taken",
                                                                  language)}, language) from None
            raise
        return _resend_or_conflict(p, actor, existing, s, data, language)
    if not s.campaign.fielding:
        # Nothing is stored outside fieldwork; a resend of what was stored before answers
        # as always (the device learns that it arrived).
        existing = _find(s.uuid)
        if existing is None or existing.campaign_id != s.campaign.id:
            raise NotFielding(language)
        return _resend_or_conflict(p, actor, existing, s, data, language)
    # Only now, after the commit, the receipt goes out.
    return Outcome(201, {"uuid": s.uuid, "receipt": s.receipt, "version": 1})


# Statements built once: parameters are bound per call, which skips the per-call statement
# construction and cache-key work (the bulk of the CPU of a submission otherwise).
_INSERT_INTERVIEW = insert(Interview.__table__).returning(Interview.__table__.c.id)
_INSERT_VERSION = insert(InterviewVersion.__table__).returning(InterviewVersion.__table__.c.id)
_INSERT_RESPONDENT = insert(InterviewRespondent.__table__)
_INSERT_KEY = insert(RespondentKey.__table__)
_INSERT_EVENT = insert(AuditEvent.__table__)


def interview_row(s: Submission, actor_id: int | None, now: datetime,
                  status: str = ReviewStatus.SUBMITTED.value) -> dict:
    """The parameters of a new interview's row (shared with the bulk import)."""
    return {"uuid": s.uuid, "campaign_id": s.campaign.id,
            "assignment_id": s.assignment.id if s.assignment else None,
            "interviewer_id": actor_id, "status": status, "version": 1, "receipt": s.receipt,
            "disposition": s.disposition, "review_comment": "", "reviewed_by_id": None,
            "reviewed_at": None, "created_at": now, "updated_at": now}


def version_row(s: Submission, interview_id: int, actor_id: int | None, now: datetime) -> dict:
    """The parameters of a new interview's version 1 (shared with the bulk import)."""
    return {"interview_id": interview_id, "number": 1, "previous_id": None,
            "base_version": None, "questionnaire_version_id": s.questionnaire_version.id,
            "disposition": s.disposition, "started_at": s.started_at,
            "finished_at": s.finished_at, "answers": s.answers, "calculated": s.calculated,
            "paradata": s.paradata, "content_sha256": s.receipt, "submitted_by_id": actor_id,
            "created_at": now}


def respondent_row(s: Submission, version_id: int) -> dict:
    """The parameters of a new version's identifying data (shared with the bulk import)."""
    return {"version_id": version_id, "conflict_id": None, "data": s.respondent}


def _bound(table, prefix: str, link_column: str | None) -> tuple[list[str], list]:
    """A table's columns but its id and linking column, with a typed parameter each."""
    columns = [c for c in table.columns if c.name not in ("id", link_column)]
    return [c.name for c in columns], [bindparam(prefix + c.name, type_=c.type) for c in columns]


def _linked_insert(table, prefix: str, link_column: str, source):
    """INSERT INTO table (link_column, …) SELECT source, :prefix_… — a row taking its
    link from the new id of an earlier row of the same statement."""
    names, values = _bound(table, prefix, link_column)
    return insert(table).from_select([link_column, *names], select(source, *values))


@functools.cache
def _insert_all_statement(with_respondent: bool, with_key: bool, with_assignment: bool = False):
    """PostgreSQL: the rows of a new interview as ONE statement (data-modifying CTEs, each
    row reading the new id of the one before) — one round trip instead of five, the same
    rows and the same atomicity: a unique-key violation refuses the whole statement, and a
    statement is a transaction of its own (db_statements). Parameters: the row dicts' keys
    prefixed by i_ (interview), v_ (version), r_ (identifying data), k_ (respondent key),
    e_ (audit event), a_ (the assignment marked submitted, with its disposition)."""
    interview_table = Interview.__table__
    names, values = _bound(interview_table, "i_", None)
    new_interview = (insert(interview_table).values(dict(zip(names, values, strict=True)))
                     .returning(interview_table.c.id).cte("new_interview"))
    new_version = (_linked_insert(InterviewVersion.__table__, "v_", "interview_id",
                                  new_interview.c.id)
                   .returning(InterviewVersion.__table__.c.id).cte("new_version"))
    ctes = [new_interview, new_version]
    if with_respondent:
        ctes.append(_linked_insert(InterviewRespondent.__table__, "r_", "version_id",
                                   new_version.c.id).cte("new_respondent"))
    if with_key:
        ctes.append(_linked_insert(RespondentKey.__table__, "k_", "version_id",
                                   new_version.c.id).cte("new_key"))
    if with_assignment:
        table = Assignment.__table__
        ctes.append(update(table).where(table.c.id == bindparam("a_id"))
                    .values(status=bindparam("a_status"),
                            disposition=bindparam("a_disposition"),
                            updated_at=bindparam("a_updated_at", type_=table.c.updated_at.type))
                    .cte("marked_assignment"))
    # The audit event names the interview by its id as text; the CTEs nobody selects from
    # (identifying data, key) are added explicitly, and run all the same.
    return _linked_insert(AuditEvent.__table__, "e_", "object_id",
                          cast(new_interview.c.id, String)).add_cte(*ctes)


def _prefixed(prefix: str, row: dict, link: str) -> dict:
    return {prefix + k: v for k, v in row.items() if k != link}


def _insert_new(s: Submission, actor) -> None:
    """The rows of a new interview: interview, version 1, identifying data, audit event."""
    actor_id = getattr(actor, "id", None)
    now = utcnow()
    conn = db.session.connection()
    # QC (issue 8): the keyed hash of the plaintext contact data, for duplicate flags.
    key_hash = respondent_keys.key_of(s.respondent) if s.respondent else None
    event = audit.event_row(_actor(actor), AuditAction.CREATE,
                            object_type=Interview.__tablename__, object_id="",
                            organisation_id=s.campaign.organisation_id,
                            after={"uuid": s.uuid, "version": 1, "receipt": s.receipt,
                                   "disposition": s.disposition},
                            summary=f"interview {s.uuid}")
    key = {"version_id": None, "campaign_id": s.campaign.id, "key_hash": key_hash}
    if conn.dialect.name == "postgresql":
        params = {**_prefixed("i_", interview_row(s, actor_id, now), ""),
                  **_prefixed("v_", version_row(s, 0, actor_id, now), "interview_id"),
                  **_prefixed("e_", event, "object_id")}
        if s.respondent:
            params.update(_prefixed("r_", respondent_row(s, 0), "version_id"))
        if key_hash is not None:
            params.update(_prefixed("k_", key, "version_id"))
        if s.assignment is not None:
            params.update(a_id=s.assignment.id, a_status=AssignmentStatus.SUBMITTED.value,
                          a_disposition=s.disposition, a_updated_at=now)
        conn.execute(_insert_all_statement(bool(s.respondent), key_hash is not None,
                                           s.assignment is not None), params)
        return
    # Elsewhere one INSERT per row, each reading the id the one before returned, in the
    # session's transaction.
    interview_id = conn.execute(_INSERT_INTERVIEW,
                                interview_row(s, actor_id, now)).scalar_one()
    version_id = conn.execute(_INSERT_VERSION,
                              version_row(s, interview_id, actor_id, now)).scalar_one()
    if s.respondent:
        conn.execute(_INSERT_RESPONDENT, respondent_row(s, version_id))
    if key_hash is not None:
        conn.execute(_INSERT_KEY, {**key, "version_id": version_id})
    conn.execute(_INSERT_EVENT, {**event, "object_id": str(interview_id)})
    _mark_assignment(s.assignment, s)


def _resend_or_conflict(p: Principal, actor, interview: Interview, s: Submission, data,
                        language: str) -> Outcome:
    if not _may_work_on(p, interview.campaign, interview.assignment):
        raise PermissionDenied(message("forbidden", language))
    for version in interview.versions:
        if version.content_sha256 == s.receipt:
            return Outcome(200, _receipt_body(interview.uuid, version))
    if not interview.campaign.fielding:
        # A kept conflict would take the interview out of the approved data.
        raise NotFielding(language)
    conflict = _keep_conflict(actor, interview, s, data)
    return Outcome(409, {"error": message("conflict", language), "conflict_id": conflict})


def _keep_conflict(actor, interview: Interview, s: Submission, data) -> int:
    """Store a different payload under a stored UUID (once per distinct content)."""
    def existing_id():
        return db.session.scalar(select(InterviewConflict.id).where(
            InterviewConflict.interview_id == interview.id,
            InterviewConflict.content_sha256 == s.receipt))

    found = existing_id()
    if found is not None:
        return found
    payload = {k: v for k, v in data.items() if k != "respondent"}
    conflict = InterviewConflict(interview_id=interview.id, payload=payload,
                                 content_sha256=s.receipt, submitted_by_id=getattr(actor, "id",
                                                                                   None),
                                 status_before=interview.status
                                 if interview.status != ReviewStatus.CONFLICT.value
                                 else ReviewStatus.SUBMITTED.value)
    try:
        db.session.add(conflict)
        db.session.flush()
        if s.respondent:
            db.session.add(InterviewRespondent(conflict_id=conflict.id, data=s.respondent))
        interview.status = ReviewStatus.CONFLICT.value
        audit.record(_actor(actor), AuditAction.STATE, conflict,
                     organisation_id=interview.campaign.organisation_id,
                     after={"uuid": interview.uuid, "receipt": s.receipt},
                     summary=f"conflict kept for interview {interview.uuid}")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        found = existing_id()
        if found is None:
            raise
        return found
    return conflict.id


def correct_interview(p: Principal, actor, interview: Interview, data: Any,
                      language: str = "vi") -> Outcome:
    """PUT /api/v1/interviews/<uuid>: a new version from ``base_version``, or 409 if stale
    or if the campaign is not fielding (a correction after fieldwork would take an approved
    interview out of the data behind published figures)."""
    s = read_submission(p, data, language, interview=interview)
    base = _base_version(data, language)
    interview_uuid, interview_id = interview.uuid, interview.id
    if base == interview.version and s.campaign.fielding:
        previous = interview.current
        try:
            _add_version(interview, s, actor, base + 1, previous, base)
            interview.version = base + 1
            interview.receipt = s.receipt
            interview.disposition = s.disposition
            before = interview.status
            if interview.status != ReviewStatus.CONFLICT.value:
                interview.status = ReviewStatus.SUBMITTED.value
            _mark_assignment(interview.assignment, s)
            audit.record(_actor(actor), AuditAction.UPDATE, interview,
                         organisation_id=interview.campaign.organisation_id,
                         before={"version": base, "status": before},
                         after={"version": base + 1, "receipt": s.receipt,
                                "status": interview.status},
                         summary=f"interview {interview_uuid} corrected")
            db.session.commit()
            return Outcome(200, {"uuid": interview_uuid, "receipt": s.receipt,
                                 "version": base + 1})
        except IntegrityError:  # another correction from the same base won the race
            db.session.rollback()
            interview = db.session.get(Interview, interview_id)
    following = next((v for v in interview.versions
                      if v.number == base + 1 and v.base_version == base), None)
    if following is not None and following.content_sha256 == s.receipt:
        return Outcome(200, _receipt_body(interview_uuid, following))
    if not s.campaign.fielding:
        raise NotFielding(language)
    return Outcome(409, {"error": message("stale", language), "current_version":
                         interview.version})


def interview_status(interview: Interview) -> dict:
    return {"uuid": interview.uuid, "status": interview.status, "receipt": interview.receipt,
            "version": interview.version}


def get_by_uuid(interview_uuid: str) -> Interview | None:
    try:
        normal = str(uuid_module.UUID(interview_uuid))
    except ValueError:
        return None
    return _find(normal)


# ---- the supervisor's review loop ----------------------------------------------------------

REVIEW_ACTIONS = {
    "approve": ReviewStatus.APPROVED,
    "return": ReviewStatus.RETURNED,
    "reject": ReviewStatus.REJECTED,
}
ASSIGNMENT_AFTER_REVIEW = {
    ReviewStatus.APPROVED: AssignmentStatus.APPROVED,
    ReviewStatus.RETURNED: AssignmentStatus.RETURNED,
    ReviewStatus.REJECTED: AssignmentStatus.REJECTED,
}


def review_interview(actor, interview: Interview, action: str, comment: str,
                     seen_version: int | None = None) -> Interview:
    """Approve, return (with a comment, back to the interviewer's list) or reject."""
    from flask_babel import gettext as _

    if action not in REVIEW_ACTIONS:
        raise InvalidTransition(_("Unknown review action."))
    if interview.status == ReviewStatus.CONFLICT.value:
        raise InvalidTransition(_("Resolve the conflicting submission first."))
    if interview.status != ReviewStatus.SUBMITTED.value:
        raise InvalidTransition(_("Only an interview waiting for review can be reviewed."))
    if action == "return" and not interview.campaign.fielding:
        # Its interviewer could no longer correct it: approve or reject it instead.
        raise InvalidTransition(_("The survey is no longer in fieldwork: an interview cannot "
                                  "be returned for correction; approve or reject it."))
    if seen_version is not None and seen_version != interview.version:
        raise Conflict(_("The interview was corrected while you were reviewing it; "
                         "please look at the new version."))
    comment = (comment or "").strip()
    if action == "return" and not comment:
        raise InvalidTransition(_("Say what to correct: a comment is required to return an "
                                  "interview."))
    new = REVIEW_ACTIONS[action]
    before = {"status": interview.status, "version": interview.version}
    interview.status = new.value
    interview.review_comment = comment
    interview.reviewed_by_id = getattr(actor, "id", None)
    interview.reviewed_at = utcnow()
    if interview.assignment is not None:
        interview.assignment.status = ASSIGNMENT_AFTER_REVIEW[new].value
        interview.assignment.comment = comment
    audit.record(actor, AuditAction.STATE, interview,
                 organisation_id=interview.campaign.organisation_id, before=before,
                 after={"status": new.value, "comment": comment},
                 summary=f"interview {interview.uuid}: {action}")
    db.session.commit()
    return interview


def resolve_conflict(actor, interview: Interview, conflict_id: int, accept: bool) -> Interview:
    """Keep the stored version, or make the kept payload the next version (checked again)."""
    from flask_babel import gettext as _

    conflict = db.session.get(InterviewConflict, conflict_id)
    if conflict is None or conflict.interview_id != interview.id:
        raise NotFound(_("There is no such conflicting submission."))
    if conflict.status != ConflictStatus.OPEN.value:
        raise InvalidTransition(_("This conflicting submission was already resolved."))
    before = {"status": interview.status, "version": interview.version}
    if accept:
        respondent = db.session.scalar(select(InterviewRespondent).where(
            InterviewRespondent.conflict_id == conflict.id))
        data = dict(conflict.payload)
        data["respondent"] = respondent.data if respondent is not None else {}
        data.pop("base_version", None)
        reviewer = _reviewer_principal(actor, interview)
        try:
            s = read_submission(reviewer, data, "vi", interview=interview)
        except SubmissionInvalid as exc:
            from ..errors import ValidationFailed

            raise ValidationFailed(_("The kept submission is no longer valid: %(fields)s",
                                     fields="; ".join(f"{k}: {v}" for k, v in
                                                      exc.fields.items()))) from exc
        previous = interview.current
        _add_version(interview, s, actor, interview.version + 1, previous, interview.version)
        interview.version += 1
        interview.receipt = s.receipt
        interview.disposition = s.disposition
        # The new version waits for review again, and so does its case: an assignment left
        # "approved" (with the old disposition) could otherwise be replaced by a reserve.
        _mark_assignment(interview.assignment, s)
        conflict.status = ConflictStatus.ACCEPTED.value
    else:
        conflict.status = ConflictStatus.KEPT_STORED.value
    conflict.resolved_by_id = getattr(actor, "id", None)
    conflict.resolved_at = utcnow()
    still_open = [c for c in interview.conflicts
                  if c.status == ConflictStatus.OPEN.value and c.id != conflict.id]
    if not still_open:
        interview.status = ReviewStatus.SUBMITTED.value if accept else conflict.status_before
    audit.record(actor, AuditAction.STATE, interview,
                 organisation_id=interview.campaign.organisation_id, before=before,
                 after={"status": interview.status, "version": interview.version,
                        "conflict": conflict.id, "resolution": conflict.status},
                 summary=f"interview {interview.uuid}: conflict {conflict.id} resolved")
    db.session.commit()
    return interview


def _reviewer_principal(actor, interview: Interview) -> Principal:
    org = interview.campaign.organisation_id
    return Principal(getattr(actor, "id", None), getattr(actor, "login", "cli") or "cli",
                     {org: frozenset({Role.SUPERVISOR})})


def review_queue(campaign: Campaign, status: str | None = None) -> list[Interview]:
    """Interviews of a campaign waiting for the supervisor (or of one status), oldest first."""
    wanted = [status] if status else [ReviewStatus.SUBMITTED.value, ReviewStatus.CONFLICT.value]
    return list(db.session.scalars(
        select(Interview).where(Interview.campaign_id == campaign.id,
                                Interview.status.in_(wanted))
        .order_by(Interview.updated_at, Interview.id)))


def approved_condition(campaign_id: int) -> tuple:
    """WHERE clauses (over Interview joined to InterviewVersion) of what analysis sees: the
    current version of every approved interview of the campaign."""
    return (Interview.campaign_id == campaign_id,
            Interview.status == ReviewStatus.APPROVED.value,
            InterviewVersion.number == Interview.version)


def approved_interviews(campaign: Campaign) -> list[InterviewVersion]:
    """The current versions of the campaign's approved interviews: all that analysis sees."""
    return list(db.session.scalars(
        select(InterviewVersion).join(Interview, Interview.id == InterviewVersion.interview_id)
        .where(*approved_condition(campaign.id))
        .order_by(Interview.id)))


def interviews_for_interviewer(user_id: int) -> list[Interview]:
    return list(db.session.scalars(select(Interview).where(Interview.interviewer_id == user_id)
                                   .order_by(Interview.updated_at.desc())))


REVIEW_ACTIONS_STATUSES = tuple(s.value for s in ReviewStatus)
