"""Demo field work (issue 7): the demo sample assigned, interviewed, reviewed.

Every case of the demo's locked sample is assigned to the demo interviewer under the demo
supervisor; about four in five are interviewed (answers drawn at random, deterministically,
within what the standard questionnaire allows — agencies differ a little in how satisfied
their citizens are), a few end as refusals or non-contacts, the rest stay to do. Most
interviews are approved, some wait for review and one is returned with a comment, so every
page of the field loop has something to show. Interviews go through the same service as the
submission API; nothing here writes rows directly.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from sqlalchemy import select

from ..auth.policy import principal_for_user
from ..extensions import db
from ..models import Campaign
from ..models.codes import Disposition
from ..questionnaires.answers import check_answers, compile_questionnaire, compute
from . import accounts, assignments, interviews, questionnaires

SEED = 20240904
INTERVIEWER = "dieutravien"
SUPERVISOR = "giamsat"
# Mean satisfaction (1..5 Likert) by the agency's position in the frame: they differ.
AGENCY_MOOD = [4.3, 3.6, 4.0, 3.8, 4.5]
NAMESPACE = uuid.UUID("6f1c1d5e-64a4-4f4e-9b53-3d2f3c7e0104")


def _likert(rng: random.Random, mood: float) -> str:
    value = round(rng.gauss(mood, 0.8))
    return str(min(5, max(1, value)))


def _value(rng: random.Random, question, cq, mood: float, context: dict) -> Any:
    t = question.type
    if t in ("note", "calculate", "text", "long_text"):
        return None
    if t == "agency":
        return context["agency"]
    if t == "procedure":
        return context["procedure"]
    if t == "date":
        if question.name == "ngay_nop_ho_so":
            return context["submitted"].isoformat()
        return context["settled"].isoformat()
    if t == "rating":
        return int(min(10, max(0, round(rng.gauss(mood * 2, 1.5)))))
    if t == "integer":
        lo = int(question.minimum) if question.minimum is not None else 0
        hi = int(question.maximum) if question.maximum is not None else lo + 500
        return rng.randint(lo, min(hi, lo + 500))
    if t == "decimal":
        lo = float(question.minimum or 0)
        return round(lo + rng.random() * 10, 1)
    choices = [c.code for c in cq.questionnaire.choice_list(question.list_name).choices]
    if t == "likert":
        if question.allow_na and rng.random() < 0.03:
            return "na"
        return _likert(rng, mood)
    if t == "select_multiple":
        plain = [c for c in choices if c != "khong_co_van_de"] or choices
        return [rng.choice(plain)]
    if question.name.endswith("_mong_doi") and "khac" in choices:
        choices = [c for c in choices if c != "khac"] or choices
    return rng.choice(choices)


def random_answers(cq, rng: random.Random, mood: float, context: dict) -> dict[str, Any]:
    """Answers to every relevant question, re-evaluating relevance until it settles."""
    answers: dict[str, Any] = {}
    questions = list(cq.questionnaire.questions())
    for _pass in range(6):
        relevant = compute(cq, answers, today=context["today"]).relevant
        changed = False
        for q in questions:
            if relevant.get(q.name) and q.name not in answers:
                value = _value(rng, q, cq, mood, context)
                if value is not None:
                    answers[q.name] = value
                    changed = True
            elif not relevant.get(q.name) and q.name in answers:
                del answers[q.name]
                changed = True
        if not changed:
            break
    return answers


def load_field_work(result, campaign_title: str, org_id: int, *, seed: int = SEED,
                    moods: tuple[float, ...] | None = None, year: int = 2024) -> None:
    """Assign the demo sample and record its interviews; skipped once anything is assigned.

    ``seed``, ``moods`` and ``year`` let another demo campaign (the previous year's) have its
    own answers and dates."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.title == campaign_title,
                                                        Campaign.organisation_id == org_id))
    if campaign is None or assignments.locked_plan(campaign) is None:
        return
    if assignments.case_rows(campaign) and any(r.assignment for r in
                                                assignments.case_rows(campaign)):
        return
    version = questionnaires.version_in_use(campaign)
    if version is None:
        return
    interviewer = accounts.get_user_by_login(INTERVIEWER)
    supervisor = accounts.get_user_by_login(SUPERVISOR)
    cases = [r.case for r in assignments.case_rows(campaign) if r.case.status == "selected"]
    assignments.assign_cases(None, campaign, [c.id for c in cases], interviewer.id,
                             supervisor.id)
    cq = compile_questionnaire(questionnaires.definition(version))
    agency_codes = {a.name: a.code for a in campaign.agencies}
    procedure_codes = {p.name: p.code for p in campaign.procedures}
    strata = sorted({c.stratum for c in cases if c.stratum})
    principal = principal_for_user(interviewer)
    moods = moods or tuple(AGENCY_MOOD)
    rng = random.Random(seed)
    today = dt.date(year, 10, 31)
    stored = []
    by_case = {r.case.id: r.assignment for r in assignments.case_rows(campaign)}
    for case in cases:
        roll = rng.random()
        if roll > 0.92:
            continue  # still to do
        mood = moods[strata.index(case.stratum) % len(moods)] \
            if case.stratum in strata else 4.0
        settled = dt.date(year, 1, 2) + dt.timedelta(days=rng.randrange(0, 290))
        context = {"agency": agency_codes.get(case.stratum or ""),
                   "procedure": procedure_codes.get(case.data.get("Thủ tục", "")),
                   "submitted": settled - dt.timedelta(days=rng.randrange(1, 20)),
                   "settled": settled, "today": today}
        started = dt.datetime(year, 9, 3, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))) + \
            dt.timedelta(days=rng.randrange(0, 55), minutes=rng.randrange(0, 540))
        if roll > 0.85:
            disposition, answers = rng.choice([Disposition.REFUSAL, Disposition.NON_CONTACT]), {}
            minutes = 2
        else:
            disposition = Disposition.COMPLETE
            answers = random_answers(cq, rng, mood, context)
            if context["agency"] is None or context["procedure"] is None or \
                    check_answers(cq, answers, today=today):
                continue  # the demo frame and registry disagree: leave the case to do
            minutes = rng.randrange(12, 30)
        finished = started + dt.timedelta(minutes=minutes, seconds=rng.randrange(0, 60))
        data = {"uuid": str(uuid.uuid5(NAMESPACE, f"demo-{case.unit_id}")),
                "assignment_id": by_case[case.id].id,
                "questionnaire_version_id": version.id,
                "started_at": started.isoformat(), "finished_at": finished.isoformat(),
                "disposition": disposition.value, "answers": answers, "respondent": {},
                "paradata": {"user_agent": "demo", "edits": rng.randrange(0, 6),
                             "duration_s": int((finished - started).total_seconds())}}
        outcome = interviews.submit_interview(principal, interviewer, data)
        stored.append(outcome.body["uuid"])
    for k, interview_uuid in enumerate(stored):
        interview = interviews.get_by_uuid(interview_uuid)
        if k % 10 == 9:
            continue  # waiting for review
        if k == 4:
            interviews.review_interview(supervisor, interview, "return",
                                        "Ngày nộp hồ sơ chưa khớp với phiếu hẹn, "
                                        "đề nghị hỏi lại người trả lời.")
            continue
        interviews.review_interview(supervisor, interview, "approve", "")
    result.created = True
