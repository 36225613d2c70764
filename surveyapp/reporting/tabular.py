"""Write rows to UTF-8 CSV (with BOM, so spreadsheet programs read Vietnamese) or XLSX."""

from __future__ import annotations

import csv
import io
from datetime import date

import xlsxwriter


def _cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_csv(headers: list[str], rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_cell(row.get(h)) for h in headers])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(headers: list[str], rows: list[dict], sheet_name: str) -> bytes:
    return to_workbook([(sheet_name, headers, rows)])


def to_workbook(sheets: list[tuple[str, list[str], list[dict]]]) -> bytes:
    """An XLSX with one sheet per (name, headers, rows); text is never read as a formula."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})
    bold = workbook.add_format({"bold": True})
    for sheet_name, headers, rows in sheets:
        sheet = workbook.add_worksheet(sheet_name[:31])
        sheet.write_row(0, 0, headers, bold)
        for r, row in enumerate(rows, start=1):
            for c, h in enumerate(headers):
                value = _cell(row.get(h))
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                else:
                    sheet.write(r, c, value)
        sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
