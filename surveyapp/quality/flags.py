"""Automatic quality flags of interviews, as pure functions.

* **too short** — the interview took less than a threshold. The threshold is the
  questionnaire's setting ``metadata["min_duration_seconds"]`` when set; otherwise it is
  ``factor`` × the median duration of the campaign's completed interviews
  (:data:`DEFAULT_SHORT_FACTOR` = 0.5: "less than half the typical time"), and no flag at
  all while fewer than :data:`MIN_INTERVIEWS_FOR_MEDIAN` durations are known.
  The duration is ``paradata["duration_s"]`` (measured on the device, pauses excluded)
  when it is a number, else ``finished_at - started_at``.
* **straight-lining** — every answered item of a Likert block has the same point, with at
  least ``min_items`` items answered (default :data:`DEFAULT_STRAIGHTLINE_ITEMS`, or the
  questionnaire's ``metadata["straightline_min_items"]``). A block is the Likert questions
  of one group. ``na``/``dk`` answers are not points and are left out.
* **duplicate respondent** — two interviews of a campaign share the keyed hash of the
  respondent's contact data (:func:`respondent_key`: HMAC-SHA256 of the normalised phone,
  else of normalised name + address). The hash is stored, never the contact data.
* **out of range / inconsistent** — the answers fail the checks of the campaign's current
  questionnaire version (``check_answers``: ranges, constraints, skip logic, required).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import statistics
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

DEFAULT_SHORT_FACTOR = 0.5
MIN_INTERVIEWS_FOR_MEDIAN = 5
DEFAULT_STRAIGHTLINE_ITEMS = 5
NOT_POINTS = ("na", "dk", None, "")

FLAG_CODES = ("too_short", "straight_lining", "duplicate", "inconsistent")


def duration_seconds(paradata: Mapping[str, Any] | None, started_at: datetime | None,
                     finished_at: datetime | None) -> float | None:
    """The interview's duration: the device's ``duration_s`` if numeric, else the clock."""
    value = (paradata or {}).get("duration_s")
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 \
            and value == value:
        return float(value)
    if started_at is not None and finished_at is not None:
        return max((finished_at - started_at).total_seconds(), 0.0)
    return None


def short_threshold(durations: Iterable[float | None], setting: Any = None,
                    factor: float = DEFAULT_SHORT_FACTOR) -> float | None:
    """Seconds below which an interview is too short (see the module docstring).

    ``setting`` is the questionnaire's ``min_duration_seconds`` (used when a positive
    number); otherwise ``factor`` × the median of ``durations`` (``None`` ones ignored), or
    ``None`` — no threshold — when fewer than :data:`MIN_INTERVIEWS_FOR_MEDIAN` are known.
    """
    if isinstance(setting, int | float) and not isinstance(setting, bool) and setting > 0:
        return float(setting)
    known = [d for d in durations if d is not None]
    if len(known) < MIN_INTERVIEWS_FOR_MEDIAN:
        return None
    return factor * statistics.median(known)


def too_short(duration: float | None, threshold: float | None) -> bool:
    return duration is not None and threshold is not None and duration < threshold


def likert_blocks(document: Mapping[str, Any]) -> list[list[str]]:
    """The names of the Likert questions of each group of a questionnaire document."""
    blocks: list[list[str]] = []

    def visit(children: Sequence[Mapping[str, Any]]) -> None:
        names = [c["name"] for c in children
                 if c.get("type") == "likert" and "children" not in c]
        if names:
            blocks.append(names)
        for c in children:
            if c.get("type") == "group" or "children" in c:
                visit(c.get("children") or [])

    visit(document.get("children") or [])
    return blocks


def straight_lined(answers: Mapping[str, Any], blocks: Iterable[Sequence[str]],
                   min_items: int = DEFAULT_STRAIGHTLINE_ITEMS) -> list[int]:
    """Indexes of the blocks whose answered items (≥ ``min_items``) all have one point."""
    found = []
    for i, names in enumerate(blocks):
        points = [answers.get(n) for n in names if answers.get(n) not in NOT_POINTS]
        if len(points) >= max(min_items, 2) and len({str(p) for p in points}) == 1:
            found.append(i)
    return found


def normalise_phone(value: Any) -> str:
    """Digits only; a Vietnamese +84/84 prefix becomes the national 0 prefix, and a national
    0 a spreadsheet's number cell dropped is put back (``restore_leading_zero``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 909123456.0 from a number cell: not the digits 9091234560
    digits = re.sub(r"\D", "", str(value or ""))
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return restore_leading_zero(digits)


def restore_leading_zero(digits: str) -> str:
    """A Vietnamese phone number's digits with the national 0 a number cell dropped.

    National numbers all start with 0: mobiles have 10 digits (0 + 9), landlines 11 (0 + a
    2x area code + 8). A number cell keeps none of those zeros, so 9 digits, or 10 starting
    with 2, can only be such a number without its 0. Anything else is left as it is.
    """
    if digits.startswith("0") or not digits.isdigit():
        return digits
    if len(digits) == 9 or (len(digits) == 10 and digits.startswith("2")):
        return "0" + digits
    return digits


def normalise_text(value: Any) -> str:
    """Lower case, no diacritics (đ → d), punctuation and repeated spaces removed."""
    text = unicodedata.normalize("NFD", str(value or "").lower().replace("đ", "d"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def respondent_key(respondent: Mapping[str, Any] | None, key: bytes) -> str | None:
    """HMAC-SHA256 (hex) of the respondent's normalised contact data, or ``None``.

    The phone (``phone``) when it has at least 8 digits, else name + address (``name``,
    ``address``, both needed). Keyed so that the hash cannot be reversed by trying phone
    numbers without the key.
    """
    if not respondent or not key:
        return None
    phone = normalise_phone(respondent.get("phone"))
    if len(phone) >= 8:
        material = "phone:" + phone
    else:
        name = normalise_text(respondent.get("name"))
        address = normalise_text(respondent.get("address"))
        if not name or not address:
            return None
        material = f"name:{name}|address:{address}"
    return hmac.new(key, material.encode("utf-8"), hashlib.sha256).hexdigest()


def duplicate_groups(keys: Mapping[int, str | None]) -> dict[int, list[int]]:
    """``{interview id: [other interview ids with the same key]}`` for shared keys only."""
    by_key: dict[str, list[int]] = {}
    for interview_id, k in keys.items():
        if k:
            by_key.setdefault(k, []).append(interview_id)
    out: dict[int, list[int]] = {}
    for ids in by_key.values():
        if len(ids) > 1:
            for i in ids:
                out[i] = sorted(j for j in ids if j != i)
    return out
