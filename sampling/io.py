"""Reading frames from CSV and XLSX files, and writing files atomically.

This and ``__main__.py`` are the only modules of the library that touch files. Every column
is read as text (Vietnamese UTF-8 as is; a byte-order mark is dropped), so ids such as
``"001"`` keep their leading zeros and the frame digest does not depend on type guessing;
empty cells are missing values. Numbers needed by a design (size measures) are parsed by
the design from this text: plain decimals with ``.`` as the decimal point, no thousands
separator.
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import FrameError

__all__ = ["read_frame", "read_table", "write_atomic"]


def _check_header(names: list[Any], source: str) -> list[str]:
    out = []
    for i, name in enumerate(names):
        text = "" if name is None else str(name).strip()
        if not text:
            raise FrameError(f"{source}: column {i + 1} of the header row has no name")
        out.append(text)
    seen: set[str] = set()
    for name in out:
        if name in seen:
            raise FrameError(f"{source}: two columns are named {name!r}")
        seen.add(name)
    return out


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError as exc:
        raise FrameError(
            f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    if header is None:
        raise FrameError(f"{path.name}: the file is empty")
    names = _check_header(header, path.name)
    try:
        df = pd.read_csv(
            path,
            dtype=object,  # plain Python str cells; faster than the str dtype here
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            header=0,
            names=names,
            skip_blank_lines=True,
        )
    except UnicodeDecodeError as exc:
        raise FrameError(
            f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except pd.errors.ParserError as exc:
        raise FrameError(f"{path.name}: not a valid CSV file ({str(exc).strip()})") from None
    return df.where(df.notna(), None)


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    from openpyxl import load_workbook  # imported here: only XLSX frames need it

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise FrameError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise FrameError(
                f"{path.name}: no sheet named {sheet!r} (sheets: {', '.join(wb.sheetnames)})"
            )
        rows = [tuple(_cell_text(v) for v in row) for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    if not rows:
        raise FrameError(f"{path.name}: the sheet is empty")
    header = list(rows[0])
    width = len(header)
    while (
        width
        and header[width - 1] is None
        and all(len(r) < width or r[width - 1] is None for r in rows)
    ):
        width -= 1
    names = _check_header(header[:width], path.name)
    body = []
    for i, r in enumerate(rows[1:], start=2):
        extra = [v for v in r[width:] if v is not None]
        if extra:
            raise FrameError(f"{path.name}: row {i} has values beyond the last named column")
        body.append(list(r[:width]) + [None] * (width - len(r[:width])))
    body = [r for r in body if any(v is not None for v in r)]
    return pd.DataFrame(body, columns=names, dtype=object)


def read_frame(
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    rename: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a frame from a ``.csv`` (UTF-8) or ``.xlsx`` file, every column as text.

    Parameters
    ----------
    path : path-like
        The file; the format follows the extension (``.csv``, ``.txt`` or ``.xlsx``).
    sheet : str, optional
        Worksheet of an XLSX file (default: the first).
    rename : mapping, optional
        Column mapping ``{name in the file: name used by the design}``.

    Returns
    -------
    pandas.DataFrame
        Object columns of ``str`` values, ``None`` where the cell is empty.

    Raises
    ------
    FrameError
        Missing or unreadable file, not UTF-8, unnamed or duplicate columns, unknown
        sheet, a mapping naming a column that does not exist.
    """
    p = Path(path)
    if not p.is_file():
        raise FrameError(f"frame file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        df = _read_csv(p)
    elif suffix in (".xlsx", ".xlsm"):
        df = _read_xlsx(p, sheet)
    else:
        raise FrameError(f"{p.name}: frames must be .csv or .xlsx files")
    if rename:
        unknown = [k for k in rename if k not in df.columns]
        if unknown:
            raise FrameError(f"{p.name}: no column {unknown[0]!r} to rename")
        df = df.rename(columns=dict(rename))
        if df.columns.duplicated().any():
            raise FrameError(f"{p.name}: the column mapping gives two columns the same name")
    return df


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a small auxiliary CSV/XLSX table (e.g. per-stratum sample sizes) as text."""
    return read_frame(path)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (no partial file)."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
