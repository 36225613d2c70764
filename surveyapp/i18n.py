"""Language selection (Vietnamese first) and the formatting filters templates use."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from flask import Flask, current_app, request, session
from flask_babel import get_locale, to_user_timezone

from .extensions import babel
from .models.codes import CAMPAIGN_STATUS_LABELS, JOB_STATUS_LABELS, ROLE_LABELS
from .reporting import locale as reporting_locale


def select_locale() -> str:
    """Session choice (the language switch), else Vietnamese; API clients may ask by header."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang") if request else None
    if chosen in languages:
        return chosen
    if request and request.path.startswith("/api/"):
        return request.accept_languages.best_match(languages) or "vi"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def format_number(value, decimals: int | None = None) -> str:
    """1.234,5 in Vietnamese, 1,234.5 in English; empty for None."""
    return reporting_locale.format_number(value, decimals, str(get_locale()))


def format_date(value) -> str:
    """dd/mm/yyyy whatever the language (the Vietnamese convention the users expect)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_user_timezone(value if value.tzinfo else value.replace(tzinfo=UTC))
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def reason_words(reason: str | None) -> str:
    """A stored reliability/suppression reason ("n<5; caution") in the reader's words; for
    frozen snapshots, which keep the codes whatever the language."""
    from .services.scorecards import reason_text

    return reason_text(reason or "")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    app.json.ensure_ascii = False  # UTF-8 end to end: Vietnamese in JSON as text, not \u escapes
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["dmy"] = format_date
    app.jinja_env.filters["reason_words"] = reason_words
    app.jinja_env.policies["ext.i18n.trimmed"] = True

    app.jinja_env.globals.update(role_label=role_label, status_label=status_label,
                                 job_status_label=job_status_label, org_type_label=org_type_label)

    @app.context_processor
    def _locale():
        return {"current_locale": str(get_locale())}


def role_label(code: str) -> str:
    return str(ROLE_LABELS.get(code, code))


def status_label(code: str) -> str:
    return str(CAMPAIGN_STATUS_LABELS.get(code, code))


def job_status_label(code: str) -> str:
    return str(JOB_STATUS_LABELS.get(code, code))


def org_type_label(org_type) -> str:
    return org_type.name_vi if str(get_locale()) == "vi" else org_type.name_en
