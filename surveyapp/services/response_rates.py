"""Response, cooperation and refusal rates of a campaign's field work (AAPOR), by group.

Which disposition a case has (``basis``):

* ``"approved"`` (the default, what analysis will see): a case counts with the disposition
  of its interview's current version once a supervisor has **approved** it. A case whose
  interview waits for review, was returned or is in conflict, or was rejected, and a case
  with no interview yet, counts as **unknown eligibility** (UH/UO): AAPOR treats cases never
  finalised as of unknown eligibility, which keeps the rates conservative during field work.
  These cases are also shown apart as ``in_field`` so that a low rate early on is legible.
* ``"current"``: the current version's disposition of every interview that is not rejected
  (the field's latest word, before review).

Every case of the locked sample that was assigned is a case (a replaced non-response stays
one, and its reserve is another); walk-in interviews (no assignment) are cases too.
Groups: the whole survey, the stratum of the case, the agency (the answer to the
questionnaire's first agency question; blank when unanswered), and the interviewer.
Weighted rates sum the cases' base weights (walk-ins weigh 1) instead of counting them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..errors import DomainError
from ..extensions import db
from ..models import (
    Assignment,
    Campaign,
    Interview,
    InterviewVersion,
    QuestionnaireVersion,
    SamplingCase,
    User,
)
from ..models.codes import ReviewStatus
from ..quality.rates import DispositionCounts, outcome_rates
from ..reporting import tabular
from .answer_sql import answer_json_text, json_value

BASES = ("approved", "current")
DIMENSIONS = ("survey", "stratum", "agency", "interviewer")
UNKNOWN = "unknown_eligibility"
RATE_COLUMNS = ("dimension", "group", "n", "I", "P", "R", "NC", "O", "U", "NE", "in_field",
                "e", "rr1", "rr3", "coop1", "ref1", "ref2", "ref3")


class BadRateOptions(DomainError):
    pass


@dataclass(frozen=True)
class CaseOutcome:
    """One case as the rates see it (plain data)."""

    disposition: str
    weight: float
    in_field: bool
    stratum: str
    agency: str
    interviewer: str
    interviewer_id: int | None = None


def _agency_question(document: dict) -> str | None:
    def visit(children):
        for c in children or []:
            if c.get("type") == "agency" and "children" not in c:
                return c["name"]
            found = visit(c.get("children"))
            if found:
                return found
        return None

    return visit((document or {}).get("children"))


def _outcome(interview, basis: str) -> tuple[str, bool]:
    """(disposition, in field) of a case whose interview (a row: status, disposition) is given."""
    if interview is None:
        return UNKNOWN, True
    if basis == "approved":
        if interview.status == ReviewStatus.APPROVED.value:
            return interview.disposition, False
        return UNKNOWN, interview.status != ReviewStatus.REJECTED.value
    if interview.status == ReviewStatus.REJECTED.value:
        return UNKNOWN, False
    return interview.disposition, interview.status != ReviewStatus.APPROVED.value


def case_outcomes(campaign: Campaign, basis: str = "approved") -> list[CaseOutcome]:
    """Every case of the campaign with its disposition under ``basis`` (see the module).

    Plain column queries (no ORM objects): a campaign of 30,000 cases is counted in well under
    a second, and the cases' identifying columns (encrypted) are never read.
    """
    if basis not in BASES:
        raise BadRateOptions(_("Unknown basis of dispositions."))
    interviewer = aliased(User)
    interviews = db.session.execute(
        select(Interview.id, Interview.assignment_id, Interview.status, Interview.disposition,
               Interview.interviewer_id, interviewer.full_name)
        .outerjoin(interviewer, interviewer.id == Interview.interviewer_id)
        .where(Interview.campaign_id == campaign.id)).all()
    agencies = _agencies(campaign)

    def agency_of(interview) -> str:
        return agencies.get(interview.id, "") if interview is not None else ""

    by_assignment = {i.assignment_id: i for i in interviews if i.assignment_id is not None}
    out = []
    for a in db.session.execute(
            select(Assignment.id, Assignment.interviewer_id, SamplingCase.weight,
                   SamplingCase.stratum, interviewer.full_name)
            .join(SamplingCase, SamplingCase.id == Assignment.case_id)
            .outerjoin(interviewer, interviewer.id == Assignment.interviewer_id)
            .where(Assignment.campaign_id == campaign.id).order_by(Assignment.id)):
        interview = by_assignment.get(a.id)
        disposition, in_field = _outcome(interview, basis)
        out.append(CaseOutcome(disposition, float(a.weight or 1.0), in_field, a.stratum or "",
                               agency_of(interview), a.full_name or "", a.interviewer_id))
    for i in interviews:
        if i.assignment_id is None:
            disposition, in_field = _outcome(i, basis)
            out.append(CaseOutcome(disposition, 1.0, in_field, "", agency_of(i),
                                   i.full_name or "", i.interviewer_id))
    return out


def _agencies(campaign: Campaign) -> dict[int, str]:
    """{interview id: the agency answered in its current version} ("" for none, na, dk).

    Only the agency question's answer is read (in SQL, per questionnaire version: the
    question's name may differ), never the whole answer documents.
    """
    current = (InterviewVersion.number == Interview.version,
               Interview.campaign_id == campaign.id)
    version_ids = db.session.scalars(
        select(InterviewVersion.questionnaire_version_id).distinct()
        .join(Interview, Interview.id == InterviewVersion.interview_id).where(*current)).all()
    out: dict[int, str] = {}
    for version_id in version_ids:
        name = _agency_question(db.session.scalar(
            select(QuestionnaireVersion.document).where(QuestionnaireVersion.id == version_id)))
        if not name:
            continue
        texts: dict = {}
        for interview_id, text in db.session.execute(
                select(InterviewVersion.interview_id, answer_json_text(name))
                .join(Interview, Interview.id == InterviewVersion.interview_id)
                .where(*current, InterviewVersion.questionnaire_version_id == version_id)):
            if text not in texts:
                value = json_value(text)
                texts[text] = str(value) if value not in (None, "", "na", "dk") else ""
            out[interview_id] = texts[text]
    return out


def _group_key(case: CaseOutcome, dimension: str) -> tuple[str, int | None]:
    """(label, id): interviewers are told apart by id (two may share a name)."""
    if dimension == "survey":
        return "", None
    if dimension == "interviewer":
        return case.interviewer, case.interviewer_id
    return getattr(case, dimension), None


def rate_rows(campaign: Campaign, basis: str = "approved", weighted: bool = False,
              dimensions: tuple[str, ...] = DIMENSIONS) -> list[dict]:
    """Plain rows (``RATE_COLUMNS``): one per dimension and group, survey first.

    Counts are weighted sums when ``weighted``. For exports as well as the dashboard.
    """
    for d in dimensions:
        if d not in DIMENSIONS:
            raise BadRateOptions(_("Unknown grouping of the rates."))
    cases = case_outcomes(campaign, basis)
    rows = []
    for dimension in dimensions:
        groups: dict[tuple[str, int | None], list[CaseOutcome]] = {}
        for c in cases:
            groups.setdefault(_group_key(c, dimension), []).append(c)
        if dimension == "survey" and not groups:
            groups[("", None)] = []
        for key in sorted(groups, key=lambda k: (k[0], k[1] or 0)):
            group, members = key[0], groups[key]
            counts = DispositionCounts.from_dispositions(
                [c.disposition for c in members],
                [c.weight for c in members] if weighted else None)
            row = {"dimension": dimension, "group": group if dimension != "survey"
                   else campaign.title}
            row.update(outcome_rates(counts).to_dict())
            row["in_field"] = sum(c.weight if weighted else 1 for c in members if c.in_field)
            rows.append(row)
    return rows


def export_rates(campaign: Campaign, fmt: str, basis: str = "approved",
                 weighted: bool = False) -> bytes:
    """The rate table as CSV (UTF-8 with BOM) or XLSX bytes."""
    rows = rate_rows(campaign, basis, weighted)
    headers = list(RATE_COLUMNS)
    if fmt == "csv":
        return tabular.to_csv(headers, rows)
    if fmt == "xlsx":
        return tabular.to_xlsx(headers, rows, "response_rates")
    raise BadRateOptions(_("Unknown file format."))
