"""Turning user inputs (column names of a data frame, or arrays) into numpy arrays.

A "data" object is anything indexable by column name that returns array-likes: a pandas
DataFrame, a dict of arrays, or :class:`analysis.io.Table`.  Nothing here imports pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import DataError

__all__ = ["Column", "resolve", "is_missing", "is_numeric", "factorize", "format_value",
           "unique_inverse"]


def unique_inverse(key: np.ndarray, upper: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of a non-negative integer array and each element's index.

    Same result as ``np.unique(key, return_inverse=True)``; when the values are below a
    small ``upper`` bound it counts instead of sorting (linear time).
    """
    n = len(key)
    if upper is None:
        upper = int(key.max(initial=-1)) + 1
    if n and 0 < upper <= max(4 * n, 1 << 20) and key.min() >= 0:
        seen = np.bincount(key, minlength=upper) > 0
        uniq = np.flatnonzero(seen)
        code = np.cumsum(seen) - 1
        return uniq, code[key]
    uniq, inv = np.unique(key, return_inverse=True)
    return uniq, inv.reshape(-1)


class Column:
    """A resolved variable: its name (as R would print it) and its values."""

    __slots__ = ("name", "values")

    def __init__(self, name: str, values: np.ndarray) -> None:
        self.name = name
        self.values = values


def _columns_of(data: Any) -> list[str]:
    cols = getattr(data, "columns", None)
    if cols is not None:
        return [str(c) for c in cols]
    if isinstance(data, dict):
        return [str(c) for c in data]
    return []


def resolve(spec: Any, data: Any, n: int | None, role: str, position: int = 0) -> Column:
    """Return the column named ``spec`` in ``data``, or ``spec`` itself as an array.

    Raises :class:`DataError` for an unknown column name or an array of the wrong length.
    """
    if isinstance(spec, str):
        if data is None:
            raise DataError(f"{role}: column {spec!r} given but no data to look it up in")
        names = _columns_of(data)
        if spec not in names:
            raise DataError(f"{role}: unknown column {spec!r}")
        values = np.asarray(data[spec])
        name = spec
    else:
        values = np.asarray(spec)
        name = getattr(spec, "name", None) or f"{role}{position + 1 if position else ''}"
        name = str(name)
    if values.ndim != 1:
        raise DataError(f"{role}: expected one column, got an array of shape {values.shape}")
    if n is not None and len(values) != n:
        raise DataError(f"{role}: {name!r} has {len(values)} values, the data have {n} rows")
    return Column(name, values)


def is_numeric(values: np.ndarray) -> bool:
    """True for integer, unsigned, boolean and floating arrays."""
    return values.dtype.kind in "biuf"


def is_missing(values: np.ndarray) -> np.ndarray:
    """Boolean mask of missing values: NaN, None, pandas NA, or the empty string."""
    kind = values.dtype.kind
    if kind == "f":
        return np.isnan(values)
    if kind in "biu":
        return np.zeros(len(values), dtype=bool)
    if kind in "US":
        return values == values.dtype.type()
    out = np.empty(len(values), dtype=bool)
    for i, v in enumerate(values):
        out[i] = v is None or v == "" or (isinstance(v, float) and v != v) or _is_na(v)
    return out


def _is_na(v: Any) -> bool:
    # pandas.NA and NaT compare ambiguously; recognise them without importing pandas.
    return type(v).__name__ in ("NAType", "NaTType")


def factorize(
    values: np.ndarray, missing: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (``-1`` for missing) and the sorted distinct values.

    Numbers sort numerically, text by code point (R's order under ``LC_COLLATE=C``).
    """
    if missing is None:
        missing = is_missing(values)
    codes = np.full(len(values), -1, dtype=np.int64)
    present = ~missing
    vals = values[present]
    if vals.dtype.kind == "O":
        if all(isinstance(v, str) for v in vals):
            vals = vals.astype(str)
        elif all(isinstance(v, (int, float, bool, np.number)) for v in vals):
            vals = vals.astype(float)
        else:
            vals = np.array([str(v) for v in vals])
    if len(vals) == 0:
        return codes, vals
    if vals.dtype.kind in "iu" or (
        vals.dtype.kind == "f" and np.all(np.isfinite(vals)) and np.all(vals == np.round(vals))
    ):
        lo = vals.min()
        span = vals.max() - lo
        if span < 4 * len(vals) + (1 << 20):
            uniq, inv = unique_inverse((vals - lo).astype(np.int64), int(span) + 1)
            codes[present] = inv
            return codes, (uniq + lo).astype(vals.dtype)
    labels, inverse = np.unique(vals, return_inverse=True)
    codes[present] = inverse.reshape(-1)
    return codes, labels


def format_value(v: Any) -> str:
    """A category or domain value as text: integral numbers without a decimal point."""
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        return repr(f)
    return str(v)


def as_list(spec: Any) -> list[Any]:
    """``None`` → ``[]``; a string or a single array → ``[spec]``; a sequence → list."""
    if spec is None:
        return []
    if isinstance(spec, str) or isinstance(spec, np.ndarray) or hasattr(spec, "dtype"):
        return [spec]
    if isinstance(spec, Sequence):
        return list(spec)
    return [spec]
