"""One question's answer read in SQL, not the whole answer document.

Decoding every interview's answer document (JSON) to look at one or a few questions is most
of the time of a large campaign's extract or counts; reading ``answers -> 'q'`` as JSON text
keeps the value's type exactly (``"1"`` against ``1``, lists) on PostgreSQL
(``CAST(answers -> 'q' AS TEXT)``) and SQLite (``JSON_QUOTE(JSON_EXTRACT(…))``) alike, and a
column of such texts holds few distinct values, each decoded once.
"""

from __future__ import annotations

import json

from sqlalchemy import Text, cast

from ..models import InterviewVersion


def answer_json_text(name: str, label: str | None = None):
    """The SQL expression of question ``name``'s value as JSON text (NULL or ``null`` when
    the question was not answered)."""
    return cast(InterviewVersion.answers[name], Text).label(label or f"a_{name}")


def json_value(text):
    """The value of a JSON text read by :func:`answer_json_text`; NULL (None, or NaN from a
    CSV reader) is an absent answer."""
    return None if text is None or text != text else json.loads(text)
