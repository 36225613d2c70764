"""Exports for statisticians: the analysis extract of a campaign as CSV, XLSX, SPSS or Stata.

The extract has one row per approved interview (its current version, exactly what
``interviews.approved_interviews`` returns) and these columns, in order:

* ``resp_id`` — a pseudonym: the interview's id (it leads back to the database only for
  those allowed to read it there); ``disposition`` (AAPOR code, numeric with labels) and
  ``int_date`` (the date the interview finished);
* the design variables of the locked sampling plan: ``stratum``, ``psu``, ``pik`` (first-order
  inclusion probability) and ``weight`` (after the reserves opened: ``campaign_weights``' rule);
  empty for walk-in interviews, which have no case;
* the questionnaire's questions in document order (``note`` items skipped): single choice
  and Likert as numeric codes with the choice lists' Vietnamese labels (a list whose codes are
  all whole numbers keeps them; otherwise the choices are numbered 1, 2, … in order, and the
  codebook says which code is which); a multiple choice as one 0/1 variable per choice,
  ``<question>_<code>``; numbers as numbers; dates as dates; text as text; calculated fields
  (numeric if every value is a number, otherwise text);
* ``na`` / ``dk`` as the codes of :mod:`surveyapp.reporting.datasets` (−99/−98, SPSS
  user-missing, Stata ``.a``/``.b``).

Identifying data never enter: the query selects named columns of the interview, its current
version, its assignment and its case — never ``InterviewRespondent`` and never
``SamplingCase.data`` (the frame's name/phone/address label columns). Free-text answers
(``text``, ``long_text``) may hold what a respondent wrote about themselves, so an export
leaves them out unless its requester includes them; every export is in the audit log, with
its format, rows and whether free text went in.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    Assignment,
    Campaign,
    Interview,
    InterviewVersion,
    Job,
    QuestionnaireVersion,
    SamplingCase,
)
from ..models._types import as_utc
from ..models.codes import (
    DISPOSITION_LABELS,
    AuditAction,
    Disposition,
    JobStatus,
)
from ..questionnaires import Questionnaire as Definition
from ..reporting import datasets
from ..reporting.datasets import DK, NA, Dataset, Variable
from . import audit
from .answer_sql import answer_json_text, json_value
from .assignments import case_weight, locked_plan, reserve_factors
from .interviews import approved_condition
from .jobs import job_status, submit_job

JOB_KIND = "campaign_export"
FREE_TEXT_TYPES = ("text", "long_text")  # answers a respondent writes in their own words
INLINE_MAX_ROWS = 5000  # at most this many rows are written during the request
FORMAT_LABELS = {  # names of file types, the same in every language
    "sav": "SPSS (.sav)",
    "dta": "Stata (.dta)",
    "xlsx": "Excel (.xlsx)",
    "csv": "CSV (.zip)",
}
MEDIA_TYPES = {
    "csv": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
}
DISPOSITION_CODES = {d.value: i for i, d in enumerate(Disposition, start=1)}
SKIPPED_TYPES = ("note",)
NUMERIC_TYPES = ("integer", "decimal", "rating")


@dataclass(frozen=True)
class ExportFile:
    """A finished export: its file (a job's) or its bytes (a small one), and its name."""

    path: Path | None
    filename: str
    media_type: str
    data: bytes | None = None


# ---- checks ---------------------------------------------------------------------------------

def check_format(fmt: str | None) -> str:
    fmt = (fmt or "").strip().lower()
    if fmt not in datasets.FORMATS:
        message = _("Unknown export format. Choose one of: %(formats)s.",
                    formats=", ".join(datasets.FORMATS))
        raise ValidationFailed(message, fields={"format": message})
    return fmt


def count_approved(campaign: Campaign) -> int:
    return db.session.scalar(
        select(func.count()).select_from(InterviewVersion)
        .join(Interview, Interview.id == InterviewVersion.interview_id)
        .where(*approved_condition(campaign.id))) or 0


def _no_rows() -> ValidationFailed:
    return ValidationFailed(_("This campaign has no approved interviews yet: there is "
                              "nothing to export."))


# ---- the extract ------------------------------------------------------------------------------

def _definitions(version_ids: set[int]) -> list[Definition]:
    """The questionnaire versions used, newest first."""
    rows = db.session.execute(select(QuestionnaireVersion.id, QuestionnaireVersion.document)
                              .where(QuestionnaireVersion.id.in_(version_ids))
                              .order_by(QuestionnaireVersion.id.desc())).all()
    return [Definition.from_dict(doc) for _id, doc in rows]


def _text(label: dict, fallback: str) -> str:
    return label.get("vi") or label.get("en") or fallback


def _choice_codes(choice_list) -> dict[str, int]:
    codes = choice_list.codes() if choice_list else []
    try:
        numbers = [int(c) for c in codes]
        if all(str(n) == c for n, c in zip(numbers, codes)):
            return dict(zip(codes, numbers))
    except ValueError:
        pass
    return {c: i for i, c in enumerate(codes, start=1)}


def _specials(question) -> tuple[str, ...]:
    return tuple(s for s, allowed in ((NA, question.allow_na), (DK, question.allow_dk))
                 if allowed)


class _Column:
    """How one question becomes one or more variables (the recipe, then the values)."""

    def __init__(self, question, definition: Definition):
        self.q = question
        self.name = question.name
        self.type = question.type
        self.calculated = question.type == "calculate"
        self.label = _text(question.label, question.name)
        self.choice_list = definition.choice_list(question.list_name)
        self.codes = _choice_codes(self.choice_list) if self.type in (
            "select_one", "likert", "select_multiple") else {}

    def wanted_names(self) -> list[str]:
        if self.type == "select_multiple":
            return [f"{self.name}_{code}" for code in self.codes]
        return [self.name]

    def variables(self, names: list[str], values: list[list]) -> list[Variable]:
        specials = _specials(self.q)
        if self.type == "select_multiple":
            out = []
            for name, code in zip(names, self.codes):
                choice = self.choice_list.get(code)
                label = f"{self.label}: {_text(choice.label, code)}"
                out.append(Variable(name, label, "numeric", {0: _("Not chosen"), 1: _("Chosen")},
                                    specials, f"{self.name} = {code}"))
            return out
        if self.type in ("select_one", "likert"):
            labels = {number: _text(self.choice_list.get(code).label, code)
                      for code, number in self.codes.items()}
            return [Variable(names[0], self.label, "numeric", labels, specials, self.name)]
        if self.type in NUMERIC_TYPES:
            return [Variable(names[0], self.label, "numeric", {}, specials, self.name)]
        if self.type == "date":
            return [Variable(names[0], self.label, "date", {}, (), self.name)]
        if self.type == "calculate":
            numeric = all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                          for v in values[0])
            return [Variable(names[0], self.label, "numeric" if numeric else "string", {}, (),
                             self.name)]
        return [Variable(names[0], self.label, "string", {}, (), self.name)]

    def document_cells(self, answers: dict, calculated: dict) -> list:
        """The variables' values of one answer document (a calculation: the server's value)."""
        return self.cells(calculated.get(self.name, answers.get(self.name)) if self.calculated
                          else answers.get(self.name))

    def column_cells(self, texts) -> list[list]:
        """The variables' values (one list per variable) of a column of the question's JSON
        texts read in SQL (``answer_sql.answer_json_text``; NULL, None or NaN when absent).

        A column holds few distinct texts (codes, ``na``/``dk``): they are found by pandas'
        hashing (C), each is decoded and turned into cells once, and the column is taken
        from them by position — no Python call per row.
        """
        codes, uniques = pd.factorize(np.asarray(texts, dtype=object))  # None/NaN: -1
        table = [self.cells(json.loads(text)) for text in uniques] + [self.cells(None)]
        out = []
        for k in range(len(self.wanted_names())):
            cells = np.empty(len(table), dtype=object)
            cells[:] = [row[k] for row in table]
            out.append(cells[codes].tolist())  # code -1: the last entry, an absent answer
        return out

    def cells(self, value) -> list:
        if self.type == "calculate":
            return [value if value is None or isinstance(value, (int, float, str))
                    and not isinstance(value, bool) else str(value)]
        if self.type == "select_multiple":
            if value in (NA, DK):
                return [value] * len(self.codes)
            if not isinstance(value, list):
                return [None] * len(self.codes)
            chosen = set(value)
            return [1 if code in chosen else 0 for code in self.codes]
        if value is None:
            return [None]
        if self.type in ("select_one", "likert"):
            if value in (NA, DK):
                return [value]
            return [self.codes.get(value)]
        if self.type in NUMERIC_TYPES:
            if value in (NA, DK) or isinstance(value, (int, float)):
                return [value]
            return [None]
        if self.type == "date":
            try:
                return [date.fromisoformat(value)]
            except (TypeError, ValueError):
                return [None]
        return [str(value)]


def _columns(definitions: list[Definition]) -> list[_Column]:
    """Questions in the newest version's order, then those only older versions had."""
    seen: set[str] = set()
    out: list[_Column] = []
    for definition in definitions:
        for question in definition.questions():
            if question.type in SKIPPED_TYPES or question.name in seen:
                continue
            seen.add(question.name)
            out.append(_Column(question, definition))
    return out


def _version_ids(campaign: Campaign) -> set[int]:
    """The questionnaire versions of the campaign's approved interviews."""
    return set(db.session.scalars(
        select(InterviewVersion.questionnaire_version_id).distinct()
        .join(Interview, Interview.id == InterviewVersion.interview_id)
        .where(*approved_condition(campaign.id))))


def _query(campaign: Campaign, columns: list[_Column]):
    """The extract's raw rows: named columns only, never identifying data (``_FIXED_COLUMNS``,
    then the questions' JSON texts, and the calculated values if a column needs them)."""
    answers = [answer_json_text(c.name) for c in columns]
    if any(c.type == "calculate" for c in columns):
        answers.append(InterviewVersion.calculated)
    return (
        select(Interview.id, InterviewVersion.disposition, InterviewVersion.finished_at,
               InterviewVersion.questionnaire_version_id, SamplingCase.id.label("case_id"),
               SamplingCase.stratum, SamplingCase.psu, SamplingCase.pik,
               SamplingCase.weight.label("case_weight"), SamplingCase.plan_id, *answers)
        .select_from(InterviewVersion)
        .join(Interview, Interview.id == InterviewVersion.interview_id)
        .outerjoin(Assignment, Assignment.id == Interview.assignment_id)
        .outerjoin(SamplingCase, SamplingCase.id == Assignment.case_id)
        .where(*approved_condition(campaign.id))
        .order_by(Interview.id))


def _columns_of(campaign: Campaign, columns: list[_Column]) -> list:
    """The query's result by columns: each question's answer as JSON text read in SQL, not
    whole answer documents decoded row by row (100,000 interviews x 34 variables: 5.1 s ->
    2.0 s, benchmarks/README.md) — on PostgreSQL by ``COPY`` (``_copied_columns``)."""
    query = _query(campaign, columns)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return _copied_columns(connection, query)
    # a few short texts a row, by Core (no ORM row processing), transposed in C
    return list(zip(*connection.execute(query).all()))


def _copied_columns(connection, query) -> list:
    """The query's columns read by ``COPY … TO STDOUT`` as CSV and parsed by pandas' C reader.

    Why: for 200,000 interviews, fetching rows through the driver and SQLAlchemy and turning
    them into columns took as long as everything else in a scorecard run together. Types are
    restored here as the driver would have given them (NULL as None).
    """
    sql = query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    buffer = io.BytesIO()
    cursor = connection.connection.driver_connection.cursor()  # in the session's transaction
    # the text forms parsed below, whatever the server's settings: ISO dates, exact floats
    cursor.execute("SET LOCAL datestyle = 'ISO, YMD'")
    cursor.execute("SET LOCAL extra_float_digits = 3")
    command = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true, NULL '\\N')"
    with cursor.copy(command) as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    frame = pd.read_csv(buffer, dtype=str, na_values=["\\N"], keep_default_na=False,
                        encoding="utf-8")
    if frame.empty:
        return []

    def nullable(name, convert=None):
        values = frame[name].tolist()
        return [None if v != v else (convert(v) if convert else v) for v in values]  # NaN: NULL

    out = [frame["id"].astype("int64").tolist(), frame["disposition"].tolist(),
           pd.to_datetime(frame["finished_at"], utc=True, format="ISO8601"),  # _local_dates
           nullable("questionnaire_version_id", int), nullable("case_id", int),
           nullable("stratum"), nullable("psu"), nullable("pik", float),
           nullable("case_weight", float), nullable("plan_id", int)]
    for name in frame.columns[len(_FIXED_COLUMNS):]:
        if name == "calculated":
            out.append(nullable(name, json.loads))
        else:
            out.append(frame[name].to_numpy(dtype=object))  # JSON texts; NaN where NULL
    return out


# The positions of the fixed columns in ``_query``'s rows; the questions' columns follow.
_FIXED_COLUMNS = ("id", "disposition", "finished_at", "questionnaire_version_id", "case_id",
                  "stratum", "psu", "pik", "case_weight", "plan_id")


def _local_dates(moments, zone: ZoneInfo) -> list[date | None]:
    """The calendar dates in Vietnam of the rows' times (a pandas series of UTC times from
    ``_copied_columns``: converted at once)."""
    if isinstance(moments, pd.Series):
        return [None if d is pd.NaT else d for d in moments.dt.tz_convert(zone).dt.date]
    return [_local_date(moment, zone) for moment in moments]


def _local_date(moment: datetime | None, zone: ZoneInfo) -> date | None:
    """The calendar date in Vietnam (a naive time from the database is UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def build_extract(campaign: Campaign, progress=None, questions=None,
                  free_text: bool = True) -> Dataset:
    """The analysis extract of the campaign's approved interviews (see the module doc).

    ``questions``: only these questions' variables (the design variables always); turning
    every answer of a large campaign into cells is most of the extract's time.
    ``free_text``: False leaves out the free-text questions (an export's default).
    """
    version_ids = _version_ids(campaign)
    if not version_ids:
        raise _no_rows()
    columns = _columns(_definitions(version_ids))
    if questions is not None:
        columns = [c for c in columns if c.name in questions]
    if not free_text:
        columns = [c for c in columns if c.type not in FREE_TEXT_TYPES]
    by_column = _columns_of(campaign, columns)
    if not by_column:
        raise _no_rows()
    if progress:
        progress(0.25)
    plan = locked_plan(campaign)
    factors = {} if plan is None else reserve_factors(campaign, plan)
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")
    (ids, dispositions, finished, _versions, case_ids, strata, psus, piks, case_weights,
     plans) = by_column[:len(_FIXED_COLUMNS)]
    fixed: dict[str, list] = {
        "resp_id": list(ids),
        "disposition": [DISPOSITION_CODES.get(d) for d in dispositions],
        "int_date": _local_dates(finished, zone),
        "stratum": list(strata), "psu": list(psus), "pik": list(piks),
        # campaign_weights' rule, from the cases' own columns and their groups' factors
        "weight": [case_weight(pik, w, factors.get((stratum, psu), 1.0))
                   if plan is not None and plan_id == plan.id else None
                   for pik, w, stratum, psu, plan_id in zip(piks, case_weights, strata, psus,
                                                            plans)],
    }
    texts = by_column[len(_FIXED_COLUMNS):]
    values = [column.column_cells(texts[position]) if column.type != "calculate" else
              [[column.document_cells({column.name: json_value(text)}, calc or {})[0]
                for text, calc in zip(texts[position], texts[-1])]]
              for position, column in enumerate(columns)]
    if progress:
        progress(0.5)
    with force_locale("vi"):
        disposition_labels = {DISPOSITION_CODES[d.value]: str(DISPOSITION_LABELS[d])
                              for d in Disposition}
        fixed_variables = [
            Variable("resp_id", _("Respondent id (a pseudonym, not identifying)"),
                     source="interview.id"),
            Variable("disposition", _("Disposition (AAPOR)"), "numeric", disposition_labels,
                     source="interview.disposition"),
            Variable("int_date", _("Interview date"), "date", source="interview.finished_at"),
            Variable("stratum", _("Stratum (sample design)"), "string", source="sampling plan"),
            Variable("psu", _("Primary sampling unit (PSU)"), "string", source="sampling plan"),
            Variable("pik", _("Inclusion probability"), source="sampling plan"),
            Variable("weight", _("Design weight (after the reserves used)"),
                     source="sampling plan"),
        ]
        wanted = [v.name for v in fixed_variables] + [n for c in columns
                                                      for n in c.wanted_names()]
        names = datasets.variable_names(wanted)
        variables = list(fixed_variables)
        data = dict(fixed)
        position = len(fixed_variables)
        for column, lists in zip(columns, values):
            chunk = names[position:position + len(lists)]
            position += len(lists)
            variables.extend(column.variables(chunk, lists))
            data.update(zip(chunk, lists))
    return Dataset(variables, data, title=campaign.title)


# ---- files ----------------------------------------------------------------------------------

# The files this module writes into EXPORT_DIR (which may be shared with other things): a
# job's file, a small export while it is written, a file being written.
_JOB_PREFIX, _INLINE_PREFIX, _PARTIAL_SUFFIX = "job-", "inline-", ".part"


def purge_exports(now: float | None = None, dry_run: bool = False) -> list[str]:
    """Delete the export files older than EXPORT_RETENTION_HOURS: they hold row-level data,
    which should not pile up on a disk. Runs before every export job and as
    ``flask exports purge`` (for cron). Returns the names deleted (or that would be)."""
    cutoff = (time.time() if now is None else now) - \
        float(current_app.config["EXPORT_RETENTION_HOURS"]) * 3600
    removed = []
    for path in sorted(export_dir().iterdir()):
        ours = path.name.startswith((_JOB_PREFIX, _INLINE_PREFIX)) or \
            path.name.endswith(_PARTIAL_SUFFIX)
        try:
            old = path.is_file() and ours and path.stat().st_mtime < cutoff
            if old and not dry_run:
                path.unlink()
        except FileNotFoundError:
            continue  # another worker purged it first
        if old:
            removed.append(path.name)
    return removed


def available_until(job: Job) -> datetime | None:
    """When a finished export job's file will be deleted."""
    if job.finished_at is None:
        return None
    hours = float(current_app.config["EXPORT_RETENTION_HOURS"])
    return as_utc(job.finished_at) + timedelta(hours=hours)


def export_dir() -> Path:
    path = Path(current_app.config.get("EXPORT_DIR") or
                Path(current_app.instance_path) / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def download_name(campaign: Campaign, fmt: str) -> str:
    return f"campaign-{campaign.id}-extract.{datasets.EXTENSIONS[fmt]}"


def write_export(campaign: Campaign, fmt: str, path: Path, progress=None,
                 free_text: bool = False) -> int:
    """Build the extract and write it to ``path`` (atomically: a temporary file, renamed)."""
    fmt = check_format(fmt)
    dataset = build_extract(campaign, progress, free_text=free_text)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=_PARTIAL_SUFFIX)
    os.close(descriptor)
    try:
        datasets.write(dataset, fmt, temporary,
                       (lambda f: progress(0.5 + 0.5 * f)) if progress else None)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return dataset.n_rows


def request_export(owner, campaign: Campaign, fmt: str | None,
                   free_text: bool = False) -> ExportFile | Job:
    """A small export is written at once; a large one becomes a background job. Either way
    the audit log records who exported what (format, rows, free text or not)."""
    fmt = check_format(fmt)
    n = count_approved(campaign)
    if n == 0:
        raise _no_rows()
    limit = current_app.config.get("EXPORT_INLINE_MAX_ROWS") or INLINE_MAX_ROWS
    if n > limit:
        _record_export(owner, campaign, fmt, n, free_text)  # committed with the job
        return submit_job(owner, JOB_KIND, {"campaign_id": campaign.id, "format": fmt,
                                            "free_text": free_text},
                          organisation_id=campaign.organisation_id)
    descriptor, name = tempfile.mkstemp(dir=export_dir(), prefix=_INLINE_PREFIX,
                                        suffix=f".{fmt}")
    os.close(descriptor)
    path = Path(name)
    try:
        rows = write_export(campaign, fmt, path, free_text=free_text)
        data = path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
    _record_export(owner, campaign, fmt, rows, free_text)
    db.session.commit()
    return ExportFile(None, download_name(campaign, fmt), MEDIA_TYPES[fmt], data)


def _record_export(owner, campaign: Campaign, fmt: str, rows: int, free_text: bool) -> None:
    audit.record(owner, AuditAction.EXPORT, campaign, organisation_id=campaign.organisation_id,
                 after={"format": fmt, "rows": rows, "free_text": free_text},
                 summary=f"{campaign.title[:200]} ({fmt}, {rows})")


def run_export_job(job: Job, progress) -> dict:
    """The job kind's body: write the file into the instance folder, named by the job."""
    campaign = db.session.get(Campaign, job.params.get("campaign_id"))
    if campaign is None:
        raise NotFound(_("The campaign no longer exists."))
    fmt = check_format(job.params.get("format"))
    purge_exports()
    path = export_dir() / f"{_JOB_PREFIX}{job.id}.{datasets.EXTENSIONS[fmt]}"
    rows = write_export(campaign, fmt, path,
                        lambda f: progress(int(5 + 90 * f), _("Writing the export")),
                        free_text=bool(job.params.get("free_text")))
    return {"rows": rows, "format": fmt, "size_mb": round(path.stat().st_size / 1e6, 2)}


@dataclass(frozen=True)
class ExportPage:
    """What the export page shows: how many rows an export would have, the caller's jobs."""

    approved: int
    jobs: list[Job]
    statuses: dict[int, dict]
    formats: dict[str, str]
    available_until: dict[int, datetime | None]


def export_page(campaign: Campaign, owner_id: int | None) -> ExportPage:
    jobs = export_jobs(campaign, owner_id)
    return ExportPage(count_approved(campaign), jobs, {j.id: job_status(j) for j in jobs},
                      FORMAT_LABELS, {j.id: available_until(j) for j in jobs})


def export_jobs(campaign: Campaign, owner_id: int | None) -> list[Job]:
    """The caller's export jobs of this campaign, newest first."""
    jobs = db.session.scalars(select(Job).where(Job.kind == JOB_KIND, Job.owner_id == owner_id)
                              .order_by(Job.id.desc()).limit(200))
    return [j for j in jobs if j.params.get("campaign_id") == campaign.id][:20]


def job_file(campaign: Campaign, job_id: int | None) -> ExportFile:
    """The file a finished export job wrote, or a clear refusal."""
    job = db.session.get(Job, job_id) if job_id is not None else None
    if job is None or job.kind != JOB_KIND or job.params.get("campaign_id") != campaign.id:
        raise NotFound(_("There is no such export of this campaign."))
    if job.status != JobStatus.DONE:
        raise NotFound(_("This export is not finished."))
    fmt = job.params["format"]
    path = export_dir() / f"{_JOB_PREFIX}{job.id}.{datasets.EXTENSIONS[fmt]}"
    if not path.exists():
        raise NotFound(_("The export file is no longer available; export again."))
    return ExportFile(path, download_name(campaign, fmt), MEDIA_TYPES[fmt])
