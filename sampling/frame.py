"""Frames: validation of the columns a design uses, and the canonical frame digest.

Canonical form ``surveyapp-frame/1`` (what :func:`frame_digest` hashes)
-----------------------------------------------------------------------
The digest identifies the frame as a table, independently of the file format that held it:

1. Columns are taken in code-point order of their names (Unicode NFC, UTF-8); names must be
   distinct. Rows are taken in frame order (row order matters: systematic selection and
   the random numbers follow it).
2. Each column gives a *column digest*, the SHA-256 of::

       b"column\\0" + name + b"\\0" + kind + b"\\0" + rows as 8-byte little-endian
       + missing-value bitmap (numpy.packbits of the missing mask, big-endian bit order)
       + values

   * ``kind = b"f8"`` for numeric columns (bool, integer or float dtypes, integers of at
     most 2**53 in absolute value): values are IEEE-754 binary64 little-endian, with
     missing values written as 0.0 and -0.0 written as 0.0;
   * ``kind = b"utf8"`` for every other column (text): each value is ``str(value)``,
     missing values are empty strings, values are joined with a NUL byte (a value may
     not contain NUL), normalised to NFC and encoded as UTF-8.
3. The frame digest is the SHA-256 of ``b"surveyapp-frame/1\\0"`` + rows as 8-byte
   little-endian + for each column (in the order of 1.) its name in UTF-8, a NUL byte and
   its 32-byte column digest.

Frames read by :func:`sampling.io.read_frame` hold every column as text, so the digest of
a file does not depend on how a reader would guess number types; a DataFrame with numeric
dtypes digests its numbers as binary64. Everything is vectorised: a 10-million-row frame
digests in a few seconds.
"""

from __future__ import annotations

import hashlib
import struct
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import FrameError

__all__ = [
    "CANONICAL_FORM",
    "FrameDigest",
    "frame_digest",
    "column_digest",
    "require_columns",
    "check_ids",
    "positive_sizes",
    "labels",
]

CANONICAL_FORM = "surveyapp-frame/1"
_MAX_EXACT = 2.0**53


@dataclass(frozen=True)
class FrameDigest:
    """The digest of a frame, with one digest per column to say *what* changed."""

    sha256: str
    rows: int
    columns: tuple[str, ...]
    column_sha256: dict[str, str] = field(hash=False)
    canonical_form: str = CANONICAL_FORM

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form stored in draw records."""
        return {
            "canonical_form": self.canonical_form,
            "rows": self.rows,
            "columns": list(self.columns),
            "sha256": self.sha256,
            "column_sha256": dict(self.column_sha256),
        }

    def differences(self, recorded: dict[str, Any]) -> list[str]:
        """Plain-words differences between this digest and a recorded one (empty if same)."""
        out: list[str] = []
        if recorded.get("canonical_form") != self.canonical_form:
            out.append(
                f"frame canonical form differs (recorded {recorded.get('canonical_form')!r}, "
                f"now {self.canonical_form!r})"
            )
        if recorded.get("sha256") == self.sha256:
            return out
        rows = recorded.get("rows")
        if rows != self.rows:
            out.append(f"frame has {self.rows} rows, the record {rows}")
        old = recorded.get("column_sha256") or {}
        added = [c for c in self.columns if c not in old]
        removed = [c for c in old if c not in self.column_sha256]
        changed = [c for c in self.columns if c in old and old[c] != self.column_sha256[c]]
        if added:
            out.append("columns added: " + ", ".join(repr(c) for c in added))
        if removed:
            out.append("columns removed: " + ", ".join(repr(c) for c in removed))
        if changed and rows == self.rows:
            out.append("values changed in columns " + ", ".join(repr(c) for c in changed))
        if not (added or removed or changed) and rows == self.rows:
            out.append("frame digest differs")
        return ["frame digest differs: " + "; ".join(out)] if out else out


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype)


def _numeric_payload(s: pd.Series) -> tuple[bytes, np.ndarray] | None:
    missing = s.isna().to_numpy()
    values = s.to_numpy(dtype=np.float64, na_value=0.0)
    if pd.api.types.is_integer_dtype(s.dtype):
        raw = s.to_numpy()
        if raw.size and not missing.any() and np.max(np.abs(raw.astype(np.float64))) > _MAX_EXACT:
            return None
    values = values + 0.0  # -0.0 -> 0.0
    values[missing] = 0.0
    return values.astype("<f8").tobytes(), missing


def _text_payload(s: pd.Series, name: str) -> tuple[bytes, np.ndarray]:
    missing = s.isna().to_numpy()
    if missing.any():
        values = s.to_numpy(dtype=object, na_value="")
    else:  # no copy needed (the common case for large frames)
        values = s.to_numpy(dtype=object)
    try:
        joined = "\0".join(values.tolist())
    except TypeError:
        joined = "\0".join(map(str, values.tolist()))
    if joined.count("\0") != max(len(values) - 1, 0):
        raise FrameError(f"column {name!r} contains a NUL character")
    if not unicodedata.is_normalized("NFC", joined):
        joined = unicodedata.normalize("NFC", joined)
    return joined.encode("utf-8"), missing


def column_digest(name: str, s: pd.Series) -> str:
    """SHA-256 (hex) of one column in the canonical form (see the module docstring)."""
    payload = _numeric_payload(s) if _is_numeric(s) else None
    kind = b"f8"
    if payload is None:
        payload = _text_payload(s, name)
        kind = b"utf8"
    data, missing = payload
    h = hashlib.sha256()
    h.update(b"column\0" + _nfc(name).encode("utf-8") + b"\0" + kind + b"\0")
    h.update(struct.pack("<Q", len(s)))
    h.update(np.packbits(missing).tobytes())
    h.update(data)
    return h.hexdigest()


def _nfc(name: Any) -> str:
    return unicodedata.normalize("NFC", str(name))


def frame_digest(frame: pd.DataFrame) -> FrameDigest:
    """Digest of a frame in canonical form ``surveyapp-frame/1`` (module docstring).

    Raises
    ------
    FrameError
        Duplicate column names, or a text value containing NUL.
    """
    names = [_nfc(c) for c in frame.columns]
    if len(set(names)) != len(names):
        dup = next(c for c in names if names.count(c) > 1)
        raise FrameError(f"the frame has two columns named {dup!r}")
    per_column = {name: column_digest(name, frame.iloc[:, i]) for i, name in enumerate(names)}
    rows = len(frame)
    h = hashlib.sha256()
    h.update(CANONICAL_FORM.encode() + b"\0" + struct.pack("<Q", rows))
    for name in sorted(per_column):
        h.update(name.encode("utf-8") + b"\0" + bytes.fromhex(per_column[name]))
    return FrameDigest(
        sha256=h.hexdigest(),
        rows=rows,
        columns=tuple(names),
        column_sha256=per_column,
    )


def _blank(s: pd.Series) -> np.ndarray:
    """Text cells holding only white space (vectorised where pandas can)."""
    if _is_numeric(s):
        return np.zeros(len(s), dtype=bool)
    try:
        stripped = s.str.strip()
    except AttributeError:  # mixed objects: fall back to a Python loop
        return s.map(lambda v: isinstance(v, str) and v.strip() == "").to_numpy(dtype=bool)
    return (stripped == "").to_numpy(dtype=bool, na_value=False)


def _row(i: int) -> str:
    return f"row {i + 1}"


def require_columns(frame: pd.DataFrame, columns: dict[str, str | None]) -> None:
    """Check that every named column exists; ``columns`` maps role (e.g. "--size") to name."""
    if not isinstance(frame, pd.DataFrame):
        raise FrameError("the frame must be a pandas DataFrame")
    present = [str(c) for c in frame.columns]
    for role, name in columns.items():
        if name is not None and name not in present:
            shown = ", ".join(repr(c) for c in present[:20])
            raise FrameError(f"the frame has no column {name!r} ({role}); its columns are {shown}")


def check_ids(frame: pd.DataFrame, id: str) -> np.ndarray:
    """The id column as an array, checked: no missing and no duplicate id.

    Raises
    ------
    FrameError
        Naming the first missing id's row, or the first duplicated id and its rows.
    """
    s = frame[id]
    missing = s.isna().to_numpy() | _blank(s)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise FrameError(
            f"id column {id!r} is empty in {_row(i)} ({int(missing.sum())} rows without id)"
        )
    dup = s.duplicated(keep=False).to_numpy()
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        value = s.iloc[first]
        rows = np.flatnonzero((s == value).to_numpy())[:5] + 1
        n_dup = int(s[dup].nunique())
        raise FrameError(
            f"duplicate id {value!r} in id column {id!r} (rows {', '.join(map(str, rows))}); "
            f"{n_dup} id{'s' if n_dup > 1 else ''} occur more than once"
        )
    return s.to_numpy()


def positive_sizes(frame: pd.DataFrame, column: str, ids: Any = None) -> np.ndarray:
    """The size measure column as float64, checked: present, numeric, finite and > 0.

    Raises
    ------
    FrameError
        Naming the row (and id) of the first missing, non-numeric or non-positive size.
    """
    s = frame[column]
    if _is_numeric(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = pd.to_numeric(s.astype(object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )

    def where(i: int) -> str:
        who = "" if ids is None else f", id {ids[i]!r}"
        return f"{_row(i)}{who}"

    missing = s.isna().to_numpy() | _blank(s)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise FrameError(
            f"size column {column!r} is missing in {where(i)} "
            f"({int(missing.sum())} rows without a size)"
        )
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FrameError(f"size column {column!r} is not a number in {where(i)}: {s.iloc[i]!r}")
    nonpos = values <= 0
    if nonpos.any():
        i = int(np.flatnonzero(nonpos)[0])
        raise FrameError(
            f"size column {column!r} must be positive; it is {s.iloc[i]!r} in {where(i)} "
            f"({int(nonpos.sum())} rows with a size of zero or less)"
        )
    return values


def labels(frame: pd.DataFrame, column: str, role: str = "stratum") -> np.ndarray:
    """A label column (strata, stage units) as an object array, checked for missing values."""
    s = frame[column]
    missing = s.isna().to_numpy() | _blank(s)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise FrameError(f"{role} column {column!r} is empty in {_row(i)}")
    return s.to_numpy(dtype=object)
