"""The report's language outside Flask: the app's message catalogue and number format.

Renderers run where no request (and maybe no app) is: in a background job, or on a frozen
submission snapshot years later. They take the language from the report data's ``locale``
and read the same compiled catalogue Flask-Babel uses (babel only, no Flask).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

CATALOGUE = Path(__file__).resolve().parents[1] / "translations"


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The catalogue of ``locale`` (English is the source language: no catalogue)."""
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(CATALOGUE), [locale])


def gettext(locale: str):
    """A ``_(message, **variables)`` in ``locale``, %-formatted as Flask-Babel's."""
    catalogue = translations(locale)

    def _(message: str, **variables) -> str:
        text = catalogue.gettext(message)
        return text % variables if variables else text
    return _


def format_number(value, decimals: int | None = None, locale: str = "vi") -> str:
    """1.234,5 in Vietnamese, 1,234.5 in English; empty for None."""
    if value is None:
        return ""
    if decimals is None:
        return format_decimal(value, locale=locale)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale)
