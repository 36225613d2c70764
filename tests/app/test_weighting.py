"""Weighting runs (issue 9): every figure equals what ``analysis`` gives for the same inputs.

The test world: a locked plan with two strata (A: 10 cases, B: 10 cases, weight 10), one
approved interview per case with a pattern of dispositions, and "visited" answered by the
respondents. The expected figures are computed here by calling ``analysis`` on arrays built
from that pattern, independently of the service's own extraction.
"""

from __future__ import annotations

import json
import math
import re

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
    plan.allocation = [{"stratum": "A", "N_h": 120, "n_h": 10},
                       {"stratum": "B", "N_h": 90, "n_h": 10}]
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


def test_a_run_numbered_at_the_same_moment_as_another_is_refused_and_keeps_nothing(
        world, monkeypatch):
    """Two runs computed at once both read the same highest number: the database's unique
    (campaign, number) key refuses the second (409), and none of its unit weights stay."""
    from surveyapp.errors import Conflict
    from surveyapp.services import numbered_runs

    spec = WeightSpec(classes="stratum", method="none")
    first = service.compute_weights(world["analyst"], world["campaign"], spec)
    units = count(UnitWeight)
    monkeypatch.setattr(numbered_runs, "next_number", lambda model, campaign_id: 1)
    with pytest.raises(Conflict, match="cùng lúc|same time"):
        service.compute_weights(world["analyst"], world["campaign"], spec)
    assert count(WeightRun) == 1 and count(UnitWeight) == units
    assert _db.session.get(WeightRun, first.id).number == 1


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


# ---- pages ----------------------------------------------------------------------------------

def csrf_token(client, url: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(
        as_text=True))
    return match.group(1)


@pytest.fixture
def page_world(app, db):
    with app.app_context():
        w = _world()
        yield {"campaign": w["campaign"].id}


@pytest.fixture
def csrf_after_login(app):
    """CSRF on once signed in (as in test_quality)."""
    yield lambda: app.config.update(WTF_CSRF_ENABLED=True)
    app.config["WTF_CSRF_ENABLED"] = False


def test_the_pages_create_and_show_a_run_with_its_chart(page_world, client, auth,
                                                        csrf_after_login):
    campaign_id = page_world["campaign"]
    auth.login("w.analyst")
    csrf_after_login()
    base = f"/campaigns/{campaign_id}/weighting"
    listing = client.get(base + "/").get_data(as_text=True)
    assert "Các lần tính trọng số" in listing and 'data-testid="no-runs"' in listing
    form = client.get(base + "/new").get_data(as_text=True)
    assert "stratum,A,120" in form and "stratum,B,90" in form  # the frame's N_h
    # without the CSRF token nothing is stored
    assert client.post(base + "/new", data={"classes": "stratum", "method": "none",
                                            "unknown_eligible_share": "1"}).status_code == 400
    assert count(WeightRun) == 0
    bad = client.post(base + "/new", data={
        "classes": "stratum", "method": "rake", "totals": "gioi_tinh,nam,100",
        "unknown_eligible_share": "1", "csrf_token": csrf_token(client, base + "/new")})
    assert bad.status_code == 400
    assert "không phải là tầng cũng không phải là câu hỏi" in bad.get_data(as_text=True)
    assert count(WeightRun) == 0
    table = "biến,mức,tổng\nstratum,A,120\nstratum,B,90\nvisited,yes,110\nvisited,no,100"
    done = client.post(base + "/new", data={
        "classes": "stratum", "method": "rake", "totals": table,
        "unknown_eligible_share": "1", "csrf_token": csrf_token(client, base + "/new")},
        follow_redirects=True)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "Đã lưu lần tính trọng số 1" in html
    run = _db.session.scalar(sa.select(WeightRun))
    assert run.spec["totals"] == TOTALS
    assert '<svg' in html and html.count("<rect ") == len(service.run_detail(run)
                                                          ["histogram"]["bars"])
    for testid in ("stages", "strata", "classes", "achieved", "outcomes", "bins"):
        assert f'data-testid="{testid}"' in html, testid
    assert run.input_sha256 in html
    assert "<script" not in html.split("</nav>", 1)[1].split("</main>")[0]
    listing = client.get(base + "/").get_data(as_text=True)
    assert 'data-testid="run-1"' in listing


def test_the_campaign_page_links_to_the_runs(page_world, client, auth):
    auth.login("w.gsv")
    html = client.get(f"/campaigns/{page_world['campaign']}").get_data(as_text=True)
    assert 'data-testid="weighting-link"' in html
    listing = client.get(f"/campaigns/{page_world['campaign']}/weighting/").get_data(
        as_text=True)
    assert 'data-testid="new-run"' not in listing  # supervisors read, they do not compute


def test_a_run_of_another_campaign_is_not_found(world, client, auth):
    run = service.compute_weights(world["analyst"], world["campaign"], WeightSpec())
    other = make_campaign(world["org"], title="Khảo sát khác")
    _db.session.commit()
    auth.login("w.analyst")
    assert client.get(f"/campaigns/{other.id}/weighting/{run.id}").status_code == 404
    assert client.get(f"/campaigns/{world['campaign'].id}/weighting/{run.id}").status_code \
        == 200


# ---- the demo -------------------------------------------------------------------------------

def test_the_demo_has_a_weighting_run_equal_to_the_analysis_library(app, db):
    from surveyapp.models import Campaign, Organisation
    from surveyapp.services import demo
    from surveyapp.services.assignments import campaign_weights
    from surveyapp.services.interviews import approved_interviews

    with app.app_context():
        demo.load_demo()
        org = _db.session.scalar(sa.select(Organisation).where(
            Organisation.name == demo.CITY_FRONT))
        campaign = _db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.CAMPAIGN_TITLE, Campaign.organisation_id == org.id))
        runs = service.list_runs(campaign)
        assert [r.number for r in runs] == [1]
        run = runs[0]
        assert run.spec["method"] == "rake" and run.spec["classes"] == "stratum"
        frame = {a: float(n) for a, n, _p in demo.FRAME_AGENCIES}
        assert run.spec["totals"]["stratum"] == frame
        assert sum(run.spec["totals"]["nhom_tuoi"].values()) == sum(frame.values())
        # the same inputs, read here: every weighted case and its approved outcome
        weights = campaign_weights(campaign)
        outcome = {v.interview.assignment.case_id: v for v in approved_interviews(campaign)
                   if v.interview.assignment is not None}
        from surveyapp.models import SamplingCase
        ids = sorted(weights)
        cases = {c.id: c for c in _db.session.scalars(sa.select(SamplingCase).where(
            SamplingCase.id.in_(ids)))}
        disp = [outcome[i].disposition if i in outcome else None for i in ids]
        responded = np.array([d in ("complete", "partial") for d in disp])
        nr = nonresponse_adjustment(
            np.array([weights[i] for i in ids]), responded,
            np.array([cases[i].stratum for i in ids]),
            eligible=np.array([d != "not_eligible" for d in disp]),
            unknown_eligibility=np.array([d in ("unknown_eligibility", None) for d in disp]))
        resp = np.flatnonzero(responded)
        data = {"stratum": np.array([cases[ids[j]].stratum for j in resp], dtype=object),
                "nhom_tuoi": np.array([outcome[ids[j]].answers["nhom_tuoi"] for j in resp],
                                      dtype=object)}
        raked = SurveyDesign.create(data=data, weights=nr.weights[resp]).rake(
            run.spec["totals"])
        expected = {outcome[ids[j]].interview_id: w
                    for j, w in zip(resp, np.asarray(raked.weights), strict=True)}
        got = service.analysis_weights(run)
        assert set(got) == set(expected)
        assert [got[k] for k in sorted(got)] == pytest.approx([expected[k] for k in
                                                                sorted(expected)])
        assert run.diagnostics["calibration"]["converged"] is True
        final = weight_diagnostics(np.asarray(raked.weights)).to_dict()
        for key, value in final.items():
            assert run.diagnostics["stages"]["final"][key] == pytest.approx(value), key
        demo.load_demo()  # again: nothing new
        assert len(service.list_runs(campaign)) == 1


def test_totals_from_an_uploaded_file(world):
    run = service.create_run(world["analyst"], world["campaign"], classes="stratum",
                             method="rake", totals_text="ignored,when,1",
                             totals_file=json.dumps(TOTALS).encode(), bounds=(None, None),
                             trim=(None, None), unknown_eligible_share=1.0)
    assert run.spec["totals"] == TOTALS
    with pytest.raises(WeightingFailed):
        service.create_run(world["analyst"], world["campaign"], classes="stratum",
                           method="linear", totals_text=service.totals_table(TOTALS),
                           totals_file=None, bounds=(0.5, None), trim=(None, None),
                           unknown_eligible_share=1.0)
    assert count(WeightRun) == 1


def test_two_runs_taking_the_same_number_give_a_conflict_not_a_500(world, monkeypatch):
    from surveyapp.errors import Conflict
    service.compute_weights(world["analyst"], world["campaign"], WeightSpec())
    real = _db.session.scalar

    def stale_max(statement, *args, **kwargs):  # as if the first run were not seen yet
        if "max(weight_run.number)" in str(statement):
            return None
        return real(statement, *args, **kwargs)

    monkeypatch.setattr(_db.session, "scalar", stale_max)
    with pytest.raises(Conflict):
        service.compute_weights(world["analyst"], world["campaign"], WeightSpec())
    monkeypatch.undo()
    assert [r.number for r in service.list_runs(world["campaign"])] == [1]


def test_linear_calibration_with_trimming_equals_analysis(world):
    spec = WeightSpec(classes="stratum", method="linear", totals=TOTALS, trim=(0.8, 1.6))
    run = service.compute_weights(world["analyst"], world["campaign"], spec)
    base, responded, eligible, unknown, strata, visited = expected_arrays()
    nr = nonresponse_adjustment(base, responded, strata, eligible=eligible,
                                unknown_eligibility=unknown)
    resp = np.flatnonzero(responded)
    cal = SurveyDesign.create(data={"stratum": strata[resp], "visited": visited[resp]},
                              weights=nr.weights[resp]).calibrate(TOTALS, "linear",
                                                                  trim=[0.8, 1.6])
    units = sorted(run.units, key=lambda u: u.case_id)
    assert [u.final_weight for u in units] == pytest.approx(np.asarray(cal.weights))
    assert run.diagnostics["calibration"]["trimmed"] == cal.calibration.trimmed
    assert run.diagnostics["calibration"]["notes"] == list(cal.calibration.notes)
