"""The field pages (issue 7): the interviewer's list and entry form, the supervisor's
assignment, review and interview pages; forms with CSRF, bad input, languages, other
organisations."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from builders import make_org, make_user
from field_builders import make_field_world, payload

from surveyapp.auth.policy import principal_for_user
from surveyapp.extensions import db as _db
from surveyapp.models import Assignment, AuditEvent, Interview, SamplingPlan, User
from surveyapp.models.codes import Role
from surveyapp.services import interviews as interview_service


@pytest.fixture
def world(app, db):
    with app.app_context():
        yield make_field_world()


@pytest.fixture(scope="session")
def reader_app(database_url):
    """A second app for the test body's own context, so that requests push their own (g,
    the signed-in user) instead of reusing the test's (as in test_field_api.py)."""
    from builders import app_config

    from surveyapp import create_app

    return create_app(app_config(database_url))


@pytest.fixture(autouse=True)
def _context(reader_app, world):
    with reader_app.app_context():
        yield


def user(login: str) -> User:
    return _db.session.scalar(sa.select(User).where(User.login == login))


def submit(world, index: int = 0, **changes) -> Interview:
    person = user(world.interviewer)
    data = payload(world, index, **changes)
    outcome = interview_service.submit_interview(principal_for_user(person), person, data)
    assert outcome.status == 201, outcome.body
    return interview_service.get_by_uuid(data["uuid"])


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def login_with_csrf(client, login: str) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"login": login, "password": "password-123",
                                           "csrf_token": token})
    assert response.status_code == 302


def csrf_token(client, url: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(
        as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def assignments_of(world) -> dict[int, Assignment]:
    _db.session.expire_all()
    return {a.case_id: a for a in _db.session.scalars(
        sa.select(Assignment).where(Assignment.campaign_id == world.campaign))}


def flashes(response) -> str:
    """The alerts of the page a redirect led to."""
    return " | ".join(re.sub(r"\s+", " ", unescape(m)).strip() for m in re.findall(
        r'<div class="alert[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S))


# ---- the interviewer ---------------------------------------------------------------------

def test_my_assignments_in_vietnamese_only_my_own(client, auth, world):
    auth.login(world.interviewer)
    page = text(client.get("/field/"))
    assert "Việc được giao" in page
    for a in world.assignments:
        assert f'data-testid="assignment-{a}"' in page
        assert f"/field/assignments/{a}/entry" in page
    assert "Hồ sơ A-1" in page and "Khảo sát hài lòng (thực địa)" in page
    assert "Công tác thực địa do anh/chị quản lý" not in page  # an interviewer manages none
    auth.logout()
    auth.login(world.other_interviewer)
    page = text(client.get("/field/"))
    assert "Anh/chị chưa được giao việc nào." in page and "assignment-" not in page


def test_a_returned_interview_comes_back_with_the_comment_and_a_correction_form(
        client, auth, world):
    interview = submit(world, 2)
    interview_service.review_interview(user(world.supervisor), interview, "return",
                                       "Hỏi lại tuổi của người trả lời.")
    auth.login(world.interviewer)
    page = text(client.get("/field/"))
    returned = world.assignments[2]
    assert page.index(f"assignment-{returned}") < page.index(f"assignment-{world.assignments[0]}")
    assert "Nhận xét của giám sát viên: Hỏi lại tuổi của người trả lời." in page
    assert f'data-testid="enter-{returned}"' in page and "Sửa phiếu" in page
    entry = text(client.get(f"/field/assignments/{returned}/entry"))
    assert 'data-mode="correct"' in entry and f'data-interview-uuid="{interview.uuid}"' in entry
    assert 'data-base-version="1"' in entry
    assert "Hỏi lại tuổi của người trả lời." in entry
    assert '"age": 42' in entry  # the answers to correct are prefilled


def test_the_entry_page_shows_the_frozen_questionnaire(client, auth, world):
    auth.login(world.interviewer)
    response = client.get(f"/field/assignments/{world.assignments[0]}/entry")
    assert response.status_code == 200
    page = text(response)
    assert 'data-mode="new"' in page and f'data-version-id="{world.version}"' in page
    assert "Phiếu khảo sát thử" in page and "Ông/bà đã đến bộ phận một cửa chưa?" in page
    assert "Kết quả tiếp xúc" in page
    # Another interviewer of the organisation may not open it.
    auth.logout()
    auth.login(world.other_interviewer)
    assert client.get(f"/field/assignments/{world.assignments[0]}/entry").status_code == 403


def test_the_service_worker_keeps_every_asset_of_the_entry_page_and_names_their_release(
        app, client, auth, world, tmp_path, monkeypatch):
    """Offline entry needs every script and style the entry page loads; the worker's cache
    is named by the assets' bytes, so a release that changes one of them is fetched anew."""
    import hashlib

    from surveyapp.views import field as field_views

    auth.login(world.interviewer)
    page = text(client.get(f"/field/assignments/{world.assignments[0]}/entry"))
    loaded = set(re.findall(r'(?:src|href)="(/static/[^"?]+)', page))
    worker = client.get("/field/sw.js").get_data(as_text=True)
    kept = set(re.findall(r'"(/static/[^"]+)"', worker))
    assert loaded and loaded <= kept
    digest = hashlib.sha256()
    for name in field_views.OFFLINE_ASSETS:
        digest.update(name.encode() + b"\0" + (Path(app.static_folder) / name).read_bytes())
    assert f'"surveyapp-field-static-{digest.hexdigest()[:16]}"' in worker.replace(
        'PREFIX + "static-', '"surveyapp-field-static-')
    # one changed byte in one asset: another cache name
    copy = tmp_path / "static"
    shutil.copytree(app.static_folder, copy)
    (copy / "js" / "field_entry.js").write_text("// changed\n", encoding="utf-8")
    assert field_views.offline_assets_digest(str(copy)) != digest.hexdigest()


def test_the_pages_follow_the_language_switch(client, auth, world):
    submit(world, 0)
    auth.login(world.supervisor)
    client.get("/lang/en")
    index = text(client.get("/field/"))
    assert "Field work you manage" in index and "Việc được giao" not in index
    queue = text(client.get(f"/field/campaigns/{world.campaign}/review"))
    assert "Waiting for review" in queue and "Complete interview" in queue
    assignments = text(client.get(f"/field/campaigns/{world.campaign}/assignments"))
    assert "Assign the ticked cases" in assignments and "To do" in assignments
    client.get("/lang/vi")
    assignments = text(client.get(f"/field/campaigns/{world.campaign}/assignments"))
    assert "Phân công" in assignments and "Assign the ticked cases" not in assignments


# ---- the supervisor: assignments ------------------------------------------------------------

def test_the_assignment_page_lists_the_sample_with_weights_and_interviewers(
        client, auth, world):
    auth.login(world.supervisor)
    page = text(client.get(f"/field/campaigns/{world.campaign}/assignments"))
    for unit in ("A-0001", "A-0002", "A-0003", "A-0004", "A-0005"):
        assert f'data-testid="case-{unit}"' in page
    assert page.count("Nguyễn Văn An") >= 4  # the interviewer, in the select and the rows
    assert "10,00" in page  # the design weight, Vietnamese number format
    index = text(client.get("/field/"))
    assert f"/field/campaigns/{world.campaign}/assignments" in index


def test_bulk_assign_through_the_page_with_csrf(app, client, auth, world, csrf):
    login_with_csrf(client, world.supervisor)
    url = f"/field/campaigns/{world.campaign}/assignments"
    token = csrf_token(client, url)
    response = client.post(f"/field/campaigns/{world.campaign}/assign", data={
        "csrf_token": token, "case_ids": [str(c) for c in world.cases[1:3]],
        "interviewer_id": str(world.other_interviewer_id),
        "supervisor_id": str(world.supervisor_id)}, follow_redirects=True)
    assert response.status_code == 200
    assert "Đã phân công 2 trường hợp." in flashes(response)
    rows = assignments_of(world)
    assert [rows[c].interviewer_id for c in world.cases] == [
        world.interviewer_id, world.other_interviewer_id, world.other_interviewer_id,
        world.interviewer_id]
    # Without the token nothing changes.
    refused = client.post(f"/field/campaigns/{world.campaign}/assign", data={
        "case_ids": [str(world.cases[0])], "interviewer_id": str(world.other_interviewer_id)})
    assert refused.status_code in (302, 400)
    assert assignments_of(world)[world.cases[0]].interviewer_id == world.interviewer_id


def test_reassigning_a_submitted_case_through_the_page_is_refused(client, auth, world):
    submit(world, 0)
    auth.login(world.supervisor)
    response = client.post(f"/field/campaigns/{world.campaign}/assign", data={
        "case_ids": [str(world.cases[0])], "interviewer_id": str(world.other_interviewer_id)},
        follow_redirects=True)
    assert response.status_code == 200
    assert "không thể phân công lại: A-0001" in flashes(response)
    assert assignments_of(world)[world.cases[0]].interviewer_id == world.interviewer_id


@pytest.mark.parametrize("form, message", [
    ({"interviewer_id": "INTERVIEWER"}, "Hãy chọn ít nhất một trường hợp."),
    ({"case_ids": ["CASE"], "interviewer_id": "987654"}, "Điều tra viên: "),
    ({"case_ids": ["CASE"], "interviewer_id": "FOREIGN"}, "Điều tra viên: "),
    ({"case_ids": ["CASE"]}, "Điều tra viên: "),
    ({"case_ids": ["CASE"], "interviewer_id": "abc"}, "Điều tra viên: "),
    ({"case_ids": ["OTHER"], "interviewer_id": "INTERVIEWER"}, "Trường hợp: "),
    ({"case_ids": ["abc", "CASE"], "interviewer_id": "INTERVIEWER"}, "Trường hợp: "),
    ({"case_ids": ["1e99"], "interviewer_id": "INTERVIEWER"}, "Trường hợp: "),
    ({"case_ids": ["RESERVE"], "interviewer_id": "INTERVIEWER"}, "dự phòng"),
    ({"case_ids": ["CASE"], "interviewer_id": "INTERVIEWER", "supervisor_id": "xyz"},
     "Giám sát viên: "),
    ({"case_ids": ["CASE"], "interviewer_id": "INTERVIEWER", "supervisor_id": "INTERVIEWER"},
     "Giám sát viên: "),
])
def test_bad_assignment_input_says_why_in_vietnamese_and_stores_nothing(
        client, auth, world, form, message):
    other = make_field_world(prefix="g")
    foreign = user(world.foreign_interviewer)
    values = {"CASE": world.cases[0], "OTHER": other.cases[0], "RESERVE": world.reserves[0],
              "INTERVIEWER": world.other_interviewer_id, "FOREIGN": foreign.id}

    def fill(v):
        return str(values.get(v, v))

    data = {k: [fill(v) for v in value] if isinstance(value, list) else fill(value)
            for k, value in form.items()}
    before = {c: (a.interviewer_id, a.supervisor_id) for c, a in assignments_of(world).items()}
    auth.login(world.supervisor)
    events = _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    response = client.post(f"/field/campaigns/{world.campaign}/assign", data=data)
    assert response.status_code == 302
    shown = flashes(client.get(response.headers["Location"]))
    assert message in shown, shown
    after = {c: (a.interviewer_id, a.supervisor_id) for c, a in assignments_of(world).items()}
    assert after == before
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events


def test_a_reserve_is_opened_from_the_assignment_page(client, auth, world, csrf):
    interview = submit(world, 0, disposition="non_contact", answers={})
    interview_service.review_interview(user(world.supervisor), interview, "approve", "")
    login_with_csrf(client, world.supervisor)
    url = f"/field/campaigns/{world.campaign}/assignments"
    page = text(client.get(url))
    assert "Thay bằng mẫu dự phòng" in page and f'id="reserve-{interview.assignment_id}"' in page
    token = csrf_token(client, url)
    response = client.post(f"/field/assignments/{interview.assignment_id}/reserve",
                           data={"csrf_token": token}, follow_redirects=True)
    assert "Đã mở mẫu dự phòng A-0005." in flashes(response)
    rows = assignments_of(world)
    assert rows[world.reserves[0]].interviewer_id == world.interviewer_id
    # The weights on the page follow the rule: 10 * 4/5 = 8 for the four and the reserve.
    page = text(client.get(url))
    assert "8,00" in page and "10,00" not in page
    # No reserve is left now: a second non-response is told so.
    second = submit(world, 1, disposition="refusal", answers={})
    interview_service.review_interview(user(world.supervisor), second, "approve", "")
    response = client.post(f"/field/assignments/{second.assignment_id}/reserve",
                           data={"csrf_token": csrf_token(client, url)}, follow_redirects=True)
    assert "Nhóm của trường hợp này không còn mẫu dự phòng." in flashes(response)


def test_a_complete_interview_cannot_open_a_reserve_through_the_page(client, auth, world):
    interview = submit(world, 0)
    interview_service.review_interview(user(world.supervisor), interview, "approve", "")
    auth.login(world.supervisor)
    response = client.post(f"/field/assignments/{interview.assignment_id}/reserve",
                           follow_redirects=True)
    assert "mới được thay bằng mẫu dự phòng" in flashes(response)
    assert world.reserves[0] not in assignments_of(world)


def test_a_campaign_without_a_locked_sample_says_so(client, auth, world):
    _db.session.get(SamplingPlan, world.plan).status = "drawn"
    _db.session.commit()
    auth.login(world.supervisor)
    page = text(client.get(f"/field/campaigns/{world.campaign}/assignments"))
    assert "Đợt khảo sát chưa có mẫu đã khóa" in page
    assert 'data-testid="assign-form"' not in page


# ---- the supervisor: review ----------------------------------------------------------------

def test_the_review_queue_and_the_interview_page(client, auth, world):
    interview = submit(world, 1)
    auth.login(world.supervisor)
    queue = text(client.get(f"/field/campaigns/{world.campaign}/review"))
    assert f'data-testid="queue-{interview.uuid}"' in queue
    assert "A-0002" in queue and "Nguyễn Văn An" in queue and "Chờ duyệt" in queue
    page = text(client.get(f"/field/interviews/{interview.id}"))
    assert interview.uuid in page and 'data-testid="review-form"' in page
    assert re.search(r'<input[^>]*name="seen_version"[^>]*value="1"', page)
    assert "Ông/bà đã đến bộ phận một cửa chưa?" in page and "42" in page
    # identifying data: apart from the answers, shown to supervisors while fielding (issue 8)
    assert 'data-testid="respondent"' in page and "Phạm Thị Dung" in page
    empty = text(client.get(f"/field/campaigns/{world.campaign}/review?status=rejected"))
    assert "Không có phiếu nào cần duyệt." in empty
    # An unknown status filter falls back to the waiting list, never a 500.
    assert client.get(f"/field/campaigns/{world.campaign}/review?status=x'").status_code == 200


def test_review_decisions_through_the_page(client, auth, world, csrf):
    first, second = submit(world, 0), submit(world, 1)
    login_with_csrf(client, world.supervisor)
    url = f"/field/interviews/{first.id}"
    response = client.post(f"{url}/review", data={
        "csrf_token": csrf_token(client, url), "action": "approve", "comment": "",
        "seen_version": "1"}, follow_redirects=True)
    assert "Đã ghi nhận quyết định." in flashes(response)
    _db.session.expire_all()
    assert _db.session.get(Interview, first.id).status == "approved"
    # Return without a comment: refused with the reason; with one: back to the interviewer.
    url = f"/field/interviews/{second.id}"
    response = client.post(f"{url}/review", data={
        "csrf_token": csrf_token(client, url), "action": "return", "comment": " ",
        "seen_version": "1"}, follow_redirects=True)
    assert "trả lại phiếu phải kèm nhận xét" in flashes(response)
    _db.session.expire_all()
    assert _db.session.get(Interview, second.id).status == "submitted"
    response = client.post(f"{url}/review", data={
        "csrf_token": csrf_token(client, url), "action": "return",
        "comment": "Thiếu kênh nộp hồ sơ.", "seen_version": "1"}, follow_redirects=True)
    assert "Đã ghi nhận quyết định." in flashes(response)
    _db.session.expire_all()
    assert _db.session.get(Interview, second.id).status == "returned"
    # Reviewing it again is refused: it no longer waits for review.
    response = client.post(f"{url}/review", data={
        "csrf_token": csrf_token(client, url), "action": "approve", "seen_version": "1"},
        follow_redirects=True)
    assert "Chỉ phiếu đang chờ duyệt mới duyệt được." in flashes(response)


def test_a_review_form_of_a_stale_version_is_refused(client, auth, world):
    interview = submit(world, 0)
    person = user(world.interviewer)
    interview_service.correct_interview(
        principal_for_user(person), person, interview,
        dict(payload(world, 0, uuid=interview.uuid, answers={"visited": "no", "age": 30}),
             base_version=1))
    auth.login(world.supervisor)
    response = client.post(f"/field/interviews/{interview.id}/review", data={
        "action": "approve", "comment": "", "seen_version": "1"}, follow_redirects=True)
    assert "vui lòng xem phiên bản mới" in flashes(response)
    _db.session.expire_all()
    assert _db.session.get(Interview, interview.id).status == "submitted"


@pytest.mark.parametrize("data, message", [
    ({"action": "delete"}, "Quyết định: "), ({}, "Quyết định: "),
    ({"action": "approve", "seen_version": "abc"}, "Đã ghi nhận quyết định.")])
def test_odd_review_forms_say_why_and_never_give_a_500(client, auth, world, data, message):
    interview = submit(world, 0)
    auth.login(world.supervisor)
    response = client.post(f"/field/interviews/{interview.id}/review", data=data)
    assert response.status_code == 302
    assert message in flashes(client.get(response.headers["Location"]))
    _db.session.expire_all()
    expected = "approved" if data.get("action") == "approve" else "submitted"
    assert _db.session.get(Interview, interview.id).status == expected


def test_a_conflict_is_shown_and_resolved_on_the_interview_page(client, auth, world, csrf):
    interview = submit(world, 0)
    person = user(world.interviewer)
    outcome = interview_service.submit_interview(
        principal_for_user(person), person,
        payload(world, 0, uuid=interview.uuid, answers={"visited": "no", "age": 71}))
    conflict_id = outcome.body["conflict_id"]
    login_with_csrf(client, world.supervisor)
    url = f"/field/interviews/{interview.id}"
    page = text(client.get(url))
    assert f'data-testid="conflict-{conflict_id}"' in page
    assert 'data-testid="review-form"' not in page  # resolve first
    response = client.post(f"{url}/resolve", data={
        "csrf_token": csrf_token(client, url), "conflict_id": str(conflict_id),
        "resolution": "accept"}, follow_redirects=True)
    assert "Đã giải quyết xung đột." in flashes(response)
    _db.session.expire_all()
    stored = _db.session.get(Interview, interview.id)
    assert stored.version == 2 and stored.status == "submitted"
    assert stored.current.answers["age"] == 71
    page = text(client.get(url))
    assert 'data-testid="review-form"' in page and "sửa phiên bản 1" in page
    assert 'data-testid="interview-version">2<' in page
    # Resolving it twice is refused with a reason, garbage ids never give a 500.
    response = client.post(f"{url}/resolve", data={
        "csrf_token": csrf_token(client, url), "conflict_id": str(conflict_id),
        "resolution": "keep"}, follow_redirects=True)
    assert "Bản gửi xung đột này đã được giải quyết." in flashes(response)
    for bad, message in (("abc", "Bản gửi xung đột: "),
                         ("987654321", "Không có bản gửi xung đột này.")):
        response = client.post(f"{url}/resolve", data={
            "csrf_token": csrf_token(client, url), "conflict_id": bad, "resolution": "keep"})
        assert response.status_code == 302
        assert message in flashes(client.get(response.headers["Location"]))


# ---- other organisations ---------------------------------------------------------------------

def test_a_supervisor_of_another_organisation_is_kept_out(client, auth, world):
    interview = submit(world, 0)
    other_org = make_org("Hội Cựu chiến binh thử")
    make_user("f.gsv_b", other_org, Role.SUPERVISOR)
    auth.login("f.gsv_b")
    for url in (f"/field/campaigns/{world.campaign}/assignments",
                f"/field/campaigns/{world.campaign}/review",
                f"/field/interviews/{interview.id}"):
        assert client.get(url).status_code in (403, 404), url
    response = client.post(f"/field/campaigns/{world.campaign}/assign", data={
        "case_ids": [str(world.cases[0])], "interviewer_id": str(world.other_interviewer_id)})
    assert response.status_code in (403, 404)
    response = client.post(f"/field/interviews/{interview.id}/review",
                           data={"action": "approve"})
    assert response.status_code in (403, 404)
    _db.session.expire_all()
    assert _db.session.get(Interview, interview.id).status == "submitted"
    assert assignments_of(world)[world.cases[0]].interviewer_id == world.interviewer_id
    # Their own field page lists none of this campaign.
    index = text(client.get("/field/"))
    assert "Khảo sát hài lòng (thực địa)" not in index


def test_an_interviewer_cannot_reach_the_supervisor_pages(client, auth, world):
    interview = submit(world, 0)
    auth.login(world.interviewer)
    for url in (f"/field/campaigns/{world.campaign}/assignments",
                f"/field/campaigns/{world.campaign}/review",
                f"/field/interviews/{interview.id}"):
        assert client.get(url).status_code == 403, url
