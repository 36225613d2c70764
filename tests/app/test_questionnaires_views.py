"""The questionnaire builder pages: who sees what, every form's bad input, preview, upload."""

from __future__ import annotations

import io
import json
import re

import builders
import pytest
from questionnaire_samples import xlsx_bytes
from sqlalchemy import func, select

from surveyapp.models import AuditEvent, Campaign, Questionnaire, QuestionnaireVersion
from surveyapp.models.codes import Role
from surveyapp.services import questionnaires as service

LONG = "Đ" * 10_001
SCRIPT = "<script>alert('x')</script>"
UNDECODABLE = "Kh\ufffdo s\ufffdt"
ENGLISH_DEFAULTS = ("This field is required", "Not a valid", "Field must be", "Invalid Choice")
FIX = "Vui lòng sửa các trường được đánh dấu."


@pytest.fixture
def ids(app, db):
    with app.app_context():
        org = builders.make_org()
        other = builders.make_org("Hội Liên hiệp Phụ nữ (thử)")
        office = builders.make_org("Văn phòng UBND (thử)")
        for login, role in (("phantich", Role.ANALYST), ("giamsat", Role.SUPERVISOR),
                            ("dieutravien", Role.INTERVIEWER)):
            builders.make_user(login, org, role)
        builders.make_user("khac", other, Role.ORG_ADMIN)
        builders.make_user("vanphong", office, Role.OFFICE_REVIEWER)
        campaign = builders.make_campaign(org, agencies=[builders.make_agency()])
        version = service.import_xlsform(None, campaign, xlsx_bytes(), "mau.xlsx").version
        return {"campaign": campaign.id, "version": version.id}


def snapshot(db, version_id):
    version = db.session.get(QuestionnaireVersion, version_id)
    db.session.refresh(version)
    return (version.digest,
            db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def test_an_editor_builds_from_the_template_and_sees_versions_and_problems(app, db, client, auth,
                                                                          ids):
    auth.login("phantich")
    page = client.get(f"/campaigns/{ids['campaign']}").get_data(as_text=True)
    assert f"/campaigns/{ids['campaign']}/questionnaire" in page
    response = client.post(f"/campaigns/{ids['campaign']}/questionnaire/template")
    assert response.status_code == 302
    version_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Phiên bản 2" in version_page and "Bản nháp" in version_page
    index = client.get(f"/campaigns/{ids['campaign']}/questionnaire").get_data(as_text=True)
    assert "Phiên bản 1" in index and "Phiên bản 2" in index
    # A blank version: its problems are listed precisely, in Vietnamese.
    blank = client.post(f"/campaigns/{ids['campaign']}/questionnaire/blank")
    page = client.get(blank.headers["Location"]).get_data(as_text=True)
    assert "Bảng hỏi không có câu hỏi nào" in page and "Nhóm &#39;section_1&#39; không có" in page


def test_the_version_page_shows_the_outline_and_editing_controls_only_to_editors(
        app, db, client, auth, ids):
    url = f"/questionnaires/versions/{ids['version']}"
    auth.login("phantich")
    page = client.get(url).get_data(as_text=True)
    for text in ("Kênh nộp hồ sơ", "online_quality", "${channel} = &#39;online&#39;",
                 "Không quá 10 lần", "likert5", "Rất hài lòng", "tt01_points",
                 "Không phát hiện vấn đề nào."):
        assert text in page, text
    assert "/items/channel/edit" in page and "/freeze" in page
    for login in ("giamsat", "dieutravien"):
        auth.logout()
        auth.login(login)
        page = client.get(url).get_data(as_text=True)
        assert "Kênh nộp hồ sơ" in page and "/items/channel/edit" not in page
        assert client.get(url + "/preview").status_code == 200
        assert client.get(url + "/export.xlsx").status_code == 200
        assert client.post(url + "/freeze").status_code == 403
        assert client.get(url + "/items/channel/edit").status_code == 403


def test_other_organisations_and_the_office_never_see_an_unpublished_questionnaire(
        app, db, client, auth, ids):
    url = f"/questionnaires/versions/{ids['version']}"
    for login in ("khac", "vanphong"):
        auth.logout()
        auth.login(login)
        for path in (url, url + "/preview", url + "/export.xlsx",
                     f"/campaigns/{ids['campaign']}/questionnaire"):
            assert client.get(path).status_code == 403, (login, path)
    # Published: frozen, in use by a campaign submitted to the office.
    with app.app_context():
        campaign = db.session.get(Campaign, ids["campaign"])
        version = db.session.get(QuestionnaireVersion, ids["version"])
        service.freeze_version(None, version)
        campaign.questionnaire_version_id = version.id
        campaign.status = "submitted"
        db.session.commit()
    assert client.get(url).status_code == 200  # the office reviewer, signed in last
    assert client.get(url + "/preview").status_code == 200
    auth.logout()
    auth.login("khac")
    assert client.get(url).status_code == 403


def test_the_preview_carries_the_document_and_renders_every_question(app, db, client, auth, ids):
    auth.login("dieutravien")
    response = client.get(f"/questionnaires/versions/{ids['version']}/preview")
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    data = re.search(r'<script type="application/json" id="questionnaire-data">(.*?)</script>',
                     html, re.S).group(1)
    document = json.loads(data)
    with app.app_context():
        assert document == db.session.get(QuestionnaireVersion, ids["version"]).document
    for name in ("channel", "online_quality", "contacts", "overall", "thanks"):
        assert f'data-name="{name}"' in html
    assert html.count('class="page"') == 2
    # the scripts in the order they build on each other (a missing one raises)
    scripts = ("js/expressions.js", "js/form_engine.js", "js/form_preview.js")
    assert [html.index(s) for s in scripts] == sorted(html.index(s) for s in scripts)
    assert re.search(r"<script>(?!</script>)", html) is None  # no inline script


def test_editing_through_the_pages(app, db, client, auth, ids):
    auth.login("phantich")
    v = f"/questionnaires/versions/{ids['version']}"
    steps = [
        (v + "/sections/new", {"name": "s_them", "label_vi": "Phần thêm", "label_en": "More"}),
        (v + "/questions/new", {"section": "s_them", "name": "tuoi", "type": "integer",
                                "label_vi": "Tuổi", "minimum": "18", "maximum": "100",
                                "constraint": ". >= 18", "constraint_message_vi": "Từ 18 tuổi",
                                "required": "y", "metadata": '{"profile": true}'}),
        (v + "/items/tuoi/edit", {"name": "tuoi", "type": "integer", "label_vi": "Tuổi (năm)",
                                  "label_en": "Age"}),
        (v + "/items/s_them/move", {"direction": "up"}),
        (v + "/items/overall/edit", {"name": "overall", "type": "rating",
                                     "label_vi": "Hài lòng chung", "section": "s_them"}),
        (v + "/lists/new", {"name": "co_khong"}),
        (v + "/lists/co_khong/choices/new", {"code": "1", "label_vi": "Có",
                                             "metadata": '{"tt01_points": 2}'}),
        (v + "/lists/co_khong/choices/new", {"code": "0", "label_vi": "Không"}),
        (v + "/lists/co_khong/choices/0/move", {"direction": "up"}),
        (v + "/lists/co_khong/choices/1/edit", {"code": "1", "label_vi": "Có ạ"}),
        (v + "/lists/co_khong/edit", {"name": "yes_no"}),
        (v + "/items/thanks/delete", {}),
        (v + "/settings", {"name": "mau_moi", "title_vi": "Bảng hỏi mới"}),
    ]
    for path, data in steps:
        response = client.post(path, data=data)
        assert response.status_code == 302, (path, response.get_data(as_text=True)[-2000:])
    with app.app_context():
        d = service.definition(db.session.get(QuestionnaireVersion, ids["version"]))
    assert [g.name for g in d.children] == ["s_service", "s_them", "s_overall"]
    assert d.find("tuoi").label == {"vi": "Tuổi (năm)", "en": "Age"}
    assert [q.name for q in d.find("s_them").children] == ["tuoi", "overall"]
    assert [(c.code, c.label["vi"]) for c in d.choice_list("yes_no").choices] == [
        ("0", "Không"), ("1", "Có ạ")]
    assert d.find("thanks") is None and d.name == "mau_moi"
    # Delete the list (unused) and a choice; freeze; an edit then makes version 2.
    assert client.post(v + "/lists/yes_no/choices/1/delete").status_code == 302
    assert client.post(v + "/lists/yes_no/delete").status_code == 302
    assert client.post(v + "/freeze").status_code == 302
    response = client.post(v + "/items/contacts/edit", data={
        "name": "contacts", "type": "integer", "label_vi": "Số lần liên hệ"},
        follow_redirects=True)
    assert "Phiên bản 1 đã khóa; thay đổi của bạn được lưu vào phiên bản nháp mới 2." in \
        response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(QuestionnaireVersion, ids["version"]).status == "frozen"
        assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 2


def test_freezing_a_version_with_errors_lists_them(app, db, client, auth, ids):
    auth.login("phantich")
    response = client.post(f"/campaigns/{ids['campaign']}/questionnaire/blank")
    page = client.post(response.headers["Location"] + "/freeze", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "còn lỗi nên không thể khóa" in html and "Bảng hỏi không có câu hỏi nào" in html


QUESTION = {"name": "moi", "type": "text", "label_vi": "Câu mới"}
FORMS = {
    "settings": ("/settings", {"name": "mau", "title_vi": "Bảng hỏi"},
                 {"name": ["", LONG, SCRIPT, "1abc", UNDECODABLE],
                  "title_vi": ["", LONG, SCRIPT, UNDECODABLE], "title_en": [LONG, SCRIPT]}),
    "section_new": ("/sections/new", {"name": "s_moi", "label_vi": "Phần mới"},
                    {"name": ["", LONG, SCRIPT, "có dấu", "channel"],
                     "label_vi": ["", LONG, SCRIPT, UNDECODABLE],
                     "relevant": [LONG, SCRIPT, "${channel} = = 'x'", UNDECODABLE]}),
    "section_edit": ("/items/s_service/edit", {"name": "s_service", "label_vi": "Dịch vụ"},
                     {"name": ["", SCRIPT, "s_overall"], "label_vi": ["", LONG, SCRIPT],
                      "relevant": [SCRIPT, "and or"]}),
    "question_new": ("/questions/new", {**QUESTION, "section": "s_service"},
                     {"name": ["", LONG, SCRIPT, "9x", "contacts", UNDECODABLE],
                      "type": ["", "matrix"], "label_vi": [LONG, SCRIPT, UNDECODABLE],
                      "hint_vi": [LONG, SCRIPT], "label_en": [LONG, SCRIPT],
                      "relevant": [LONG, SCRIPT, "${channel} = = 'x'"],
                      "constraint": [SCRIPT, ". >>= 3"], "calculation": [SCRIPT],
                      "constraint_message_vi": [LONG, SCRIPT],
                      "list_name": ["khong_co"], "minimum": ["abc"], "maximum": ["1e"],
                      "metadata": ["không phải json", "[1, 2]", LONG, UNDECODABLE],
                      "section": ["khong_co"]}),
    "question_edit": ("/items/contacts/edit",
                      {"name": "contacts", "type": "integer", "label_vi": "Số lần liên hệ",
                       "section": "s_service"},
                      {"name": ["", SCRIPT, "channel"], "type": ["", "x"], "section": ["x"],
                       "label_vi": [LONG, SCRIPT], "constraint": [SCRIPT, "((("],
                       "metadata": ["{", "1"], "minimum": ["một"]}),
    "list_new": ("/lists/new", {"name": "ds_moi"},
                 {"name": ["", LONG, SCRIPT, "likert5", "có dấu"]}),
    "list_edit": ("/lists/channel/edit", {"name": "kenh"},
                  {"name": ["", SCRIPT, "likert5"]}),
    "choice_new": ("/lists/channel/choices/new", {"code": "post", "label_vi": "Bưu chính"},
                   {"code": ["", LONG, SCRIPT, "na", "dk", "có dấu cách", "desk"],
                    "label_vi": ["", LONG, SCRIPT, UNDECODABLE], "label_en": [SCRIPT],
                    "metadata": ["x", "[]"]}),
    "choice_edit": ("/lists/channel/choices/desk/edit", {"code": "desk", "label_vi": "Một cửa"},
                    {"code": ["", SCRIPT, "na", "online"], "label_vi": ["", LONG, SCRIPT]}),
}
CASES = [(form, field, value) for form, (_p, _d, bad) in FORMS.items()
         for field, values in bad.items() for value in values]


@pytest.mark.parametrize("form,field,value", CASES,
                         ids=[f"{f}-{fld}-{i}" for i, (f, fld, _v) in enumerate(CASES)])
def test_bad_value_is_refused_in_vietnamese_and_nothing_changes(app, db, client, auth, ids,
                                                                form, field, value):
    path, valid, _bad = FORMS[form]
    auth.login("phantich")
    data = {**valid, field: value}
    with app.app_context():
        before = snapshot(db, ids["version"])
    response = client.post(f"/questionnaires/versions/{ids['version']}{path}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, response.status_code
    assert FIX in html
    assert not any(text in html for text in ENGLISH_DEFAULTS)
    assert SCRIPT not in html
    with app.app_context():
        assert snapshot(db, ids["version"]) == before


@pytest.mark.parametrize("form", sorted(FORMS))
def test_valid_data_is_accepted(app, db, client, auth, ids, form):
    path, valid, _bad = FORMS[form]
    auth.login("phantich")
    response = client.post(f"/questionnaires/versions/{ids['version']}{path}", data=valid)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]


UPLOADS = {
    "csv": (b"type,name,label\ntext,ten,Ten\n", "ds.csv",
            "Tệp không phải bảng tính Excel .xlsx"),
    "non_utf8": ("Khảo sát".encode("utf-16"), "khao_sat.xlsx",
                 "Tệp không phải bảng tính Excel .xlsx"),
    "empty": (b"", "trong.xlsx", "Tệp không phải bảng tính Excel .xlsx"),
    "old_xls": (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "cu.xls",
                "Tệp không phải bảng tính Excel .xlsx"),
    "broken_xlsx": (b"PK\x03\x04garbage", "hong.xlsx", "Không nhập được tệp XLSForm"),
    "script_name": (b"PK\x03\x04garbage", SCRIPT + ".xlsx", "Không nhập được tệp XLSForm"),
}


@pytest.mark.parametrize("case", sorted(UPLOADS))
def test_a_bad_upload_gets_a_vietnamese_message_and_stores_nothing(app, db, client, auth, ids,
                                                                   case):
    data, filename, expected = UPLOADS[case]
    auth.login("phantich")
    with app.app_context():
        before = snapshot(db, ids["version"])
    response = client.post(f"/campaigns/{ids['campaign']}/questionnaire/import",
                           data={"file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert FIX in html and expected in html
    assert SCRIPT not in html
    with app.app_context():
        assert snapshot(db, ids["version"]) == before


def test_an_upload_without_a_file_and_a_good_upload(app, db, client, auth, ids):
    auth.login("phantich")
    url = f"/campaigns/{ids['campaign']}/questionnaire/import"
    assert "Hãy chọn tệp." in client.post(url, data={}).get_data(as_text=True) or \
        FIX in client.post(url, data={}).get_data(as_text=True)
    response = client.post(url, data={"file": (io.BytesIO(xlsx_bytes()), "mau.xlsx")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "Đã nhập phiên bản 2: 5 câu hỏi, 7 lựa chọn." in response.get_data(as_text=True)


def test_a_refused_xlsform_lists_sheet_row_column(app, db, client, auth, ids):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label"])
    ws.append(["geotrace", "duong", "Đường"])
    ws.append(["text", "duong", "Trùng"])
    out = io.BytesIO()
    wb.save(out)
    auth.login("phantich")
    response = client.post(f"/campaigns/{ids['campaign']}/questionnaire/import",
                           data={"file": (io.BytesIO(out.getvalue()), "sai.xlsx")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "trang tính “survey”, dòng 2, cột A “type”" in html


def test_unknown_names_and_bad_actions_never_break_pages(app, db, client, auth, ids):
    auth.login("phantich")
    v = f"/questionnaires/versions/{ids['version']}"
    for path in ("/items/khong_co/edit", "/lists/khong_co/edit", "/lists/khong_co/choices/new",
                 "/lists/channel/choices/khong_co/edit"):
        assert client.get(v + path).status_code == 404, path
    for path in ("/items/khong_co/move", "/items/khong_co/delete", "/lists/khong_co/delete",
                 "/lists/channel/choices/khong_co/delete", "/lists/channel/choices/x/move"):
        response = client.post(v + path, data={"direction": SCRIPT}, follow_redirects=True)
        assert response.status_code in (200, 404), path
    assert client.get("/questionnaires/versions/999999").status_code == 404
    copy = client.post(f"/campaigns/{ids['campaign']}/questionnaire/copy",
                       data={"source": "abc"}, follow_redirects=True)
    assert copy.status_code == 200 and "Hãy chọn phiên bản cần sao chép." in \
        copy.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Questionnaire)) == 1


def test_pages_follow_the_language_switch(app, db, client, auth, ids):
    auth.login("phantich")
    client.get("/lang/en")
    v = f"/questionnaires/versions/{ids['version']}"
    page = client.get(v).get_data(as_text=True)
    assert "Version 1" in page and "Channel" in page and "Single choice" in page
    preview = client.get(v + "/preview").get_data(as_text=True)
    assert "Quality of the online public service" in preview
    assert 'data-msg-required="An answer is required"' in preview
    client.get("/lang/vi")
    preview = client.get(v + "/preview").get_data(as_text=True)
    assert "Chất lượng dịch vụ công trực tuyến" in preview
    assert 'data-msg-required="Câu hỏi này bắt buộc phải trả lời"' in preview
