"""Weighting runs (issue 9): every figure equals what ``analysis`` gives for the same inputs.

The test world: a locked plan with two strata (A: 10 cases, B: 10 cases, weight 10), one
approved interview per case with a pattern of dispositions, and "visited" answered by the
respondents. The expected figures are computed here by calling ``analysis`` on arrays built
from that pattern, independently of the service's own extraction.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sqlalchemy as sa
from builders import make_campaign, make_org, make_user
from field_builders import frozen_version, locked_plan

from analysis import SurveyDesign
from analysis.calibration import weight_diagnostics
from analysis.weighting import nonresponse_adjustment
from surveyapp.extensions import db as _db
from surveyapp.models import (
    AuditEvent,
    Assignment,
    Interview,
    InterviewVersion,
    UnitWeight,
    WeightRun,
)
from surveyapp.models.codes import CampaignStatus, Role
from surveyapp.services import weighting as service
from surveyapp.services.weighting import WeightingFailed, WeightSpec

# (disposition, visited) per case of stratum A then B; None: no approved interview
PATTERN = {
    "A": [("complete", "yes"), ("complete", "yes"), ("complete", "no"), ("partial", "yes"),
          ("complete", "no"), ("refusal", None), ("non_contact", None),
          ("not_eligible", None), ("unknown_eligibility", None), None],
    "B": [("complete", "yes"), ("complete", "no"), ("complete", "no"), ("complete", "yes"),
          ("complete", "no"), ("complete", "yes"), ("refusal", None), ("refusal", None),
          ("other_non_interview", None), None],
}
TOTALS = {"stratum": {"A": 120.0, "B": 90.0}, "visited": {"yes": 110.0, "no": 100.0}}


def count(model) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _interview(campaign, version_id, case, interviewer, disposition, visited, status, tag):
    a = Assignment(campaign_id=campaign.id, case_id=case.id, interviewer_id=interviewer.id,
                   status="approved" if status == "approved" else "submitted", comment="")
    _db.session.add(a)
    _db.session.flush()
    i = Interview(uuid=f"00000000-0000-4000-8000-{tag:012d}", campaign_id=campaign.id,
                  assignment_id=a.id, interviewer_id=interviewer.id, version=1,
                  receipt="0" * 64, disposition=disposition, status=status)
    _db.session.add(i)
    _db.session.flush()
    answers = {"visited": visited, "age": 40} if visited else {}
    _db.session.add(InterviewVersion(interview_id=i.id, number=1,
                                     questionnaire_version_id=version_id,
                                     disposition=disposition, answers=answers, calculated={},
                                     paradata={}, content_sha256="0" * 64))
    return i


@pytest.fixture()
def world(app, db):
    with app.test_request_context():
        yield _world()


def _world():
    org = make_org("Ủy ban MTTQ phường thử (trọng số)")
    analyst = make_user("w.analyst", org, Role.ANALYST)
    interviewer = make_user("w.dtv", org, Role.INTERVIEWER)
    make_user("w.gsv", org, Role.SUPERVISOR)
    campaign = make_campaign(org, title="Khảo sát trọng số", status=CampaignStatus.FIELDING)
    version = frozen_version(campaign)
    plan = locked_plan(campaign, 10, reserves_per_stratum=1, strata=("A", "B"))
    cases = {s: [c for c in plan.cases if c.status == "selected" and c.stratum == s]
             for s in ("A", "B")}
    tag = 0
    pending = None
    for stratum, outcomes in PATTERN.items():
        for case, outcome in zip(cases[stratum], outcomes, strict=True):
            tag += 1
            if outcome is None:
                continue
            _interview(campaign, version.id, case, interviewer, outcome[0], outcome[1],
                       "approved", tag)
    # one more interview waiting for review (not in analysis): the last case of B
    pending = _interview(campaign, version.id, cases["B"][-1], interviewer, "complete", "yes",
                         "submitted", 99)
    _db.session.commit()
    return {"campaign": campaign, "analyst": analyst, "org": org, "pending": pending.id,
            "plan": plan}


def expected_arrays():
    """The inputs as the test reads them from PATTERN: base weight 10 for every case."""
    rows = [(s, o) for s in ("A", "B") for o in PATTERN[s]]
    base = np.full(len(rows), 10.0)
    disp = [o[0] if o else None for _, o in rows]
    responded = np.array([d in ("complete", "partial") for d in disp])
    eligible = np.array([d != "not_eligible" for d in disp])
    unknown = np.array([d in ("unknown_eligibility", None) for d in disp])
    strata = np.array([s for s, _ in rows])
    visited = np.array([o[1] if o else None for _, o in rows], dtype=object)
    return base, responded, eligible, unknown, strata, visited


def test_a_raked_run_equals_the_analysis_library(world):
    spec = WeightSpec(classes="stratum", method="rake", totals=TOTALS)
    run = service.compute_weights(world["analyst"], world["campaign"], spec)
    base, responded, eligible, unknown, strata, visited = expected_arrays()
    nr = nonresponse_adjustment(base, responded, strata, eligible=eligible,
                                unknown_eligibility=unknown)
    resp = np.flatnonzero(responded)
    design = SurveyDesign.create(data={"stratum": strata[resp], "visited": visited[resp]},
                                 weights=nr.weights[resp])
    raked = design.rake(TOTALS)
    final = np.asarray(raked.weights)

    assert run.number == 1 and run.status == "done" and run.input_rows == 20
    units = sorted(run.units, key=lambda u: u.case_id)
    assert len(units) == len(resp) == 11
    assert [u.base_weight for u in units] == pytest.approx(base[resp])
    assert [u.nonresponse_weight for u in units] == pytest.approx(nr.weights[resp])
    assert [u.final_weight for u in units] == pytest.approx(final)
    d = run.diagnostics
    for stage, w in (("base", base[resp]), ("nonresponse", nr.weights[resp]), ("final", final)):
        expected = weight_diagnostics(w).to_dict()
        for key, value in expected.items():
            assert d["stages"][stage][key] == pytest.approx(value), (stage, key)
    assert d["classes"] == [
        {k: (None if isinstance(v, float) and math.isnan(v) else pytest.approx(v))
         for k, v in c.to_dict().items()} for c in nr.classes]
    cal = raked.calibration
    assert d["calibration"]["converged"] is True
    assert d["calibration"]["iterations"] == cal.iterations
    assert [t["achieved"] for t in d["calibration"]["totals"]] == pytest.approx(cal.achieved)
    assert sum(final) == pytest.approx(210.0)
    for row in d["strata"]:
        w = final[strata[resp] == row["stratum"]]
        assert row["n_respondents"] == w.size
        assert row["n_effective"] == pytest.approx(weight_diagnostics(w).n_effective)
    assert d["outcomes"] == {"respondents": 11, "eligible_nonrespondents": 5, "not_eligible": 1,
                             "unknown_eligibility": 1, "no_approved_interview": 2}
    weights = service.analysis_weights(run)
    assert sorted(weights.values()) == pytest.approx(sorted(final))
    assert _db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.object_type == "weight_run")) is not None


def test_linear_calibration_with_bounds_and_no_classes(world):
    spec = WeightSpec(classes="none", method="linear", totals={"visited": TOTALS["visited"]},
                      bounds=(0.5, 2.0), unknown_eligible_share=0.5)
    run = service.compute_weights(world["analyst"], world["campaign"], spec)
    base, responded, eligible, unknown, strata, visited = expected_arrays()
    nr = nonresponse_adjustment(base, responded, None, eligible=eligible,
                                unknown_eligibility=unknown, unknown_eligible_share=0.5)
    resp = np.flatnonzero(responded)
    design = SurveyDesign.create(data={"visited": visited[resp]},
                                 weights=nr.weights[resp])
    cal = design.calibrate({"visited": TOTALS["visited"]}, "linear", bounds=[0.5, 2.0])
    units = sorted(run.units, key=lambda u: u.case_id)
    assert [u.final_weight for u in units] == pytest.approx(np.asarray(cal.weights))
    assert run.spec["bounds"] == [0.5, 2.0] and run.spec["unknown_eligible_share"] == 0.5


def test_runs_are_versioned_and_the_digest_follows_the_inputs(world):
    spec = WeightSpec(classes="stratum", method="none")
    first = service.compute_weights(world["analyst"], world["campaign"], spec)
    first_weights = service.analysis_weights(first)
    first_digest = first.input_sha256
    again = service.compute_weights(world["analyst"], world["campaign"], spec)
    assert again.number == 2 and again.input_sha256 == first_digest
    pending = _db.session.get(Interview, world["pending"])
    pending.status = "approved"
    _db.session.commit()
    third = service.compute_weights(world["analyst"], world["campaign"], spec)
    assert third.number == 3 and third.input_sha256 != first_digest
    assert len(third.units) == len(first.units) + 1
    _db.session.expire_all()
    first = _db.session.get(WeightRun, first.id)
    assert first.number == 1 and first.input_sha256 == first_digest
    assert service.analysis_weights(first) == first_weights
    assert [r.number for r in service.list_runs(world["campaign"])] == [3, 2, 1]


@pytest.mark.parametrize("spec, message", [
    (WeightSpec(method="rake", totals={"gioi_tinh": {"nam": 1.0}}),
     "không phải là tầng cũng không phải là câu hỏi"),
    (WeightSpec(method="rake", totals={"visited": {"yes": 100.0}}), "không có tổng"),
    (WeightSpec(method="rake", totals={"visited": {"yes": 100.0, "no": 90.0, "maybe": 5.0}}),
     "không có người trả lời"),
    (WeightSpec(method="rake", totals={}), "tổng thể"),
    (WeightSpec(method="rake", totals=TOTALS, bounds=(0.5, 2.0)), "tuyến tính"),
    (WeightSpec(method="poststratify", totals=TOTALS), "Hậu phân tầng"),
    (WeightSpec(classes="visited"), "visited"),
    (WeightSpec(unknown_eligible_share=1.5), "từ 0 đến 1"),
])
def test_bad_specifications_are_refused_in_vietnamese_and_store_nothing(world, app, spec,
                                                                         message):
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        with pytest.raises(WeightingFailed) as info:
            service.compute_weights(world["analyst"], world["campaign"], spec)
    assert message in info.value.message
    assert count(WeightRun) == 0 and count(UnitWeight) == 0


def test_a_class_with_no_respondent_is_named(world, app):
    # stratum C: two sampled cases, no interview at all
    from surveyapp.models import SamplingCase
    for i in range(2):
        _db.session.add(SamplingCase(plan_id=world["plan"].id, position=100 + i,
                                     unit_id=f"C-{i}", data={}, stratum="C", pik=0.1,
                                     weight=10.0, status="selected"))
    _db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        with pytest.raises(WeightingFailed) as info:
            service.compute_weights(world["analyst"], world["campaign"], WeightSpec())
    assert "C" in info.value.message and "không có người trả lời" in info.value.message
    assert count(WeightRun) == 0


def test_no_locked_plan_and_no_interviews(db, app):
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        org = make_org("Tổ chức không mẫu")
        analyst = make_user("w2.analyst", org, Role.ANALYST)
        campaign = make_campaign(org, title="Chưa có mẫu")
        with pytest.raises(WeightingFailed) as info:
            service.compute_weights(analyst, campaign, WeightSpec())
        assert "kế hoạch chọn mẫu" in info.value.message
        locked_plan(campaign, 3)
        with pytest.raises(WeightingFailed) as info:
            service.compute_weights(analyst, campaign, WeightSpec())
        assert "phỏng vấn" in info.value.message
        assert count(WeightRun) == 0


def test_a_calibration_that_does_not_converge_is_stored_and_said(world):
    spec = WeightSpec(classes="stratum", method="linear", totals=TOTALS, bounds=(0.99, 1.01))
    run = service.compute_weights(world["analyst"], world["campaign"], spec)
    assert run.status == "not_converged"
    assert run.diagnostics["calibration"]["converged"] is False
    assert service.run_detail(run)["converged"] is False


def test_totals_table_parsing(app):
    with app.test_request_context():
        _check_totals_parsing()


def _check_totals_parsing():
    text = "biến,mức,tổng\nstratum,A,120\nstratum;B;90\nvisited\tyes\t110\n"
    assert service.parse_totals(text) == {"stratum": {"A": 120.0, "B": 90.0},
                                          "visited": {"yes": 110.0}}
    assert service.parse_totals('{"stratum": {"A": 1}}') == {"stratum": {"A": 1.0}}
    with pytest.raises(WeightingFailed):
        service.parse_totals("stratum,A,nhiều\nstratum,B,abc")
    with pytest.raises(WeightingFailed):
        service.parse_totals("stratum,A,-1")
    assert service.parse_totals(service.totals_table(TOTALS)) == TOTALS


def test_histogram_bins_are_the_weights():
    h = service.histogram([1.0, 1.0, 2.0, 3.0, 3.0, 3.0], bins=3)
    assert [b["count"] for b in h["bars"]] == [2, 1, 3]
    assert h["bars"][2]["height"] == h["height"]
