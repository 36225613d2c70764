"""Sample questionnaires for the app-side questionnaire tests (skip logic, constraint, lists)."""

from __future__ import annotations

import io

from surveyapp.questionnaires import (
    Choice,
    ChoiceList,
    Group,
    Question,
    Questionnaire,
    write_xlsform,
)


def sample_definition(title: str = "Bảng hỏi mẫu") -> Questionnaire:
    """Two sections; "online_quality" shown only for the online channel; "contacts" with a
    range and a constraint with a message; a Circular-01 point on a choice."""
    return Questionnaire(
        name="mau", title={"vi": title, "en": "Sample questionnaire"},
        children=[
            Group("s_service", {"vi": "Dịch vụ", "en": "Service"}, children=[
                Question("channel", "select_one", {"vi": "Kênh nộp hồ sơ", "en": "Channel"},
                         list_name="channel", required=True),
                Question("online_quality", "likert",
                         {"vi": "Chất lượng dịch vụ công trực tuyến",
                          "en": "Quality of the online public service"},
                         list_name="likert5", relevant="${channel} = 'online'",
                         allow_na=True),
                Question("contacts", "integer",
                         {"vi": "Số lần phải liên hệ", "en": "Number of contacts"},
                         minimum=1, maximum=20, constraint=". <= 10",
                         constraint_message={"vi": "Không quá 10 lần", "en": "At most 10"},
                         metadata={"tt01": "contacts"}),
            ]),
            Group("s_overall", {"vi": "Đánh giá chung", "en": "Overall"}, children=[
                Question("overall", "rating", {"vi": "Mức hài lòng chung (0–10)",
                                                "en": "Overall satisfaction (0–10)"}),
                Question("thanks", "note", {"vi": "Xin cảm ơn!", "en": "Thank you!"}),
            ]),
        ],
        choice_lists=[
            ChoiceList("channel", [
                Choice("desk", {"vi": "Tại bộ phận một cửa", "en": "One-stop desk"}),
                Choice("online", {"vi": "Dịch vụ công trực tuyến", "en": "Online"},
                       metadata={"tt01_points": 2}),
            ]),
            ChoiceList("likert5", [Choice(str(i), {"vi": label, "en": en}) for i, (label, en) in
                                   enumerate([("Rất không hài lòng", "Very dissatisfied"),
                                              ("Không hài lòng", "Dissatisfied"),
                                              ("Bình thường", "Neutral"),
                                              ("Hài lòng", "Satisfied"),
                                              ("Rất hài lòng", "Very satisfied")], start=1)]),
        ])


def xlsx_bytes(definition: Questionnaire | None = None) -> bytes:
    out = io.BytesIO()
    write_xlsform(definition or sample_definition(), out)
    return out.getvalue()
