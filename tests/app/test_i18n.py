"""Vietnamese first: default language, the switch, formats, and a complete catalogue."""

from pathlib import Path

import builders
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from surveyapp.i18n import format_date, format_number
from surveyapp.models.codes import Role

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "surveyapp/translations/vi/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}


def test_vietnamese_is_the_default_and_english_is_a_switch(app, db, client, auth):
    with app.app_context():
        builders.make_user("lan", builders.make_org(), Role.ANALYST)
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)
    auth.login("lan")
    assert "Trang chính" in client.get("/").get_data(as_text=True)
    client.get("/lang/en?next=/campaigns/")
    page = client.get("/").get_data(as_text=True)
    assert "Dashboard" in page and 'lang="en"' in page
    client.get("/lang/vi")
    assert "Trang chính" in client.get("/").get_data(as_text=True)
    client.get("/lang/xx")  # unknown: ignored
    assert "Trang chính" in client.get("/").get_data(as_text=True)


def test_language_choice_survives_sign_in_and_out(app, db, client, auth):
    with app.app_context():
        builders.make_user("lan", builders.make_org(), Role.ANALYST)
    client.get("/lang/en")
    auth.login("lan")
    assert "Dashboard" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_api_errors_follow_accept_language(client):
    assert client.get("/api/v1/me", headers={"Accept-Language": "en"}).json["error"] == \
        "Please sign in."
    assert client.get("/api/v1/me").json["error"] == "Vui lòng đăng nhập."


@pytest.mark.parametrize("locale,value,decimals,expected", [
    ("vi", 1234.5, 1, "1.234,5"), ("vi", 1234567, 0, "1.234.567"), ("vi", 0.25, 2, "0,25"),
    ("en", 1234.5, 1, "1,234.5"), ("vi", None, 1, ""),
])
def test_number_format(app, locale, value, decimals, expected):
    with app.test_request_context():
        from flask import session
        session["lang"] = locale
        from flask_babel import refresh
        refresh()
        assert format_number(value, decimals) == expected


def test_dates_are_dd_mm_yyyy(app):
    from datetime import UTC, date, datetime
    with app.test_request_context():
        assert format_date(date(2025, 7, 1)) == "01/07/2025"
        # Timestamps are shown in Ho Chi Minh City time.
        assert format_date(datetime(2025, 6, 30, 17, 30, tzinfo=UTC)) == "01/07/2025 00:30"
        assert format_date(None) == ""


def test_every_message_in_the_code_has_a_vietnamese_translation():
    # The same mapping as babel.cfg.
    found = set()
    for directory, mapping in (("surveyapp", [("**.py", "python")]),
                               ("templates", [("**.html", "jinja2")])):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
                ROOT / directory, mapping, keywords=KEYWORDS,
                directory_filter=lambda d: not Path(d).name.startswith(".")):
            found.add(message[0] if isinstance(message, tuple) else message)
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog if m.id}
    missing = sorted(m for m in found if m not in translated)
    empty = sorted(k for k, m in translated.items()
                   if not (m.string[0] if isinstance(m.string, tuple) else m.string))
    fuzzy = sorted(k for k, m in translated.items() if m.fuzzy)
    assert (missing, empty, fuzzy) == ([], [], [])


def test_compiled_catalogue_matches_the_po_file():
    with PO.open("rb") as fh:
        po = {_key(m.id): _key(m.string) for m in read_po(fh, locale="vi") if m.id}
    with MO.open("rb") as fh:
        mo = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id}
    assert mo == po, "run: pybabel compile -d surveyapp/translations"


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value
