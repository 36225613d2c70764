"""XLSX files of a drawn sample and of interviewers' work lists (plain data in, bytes out).

No database, no Flask: the caller passes translated headers and rows of plain values.
Text is written as text (never turned into numbers, formulas or links), so IDs keep their
leading zeros and a cell starting with "=" stays harmless.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import xlsxwriter

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _workbook(buffer: io.BytesIO) -> xlsxwriter.Workbook:
    return xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})


def sheet_names(titles: Sequence[str]) -> list[str]:
    """Valid, distinct worksheet names (at most 31 characters, no []:*?/\\)."""
    out: list[str] = []
    seen: set[str] = set()
    for title in titles:
        base = _BAD_SHEET_CHARS.sub("-", str(title)).strip("'").strip() or "-"
        name = base[:31]
        k = 2
        while name.lower() in seen:
            suffix = f" ({k})"
            name = base[:31 - len(suffix)] + suffix
            k += 1
        seen.add(name.lower())
        out.append(name)
    return out


def _write(sheet, row: int, col: int, value) -> None:
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, str):
        sheet.write_string(row, col, value)
    else:
        sheet.write_number(row, col, value)


def _table(workbook, sheet, first_row: int, headers: Sequence[str],
           rows: Sequence[Sequence]) -> None:
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                "text_wrap": True})
    sheet.write_row(first_row, 0, list(headers), bold)
    for r, values in enumerate(rows, start=first_row + 1):
        for c, value in enumerate(values):
            _write(sheet, r, c, value)
    sheet.freeze_panes(first_row + 1, 0)
    for c, header in enumerate(headers):
        width = max([len(str(header))] + [len(str(v[c])) for v in rows[:200] if v[c] is not None])
        sheet.set_column(c, c, min(max(width + 2, 6), 50))


def sample_workbook(*, title: str, headers: Sequence[str], rows: Sequence[Sequence],
                    info_title: str, info: Sequence[tuple[str, str]]) -> bytes:
    """One sheet with the sample, one with facts about the draw (seed, digests)."""
    buffer = io.BytesIO()
    workbook = _workbook(buffer)
    main, about = sheet_names([title, info_title])
    sheet = workbook.add_worksheet(main)
    _table(workbook, sheet, 0, headers, rows)
    info_sheet = workbook.add_worksheet(about)
    bold = workbook.add_format({"bold": True})
    for r, (label, value) in enumerate(info):
        info_sheet.write_string(r, 0, str(label), bold)
        info_sheet.write_string(r, 1, str(value))
    info_sheet.set_column(0, 0, 28)
    info_sheet.set_column(1, 1, 70)
    workbook.close()
    return buffer.getvalue()


def worklists_workbook(*, headers: Sequence[str],
                       sheets: Sequence[tuple[str, str, Sequence[Sequence]]],
                       heading: str) -> bytes:
    """One sheet per ``(name, subtitle, rows)``: a heading, the subtitle, then the table."""
    buffer = io.BytesIO()
    workbook = _workbook(buffer)
    bold = workbook.add_format({"bold": True, "font_size": 12})
    for name, (_title, subtitle, rows) in zip(sheet_names([s[0] for s in sheets]), sheets,
                                              strict=True):
        sheet = workbook.add_worksheet(name)
        sheet.write_string(0, 0, str(heading), bold)
        sheet.write_string(1, 0, str(subtitle))
        _table(workbook, sheet, 3, headers, rows)
        sheet.set_landscape()
        sheet.repeat_rows(3)
        sheet.fit_to_pages(1, 0)
    workbook.close()
    return buffer.getvalue()
