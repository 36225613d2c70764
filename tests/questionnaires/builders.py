"""Small builders for questionnaire tests (plain functions, no factory library)."""

from __future__ import annotations

import io

import xlsxwriter

from surveyapp.questionnaires import Choice, ChoiceList, Group, Question, Questionnaire


def t(vi: str, en: str | None = None) -> dict:
    return {"vi": vi, "en": en or vi}


def choice_list(name: str, *codes: str) -> ChoiceList:
    return ChoiceList(name, [Choice(c, t(f"Nhãn {c}", f"Label {c}")) for c in codes])


def likert_list(name: str = "scale") -> ChoiceList:
    return choice_list(name, "1", "2", "3", "4", "5")


def make_questionnaire(*children, lists=None, name: str = "test_form") -> Questionnaire:
    return Questionnaire(name=name, title=t("Bảng hỏi thử", "Test form"),
                         children=list(children), choice_lists=list(lists or []))


def every_type_questionnaire() -> Questionnaire:
    """One question of every type, with skip logic, a constraint and a calculation."""
    return make_questionnaire(
        Group("a", label=t("Phần A", "Part A"), children=[
            Question("intro", "note", label=t("Giới thiệu", "Intro")),
            Question("age", "integer", label=t("Tuổi", "Age"), required=True, minimum=18,
                     maximum=99, allow_dk=True),
            Question("income", "decimal", label=t("Thu nhập", "Income"), minimum=0,
                     allow_na=True),
            Question("sex", "select_one", label=t("Giới tính", "Sex"), list_name="sex",
                     required=True),
            Question("channels", "select_multiple", label=t("Kênh", "Channels"),
                     list_name="channel", required=True, allow_dk=True,
                     constraint="count-selected(.) <= 2",
                     constraint_message=t("Chọn tối đa 2", "Choose at most 2")),
        ]),
        Group("b", label=t("Phần B", "Part B"), relevant="selected(${channels}, 'online')",
              children=[
                  Question("portal", "likert", label=t("Cổng", "Portal"), list_name="scale",
                           required=True, allow_na=True, allow_dk=True),
                  Question("score", "rating", label=t("Điểm", "Score"), required=True),
              ]),
        Question("name", "text", label=t("Tên", "Name"),
                 constraint="string-length(.) >= 2",
                 constraint_message=t("Tên quá ngắn", "Name too short")),
        Question("comment", "long_text", label=t("Ý kiến", "Comment")),
        Question("visit", "date", label=t("Ngày", "Date"), constraint=". <= today()",
                 required=True),
        Question("agency", "agency", label=t("Cơ quan", "Agency"), required=True),
        Question("procedure", "procedure", label=t("Thủ tục", "Procedure")),
        Question("older", "calculate", calculation="if(${age} >= 60, 'yes', 'no')"),
        lists=[choice_list("sex", "m", "f"), choice_list("channel", "online", "desk", "post"),
               likert_list("scale")],
    )


def make_xlsx(sheets: dict[str, list[list]]) -> bytes:
    """An .xlsx workbook from {sheet name: rows}; None leaves a cell empty."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    for title, rows in sheets.items():
        ws = wb.add_worksheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
    wb.close()
    return buf.getvalue()
