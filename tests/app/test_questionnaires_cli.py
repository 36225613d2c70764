"""`flask questionnaire import-xlsform / export-xlsform`: summaries, refusals, versioning."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import builders
import openpyxl
import pytest
from questionnaire_samples import sample_definition, xlsx_bytes
from sqlalchemy import func, select

from surveyapp.models import AuditEvent, Campaign, Questionnaire, QuestionnaireVersion
from surveyapp.models.codes import Role
from surveyapp.questionnaires import read_xlsform
from surveyapp.services import campaigns

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SURVEYAPP_SHARED", ROOT.parent / "shared"))
PYXFORM = sorted((SHARED / "reference" / "xlsform" / "pyxform").glob("*.xlsx"))


@pytest.fixture
def campaign_id(app, db):
    with app.app_context():
        org = builders.make_org()
        campaign = builders.make_campaign(org, agencies=[builders.make_agency()])
        return campaign.id


def stored(db) -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Questionnaire, QuestionnaireVersion, AuditEvent))


def run_import(runner, path, campaign_id):
    return runner.invoke(args=["questionnaire", "import-xlsform", str(path),
                               "--survey", str(campaign_id)])


def test_import_prints_the_summary_and_stores_a_draft(app, db, runner, campaign_id, tmp_path):
    path = tmp_path / "mau.xlsx"
    path.write_bytes(xlsx_bytes())
    result = run_import(runner, path, campaign_id)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) == {"questionnaire_id", "version_id", "questions", "choices", "warnings"}
    assert (summary["questions"], summary["choices"], summary["warnings"]) == (5, 7, [])
    with app.app_context():
        version = db.session.get(QuestionnaireVersion, summary["version_id"])
        assert version.questionnaire_id == summary["questionnaire_id"]
        assert version.status == "draft" and version.document == sample_definition().to_dict()


def test_export_writes_a_workbook_that_imports_back_the_same(app, db, runner, campaign_id,
                                                           tmp_path):
    source = tmp_path / "mau.xlsx"
    source.write_bytes(xlsx_bytes())
    version_id = json.loads(run_import(runner, source, campaign_id).stdout)["version_id"]
    out = tmp_path / "xuat.xlsx"
    result = runner.invoke(args=["questionnaire", "export-xlsform", "--version", str(version_id),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version_id"] == version_id
    definition, warnings = read_xlsform(out)
    assert definition.to_dict() == sample_definition().to_dict() and warnings == []
    missing = runner.invoke(args=["questionnaire", "export-xlsform", "--version", "987654",
                                  "--out", str(out)])
    assert missing.exit_code != 0 and "987654" in missing.output


def _workbook(survey: list[list], choices: list[list] | None = None,
              sheets: tuple[str, ...] = ("survey", "choices")) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if "survey" in sheets:
        ws = wb.create_sheet("survey")
        for row in [["type", "name", "label::Vietnamese (vi)", "relevant"], *survey]:
            ws.append(row)
    if "choices" in sheets:
        ws = wb.create_sheet("choices")
        for row in [["list_name", "name", "label::Vietnamese (vi)"], *(choices or [])]:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


CHOICES = [["yn", "1", "Có"], ["yn", "0", "Không"]]
BAD_FILES = {
    "not_xlsx_csv": ("type,name,label\ntext,ten,Tên\n".encode(), "không phải bảng tính"),
    "non_utf8_text": ("Khảo sát người dân".encode("utf-16"), "không phải bảng tính"),
    "empty": (b"", "không phải bảng tính"),
    "broken_zip": (b"PK\x03\x04 not really a zip", "Không nhập được"),
    "missing_survey_sheet": (_workbook([], CHOICES, sheets=("choices",)), "survey"),
    "unknown_type": (_workbook([["geotrace", "duong_di", "Đường đi"]]), "dòng 2"),
    "broken_expression": (_workbook([["select_one yn", "a", "Câu A", ""],
                                     ["text", "b", "Câu B", "${a} = = '1'"]], CHOICES),
                          "dòng 3"),
    "duplicate_name": (_workbook([["text", "ten", "Tên"], ["integer", "ten", "Tuổi"]]),
                       "dòng 3"),
    "reserved_code": (_workbook([["select_one yn", "a", "Câu A"]],
                                [["yn", "na", "Không áp dụng"], ["yn", "1", "Có"]]), "na"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_exits_non_zero_with_precise_messages_and_stores_nothing(
        app, db, runner, campaign_id, tmp_path, case):
    data, expected = BAD_FILES[case]
    path = tmp_path / f"{case}.xlsx"
    path.write_bytes(data)
    with app.app_context():
        before = stored(db)
    result = run_import(runner, path, campaign_id)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 2 and expected in result.stderr, result.stderr
    assert "Traceback" not in result.output
    if data.startswith(b"PK") and case != "broken_zip":
        assert all("trang tính" in line for line in lines[1:]), lines
    with app.app_context():
        assert stored(db) == before


def test_import_into_an_unknown_campaign_or_from_a_missing_file(app, db, runner, campaign_id,
                                                               tmp_path):
    path = tmp_path / "mau.xlsx"
    path.write_bytes(xlsx_bytes())
    assert run_import(runner, path, 424242).exit_code != 0
    assert run_import(runner, tmp_path / "khong_co.xlsx", campaign_id).exit_code != 0
    with app.app_context():
        assert stored(db)[:2] == (0, 0)


def test_import_into_a_fielding_campaign_makes_a_new_draft_and_keeps_the_version_in_use(
        app, db, runner, campaign_id, tmp_path):
    path = tmp_path / "mau.xlsx"
    path.write_bytes(xlsx_bytes())
    first = json.loads(run_import(runner, path, campaign_id).stdout)
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        campaigns.transition_campaign(None, campaign, "fielding")
        in_use = db.session.get(QuestionnaireVersion, first["version_id"])
        assert campaign.questionnaire_version_id == in_use.id and in_use.status == "frozen"
        frozen = (in_use.document, in_use.digest, in_use.updated_at)
    changed = sample_definition(title="Bảng hỏi sửa đổi")
    path.write_bytes(xlsx_bytes(changed))
    second = json.loads(run_import(runner, path, campaign_id).stdout)
    assert second["questionnaire_id"] == first["questionnaire_id"]
    assert second["version_id"] != first["version_id"]
    with app.app_context():
        db.session.expire_all()
        campaign = db.session.get(Campaign, campaign_id)
        in_use = db.session.get(QuestionnaireVersion, first["version_id"])
        draft = db.session.get(QuestionnaireVersion, second["version_id"])
        assert campaign.questionnaire_version_id == in_use.id
        assert (in_use.document, in_use.digest, in_use.updated_at) == frozen
        assert (draft.number, draft.status) == (2, "draft")
        assert draft.document["title"]["vi"] == "Bảng hỏi sửa đổi"


def test_every_reference_xlsform_imports_or_is_refused_with_sheet_row_column(
        app, db, runner, campaign_id):
    assert len(PYXFORM) >= 20, f"reference forms not found under {SHARED}"
    imported, refused = [], []
    for path in PYXFORM:
        with app.app_context():
            before = stored(db)
        result = run_import(runner, path, campaign_id)
        assert result.exit_code in (0, 1), (path.name, result.output)
        assert "Traceback" not in result.output, path.name
        if result.exit_code == 0:
            summary = json.loads(result.stdout)
            with app.app_context():
                version = db.session.get(QuestionnaireVersion, summary["version_id"])
                assert version.document and summary["questions"] >= 1, path.name
            imported.append(path.name)
        else:
            lines = result.stderr.strip().splitlines()
            assert len(lines) >= 2, (path.name, lines)
            assert all(line.startswith("trang tính") for line in lines[1:]), (path.name, lines)
            assert any("dòng" in line and "cột" in line for line in lines[1:]) or \
                "sheet" in lines[1], (path.name, lines)
            with app.app_context():
                assert stored(db) == before, path.name
            refused.append(path.name)
    assert imported and refused


def test_ui_export_then_cli_import_gives_the_same_questionnaire(app, db, client, auth, runner,
                                                               tmp_path):
    from surveyapp.services import questionnaires as service

    with app.app_context():
        org = builders.make_org()
        builders.make_user("phantich", org, Role.ANALYST)
        first = builders.make_campaign(org)
        second = builders.make_campaign(org, title="Khảo sát năm 2025", year=2025)
        version = service.import_xlsform(None, first, xlsx_bytes(), "mau.xlsx").version
        original = service.definition(version).to_dict()
        ids = (version.id, second.id)
    auth.login("phantich")
    response = client.get(f"/questionnaires/versions/{ids[0]}/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "mau_v1.xlsx" in response.headers["Content-Disposition"]
    path = tmp_path / "tu_giao_dien.xlsx"
    path.write_bytes(response.data)
    result = run_import(runner, path, ids[1])
    assert result.exit_code == 0, result.output
    with app.app_context():
        again = db.session.get(QuestionnaireVersion, json.loads(result.stdout)["version_id"])
        assert again.document == original


def test_the_demo_campaign_fields_the_standard_template_and_the_demo_stays_idempotent(
        app, db, runner):
    from surveyapp.questionnaires import standard_template
    from surveyapp.services import demo
    from surveyapp.services import questionnaires as service

    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.title == demo.CAMPAIGN_TITLE))
        version = service.version_in_use(campaign)
        assert (version.number, version.status, version.source) == (1, "frozen", "template")
        assert version.document == standard_template().to_dict()
        assert version.digest == service.digest_of(standard_template().to_dict())
        before = stored(db)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "already present" in second.output
    with app.app_context():
        assert stored(db) == before
