"""Bulk import of responses (issue 8): paper questionnaires typed into CSV/XLSX, or exports
from ODK/KoboToolbox keyed by question name.

The rules (each has a test in tests/app/test_response_import.py):

* **all or nothing**: every row is read and checked first — with the submission API's own
  ``read_submission`` (envelope, permission, answers against the questionnaire version:
  types, choices, relevance, constraints) — and only a clean file is written, in one
  transaction (Core executemany), committed once; any problem → :class:`ImportFailed` with a
  report by row and column and nothing stored;
* a row without a UUID gets a deterministic one: UUID5 of the survey, the file's SHA-256 and
  the row's line, so importing the same file twice adds nothing; a row whose UUID is already
  stored with the same content (the same receipt as the API) is skipped; a row whose UUID is
  stored with different content is an error (an import never overwrites an interview);
* the same unique keys as the API: one interview per UUID and per assignment (a case);
* identifying columns (``respondent_name``, ``respondent_phone``...) go to the interview's
  respondent record like the API's ``respondent`` object, never into the answers;
* imported interviews are **submitted** (waiting for review) like any other; a supervisor or
  organisation administrator may tick *approve* to import them approved (e.g. paper forms
  already checked by hand) — recorded in the import's audit event.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid as uuid_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..auth.policy import Principal, principal_for_user
from ..errors import InvalidTransition, PermissionDenied, ValidationFailed
from ..extensions import db
from ..importers.responses import (
    ColumnPlan,
    convert_cell,
    convert_integer,
    convert_time,
    plan_columns,
)
from ..importers.tabular import Table, read_table
from ..models import (
    Assignment,
    Campaign,
    Interview,
    InterviewRespondent,
    InterviewVersion,
    RespondentKey,
    SamplingCase,
)
from ..models._types import utcnow
from ..models.codes import AssignmentStatus, AuditAction, Disposition, ReviewStatus, Role
from ..quality.flags import respondent_key, restore_leading_zero
from . import audit, interviews, respondent_keys
from .registry import upload_messages

UUID_NAMESPACE = uuid_module.UUID("6f1c2a3e-8d2b-5c1e-9a47-3b1d0e5f7a10")  # fixed forever
MAX_REPORTED = 1000  # problems listed in a report (the count is always exact)
CHUNK = 5000
DEFAULT_MAX_ROWS = 200_000
IMPORT_ROLES = (Role.SUPERVISOR, Role.ORG_ADMIN)


@dataclass(frozen=True)
class Problem:
    """One line of the error report: the file's row (line) and column, and what is wrong."""

    row: int | None
    column: str
    message: str

    def to_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportFailed(ValidationFailed):
    """Nothing was stored; ``report`` lists the problems (at most MAX_REPORTED)."""

    def __init__(self, message: str, report: list[Problem], total: int):
        super().__init__(message, errors=[_line(p) for p in report])
        self.report = report
        self.total = total


def _line(p: Problem) -> str:
    if p.row is None:
        return _("Column “%(column)s”: %(message)s", column=p.column, message=p.message)
    if not p.column:
        return _("Row %(row)s: %(message)s", row=p.row, message=p.message)
    return _("Row %(row)s, column “%(column)s”: %(message)s", row=p.row, column=p.column,
             message=p.message)


def report_csv(report: list[dict]) -> bytes:
    """The error report as CSV (UTF-8 with BOM, so spreadsheet programs show the accents)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for p in report:
        writer.writerow([p.get("row") or "", p.get("column") or "", p.get("message") or ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def parse_mapping(text: str | bytes | None) -> dict[str, str]:
    """A JSON object ``{"column in file": "question name"}`` (empty text: no mapping)."""
    if text is None:
        return {}
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(_("The column mapping is not valid UTF-8 text."),
                                   fields={"mapping": _("Not valid UTF-8 text.")}) from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        message = _("The column mapping is not valid JSON (line %(line)s): %(detail)s",
                    line=getattr(exc, "lineno", "?"), detail=getattr(exc, "msg", str(exc)))
        raise ValidationFailed(message, fields={"mapping": message}) from None
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str | None) for k, v in data.items()):
        message = _("The column mapping must be a JSON object of the form "
                    "{\"column in file\": \"question name\"}.")
        raise ValidationFailed(message, fields={"mapping": message})
    return data


# ---- reading the file ---------------------------------------------------------------------

def _version_of(campaign: Campaign):
    if not campaign.fielding:
        # As the submission API: no new interview outside fieldwork.
        raise InvalidTransition(_("This survey is not in fieldwork (not started or already "
                                  "closed): responses can be imported only while it is "
                                  "fielding."))
    if campaign.questionnaire_version_id is None:
        raise ValidationFailed(_("This campaign has no questionnaire version to import "
                                 "responses into."))
    ref = interviews._version_ref(campaign.questionnaire_version_id)
    if ref is None or not ref.frozen:
        raise ValidationFailed(_("The campaign's questionnaire version is not frozen; "
                                 "responses can be imported into a frozen version only."))
    return ref, interviews._compiled(ref)


def _read(filename: str, data: bytes) -> Table:
    max_rows = current_app.config.get("RESPONSE_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
    return read_table(filename, data, upload_messages(), max_rows, keep_time=True)


def _answerable(compiled) -> dict[str, object]:
    return {q.name: q for q in compiled.questionnaire.questions()
            if q.type not in ("note", "calculate")}


def _column_problems(plan: ColumnPlan, questions: dict, locked: bool) -> list[Problem]:
    problems = []
    for column, target in plan.bad_mapping.items():
        problems.append(Problem(None, column, _("The mapping names “%(name)s”, which is not a "
                                                "question of this questionnaire.", name=target)))
    for column in plan.missing_mapped:
        problems.append(Problem(None, column, _("The mapping names this column, but the file "
                                                "has no such column.")))
    for column in plan.unknown:
        problems.append(Problem(None, column, _("Unknown column: not a question of this "
                                                "questionnaire nor a reserved column (map it, "
                                                "or map it to \"\" to ignore it).")))
    seen: dict[str, str] = {}
    for column, name in plan.questions.items():
        if name in seen:
            problems.append(Problem(None, column, _("Question “%(name)s” is already read from "
                                                    "column “%(other)s”.", name=name,
                                                    other=seen[name])))
        seen[name] = column
    for name in ("started_at", "finished_at"):
        if name not in plan.reserved:
            problems.append(Problem(None, name, _("Missing column (the interview's start and "
                                                  "end, a date or an ISO 8601 date-time).")))
    if locked and "assignment_id" not in plan.reserved and "unit_id" not in plan.reserved:
        problems.append(Problem(None, "assignment_id", _(
            "Missing column: this campaign interviews sampled cases only, so each row needs "
            "its assignment_id or the case's unit_id.")))
    # Without a disposition column every row is a complete interview: the required
    # questions must then have a column (one message instead of one per row).
    for name, question in questions.items():
        if "disposition" in plan.reserved:
            break
        if question.required and not question.relevant and name not in seen:
            problems.append(Problem(None, name, _("Missing column for the required question "
                                                  "“%(name)s”.", name=name)))
    return problems


def preview_import(campaign: Campaign, filename: str, data: bytes,
                   mapping: Mapping[str, str] | None = None, rows: int = 5) -> dict:
    """What the file's columns map to, the column problems and its first rows (no writes)."""
    _, compiled = _version_of(campaign)
    table = _read(filename, data)
    questions = _answerable(compiled)
    plan = plan_columns(table.headers, questions, mapping)
    locked = not interviews._walk_in_allowed(interviews.CampaignRef.of(campaign))
    return {"rows": len(table.rows), "headers": table.headers, "plan": plan.to_dict(),
            "problems": [p.to_dict() for p in _column_problems(plan, questions, locked)],
            "sample": [[_shown(r.get(h, "")) for h in table.headers] for r in table.rows[:rows]]}


def _shown(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _respondent_text(key: str, value) -> str:
    """A respondent cell as text. A number cell (XLSX) becomes its digits — not "….0" — and
    a phone gets back the national 0 the number cell dropped (0909 123 456 is stored by
    Excel as 909123456), so it reads, and matches in QC, as the same phone typed on a
    device."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(int(value)) if float(value).is_integer() else str(value)
        return restore_leading_zero(text) if key == "phone" else text
    return _shown(value)


# ---- the cached look-ups and the checks ------------------------------------------------------

@dataclass(frozen=True)
class _AssignmentRef:
    id: int
    interviewer_id: int | None
    campaign: interviews.CampaignRef


class _ImportLookups(interviews.Lookups):
    """read_submission's look-ups answered from rows loaded once for the whole file."""

    def __init__(self, campaign: Campaign, version):
        self.campaign_ref = interviews.CampaignRef.of(campaign)
        self.version_ref = version
        self.walk_in = interviews._walk_in_allowed(self.campaign_ref)
        self.assignments: dict[int, _AssignmentRef] = {}
        self.by_unit: dict[str, int] = {}

    def load_assignments(self, campaign: Campaign) -> None:
        """The campaign's assignments as plain rows (what read_submission reads of one): a
        job's progress commits, which would expire ORM objects and reload each of them."""
        rows = db.session.execute(
            select(Assignment.id, Assignment.interviewer_id, SamplingCase.unit_id)
            .join(SamplingCase, SamplingCase.id == Assignment.case_id)
            .where(Assignment.campaign_id == campaign.id))
        for assignment_id, interviewer_id, unit_id in rows:
            self.assignments[assignment_id] = _AssignmentRef(assignment_id, interviewer_id,
                                                             self.campaign_ref)
            self.by_unit[unit_id] = assignment_id

    def assignment(self, assignment_id: int):
        return self.assignments.get(assignment_id)

    def version(self, version_id: int):
        return self.version_ref if version_id == self.version_ref.id else \
            interviews._version_ref(version_id)


def _principal(actor, campaign: Campaign) -> Principal:
    """The web user as themselves; the command line acts as the campaign's supervisor."""
    if actor is None or getattr(actor, "id", None) is None:
        return Principal(None, "cli", {campaign.organisation_id: frozenset({Role.SUPERVISOR})})
    return principal_for_user(actor)


def _row_uuid(value, campaign_id: int, digest: str, line: int) -> object:
    if value in (None, ""):
        return str(uuid_module.uuid5(UUID_NAMESPACE, f"{campaign_id}:{digest}:{line}"))
    text = str(value).strip()
    if text.lower().startswith("uuid:"):
        text = text[5:]
    return text


def _existing(campaign: Campaign, uuids: list[str], explicit: set[str]) -> dict[str, set[str]]:
    """Stored UUIDs among ``uuids`` -> the receipts of all their versions.

    One query over the campaign's interviews; then, for the UUIDs the file gave itself (a
    derived UUID names the campaign and the file, so it cannot exist elsewhere), whether
    another campaign holds them (no receipt of ours can match: reported as changed)."""
    wanted = set(uuids)
    found: dict[str, set[str]] = {}
    rows = db.session.execute(
        select(Interview.uuid, InterviewVersion.content_sha256)
        .join(InterviewVersion, InterviewVersion.interview_id == Interview.id)
        .where(Interview.campaign_id == campaign.id))
    for uuid_text, receipt in rows:
        if uuid_text in wanted:
            found.setdefault(uuid_text, set()).add(receipt)
    elsewhere = sorted(u for u in explicit if u in wanted and u not in found)
    for start in range(0, len(elsewhere), 1000):
        chunk = elsewhere[start:start + 1000]
        for (uuid_text,) in db.session.execute(
                select(Interview.uuid).where(Interview.uuid.in_(chunk))):
            found.setdefault(uuid_text, set())
    return found


def _taken_assignments(campaign: Campaign) -> dict[int, str]:
    return dict(db.session.execute(
        select(Interview.assignment_id, Interview.uuid).where(
            Interview.campaign_id == campaign.id, Interview.assignment_id.is_not(None))).all())


def import_responses(actor, campaign: Campaign, filename: str, data: bytes,
                     mapping: Mapping[str, str] | None = None, *, approve: bool = False,
                     language: str = "vi", progress: Callable[[int, str], None] | None = None,
                     commit: bool = True) -> dict:
    """Check every row, then store all of them in one transaction (or nothing).

    Returns a summary ``{"rows", "imported", "skipped", "status", "file_sha256"}``; raises
    :class:`ImportFailed` (report by row and column) or ``ValidationFailed``."""
    principal = _principal(actor, campaign)
    if approve and not (principal.system_admin or principal.user_id is None
                        or principal.has_role(campaign.organisation_id, *IMPORT_ROLES)):
        raise PermissionDenied(_("Only a supervisor or an organisation administrator may "
                                 "approve imported interviews."))
    version, compiled = _version_of(campaign)
    table = _read(filename, data)
    digest = hashlib.sha256(data).hexdigest()
    questions = _answerable(compiled)
    plan = plan_columns(table.headers, questions, mapping)
    lookups = _ImportLookups(campaign, version)
    problems = _column_problems(plan, questions, not lookups.walk_in)
    if problems:
        _fail(problems, len(table.rows))
    res = plan.reserved
    ids_column, unit_column = res.get("assignment_id"), res.get("unit_id")
    if ids_column or unit_column:
        lookups.load_assignments(campaign)
    column_of = {"uuid": res.get("uuid", "uuid"), "assignment_id": ids_column or unit_column
                 or "assignment_id", "disposition": res.get("disposition", "disposition"),
                 "started_at": res["started_at"], "finished_at": res["finished_at"],
                 "questionnaire_version_id": "", "answers": "", "respondent": "", "": ""}
    column_of.update({name: column for column, name in plan.questions.items()})
    types = {column: questions[name].type for column, name in plan.questions.items()}
    total = len(table.rows)
    accepted: list[tuple[int, interviews.Submission]] = []
    explicit: set[str] = set()  # UUIDs given by the file (not derived)
    seen_uuid: dict[str, tuple[int, str]] = {}
    seen_assignment: dict[int, int] = {}
    count = 0

    def problem(row, column, message):
        nonlocal count
        count += 1
        if len(problems) < MAX_REPORTED:
            problems.append(Problem(row, column, message))

    for index, row in enumerate(table.rows):
        line = row["_line"]
        if progress and index and index % CHUNK == 0:
            progress(5 + int(70 * index / total), _("Checking row %(n)s of %(total)s",
                                                   n=index, total=total))
        payload = {
            "uuid": _row_uuid(row.get(res["uuid"]) if "uuid" in res else None, campaign.id,
                              digest, line),
            "assignment_id": None, "questionnaire_version_id": version.id,
            "started_at": convert_time(row.get(res["started_at"])),
            "finished_at": convert_time(row.get(res["finished_at"])),
            "disposition": (str(row.get(res["disposition"]) or "").strip().lower()
                            if "disposition" in res else "") or Disposition.COMPLETE.value,
            "answers": {}, "respondent": {},
        }
        if ids_column and row.get(ids_column) not in (None, ""):
            payload["assignment_id"] = convert_integer(row.get(ids_column))
        elif unit_column and row.get(unit_column) not in (None, ""):
            unit = str(convert_integer(row.get(unit_column)))
            if unit not in lookups.by_unit:
                problem(line, unit_column, _("No case of this campaign's sample has unit id "
                                             "“%(unit)s”.", unit=unit))
                continue
            payload["assignment_id"] = lookups.by_unit[unit]
        for column, name in plan.questions.items():
            value = convert_cell(row.get(column), types[column])
            if value is not None:
                payload["answers"][name] = value
        for column, key in plan.respondent.items():
            value = row.get(column)
            if value not in (None, ""):
                payload["respondent"][key] = _respondent_text(key, value)
        try:
            s = interviews.read_submission(principal, payload, language, lookups=lookups)
        except interviews.SubmissionInvalid as exc:
            for name, message in exc.fields.items():
                problem(line, column_of.get(name, name), message)
            continue
        except PermissionDenied as exc:
            problem(line, column_of["assignment_id"], exc.message)
            continue
        first = seen_uuid.get(s.uuid)
        if first is not None:
            if first[1] != s.receipt:
                problem(line, column_of["uuid"], _("The same UUID as row %(row)s, with "
                                                   "different content.", row=first[0]))
            continue  # an identical repeat of a row is stored once
        seen_uuid[s.uuid] = (line, s.receipt)
        if "uuid" in res and row.get(res["uuid"]) not in (None, ""):
            explicit.add(s.uuid)
        if s.assignment is not None:
            other = seen_assignment.get(s.assignment.id)
            if other is not None:
                problem(line, column_of["assignment_id"], _(
                    "Row %(row)s already has an interview for this case; one interview per "
                    "case.", row=other))
                continue
            seen_assignment[s.assignment.id] = line
        accepted.append((line, s))
    if progress:
        progress(78, _("Comparing with the stored interviews"))
    stored = _existing(campaign, [s.uuid for _, s in accepted], explicit)
    taken = _taken_assignments(campaign) if any(s.assignment for _, s in accepted) else {}
    new: list[interviews.Submission] = []
    skipped = 0
    for line, s in accepted:
        receipts = stored.get(s.uuid)
        if receipts is not None:
            if s.receipt in receipts:
                skipped += 1
            else:
                problem(line, column_of["uuid"], _(
                    "An interview with this UUID is already stored with different content; "
                    "an import does not change stored interviews (correct it on the review "
                    "page)."))
            continue
        if s.assignment is not None and s.assignment.id in taken:
            problem(line, column_of["assignment_id"],
                    interviews.message("assignment_taken", language))
            continue
        new.append(s)
    if problems:
        _fail(problems, total, count)
    status = ReviewStatus.APPROVED.value if approve else ReviewStatus.SUBMITTED.value
    if progress:
        progress(85, _("Storing %(n)s interviews", n=len(new)))
    try:
        _store(actor, campaign, new, status, approve)
    except IntegrityError:  # an interview of one of these UUIDs/cases arrived meanwhile
        _fail([Problem(None, column_of["uuid"], _(
            "Another interview with one of these UUIDs or cases was stored while the file "
            "was being checked; import the file again."))], total)
    summary = {"rows": total, "imported": len(new), "skipped": skipped, "status": status,
               "file_sha256": digest}
    if new:
        audit.insert_event(_audit_actor(actor), AuditAction.IMPORT, object_type="interview",
                           object_id="*", organisation_id=campaign.organisation_id,
                           after={**summary, "campaign_id": campaign.id,
                                  "filename": filename[:200], "approved": approve},
                           summary=f"{len(new)} interviews imported from {filename[:100]}")
    if commit:
        db.session.commit()
    return summary


def _audit_actor(actor):
    return actor if actor is not None and getattr(actor, "login", None) else None


def _fail(problems: list[Problem], rows: int, count: int | None = None) -> None:
    db.session.rollback()
    total = count if count is not None else len(problems)
    total = max(total, len(problems))
    raise ImportFailed(_("The file was not imported: %(n)s problem(s) found in %(rows)s "
                         "row(s). Nothing was stored.", n=total, rows=rows),
                       problems[:MAX_REPORTED], total)


_INSERT_INTERVIEW = insert(Interview.__table__)
_INSERT_VERSION = insert(InterviewVersion.__table__)
_INSERT_RESPONDENT = insert(InterviewRespondent.__table__)
_INSERT_KEY = insert(RespondentKey.__table__)
_UPDATE_ASSIGNMENT = (update(Assignment.__table__)
                      .where(Assignment.__table__.c.id == bindparam("a_id"))
                      .values(status=bindparam("a_status"),
                              disposition=bindparam("a_disposition")))


def _store(actor, campaign: Campaign, new: list[interviews.Submission], status: str,
           approve: bool) -> None:
    """Bulk INSERTs in the caller's transaction, with the API's row builders.

    Plain executemany (one parsed statement, parameters streamed; no RETURNING, whose
    multi-row statements cost more to build than the rows): the new ids are read back once
    per table by the import's own timestamp and campaign, with no long IN lists."""
    if not new:
        return
    actor_id = getattr(actor, "id", None)
    now = utcnow()
    conn = db.session.connection()
    a_status = (AssignmentStatus.APPROVED if approve else AssignmentStatus.SUBMITTED).value
    rows = []
    for s in new:
        row = interviews.interview_row(s, actor_id, now, status)
        if approve:
            row["reviewed_by_id"], row["reviewed_at"] = actor_id, now
        rows.append(row)
    for start in range(0, len(rows), CHUNK):
        conn.execute(_INSERT_INTERVIEW, rows[start:start + CHUNK])
    ids = dict(conn.execute(select(Interview.uuid, Interview.id).where(
        Interview.campaign_id == campaign.id, Interview.created_at == now)).all())
    versions = [interviews.version_row(s, ids[s.uuid], actor_id, now) for s in new]
    for start in range(0, len(versions), CHUNK):
        conn.execute(_INSERT_VERSION, versions[start:start + CHUNK])
    version_of = dict(conn.execute(
        select(InterviewVersion.interview_id, InterviewVersion.id)
        .join(Interview, Interview.id == InterviewVersion.interview_id)
        .where(Interview.campaign_id == campaign.id, InterviewVersion.created_at == now,
               InterviewVersion.number == 1)).all())
    with_respondent = [s for s in new if s.respondent]
    respondents = [interviews.respondent_row(s, version_of[ids[s.uuid]])
                   for s in with_respondent]
    for start in range(0, len(respondents), CHUNK):
        conn.execute(_INSERT_RESPONDENT, respondents[start:start + CHUNK])
    # QC: the keyed hash of the contact data, as the API stores it (respondent_keys).
    hash_secret = respondent_keys.hash_key()
    keys = []
    for s in with_respondent:
        key_hash = respondent_key(s.respondent, hash_secret)
        if key_hash is not None:
            keys.append({"version_id": version_of[ids[s.uuid]], "campaign_id": campaign.id,
                         "key_hash": key_hash})
    for start in range(0, len(keys), CHUNK):
        conn.execute(_INSERT_KEY, keys[start:start + CHUNK])
    marked = [{"a_id": s.assignment.id, "a_status": a_status, "a_disposition": s.disposition}
              for s in new if s.assignment is not None]
    for start in range(0, len(marked), CHUNK):
        conn.execute(_UPDATE_ASSIGNMENT, marked[start:start + CHUNK])


def campaign_for_cli(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise ValidationFailed(_("There is no campaign %(id)s.", id=campaign_id))
    return campaign





def submit_import_job(owner, campaign: Campaign, filename: str, data: bytes,
                      mapping: Mapping[str, str] | None, approve: bool, language: str = "vi"):
    """Check that the file can be read and its columns mapped (fast), then import it in the
    background with a progress bar; the job's result carries the summary or the report."""
    from . import jobs

    principal = _principal(owner, campaign)
    if approve and not (principal.system_admin
                        or principal.has_role(campaign.organisation_id, *IMPORT_ROLES)):
        raise PermissionDenied(_("Only a supervisor or an organisation administrator may "
                                 "approve imported interviews."))
    try:
        preview = preview_import(campaign, filename, data, mapping)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={"file": exc.message}) from None
    return jobs.submit_job(owner, "response_import", {
        "campaign_id": campaign.id, "filename": filename[:200], "mapping": dict(mapping or {}),
        "approve": bool(approve), "language": language, "rows": preview["rows"]}, data,
        organisation_id=campaign.organisation_id)
