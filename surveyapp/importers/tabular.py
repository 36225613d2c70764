"""Read a CSV (UTF-8) or XLSX upload into a header list and rows of stripped strings/values.

Errors are ``ValidationFailed`` with a message already in the user's language; the caller
passes the translations in (``messages``) so this module stays free of Flask.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import load_workbook

from ..errors import ValidationFailed


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[dict[str, object]]  # each row also carries "_line": its line in the file


def read_table(filename: str, data: bytes, messages: dict[str, str], max_rows: int, *,
               keep_time: bool = False) -> Table:
    """Parse ``data`` according to the file extension (.csv or .xlsx); XLSX date-times
    become dates unless ``keep_time``."""
    name = (filename or "").lower()
    if not data:
        raise ValidationFailed(messages["empty"])
    if name.endswith(".csv"):
        table = _read_csv(data, messages)
    elif name.endswith(".xlsx"):
        table = _read_xlsx(data, messages, keep_time)
    else:
        raise ValidationFailed(messages["extension"])
    if not table.rows:
        raise ValidationFailed(messages["no_rows"])
    if len(table.rows) > max_rows:
        raise ValidationFailed(messages["too_many"] % {"max": max_rows})
    return table


def _clean_header(value) -> str:
    return str(value or "").strip().lstrip("\ufeff").lower()


def _read_csv(data: bytes, messages: dict[str, str]) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(messages["encoding"] % {"position": exc.start}) from exc
    if "\x00" in text:
        raise ValidationFailed(messages["encoding"] % {"position": text.index("\x00")})
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise ValidationFailed(messages["malformed"] % {"detail": str(exc)}) from exc
    if not lines:
        raise ValidationFailed(messages["empty"])
    headers = [_clean_header(h) for h in lines[0]]
    rows = []
    for number, values in enumerate(lines[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        row: dict[str, object] = {h: (values[i].strip() if i < len(values) else "")
                                  for i, h in enumerate(headers) if h}
        row["_line"] = number
        rows.append(row)
    return Table([h for h in headers if h], rows)


def _read_xlsx(data: bytes, messages: dict[str, str], keep_time: bool = False) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationFailed(messages["bad_xlsx"]) from exc
    try:
        sheet = workbook.worksheets[0]
        lines = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    if not lines:
        raise ValidationFailed(messages["empty"])
    headers = [_clean_header(h) for h in lines[0]]
    rows = []
    for number, values in enumerate(lines[1:], start=2):
        if not any(v not in (None, "") for v in values):
            continue
        row: dict[str, object] = {}
        for i, h in enumerate(headers):
            if not h:
                continue
            v = values[i] if i < len(values) else None
            if isinstance(v, datetime) and not keep_time:
                v = v.date()
            if v is None:
                v = ""
            elif isinstance(v, str):
                v = v.strip()
            elif not isinstance(v, date):
                v = v if isinstance(v, (int, float)) else str(v)
            row[h] = v
        row["_line"] = number
        rows.append(row)
    return Table([h for h in headers if h], rows)
