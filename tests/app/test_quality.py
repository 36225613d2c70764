"""Quality control of a campaign's interviews (issue 8): the keyed respondent hash stored at
submission, automatic flags, interviewer productivity, back-checks and their pages."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sqlalchemy as sa
from field_builders import frozen_version, make_field_world, payload, skip_logic_document

from surveyapp.auth.policy import principal_for_user
from surveyapp.extensions import db as _db
from surveyapp.models import (
    BackCheck,
    BackCheckDraw,
    Campaign,
    Interview,
    InterviewRespondent,
    RespondentKey,
    User,
)
from surveyapp.questionnaires import Choice, ChoiceList, Group, Question
from surveyapp.questionnaires import Questionnaire as Definition
from surveyapp.services import interviews as interview_service
from surveyapp.services import quality as service
from surveyapp.services.quality import QualityInputError

LIKERT = [f"hl{i}" for i in range(1, 6)]


def likert_document(max_age: int = 100) -> dict:
    """The field test questionnaire plus a block of five Likert items; age up to max_age;
    interviews shorter than 300 s are too short."""
    base = Definition.from_dict(skip_logic_document())
    base.children.append(Group("s3", {"vi": "Phần 3: Mức độ hài lòng", "en": "Part 3"}, children=[
        Question(name, "likert", {"vi": f"Hài lòng {name}", "en": name}, list_name="agree")
        for name in LIKERT]))
    base.choice_lists.append(ChoiceList("agree", [Choice(str(k), {"vi": str(k), "en": str(k)})
                                                  for k in range(1, 6)]))
    age = base.find("age")
    age.maximum = max_age
    base.metadata = {"min_duration_seconds": 300}
    return base.to_dict()


def user(login: str) -> User:
    return _db.session.scalar(sa.select(User).where(User.login == login))


def submit(world, index: int, login: str | None = None, **changes):
    person = user(login or world.interviewer)
    changes.setdefault("respondent", {"phone": f"09091234{index:02d}"})
    data = payload(world, index, **changes)
    outcome = interview_service.submit_interview(principal_for_user(person), person, data)
    assert outcome.status == 201, outcome.body
    return interview_service.get_by_uuid(data["uuid"])


@pytest.fixture
def world(app, db):
    with app.app_context():
        w = make_field_world(n_cases=6)
        campaign = _db.session.get(Campaign, w.campaign)
        w.version = frozen_version(campaign, likert_document()).id
        yield w


def varied(**extra) -> dict:
    return {"visited": "yes", "channel": "desk", "age": 42,
            **{n: str(1 + i % 5) for i, n in enumerate(LIKERT)}, **extra}


@pytest.fixture
def flagged_world(world):
    """Six interviews: 0 clean; 1 too short; 2 straight-lined; 3 and 4 the same phone written
    two ways; 5 valid when submitted, out of range under the questionnaire frozen after it."""
    ids = {}
    ids["clean"] = submit(world, 0, answers=varied()).id
    ids["short"] = submit(world, 1, answers=varied(), paradata={"duration_s": 120}).id
    ids["straight"] = submit(world, 2, answers=varied(**dict.fromkeys(LIKERT, "5"))).id
    ids["dup_a"] = submit(world, 3, answers=varied(), respondent={"phone": "0912 345 678"}).id
    ids["dup_b"] = submit(world, 4, answers=varied(), respondent={"phone": "+84912345678"}).id
    ids["range"] = submit(world, 5, answers=varied(age=95)).id
    frozen_version(_db.session.get(Campaign, world.campaign), likert_document(max_age=90))
    world.ids = ids
    return world


def test_the_keyed_hash_is_stored_at_submission_never_the_contact_data(world):
    interview = submit(world, 0, answers=varied(), respondent={"phone": "0912 345 678"})
    key = _db.session.scalar(sa.select(RespondentKey).where(
        RespondentKey.version_id == interview.current.id))
    assert key is not None and key.campaign_id == world.campaign
    assert re.fullmatch(r"[0-9a-f]{64}", key.key_hash) and "0912" not in key.key_hash
    # the identifying data are still stored apart (and only there)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(InterviewRespondent)
                              .where(InterviewRespondent.version_id == interview.current.id)) == 1
    # no usable contact data → no hash
    bare = submit(world, 1, answers=varied(), respondent={"note": "không để lại liên lạc"})
    assert _db.session.scalar(sa.select(RespondentKey).where(
        RespondentKey.version_id == bare.current.id)) is None


def test_flags_of_each_rule(flagged_world):
    w = flagged_world
    result = service.compute_flags(_db.session.get(Campaign, w.campaign))
    codes = {name: result.by_interview[i].codes for name, i in w.ids.items()}
    assert result.threshold == 300 and result.threshold_source == "setting"
    assert codes["clean"] == []
    assert codes["short"] == ["too_short"]
    assert codes["straight"] == ["straight_lining"]
    assert codes["dup_a"] == ["duplicate"] and codes["dup_b"] == ["duplicate"]
    assert result.by_interview[w.ids["dup_a"]].flags["duplicate"] == str(w.ids["dup_b"])
    assert codes["range"] == ["inconsistent"]
    assert result.by_interview[w.ids["range"]].flags["inconsistent"] == "age"


def test_answer_checks_are_kept_per_version_and_questionnaire(flagged_world, monkeypatch):
    """A page view re-checks only what it has not seen: the same versions against the same
    questionnaire come from the kept results; a correction (a new version) and a new
    questionnaire version (another digest) are checked again."""
    w = flagged_world
    campaign = _db.session.get(Campaign, w.campaign)
    checked = []
    real = service.check_answers
    monkeypatch.setattr(service, "check_answers",
                        lambda compiled, answers: checked.append(answers) or real(compiled,
                                                                                  answers))
    monkeypatch.setattr(service, "_CHECKED", {})
    first = service.compute_flags(campaign)
    assert len(checked) == 6
    second = service.compute_flags(campaign)
    assert len(checked) == 6  # nothing re-checked
    assert {k: f.flags for k, f in second.by_interview.items()} == \
        {k: f.flags for k, f in first.by_interview.items()}
    # the out-of-range interview is corrected: only its new version is checked
    interview = _db.session.get(Interview, w.ids["range"])
    person = user(w.interviewer)
    data = dict(payload(w, 5, uuid=interview.uuid, answers=varied(age=50),
                        respondent={"phone": "0909123405"}), base_version=1)
    assert interview_service.correct_interview(principal_for_user(person), person, interview,
                                               data).status == 200
    third = service.compute_flags(campaign)
    assert len(checked) == 7 and third.by_interview[w.ids["range"]].codes == []
    # a questionnaire with other rules: every version is checked again, by its rules
    frozen_version(campaign, likert_document(max_age=45))
    fourth = service.compute_flags(_db.session.get(Campaign, w.campaign))
    assert len(checked) == 13
    assert fourth.by_interview[w.ids["range"]].flags["inconsistent"] == "age"
    assert fourth.by_interview[w.ids["clean"]].codes == []


def test_without_a_setting_the_threshold_is_half_the_median(world):
    campaign = _db.session.get(Campaign, world.campaign)
    doc = likert_document()
    doc.pop("metadata")
    world.version = frozen_version(campaign, doc).id
    for i, seconds in enumerate([600, 620, 640, 660, 680, 200]):
        submit(world, i, answers=varied(), paradata={"duration_s": seconds})
    result = service.compute_flags(campaign)
    # median of 200, 600, 620, 640, 660, 680 = 630; × 0.5 = 315
    assert result.threshold == pytest.approx(315) and result.threshold_source == "median"
    assert sum("too_short" in f.codes for f in result.by_interview.values()) == 1


def test_productivity_per_interviewer(flagged_world):
    w = flagged_world
    campaign = _db.session.get(Campaign, w.campaign)
    (row,) = service.productivity_rows(campaign)
    assert row["interviewer"] == "Nguyễn Văn An" and row["interviews"] == 6
    assert row["days"] == 1 and row["per_day"] == 6
    # durations 910 s except one of 120 s: (5 × 910 + 120) / 6 / 60 min
    assert row["mean_duration_min"] == pytest.approx((5 * 910 + 120) / 6 / 60)
    assert row["flagged"] == 5 and row["flag_rate"] == pytest.approx(5 / 6)
    assert row["rate_duplicate"] == pytest.approx(2 / 6)


def test_back_check_draw_is_seeded_and_reproducible(flagged_world):
    w = flagged_world
    campaign = _db.session.get(Campaign, w.campaign)
    eligible = sorted(w.ids.values())
    draw = service.draw_back_checks(user(w.supervisor), campaign, 0.4, seed=12345)
    # ceil(0.4 × 6) = 3, drawn by numpy's Generator from the sorted ids with the stored seed
    expected = sorted(int(x) for x in np.random.default_rng(12345).choice(
        np.array(eligible), size=math.ceil(0.4 * 6), replace=False))
    assert [c.interview_id for c in draw.checks] == expected
    assert (draw.seed, draw.share, draw.eligible) == (12345, 0.4, 6)
    # the next draw takes only interviews not drawn before; a random seed is stored
    second = service.draw_back_checks(user(w.supervisor), campaign, 1)
    assert len(second.checks) == 3 and 0 <= second.seed < 2**31
    assert not {c.interview_id for c in second.checks} & set(expected)
    with pytest.raises(QualityInputError, match="Không còn phiếu"):
        service.draw_back_checks(user(w.supervisor), campaign, 0.5)


@pytest.mark.parametrize("share", [0, -0.1, 1.5, "abc", None, math.nan])
def test_bad_shares_store_nothing(flagged_world, share):
    campaign = _db.session.get(Campaign, flagged_world.campaign)
    with pytest.raises(QualityInputError):
        service.draw_back_checks(None, campaign, share)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(BackCheckDraw)) == 0


def test_recording_outcomes(flagged_world):
    w = flagged_world
    campaign = _db.session.get(Campaign, w.campaign)
    draw = service.draw_back_checks(user(w.supervisor), campaign, 0.2, seed=1)
    check = draw.checks[0]
    service.record_campaign_back_check(user(w.supervisor), campaign, check.id,
                                       "not_confirmed", "  Người dân nói không được phỏng vấn ")
    assert (check.outcome, check.note) == ("not_confirmed", "Người dân nói không được phỏng vấn")
    assert check.checked_by_id == w.supervisor_id and check.checked_at is not None
    (row,) = service.productivity_rows(campaign)
    assert row["back_checked"] == 2 and row["not_confirmed"] == 1  # ceil(0.2 × 6) = 2 drawn
    with pytest.raises(QualityInputError):
        service.record_campaign_back_check(None, campaign, check.id, "maybe")
    with pytest.raises(QualityInputError):
        service.record_campaign_back_check(None, campaign, check.id, "confirmed", "x" * 2001)
    with pytest.raises(service.NotFound):
        service.record_campaign_back_check(None, campaign, 999999, "confirmed")
    assert check.outcome == "not_confirmed"


def csrf_token(client, url: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(
        as_text=True))
    return match.group(1)


@pytest.fixture
def csrf_after_login(app):
    """CSRF on from here (signing in first without it: the test's app context would carry
    the login page's token over in ``g`` while the sign-in starts a new session)."""
    yield lambda: app.config.update(WTF_CSRF_ENABLED=True)
    app.config["WTF_CSRF_ENABLED"] = False


def test_pages_with_csrf(flagged_world, client, auth, csrf_after_login):
    w = flagged_world
    auth.login(w.supervisor)
    csrf_after_login()
    qc_page = client.get(f"/quality/campaigns/{w.campaign}/qc")
    html = qc_page.get_data(as_text=True)
    assert qc_page.status_code == 200 and "Kiểm soát chất lượng" in html
    assert 'data-flag="straight_lining"' in html and "Nguyễn Văn An" in html
    queue = client.get(f"/field/campaigns/{w.campaign}/review").get_data(as_text=True)
    assert 'data-flag="duplicate"' in queue and 'data-flag="too_short"' in queue
    url = f"/quality/campaigns/{w.campaign}/back-checks"
    # without the CSRF token nothing is drawn
    assert client.post(url, data={"share": "50"}).status_code == 400
    # bad input: a clear message in Vietnamese, nothing stored
    bad = client.post(url, data={"share": "0", "csrf_token": csrf_token(client, url)})
    assert bad.status_code == 422
    assert "Từ 0,1 đến 100." in bad.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(BackCheckDraw)) == 0
    good = client.post(url, data={"share": "50", "seed": "7",
                                  "csrf_token": csrf_token(client, url)}, follow_redirects=True)
    assert good.status_code == 200 and "Đã chọn 3 phiếu" in good.get_data(as_text=True)
    check = _db.session.scalar(sa.select(BackCheck).order_by(BackCheck.id))
    record = client.post(f"{url}/record", data={
        "check_id": str(check.id), "outcome": "confirmed", "note": "Đã gọi lại",
        "csrf_token": csrf_token(client, url)}, follow_redirects=True)
    assert "Đã ghi kết quả kiểm tra lại." in record.get_data(as_text=True)
    _db.session.refresh(check)
    assert check.outcome == "confirmed"
    wrong = client.post(f"{url}/record", data={
        "check_id": "abc", "outcome": "confirmed", "csrf_token": csrf_token(client, url)},
        follow_redirects=True)
    assert "Không có lượt kiểm tra lại này." in wrong.get_data(as_text=True)


def test_analysts_see_the_dashboard_but_cannot_draw(flagged_world, client, auth):
    from builders import make_user

    from surveyapp.models import Organisation
    from surveyapp.models.codes import Role

    org = _db.session.get(Organisation, flagged_world.org)
    make_user("qc.analyst", org, Role.ANALYST)
    auth.login("qc.analyst")
    assert client.get(f"/quality/campaigns/{flagged_world.campaign}/qc").status_code == 200
    assert client.get(f"/quality/campaigns/{flagged_world.campaign}/back-checks"
                      ).status_code == 403


def test_a_draw_racing_another_is_refused_whole(flagged_world, monkeypatch):
    """Two supervisors drawing at once: the unique key on back_check.interview_id lets one
    win; the other gets a clear 409 message and stores nothing (simulated here)."""
    from sqlalchemy.exc import IntegrityError

    campaign = _db.session.get(Campaign, flagged_world.campaign)

    def lost_race():
        raise IntegrityError("INSERT INTO back_check", {}, Exception("duplicate key"))

    monkeypatch.setattr(_db.session, "commit", lost_race)
    with pytest.raises(service.Conflict, match="cùng lúc"):
        service.draw_back_checks(None, campaign, 0.5, seed=3)
    monkeypatch.undo()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(BackCheckDraw)) == 0


@pytest.mark.parametrize("share, seed", [("NaN", ""), ("sNaN", ""), ("inf", ""), ("1e400", ""),
                                         ("abc", ""), ("", ""), ("0.05", ""), ("10", "-1"),
                                         ("10", "99999999999"), ("10", "1.5")])
def test_bad_draw_input_on_the_page_is_a_message_not_a_500(flagged_world, client, auth, share,
                                                           seed):
    auth.login(flagged_world.supervisor)
    response = client.post(f"/quality/campaigns/{flagged_world.campaign}/back-checks",
                           data={"share": share, "seed": seed})
    assert response.status_code == 422
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(BackCheckDraw)) == 0
