"""The field services called directly (issue 7): assignments, reserves and their weights,
the review loop, conflicts and what reaches analysis."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from builders import make_org, make_user
from field_builders import field_principal, locked_plan, make_field_world, payload

from surveyapp.auth.policy import principal_for_user
from surveyapp.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from surveyapp.extensions import db as _db
from surveyapp.models import (
    Assignment,
    AuditEvent,
    Campaign,
    Interview,
    InterviewVersion,
    SamplingCase,
    SamplingPlan,
    User,
)
from surveyapp.models._types import utcnow
from surveyapp.models.codes import (
    REPLACEABLE_DISPOSITIONS,
    AssignmentStatus,
    Disposition,
    ReviewStatus,
    Role,
)
from surveyapp.services import assignments as service
from surveyapp.services import interviews as interview_service


@pytest.fixture
def world(app, db):
    with app.app_context():
        yield make_field_world()


def user(login: str) -> User:
    return _db.session.scalar(sa.select(User).where(User.login == login))


def campaign_of(world) -> Campaign:
    return _db.session.get(Campaign, world.campaign)


def count(model, *where) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def events(object_type: str, object_id) -> list[AuditEvent]:
    return list(_db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.id)))


def submit(world, index: int = 0, login: str | None = None, **changes) -> Interview:
    """Submit through the API's service as the assignment's interviewer; the stored row."""
    person = user(login or world.interviewer)
    data = payload(world, index, **changes)
    outcome = interview_service.submit_interview(principal_for_user(person), person, data)
    assert outcome.status == 201, outcome.body
    return interview_service.get_by_uuid(data["uuid"])


def unassigned(world):
    """The builders' world without its assignments: every case free to assign."""
    _db.session.execute(sa.delete(Assignment).where(Assignment.campaign_id == world.campaign))
    _db.session.commit()
    world.assignments = []
    return world


# ---- assigning -----------------------------------------------------------------------------

def test_bulk_assign_creates_one_assignment_per_case_with_an_audit_event(world):
    world = unassigned(world)
    supervisor = user(world.supervisor)
    done = service.assign_cases(supervisor, campaign_of(world), world.cases[:3],
                                world.other_interviewer_id, world.supervisor_id)
    assert [a.case_id for a in done] == world.cases[:3]
    assert {(a.interviewer_id, a.supervisor_id, a.status) for a in done} == \
        {(world.other_interviewer_id, world.supervisor_id, "assigned")}
    for a in done:
        (event,) = events("assignment", a.id)
        assert event.action == "create" and event.actor_id == supervisor.id
        assert event.organisation_id == world.org
    assert count(Assignment, Assignment.campaign_id == world.campaign) == 3


def test_reassigning_moves_the_case_and_logs_before_and_after(world):
    supervisor = user(world.supervisor)
    first = _db.session.get(Assignment, world.assignments[0])
    (moved,) = service.assign_cases(supervisor, campaign_of(world), [first.case_id],
                                    world.other_interviewer_id)
    assert moved.id == first.id and moved.interviewer_id == world.other_interviewer_id
    assert moved.supervisor_id == world.supervisor_id  # kept when none is chosen
    (event,) = events("assignment", moved.id)
    assert event.action == "update"
    assert event.before["interviewer_id"] == world.interviewer_id
    assert event.after["interviewer_id"] == world.other_interviewer_id
    # Assigning again to the same person changes nothing and logs nothing.
    service.assign_cases(supervisor, campaign_of(world), [first.case_id],
                         world.other_interviewer_id)
    assert len(events("assignment", moved.id)) == 1


def test_interviewers_see_only_their_own_assignments(world):
    supervisor = user(world.supervisor)
    service.assign_cases(supervisor, campaign_of(world), world.cases[2:],
                         world.other_interviewer_id)
    mine = service.my_assignments(field_principal(world.interviewer_id))
    theirs = service.my_assignments(field_principal(world.other_interviewer_id))
    assert [a.id for a in mine] == world.assignments[:2]
    assert [a.id for a in theirs] == world.assignments[2:]
    assert service.my_assignments(field_principal(world.supervisor_id)) == []
    assert service.my_assignments(field_principal(None)) == []


def test_returned_assignments_come_first_on_the_interviewers_list(world):
    last = submit(world, 3)
    interview_service.review_interview(user(world.supervisor), last, "return", "Hỏi lại tuổi.")
    rows = service.my_assignments(field_principal(world.interviewer_id))
    assert rows[0].id == world.assignments[3] and rows[0].comment == "Hỏi lại tuổi."
    assert [a.id for a in rows[1:]] == world.assignments[:3]


@pytest.mark.parametrize("status", ["submitted", "approved", "rejected", "replaced"])
def test_a_case_with_a_submitted_interview_cannot_be_reassigned(world, status):
    submitted = _db.session.get(Assignment, world.assignments[0])
    submitted.status = status
    _db.session.commit()
    with pytest.raises(InvalidTransition) as refused:
        service.assign_cases(user(world.supervisor), campaign_of(world),
                             [submitted.case_id, world.cases[1]], world.other_interviewer_id)
    assert "A-0001" in refused.value.message and "không thể phân công lại" in refused.value.message
    _db.session.expire_all()
    # Nothing changed, not even the other (reassignable) case of the same request.
    assert {a.interviewer_id for a in _db.session.scalars(sa.select(Assignment))} == \
        {world.interviewer_id}


def test_a_submitted_interview_really_blocks_reassignment(world):
    interview = submit(world, 0)
    with pytest.raises(InvalidTransition):
        service.assign_cases(user(world.supervisor), campaign_of(world),
                             [interview.assignment.case_id], world.other_interviewer_id)


def test_a_returned_case_can_go_to_another_interviewer(world):
    interview = submit(world, 0)
    interview_service.review_interview(user(world.supervisor), interview, "return", "Sai tuổi.")
    (moved,) = service.assign_cases(user(world.supervisor), campaign_of(world),
                                    [interview.assignment.case_id], world.other_interviewer_id)
    assert moved.interviewer_id == world.other_interviewer_id


def test_reserves_are_not_assigned_directly(world):
    with pytest.raises(ValidationFailed) as refused:
        service.assign_cases(user(world.supervisor), campaign_of(world), world.reserves,
                             world.interviewer_id)
    assert "A-0005" in refused.value.message and "dự phòng" in refused.value.message
    assert count(Assignment, Assignment.case_id.in_(world.reserves)) == 0


def test_foreign_interviewers_and_supervisors_are_refused(world):
    other_org = make_org("Hội Cựu chiến binh thử")
    foreign_supervisor = make_user("f.gsv_b", other_org, Role.SUPERVISOR)
    foreign = user(world.foreign_interviewer)
    world = unassigned(world)
    campaign = campaign_of(world)
    with pytest.raises(ValidationFailed) as refused:
        service.assign_cases(None, campaign, world.cases[:1], foreign.id)
    assert refused.value.fields == {"interviewer_id": "Hãy chọn một điều tra viên của tổ chức này."}
    with pytest.raises(ValidationFailed) as refused:
        service.assign_cases(None, campaign, world.cases[:1], world.interviewer_id,
                             foreign_supervisor.id)
    assert refused.value.fields == {"supervisor_id": "Hãy chọn một giám sát viên của tổ chức này."}
    # A supervisor of the organisation is not an interviewer, nor the reverse.
    with pytest.raises(ValidationFailed):
        service.assign_cases(None, campaign, world.cases[:1], world.supervisor_id)
    with pytest.raises(ValidationFailed):
        service.assign_cases(None, campaign, world.cases[:1], world.interviewer_id,
                             world.interviewer_id)
    assert count(Assignment) == 0


def test_bad_requests_store_nothing_and_say_why_in_vietnamese(world):
    other = make_field_world(prefix="g")
    campaign = campaign_of(world)
    before = count(Assignment)
    cases = [(None, "Hãy chọn ít nhất một trường hợp."),
             ([], "Hãy chọn ít nhất một trường hợp."),
             ([other.cases[0]], f"không có trong mẫu đã khóa: {other.cases[0]}"),
             ([world.cases[0], 987654321], "không có trong mẫu đã khóa: 987654321")]
    for case_ids, message in cases:
        with pytest.raises(ValidationFailed) as refused:
            service.assign_cases(None, campaign, case_ids or [], world.interviewer_id)
        assert message in refused.value.message
    with pytest.raises(ValidationFailed):
        service.assign_cases(None, campaign, world.cases[:1], None)
    with pytest.raises(ValidationFailed):
        service.assign_cases(None, campaign, world.cases[:1], 987654321)
    assert count(Assignment) == before


def test_the_same_case_twice_in_one_request_is_assigned_once(world):
    world = unassigned(world)
    done = service.assign_cases(None, campaign_of(world), [world.cases[0], world.cases[0]],
                                world.interviewer_id)
    assert {a.case_id for a in done} == {world.cases[0]}
    assert count(Assignment) == 1


def test_assigning_needs_a_locked_sample(world):
    campaign = campaign_of(world)
    _db.session.get(SamplingPlan, world.plan).status = "drawn"
    _db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        service.assign_cases(None, campaign, world.cases[:1], world.interviewer_id)
    assert "khóa" in refused.value.message


# ---- dispositions and reserves -----------------------------------------------------------------

def test_dispositions_are_the_aapor_codes_as_strings():
    assert [d.value for d in Disposition] == [
        "complete", "partial", "refusal", "non_contact", "other_non_interview",
        "unknown_eligibility", "not_eligible"]
    assert all(isinstance(d, str) for d in Disposition)
    assert Disposition("refusal") == "refusal"
    assert set(REPLACEABLE_DISPOSITIONS) == {Disposition.REFUSAL, Disposition.NON_CONTACT,
                                             Disposition.OTHER_NON_INTERVIEW,
                                             Disposition.UNKNOWN_ELIGIBILITY}


def plan_with_groups(world) -> dict[str, SamplingCase]:
    """A second locked plan (the newest version) whose numbers are checked by hand below.

    Group A (stratum A, one-stage SRS): N = 20, n = 4, m = 2, so pi' = 6/20 and the stored
    pik = 0.3 * 4/6 = 0.2 (weight 5). Group B (stratum B, PPS): one certainty unit, n = 3
    (c = 1), m = 1; the three other selected units had pi' = 0.6, 0.45, 0.3, stored
    pik = pi' * 2/3 = 0.4, 0.3, 0.2 (weights 2.5, 3.333..., 5). Groups (C, P1) and (C, P2):
    the second stage of a two-stage draw, parents P1 and P2 in stratum C, two sampled units
    and one reserve each, stored weights 12 (P1) and 18 (P2).
    """
    campaign = campaign_of(world)
    _db.session.get(SamplingPlan, world.plan).status = "drawn"
    plan = SamplingPlan(campaign_id=campaign.id, title="Mẫu nhiều nhóm", version=2,
                        status="locked", label_columns=["name"], allocation_params={},
                        reserve=2, locked_at=utcnow())
    _db.session.add(plan)
    _db.session.flush()
    rows = [  # unit, stratum, psu, pik, weight, reserve rank
        ("A1", "A", None, 0.2, 5.0, None), ("A2", "A", None, 0.2, 5.0, None),
        ("A3", "A", None, 0.2, 5.0, None), ("A4", "A", None, 0.2, 5.0, None),
        ("A5", "A", None, 0.2, 5.0, 1), ("A6", "A", None, 0.2, 5.0, 2),
        ("B0", "B", None, 1.0, 1.0, None), ("B1", "B", None, 0.4, 2.5, None),
        ("B2", "B", None, 0.3, 1 / 0.3, None), ("B3", "B", None, 0.2, 5.0, 1),
        ("P1a", "C", "P1", 1 / 12, 12.0, None), ("P1b", "C", "P1", 1 / 12, 12.0, None),
        ("P1c", "C", "P1", 1 / 12, 12.0, 1),
        ("P2a", "C", "P2", 1 / 18, 18.0, None), ("P2b", "C", "P2", 1 / 18, 18.0, None),
        ("P2c", "C", "P2", 1 / 18, 18.0, 1),
    ]
    for position, (unit, stratum, psu, pik, weight, rank) in enumerate(rows):
        _db.session.add(SamplingCase(plan_id=plan.id, position=position, unit_id=unit,
                                     data={"name": unit}, stratum=stratum, psu=psu, pik=pik,
                                     weight=weight, reserve_rank=rank,
                                     status="reserve" if rank else "selected"))
    _db.session.commit()
    assert service.locked_plan(campaign).id == plan.id
    return {c.unit_id: c for c in plan.cases}


def test_weights_without_reserves_are_the_stored_design_weights(world):
    cases = plan_with_groups(world)
    weights = service.campaign_weights(campaign_of(world))
    sampled = {u: c for u, c in cases.items() if c.reserve_rank is None}
    assert set(weights) == {c.id for c in sampled.values()}
    for c in sampled.values():
        assert weights[c.id] == pytest.approx(c.weight)


def test_weights_after_opening_reserves_follow_the_plans_rule(world):
    cases = plan_with_groups(world)
    plan = cases["A1"].plan
    opened = {cases[u].id for u in ("A5", "B3", "P1c")}
    weights = service.case_weights(plan, opened)
    by_unit = {c.unit_id: weights.get(c.id) for c in cases.values()}
    # A: j = 1 of SRS, N/(n + j) = 20/5 for the four sampled and the opened reserve;
    # the unopened reserve A6 has no weight.
    for unit in ("A1", "A2", "A3", "A4", "A5"):
        assert by_unit[unit] == pytest.approx(4.0)
    assert by_unit["A6"] is None
    # B: all m = 1 reserves opened, so pik = pi' (n - c + j)/(n + m - c) = pi' itself;
    # the certainty unit keeps weight 1.
    assert by_unit["B0"] == pytest.approx(1.0)
    assert by_unit["B1"] == pytest.approx(1 / 0.6)
    assert by_unit["B2"] == pytest.approx(1 / 0.45)
    assert by_unit["B3"] == pytest.approx(1 / 0.3)
    # (C, P1): j = 1 of 2 free sampled: 12 * 2/3; parent P2 opened nothing and keeps 18.
    for unit in ("P1a", "P1b", "P1c"):
        assert by_unit[unit] == pytest.approx(8.0)
    for unit in ("P2a", "P2b"):
        assert by_unit[unit] == pytest.approx(18.0)
    assert by_unit["P2c"] is None
    # Two reserves in A: factor 4/6, i.e. N/(n + j) = 20/6.
    both = service.case_weights(plan, {cases["A5"].id, cases["A6"].id})
    for unit in ("A1", "A2", "A3", "A4", "A5", "A6"):
        assert both[cases[unit].id] == pytest.approx(20 / 6)


def test_the_weights_agree_with_the_sampling_library(world):
    """The same rule as sampling.DrawResult.weights_with_reserves on a real draw."""
    import numpy as np
    import pandas as pd

    import sampling as S

    frame = pd.DataFrame({"id": [f"u{i:02d}" for i in range(30)],
                          "stratum": ["A"] * 12 + ["B"] * 18,
                          "size": np.r_[np.arange(1, 13), [40.0] + list(np.arange(1, 18))]})
    plan = S.DrawPlan.single("id", "pps-brewer", {"A": 3, "B": 4}, strata="stratum",
                             size="size", reserve=2)
    result = S.draw(frame, plan, seed=7)
    sample = result.sample
    campaign = campaign_of(world)
    _db.session.get(SamplingPlan, world.plan).status = "drawn"
    stored = SamplingPlan(campaign_id=campaign.id, title="Mẫu PPS", version=2, status="locked",
                          label_columns=[], allocation_params={}, reserve=2,
                          locked_at=utcnow())
    _db.session.add(stored)
    _db.session.flush()
    for i, row in sample.iterrows():
        rank = None if pd.isna(row["reserve_rank"]) else int(row["reserve_rank"])
        _db.session.add(SamplingCase(plan_id=stored.id, position=i, unit_id=row["id"], data={},
                                     stratum=row["stratum"], psu=None, pik=float(row["pik"]),
                                     weight=float(row["weight"]), reserve_rank=rank,
                                     status="reserve" if rank else "selected"))
    _db.session.commit()
    assert (sample["pik"] >= 1).any(), "the frame should give stratum B a certainty unit"
    rank1 = sample.loc[sample["reserve_rank"] == 1, "id"].tolist()
    expected = result.weights_with_reserves(rank1)
    ids = {c.unit_id: c.id for c in stored.cases}
    got = service.case_weights(stored, {ids[u] for u in rank1})
    assert {u: got[ids[u]] for u in expected.index} == pytest.approx(expected.to_dict())
    assert len(got) == len(expected)


def approve_non_response(world, index: int, disposition: str = "refusal") -> Assignment:
    interview = submit(world, index, disposition=disposition, answers={})
    interview_service.review_interview(user(world.supervisor), interview, "approve", "")
    return interview.assignment


def test_a_reserve_replaces_an_approved_non_response_in_rank_order(app, db):
    with app.app_context():
        world = make_field_world(n_cases=4)
        plan = _db.session.get(SamplingPlan, world.plan)
        # A second reserve, ranked 2 but placed first in the list: rank decides, not position.
        _db.session.add(SamplingCase(plan_id=plan.id, position=-1, unit_id="A-R2", data={},
                                     stratum="A", pik=0.1, weight=10.0, reserve_rank=2,
                                     status="reserve"))
        _db.session.commit()
        supervisor = user(world.supervisor)
        refused = approve_non_response(world, 0, "refusal")
        replacement = service.open_reserve(supervisor, refused)
        assert replacement.case.unit_id == "A-0005" and replacement.case.reserve_rank == 1
        assert (replacement.interviewer_id, replacement.supervisor_id, replacement.status) == \
            (world.interviewer_id, world.supervisor_id, "assigned")
        assert "A-0001" in replacement.comment
        assert refused.status == AssignmentStatus.REPLACED
        (state,) = events("assignment", refused.id)
        assert state.action == "state" and state.before["status"] == "approved"
        assert state.after["status"] == "replaced"
        assert events("assignment", replacement.id)[0].action == "create"
        # The replaced case leaves the interviewer's list; the reserve is on it.
        listed = {a.case.unit_id
                  for a in service.my_assignments(field_principal(world.interviewer_id))}
        assert "A-0001" not in listed and "A-0005" in listed
        # The next non-response gets rank 2; then nothing is left.
        second = service.open_reserve(supervisor, approve_non_response(world, 1, "non_contact"))
        assert second.case.unit_id == "A-R2"
        with pytest.raises(NotFound) as none_left:
            service.open_reserve(supervisor, approve_non_response(world, 2, "refusal"))
        assert none_left.value.message == "Nhóm của trường hợp này không còn mẫu dự phòng."
        # Weights: n - c = 4 sampled, j = 2 opened: 10 * 4/6 for all six.
        weights = service.campaign_weights(campaign_of(world))
        opened = {replacement.case_id, second.case_id}
        assert set(weights) == set(world.cases) | opened
        assert all(w == pytest.approx(10 * 4 / 6) for w in weights.values())


@pytest.mark.parametrize("disposition, review", [
    ("complete", "approve"), ("partial", "approve"), ("not_eligible", "approve"),
    ("refusal", None), ("refusal", "reject"), ("refusal", "return")])
def test_only_an_approved_non_response_is_replaced(world, disposition, review):
    answers = {} if disposition not in ("complete",) else payload(world)["answers"]
    interview = submit(world, 0, disposition=disposition, answers=answers)
    if review:
        interview_service.review_interview(user(world.supervisor), interview, review,
                                           "Xem lại." if review == "return" else "")
    with pytest.raises(InvalidTransition) as refused:
        service.open_reserve(user(world.supervisor), interview.assignment)
    assert "mẫu dự phòng" in refused.value.message
    assert count(Assignment, Assignment.case_id.in_(world.reserves)) == 0


def test_a_reserve_comes_only_from_the_same_group(app, db):
    with app.app_context():
        world = make_field_world(n_cases=2)
        campaign = campaign_of(world)
        old = _db.session.get(SamplingPlan, world.plan)
        old.status, old.version = "drawn", 9
        _db.session.execute(sa.delete(Assignment))
        _db.session.commit()
        plan = locked_plan(campaign, 2, reserves_per_stratum=1, strata=("A", "B"))
        by_unit = {c.unit_id: c for c in plan.cases}
        supervisor = user(world.supervisor)
        service.assign_cases(supervisor, campaign, [by_unit[u].id for u in
                                                    ("A-0001", "A-0002", "B-0001", "B-0002")],
                             world.interviewer_id)
        world.assignments = [a.id for a in sorted(
            _db.session.scalars(sa.select(Assignment).join(SamplingCase).where(
                SamplingCase.plan_id == plan.id)), key=lambda a: a.case.position)]
        replacement = service.open_reserve(supervisor, approve_non_response(world, 2))
        assert replacement.case.unit_id == "B-0003"
        # Stratum B has no reserve left, though stratum A still has one.
        with pytest.raises(NotFound):
            service.open_reserve(supervisor, approve_non_response(world, 3))
        assert service.open_reserve(supervisor, approve_non_response(world, 0)).case.unit_id \
            == "A-0003"


# ---- the review loop ---------------------------------------------------------------------------

def test_approve_records_the_decision_on_the_interview_the_assignment_and_the_log(world):
    interview = submit(world, 0)
    supervisor = user(world.supervisor)
    interview_service.review_interview(supervisor, interview, "approve", "  ", seen_version=1)
    assert interview.status == ReviewStatus.APPROVED and interview.review_comment == ""
    assert interview.reviewed_by_id == supervisor.id and interview.reviewed_at is not None
    assert interview.assignment.status == AssignmentStatus.APPROVED
    create, state = events("interview", interview.id)
    assert create.action == "create" and create.after["version"] == 1
    assert state.action == "state" and state.actor_id == supervisor.id
    assert state.before == {"status": "submitted", "version": 1}
    assert state.after == {"status": "approved", "comment": ""}


def test_return_needs_a_comment_and_sends_the_case_back_for_version_2(world):
    interview = submit(world, 0)
    supervisor = user(world.supervisor)
    with pytest.raises(InvalidTransition) as refused:
        interview_service.review_interview(supervisor, interview, "return", "   ")
    assert refused.value.message == "Hãy ghi rõ cần sửa gì: trả lại phiếu phải kèm nhận xét."
    assert interview.status == "submitted"
    interview_service.review_interview(supervisor, interview, "return", "Tuổi chưa đúng.")
    assert interview.status == "returned" and interview.assignment.status == "returned"
    row = next(a for a in service.my_assignments(field_principal(world.interviewer_id))
               if a.id == world.assignments[0])
    summary = service.assignment_summary(row)
    assert summary["returned"] and summary["comment"] == "Tuổi chưa đúng."
    ctx = service.entry_context(row)
    assert ctx.interview.id == interview.id and ctx.answers["age"] == 42
    # The correction arrives as version 2 and waits for review again.
    person = user(world.interviewer)
    data = dict(payload(world, 0, uuid=interview.uuid, answers={"visited": "no", "age": 44}),
                base_version=1)
    outcome = interview_service.correct_interview(principal_for_user(person), person,
                                                  interview, data)
    assert outcome.status == 200 and outcome.body["version"] == 2
    assert interview.status == "submitted" and interview.assignment.status == "submitted"
    assert interview.current.number == 2 and interview.current.previous_id == \
        interview.versions[0].id
    assert [e.action for e in events("interview", interview.id)] == ["create", "state", "update"]
    interview_service.review_interview(supervisor, interview, "approve", "", seen_version=2)
    assert interview.status == "approved"


def test_reject_is_final_for_the_review_loop(world):
    interview = submit(world, 0)
    interview_service.review_interview(user(world.supervisor), interview, "reject", "Phiếu giả.")
    assert interview.status == "rejected" and interview.assignment.status == "rejected"
    assert interview.review_comment == "Phiếu giả."
    assert interview_service.approved_interviews(campaign_of(world)) == []


@pytest.mark.parametrize("first", ["approve", "return", "reject"])
def test_only_an_interview_waiting_for_review_can_be_reviewed(world, first):
    interview = submit(world, 0)
    supervisor = user(world.supervisor)
    interview_service.review_interview(supervisor, interview, first, "Xem lại.")
    logged = len(events("interview", interview.id))
    for action in ("approve", "return", "reject"):
        with pytest.raises(InvalidTransition) as refused:
            interview_service.review_interview(supervisor, interview, action, "Lần nữa.")
        assert refused.value.message == "Chỉ phiếu đang chờ duyệt mới duyệt được."
    assert interview.status == {"approve": "approved", "return": "returned",
                                "reject": "rejected"}[first]
    assert len(events("interview", interview.id)) == logged


def test_an_unknown_review_action_is_refused(world):
    interview = submit(world, 0)
    with pytest.raises(InvalidTransition):
        interview_service.review_interview(user(world.supervisor), interview, "delete", "")
    assert interview.status == "submitted"


def test_a_review_of_a_stale_version_is_refused(world):
    interview = submit(world, 0)
    person = user(world.interviewer)
    data = dict(payload(world, 0, uuid=interview.uuid, answers={"visited": "no", "age": 50}),
                base_version=1)
    interview_service.correct_interview(principal_for_user(person), person, interview, data)
    with pytest.raises(Conflict) as stale:
        interview_service.review_interview(user(world.supervisor), interview, "approve", "",
                                           seen_version=1)
    assert "phiên bản mới" in stale.value.message
    assert interview.status == "submitted" and interview.assignment.status == "submitted"


def keep_conflict(world, interview: Interview) -> int:
    person = user(world.interviewer)
    data = payload(world, 0, uuid=interview.uuid, answers={"visited": "no", "age": 77})
    outcome = interview_service.submit_interview(principal_for_user(person), person, data)
    assert outcome.status == 409
    _db.session.expire_all()
    return outcome.body["conflict_id"]


def test_a_kept_conflict_must_be_resolved_before_review(world):
    interview = submit(world, 0)
    keep_conflict(world, interview)
    interview = _db.session.get(Interview, interview.id)
    assert interview.status == "conflict"
    with pytest.raises(InvalidTransition) as refused:
        interview_service.review_interview(user(world.supervisor), interview, "approve", "")
    assert refused.value.message == "Hãy giải quyết bản gửi xung đột trước."
    assert [i.id for i in interview_service.review_queue(campaign_of(world))] == [interview.id]


def test_keeping_the_stored_version_restores_the_status_and_adds_no_version(world):
    interview = submit(world, 0)
    conflict_id = keep_conflict(world, interview)
    interview = _db.session.get(Interview, interview.id)
    interview_service.resolve_conflict(user(world.supervisor), interview, conflict_id, False)
    assert interview.status == "submitted" and interview.version == 1
    assert interview.current.answers["age"] == 42
    assert interview.conflicts[0].status == "kept_stored"
    event = events("interview", interview.id)[-1]
    assert event.after["resolution"] == "kept_stored" and event.after["conflict"] == conflict_id
    with pytest.raises(InvalidTransition):
        interview_service.resolve_conflict(user(world.supervisor), interview, conflict_id, True)


def test_accepting_the_other_submission_makes_it_the_next_version(world):
    interview = submit(world, 0)
    conflict_id = keep_conflict(world, interview)
    interview = _db.session.get(Interview, interview.id)
    supervisor = user(world.supervisor)
    interview_service.resolve_conflict(supervisor, interview, conflict_id, True)
    v1, v2 = interview.versions
    assert (v2.number, v2.previous_id, v2.base_version) == (2, v1.id, 1)
    assert v2.answers == {"visited": "no", "age": 77} and v1.answers["age"] == 42
    assert interview.version == 2 and interview.status == "submitted"
    assert interview.receipt == v2.content_sha256 == interview.conflicts[0].content_sha256
    assert interview.conflicts[0].status == "accepted"
    assert interview.conflicts[0].resolved_by_id == supervisor.id
    event = events("interview", interview.id)[-1]
    assert event.before == {"status": "conflict", "version": 1}
    assert event.after["resolution"] == "accepted" and event.after["version"] == 2


def test_accepting_a_conflict_on_an_approved_interview_reopens_its_review(world):
    """The accepted version waits for review again, and its case with it (no reserve may
    replace it meanwhile, whatever the new disposition)."""
    interview = submit(world, 0)
    supervisor = user(world.supervisor)
    interview_service.review_interview(supervisor, interview, "approve", "")
    person = user(world.interviewer)
    data = payload(world, 0, uuid=interview.uuid, disposition="refusal", answers={})
    outcome = interview_service.submit_interview(principal_for_user(person), person, data)
    assert outcome.status == 409
    _db.session.expire_all()
    interview = _db.session.get(Interview, interview.id)
    interview_service.resolve_conflict(supervisor, interview, outcome.body["conflict_id"], True)
    assert interview.status == "submitted" and interview.disposition == "refusal"
    assert interview.assignment.status == "submitted"
    assert interview.assignment.disposition == "refusal"
    assert interview_service.approved_interviews(campaign_of(world)) == []
    with pytest.raises(InvalidTransition):
        service.open_reserve(supervisor, interview.assignment)


def test_resolving_an_unknown_conflict_is_not_found(world):
    interview = submit(world, 0)
    other = submit(world, 1)
    conflict_id = keep_conflict(world, interview)
    with pytest.raises(NotFound):
        interview_service.resolve_conflict(None, _db.session.get(Interview, other.id),
                                           conflict_id, False)
    with pytest.raises(NotFound):
        interview_service.resolve_conflict(None, _db.session.get(Interview, other.id),
                                           987654321, False)


def test_only_approved_interviews_reach_analysis_in_their_current_version(world):
    supervisor = user(world.supervisor)
    approved = submit(world, 0)
    corrected = submit(world, 1)
    person = user(world.interviewer)
    interview_service.correct_interview(
        principal_for_user(person), person, corrected,
        dict(payload(world, 1, uuid=corrected.uuid, answers={"visited": "no", "age": 61}),
             base_version=1))
    returned = submit(world, 2)
    submit(world, 3)  # waits for review
    interview_service.review_interview(supervisor, approved, "approve", "")
    interview_service.review_interview(supervisor, corrected, "approve", "", seen_version=2)
    interview_service.review_interview(supervisor, returned, "return", "Hỏi lại.")
    rows = interview_service.approved_interviews(campaign_of(world))
    assert all(isinstance(r, InterviewVersion) for r in rows)
    assert [(r.interview_id, r.number) for r in rows] == [(approved.id, 1), (corrected.id, 2)]
    assert rows[1].answers["age"] == 61
    queue = interview_service.review_queue(campaign_of(world))
    assert len(queue) == 1 and queue[0].status == "submitted"
    assert [i.id for i in interview_service.review_queue(campaign_of(world), "returned")] == \
        [returned.id]


def test_a_second_interview_for_the_same_case_is_refused(world):
    """One interview per assignment: another UUID for an approved case would count it twice
    in analysis (a resend of the same UUID still answers 200)."""
    first = submit(world, 0)
    interview_service.review_interview(user(world.supervisor), first, "approve", "")
    person = user(world.interviewer)
    with pytest.raises(interview_service.SubmissionInvalid) as refused:
        interview_service.submit_interview(principal_for_user(person), person, payload(world, 0))
    assert refused.value.fields == {
        "assignment_id": "Phân công này đã có phiếu; hãy sửa phiếu đó thay vì lập phiếu mới"}
    _db.session.expire_all()
    assert count(Interview) == 1
    assert _db.session.get(Assignment, world.assignments[0]).status == "approved"
    assert len(interview_service.approved_interviews(campaign_of(world))) == 1
