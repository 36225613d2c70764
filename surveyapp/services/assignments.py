"""Assignments: cases of a campaign's locked sample given to interviewers; reserve substitution.

A reserve case replaces a non-response only as the sampling plan allows
(``sampling/README.md``, ``RESERVE_RULE`` in ``sampling/draw.py``): reserves are opened in rank
order within their group (stratum, and PSU in a multi-stage draw), only after an approved
interview ended in a non-response disposition; after opening j reserves in a group, the
group's non-certainty weights are multiplied by (n − c)/(n − c + j).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..auth.policy import FIELD_WORKERS, Principal
from ..errors import InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    Assignment,
    Campaign,
    Interview,
    Membership,
    SamplingCase,
    SamplingPlan,
    User,
)
from ..models.codes import (
    REPLACEABLE_DISPOSITIONS,
    AssignmentStatus,
    AuditAction,
    CampaignStatus,
    CaseStatus,
    ReviewStatus,
    Role,
    SamplingPlanStatus,
)
from . import audit

REASSIGNABLE = (AssignmentStatus.ASSIGNED.value, AssignmentStatus.RETURNED.value)


def locked_plan(campaign: Campaign) -> SamplingPlan | None:
    """The campaign's locked sampling plan (the newest one if several were locked)."""
    return db.session.scalar(select(SamplingPlan).where(
        SamplingPlan.campaign_id == campaign.id,
        SamplingPlan.status == SamplingPlanStatus.LOCKED.value)
        .order_by(SamplingPlan.version.desc()).limit(1))


def staff(campaign: Campaign, role: Role) -> list[User]:
    """Active members of the campaign's organisation holding ``role``."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == campaign.organisation_id,
               Membership.role == role.value, User.active.is_(True))
        .order_by(User.full_name, User.login)))


@dataclass
class CaseRow:
    case: SamplingCase
    assignment: Assignment | None


def case_rows(campaign: Campaign) -> list[CaseRow]:
    """Every case of the locked sample with its assignment (if any), in sample order."""
    plan = locked_plan(campaign)
    if plan is None:
        return []
    assignments = {a.case_id: a for a in db.session.scalars(
        select(Assignment).where(Assignment.campaign_id == campaign.id)
        .options(selectinload(Assignment.interviewer)))}
    return [CaseRow(c, assignments.get(c.id)) for c in plan.cases]


def assign_cases(actor, campaign: Campaign, case_ids: list[int], interviewer_id: int | None,
                 supervisor_id: int | None = None) -> list[Assignment]:
    """Assign (or reassign) cases of the locked sample to one interviewer; one commit."""
    plan = locked_plan(campaign)
    if plan is None:
        raise ValidationFailed(_("The campaign has no locked sample yet: lock a sampling plan "
                                 "before assigning cases."))
    # A case ticked twice (a resent form, a hand-made request) is assigned once, not twice
    # (that would break the one-assignment-per-case key).
    case_ids = list(dict.fromkeys(case_ids or []))
    if not case_ids:
        raise ValidationFailed(_("Choose at least one case."),
                               fields={"case_ids": _("Choose at least one case.")})
    interviewers = {u.id: u for u in staff(campaign, Role.INTERVIEWER)}
    if interviewer_id not in interviewers:
        message = _("Choose an interviewer of this organisation.")
        raise ValidationFailed(message, fields={"interviewer_id": message})
    supervisors = {u.id for u in staff(campaign, Role.SUPERVISOR)}
    if supervisor_id is not None and supervisor_id not in supervisors:
        message = _("Choose a supervisor of this organisation.")
        raise ValidationFailed(message, fields={"supervisor_id": message})
    cases = {c.id: c for c in db.session.scalars(
        select(SamplingCase).where(SamplingCase.id.in_(case_ids),
                                   SamplingCase.plan_id == plan.id))}
    missing = [str(i) for i in case_ids if i not in cases]
    if missing:
        raise ValidationFailed(_("These cases are not in the locked sample: %(ids)s",
                                 ids=", ".join(missing)))
    existing = {a.case_id: a for a in db.session.scalars(
        select(Assignment).where(Assignment.case_id.in_(case_ids)))}
    refused = [cases[i].unit_id for i, a in existing.items() if a.status not in REASSIGNABLE]
    if refused:
        raise InvalidTransition(_("These cases already have a submitted interview and cannot "
                                  "be reassigned: %(units)s", units=", ".join(refused)))
    reserves = [cases[i].unit_id for i in case_ids if cases[i].status == CaseStatus.RESERVE
                and i not in existing]
    if reserves:
        raise ValidationFailed(_("Reserve cases are assigned only when they replace a "
                                 "non-response: %(units)s", units=", ".join(reserves)))
    result = []
    for case_id in case_ids:
        assignment = existing.get(case_id)
        if assignment is None:
            assignment = Assignment(campaign_id=campaign.id, case_id=case_id,
                                    interviewer_id=interviewer_id, supervisor_id=supervisor_id,
                                    status=AssignmentStatus.ASSIGNED.value, comment="")
            db.session.add(assignment)
            db.session.flush()
            audit.record(actor, AuditAction.CREATE, assignment,
                         organisation_id=campaign.organisation_id,
                         after=audit.snapshot(assignment),
                         summary=f"case {cases[case_id].unit_id}")
        elif assignment.interviewer_id != interviewer_id or \
                (supervisor_id is not None and assignment.supervisor_id != supervisor_id):
            before = audit.snapshot(assignment)
            assignment.interviewer_id = interviewer_id
            if supervisor_id is not None:
                assignment.supervisor_id = supervisor_id
            audit.record(actor, AuditAction.UPDATE, assignment,
                         organisation_id=campaign.organisation_id, before=before,
                         after=audit.snapshot(assignment),
                         summary=f"case {cases[case_id].unit_id} reassigned")
        result.append(assignment)
    db.session.commit()
    return result


def _group(case: SamplingCase) -> tuple:
    return (case.stratum, case.psu)


def open_reserve(actor, assignment: Assignment) -> Assignment:
    """Replace an approved non-response by the next reserve of its group (rank order)."""
    if assignment.status != AssignmentStatus.APPROVED.value or \
            assignment.disposition not in {d.value for d in REPLACEABLE_DISPOSITIONS}:
        raise InvalidTransition(_("Only an approved non-response (refusal, non-contact, other "
                                  "non-interview, unknown eligibility) can be replaced by a "
                                  "reserve."))
    case = assignment.case
    taken = set(db.session.scalars(select(Assignment.case_id).where(
        Assignment.campaign_id == assignment.campaign_id)))
    reserves = sorted((c for c in case.plan.cases
                       if c.status == CaseStatus.RESERVE and _group(c) == _group(case)),
                      key=lambda c: c.reserve_rank or 0)
    following = next((c for c in reserves if c.id not in taken), None)
    if following is None:
        raise NotFound(_("No reserve is left in this case's group."))
    before = audit.snapshot(assignment)
    assignment.status = AssignmentStatus.REPLACED.value
    replacement = Assignment(campaign_id=assignment.campaign_id, case_id=following.id,
                             interviewer_id=assignment.interviewer_id,
                             supervisor_id=assignment.supervisor_id,
                             status=AssignmentStatus.ASSIGNED.value,
                             comment=_("Replaces case %(unit)s", unit=case.unit_id))
    db.session.add(replacement)
    db.session.flush()
    audit.record(actor, AuditAction.STATE, assignment,
                 organisation_id=assignment.campaign.organisation_id, before=before,
                 after=audit.snapshot(assignment),
                 summary=f"case {case.unit_id} replaced by reserve {following.unit_id}")
    audit.record(actor, AuditAction.CREATE, replacement,
                 organisation_id=assignment.campaign.organisation_id,
                 after=audit.snapshot(replacement), summary=f"reserve {following.unit_id}")
    db.session.commit()
    return replacement


def reserve_factor(free: int, opened: int) -> float:
    """The plan's reserve rule: in a group with ``free`` (n − c) non-certainty sampled cases
    and ``opened`` reserves, every non-certainty weight is multiplied by (n − c)/(n − c + j)."""
    return free / (free + opened) if opened and free else 1.0


def case_weight(pik: float, weight: float, factor: float) -> float:
    """A sampled or opened case's weight under its group's reserve factor."""
    return weight if pik >= 1 else weight * factor


def case_weights(plan: SamplingPlan, opened_case_ids: set[int]) -> dict[int, float]:
    """Design weights of the sample plus the opened reserves, by the plan's reserve rule
    (:func:`reserve_factor`)."""
    groups: dict[tuple, list[SamplingCase]] = defaultdict(list)
    for c in plan.cases:
        groups[_group(c)].append(c)
    weights: dict[int, float] = {}
    for members in groups.values():
        sampled = [c for c in members if c.status == CaseStatus.SELECTED]
        opened = [c for c in members if c.status == CaseStatus.RESERVE and c.id in
                  opened_case_ids]
        factor = reserve_factor(sum(1 for c in sampled if c.pik < 1), len(opened))
        for c in sampled + opened:
            weights[c.id] = case_weight(c.pik, c.weight, factor)
    return weights


def campaign_weights(campaign: Campaign) -> dict[int, float]:
    """Weight per case of the campaign's locked plan after the reserves it opened.

    Reads the design columns only: the cases' identifying columns (encrypted) are never
    loaded, which also keeps it fast for large samples.
    """
    plan = locked_plan(campaign)
    if plan is None:
        return {}
    cases = db.session.execute(
        select(SamplingCase.id, SamplingCase.stratum, SamplingCase.psu, SamplingCase.status,
               SamplingCase.pik, SamplingCase.weight, SamplingCase.reserve_rank)
        .where(SamplingCase.plan_id == plan.id)).all()
    return case_weights(SimpleNamespace(cases=cases), _opened_reserves(campaign))


def _opened_reserves(campaign: Campaign) -> set[int]:
    return set(db.session.scalars(
        select(Assignment.case_id).join(SamplingCase, SamplingCase.id == Assignment.case_id)
        .where(Assignment.campaign_id == campaign.id,
               SamplingCase.status == CaseStatus.RESERVE.value)))


def reserve_factors(campaign: Campaign, plan: SamplingPlan) -> dict[tuple, float]:
    """The reserve factor of each (stratum, PSU) group of ``plan`` where the campaign opened
    reserves (1 everywhere else), counted in SQL: a large sample's cases are not loaded."""
    opened = {(stratum, psu): n for stratum, psu, n in db.session.execute(
        select(SamplingCase.stratum, SamplingCase.psu, func.count())
        .join(Assignment, Assignment.case_id == SamplingCase.id)
        .where(Assignment.campaign_id == campaign.id, SamplingCase.plan_id == plan.id,
               SamplingCase.status == CaseStatus.RESERVE.value)
        .group_by(SamplingCase.stratum, SamplingCase.psu))}
    if not opened:
        return {}
    free = {(stratum, psu): n for stratum, psu, n in db.session.execute(
        select(SamplingCase.stratum, SamplingCase.psu, func.count())
        .where(SamplingCase.plan_id == plan.id,
               SamplingCase.status == CaseStatus.SELECTED.value, SamplingCase.pik < 1)
        .group_by(SamplingCase.stratum, SamplingCase.psu))}
    return {group: reserve_factor(free.get(group, 0), n) for group, n in opened.items()}


def my_assignments(p: Principal | None) -> list[Assignment]:
    """The caller's own assignments (an interviewer sees only these), returned ones first.

    Only of campaigns in the field: a case's identifying columns are shown to its interviewer
    while the survey is fielding, never after (Decision 104/2024, Art. 3.4). Only in the
    organisations where the principal holds a field role: not once removed from one, nor
    with a token limited to another organisation."""
    if p is None or p.user_id is None:
        return []
    orgs = p.org_ids(*FIELD_WORKERS)
    if not orgs:
        return []
    rows = list(db.session.scalars(
        select(Assignment).join(Campaign, Assignment.campaign_id == Campaign.id)
        .where(Assignment.interviewer_id == p.user_id,
               Assignment.status != AssignmentStatus.REPLACED.value,
               Campaign.status == CampaignStatus.FIELDING.value,
               Campaign.organisation_id.in_(orgs))
        .options(selectinload(Assignment.case), selectinload(Assignment.campaign))
        .order_by(Assignment.id)))
    order = {AssignmentStatus.RETURNED.value: 0, AssignmentStatus.ASSIGNED.value: 1}
    return sorted(rows, key=lambda a: (order.get(a.status, 2), a.id))


def latest_interview(assignment: Assignment) -> Interview | None:
    return db.session.scalar(select(Interview).where(Interview.assignment_id == assignment.id)
                             .order_by(Interview.id.desc()).limit(1))


def assignment_summary(assignment: Assignment) -> dict:
    """What the device needs for one assignment (the respondent's locating data included,
    answers never)."""
    campaign = assignment.campaign
    interview = latest_interview(assignment)
    returned = interview is not None and interview.status == ReviewStatus.RETURNED.value
    return {
        "id": assignment.id,
        "campaign_id": campaign.id,
        "campaign_title": campaign.title,
        "questionnaire_version_id": campaign.questionnaire_version_id,
        "status": assignment.status,
        "comment": assignment.comment,
        "case": {"unit_id": assignment.case.unit_id, "stratum": assignment.case.stratum,
                 "psu": assignment.case.psu, "data": assignment.case.data},
        "interview": ({"uuid": interview.uuid, "version": interview.version,
                       "status": interview.status} if interview is not None else None),
        "returned": returned,
    }


def managed_campaigns(p) -> list[Campaign]:
    """Campaigns whose field work the principal manages (assigns, reviews)."""
    query = select(Campaign).order_by(Campaign.year.desc(), Campaign.title)
    if not p.system_admin:
        orgs = p.org_ids(Role.ORG_ADMIN, Role.SUPERVISOR)
        query = query.where(Campaign.organisation_id.in_(orgs or {-1}))
    return list(db.session.scalars(query))


@dataclass
class EntryContext:
    """What the entry page needs: the questionnaire version and, for a correction, the
    interview being corrected (its UUID, version, answers and the supervisor's comment)."""

    assignment: Assignment
    version: object  # QuestionnaireVersion
    interview: Interview | None
    answers: dict
    disposition: str | None


def entry_context(assignment: Assignment) -> EntryContext:
    """The version to fill in: the returned interview's own, else the campaign's in use."""
    from ..models import QuestionnaireVersion

    if not assignment.campaign.fielding:
        raise InvalidTransition(_("This survey is not in fieldwork (not started or already "
                                  "closed): interviews can no longer be entered or corrected."))
    interview = latest_interview(assignment)
    if interview is not None and interview.status == ReviewStatus.RETURNED.value:
        current = interview.current
        return EntryContext(assignment, current.questionnaire_version, interview,
                            dict(current.answers), current.disposition)
    version_id = assignment.campaign.questionnaire_version_id
    version = db.session.get(QuestionnaireVersion, version_id) if version_id else None
    if version is None or not version.frozen:
        raise ValidationFailed(_("This survey has no frozen questionnaire in use yet; ask the "
                                 "analyst to freeze one before fieldwork."))
    return EntryContext(assignment, version, None, {}, None)
