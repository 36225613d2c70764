"""Reading data files into columns — the one module of the library that reads files.

:func:`read_csv` implements the command line's typing rule: a column is numeric when
every non-empty value parses as a number, otherwise it is categorical text; empty fields
are missing. The result is a :class:`Table`, a light mapping of column name → numpy
array (float64 for numbers, object arrays of ``str`` with ``None`` for missing text),
usable wherever the library accepts a data frame.

The reader is vectorised with numpy (the command line must start and read quickly, and
importing pandas alone takes longer than reading 100,000 rows). Files with quoted fields
go through Python's :mod:`csv` module instead.
"""

from __future__ import annotations

import csv
import io as _io
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["Table", "read_csv", "parse_column"]


class Table(Mapping):
    """Columns by name, in file order; ``len(table)`` is the number of rows."""

    def __init__(self, columns: dict[str, np.ndarray], n_rows: int) -> None:
        self._columns = columns
        self._n = n_rows

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:  # number of rows, as a data frame's len()
        return self._n

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __repr__(self) -> str:
        return f"<Table: {self._n} rows, columns {', '.join(self._columns)}>"


def parse_column(raw: np.ndarray) -> np.ndarray:
    """Type one column of raw byte strings (dtype ``S``) by the typing rule."""
    empty = raw == b""
    try:
        if empty.any():
            filled = np.where(empty, b"nan", raw)
            vals = filled.astype(np.float64)
        else:
            vals = raw.astype(np.float64)
        if np.isnan(vals[~empty]).any():
            raise ValueError("nan text is not a number here")
        return vals
    except ValueError:
        out = np.empty(len(raw), dtype=object)
        text = np.char.decode(raw, "utf-8") if len(raw) else raw.astype(str)
        out[:] = text
        out[empty] = None
        return out


def read_csv(path: str | Path) -> Table:
    """Read a comma-separated file with a header row into a :class:`Table`.

    Raises
    ------
    DataError
        The file cannot be read, has no header, or a row has the wrong number of fields.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b'"' in data:
        return _read_quoted(data, path)
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    first_nl = data.index(b"\n")
    header = data[:first_nl].decode("utf-8").split(",")
    if header == [""]:
        raise DataError(f"{path}: no header row")
    _check_header(header, path)
    body = data[first_nl + 1 :]
    k = len(header)
    buf = np.frombuffer(body, dtype=np.uint8)
    # drop empty lines (e.g. a trailing blank line)
    nl = np.flatnonzero(buf == 10)
    if len(nl) == 0:
        return Table({h: np.empty(0) for h in header}, 0)
    line_start = np.concatenate(([0], nl[:-1] + 1))
    nonblank = nl > line_start
    if not nonblank.all():
        keep = np.ones(len(buf), dtype=bool)
        keep[nl[~nonblank]] = False
        buf = buf[keep]
        nl = np.flatnonzero(buf == 10)
    n_rows = len(nl)
    # Work in chunks of rows that fit in the CPU cache: every column is parsed with a
    # few passes over the bytes, which is slow once the buffer is larger than the cache.
    bounds = list(range(0, n_rows, _CHUNK_ROWS)) + [n_rows]
    numeric: list[list[np.ndarray]] = [[] for _ in header]
    text: set[int] = set()
    for r0, r1 in zip(bounds[:-1], bounds[1:], strict=True):
        b0 = 0 if r0 == 0 else int(nl[r0 - 1]) + 1
        cbuf = buf[b0 : int(nl[r1 - 1]) + 1]
        starts_t, ends_t = _field_offsets(cbuf, r1 - r0, k, r0, path)
        for c in range(k):
            if c in text:
                continue
            vals = _parse_fields(cbuf, starts_t[c], ends_t[c])
            if vals is None:
                text.add(c)
                numeric[c] = []
            else:
                numeric[c].append(vals)
    columns: dict[str, np.ndarray] = {}
    for c, name in enumerate(header):
        if c not in text:
            columns[name] = np.concatenate(numeric[c]) if numeric[c] else np.empty(0)
            continue
        raws = []
        for r0, r1 in zip(bounds[:-1], bounds[1:], strict=True):
            b0 = 0 if r0 == 0 else int(nl[r0 - 1]) + 1
            cbuf = buf[b0 : int(nl[r1 - 1]) + 1]
            starts_t, ends_t = _field_offsets(cbuf, r1 - r0, k, r0, path)
            raws.append(_gather(cbuf, starts_t[c], ends_t[c]))
        width = max(r.dtype.itemsize for r in raws)
        columns[name] = parse_column(np.concatenate([r.astype(f"S{width}") for r in raws]))
    return Table(columns, n_rows)


_CHUNK_ROWS = 1 << 15


def _field_offsets(cbuf: np.ndarray, rows: int, k: int, first_row: int, path) -> tuple:
    """Start and end offsets of every field of a chunk, one row per column."""
    delim = np.flatnonzero((cbuf == 44) | (cbuf == 10))
    nl = np.flatnonzero(cbuf == 10)
    if len(delim) != rows * k:
        per_row = np.diff(np.concatenate(([-1], np.searchsorted(delim, nl) + 0)))
        bad = int(np.flatnonzero(per_row != k)[0]) if np.any(per_row != k) else 0
        raise DataError(f"{path}: row {first_row + bad + 1} does not have {k} fields")
    ends = delim.reshape(rows, k)
    if not np.array_equal(ends[:, -1], nl):
        raise DataError(f"{path}: rows do not all have {k} fields")
    starts = np.empty_like(ends)
    starts[:, 0] = np.concatenate(([0], nl[:-1] + 1))
    starts[:, 1:] = ends[:, :-1] + 1
    return starts.T, ends.T  # views: row c is column c (strided, but the chunk is in cache)


_POW10 = np.array([10.0**k for k in range(23)])


def _parse_fields(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray | None:
    """Numbers of one column given by field offsets into the file's bytes, or None.

    Plain decimals (optional sign, digits, one point, at most 15 digits) are converted
    with integer arithmetic and one division by a power of ten, which is exact
    (Clinger's fast path: the same double as Python's ``float()``); other fields (more
    digits, exponents, ``inf``) go through numpy's general conversion; ``None`` when a
    field is not a number (the column is categorical).
    """
    length = end - start
    n = len(start)
    width = int(length.max(initial=0))
    if width == 0:
        return np.full(n, np.nan)
    last = len(buf) - 1
    if width == 1 and n and int(length.min()) == 1:
        # single characters (Likert codes, 0/1 flags): digits or the column is text
        d = buf[start].astype(np.int16) - 48
        if int(d.min()) >= 0 and int(d.max()) <= 9:
            return d.astype(np.float64)
    mant = np.zeros(n, dtype=np.int64)
    ndig = np.zeros(n, dtype=np.int64)
    frac = np.zeros(n, dtype=np.int64)
    seen_dot = np.zeros(n, dtype=bool)
    ok = np.ones(n, dtype=bool)
    neg = np.zeros(n, dtype=bool)
    for p in range(min(width, 24)):
        inside = p < length
        c = buf[np.minimum(start + p, last)]
        isdig = inside & (c >= 48) & (c <= 57)
        isdot = inside & (c == 46)
        if p == 0:
            neg = inside & (c == 45)
            ok &= ~(inside & ~isdig & ~isdot & ~neg & (c != 43))
        else:
            ok &= ~(inside & ~isdig & ~isdot)
        ok &= ~(isdot & seen_dot)
        np.add(mant * 10, c.astype(np.int64) - 48, out=mant, where=isdig)
        ndig += isdig
        frac += isdig & seen_dot
        seen_dot |= isdot
    empty = length == 0
    ok &= (ndig > 0) | empty
    ok &= (ndig <= 15) & (length <= 24)
    with np.errstate(invalid="ignore"):
        vals = mant / _POW10[np.minimum(frac, 22)]
    np.negative(vals, out=vals, where=neg)
    vals[empty] = np.nan
    if ok.all():
        return vals
    rows = np.flatnonzero(~ok)
    raw = _gather(buf, start[rows], end[rows])
    try:
        other = raw.astype(np.float64)
        if np.isnan(other).any():
            raise ValueError("nan text is not a number here")
    except ValueError:
        return None
    vals[rows] = other
    return vals


def _gather(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Fields ``buf[start:end]`` as a fixed-width byte-string array."""
    length = end - start
    width = int(length.max(initial=0))
    if width == 0:
        return np.zeros(len(start), dtype="S1")
    if width == 1:
        out = np.where(length > 0, buf[np.minimum(start, len(buf) - 1)], 0).astype(np.uint8)
        return out.view("S1")
    offs = np.arange(width)
    idx = start[:, None] + offs[None, :]
    mask = offs[None, :] < length[:, None]
    chars = np.where(mask, buf[np.minimum(idx, len(buf) - 1)], 0).astype(np.uint8)
    return np.ascontiguousarray(chars).view(f"S{width}").reshape(-1)


def _check_header(header: list[str], path) -> None:
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise DataError(f"{path}: duplicate column name {h!r}")
        seen.add(h)


def _read_quoted(data: bytes, path) -> Table:
    text = data.decode("utf-8")
    rows = list(csv.reader(_io.StringIO(text, newline="")))
    rows = [r for r in rows if r]
    if not rows:
        raise DataError(f"{path}: no header row")
    header = rows[0]
    _check_header(header, path)
    body = rows[1:]
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise DataError(f"{path}: row {i + 1} does not have {len(header)} fields")
    columns = {}
    for c, name in enumerate(header):
        if body:
            raw = np.array([r[c].encode("utf-8") for r in body], dtype="S")
        else:
            raw = np.zeros(0, "S1")
        columns[name] = parse_column(raw)
    return Table(columns, len(body))
