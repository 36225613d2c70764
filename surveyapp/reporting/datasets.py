"""Analysis datasets for statisticians: plain columns in, CSV / XLSX / SPSS / Stata files out.

No database, no Flask: a service builds a :class:`Dataset` (variables with labels and value
labels, and one list of values per variable) and one of the ``write_*`` functions writes it.

Conventions every writer follows (also written into each file's codebook):

* **Variable names** are valid in SPSS and Stata: ASCII letters, digits and ``_``, starting
  with a letter, at most 32 characters, not a reserved word, unique ignoring case
  (:func:`variable_names`).
* **Numeric values**: ``None`` is a system missing value (question not asked, no answer).
  The special answers are kept apart from it:

  ========  ===================  ==============  ===========  ===========
  answer    meaning              CSV / XLSX      SPSS .sav    Stata .dta
  ========  ===================  ==============  ===========  ===========
  ``na``    not applicable       ``-99``         ``-99`` user-missing   ``.a``
  ``dk``    don't know           ``-98``         ``-98`` user-missing   ``.b``
  ========  ===================  ==============  ===========  ===========

  Each is labelled (``Không áp dụng`` / ``Không biết``) wherever the variable admits it.
* **Strings** are UTF-8 (Stata format 118, Unicode); **dates** are dates.
* Labels are clipped to the formats' limits (Stata variable labels: 80 characters; SPSS value
  labels: 120 bytes); the codebook keeps them whole.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

NA, DK = "na", "dk"
MISSING_CODES = {NA: -99, DK: -98}  # CSV, XLSX and SPSS
STATA_MISSING = {NA: "a", DK: "b"}  # Stata extended missing values .a and .b
MISSING_LABELS = {NA: "Không áp dụng", DK: "Không biết"}
KINDS = ("numeric", "string", "date")
FORMATS = ("csv", "xlsx", "sav", "dta")
EXTENSIONS = {"csv": "zip", "xlsx": "xlsx", "sav": "sav", "dta": "dta"}
MAX_NAME = 32
STATA_VARIABLE_LABEL = 80  # characters
SPSS_VARIABLE_LABEL = 255  # bytes
SPSS_VALUE_LABEL = 120  # bytes
STATA_VALUE_LABEL = 32000  # bytes
CODEBOOK_HEADERS = ["variable", "label", "type", "source", "value", "value_label"]

# SPSS reserved words and Stata reserved names (lower case).
RESERVED = {
    "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with",
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
    "_n", "_n", "_pi", "_pred", "_rc", "_skip", "str", "strl", "using",
}
Progress = Callable[[float], None]  # fraction written, 0..1


@dataclass(frozen=True)
class Variable:
    """One column of the dataset."""

    name: str
    label: str = ""
    kind: str = "numeric"
    value_labels: dict[int, str] = field(default_factory=dict)
    special: tuple[str, ...] = ()  # which of na/dk the variable admits (labelled, missing)
    source: str = ""  # where it comes from (question name, "choice x of q", "sampling plan")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown variable kind {self.kind!r}")


@dataclass(frozen=True)
class Dataset:
    """Variables and their values, one list per variable, all of the same length."""

    variables: list[Variable]
    columns: dict[str, list]
    title: str = ""

    def __post_init__(self) -> None:
        names = [v.name for v in self.variables]
        if len({n.lower() for n in names}) != len(names):
            raise ValueError("variable names must be unique (ignoring case)")
        lengths = {len(self.columns[n]) for n in names}
        if len(lengths) > 1:
            raise ValueError("every column must have the same number of values")

    @property
    def n_rows(self) -> int:
        return len(self.columns[self.variables[0].name]) if self.variables else 0


# ---- names --------------------------------------------------------------------------------

def ascii_name(text: str) -> str:
    """A candidate variable name: Vietnamese folded to ASCII, other characters as ``_``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    text = re.sub(r"_+", "_", text)
    if not text or not text[0].isalpha():
        text = "v_" + text if text else "v"
    return text


def variable_names(wanted: list[str]) -> list[str]:
    """Valid, unique (ignoring case) SPSS/Stata names for ``wanted``, in the same order."""
    taken: set[str] = set()
    out: list[str] = []
    for raw in wanted:
        base = ascii_name(raw)[:MAX_NAME]
        if base.lower() in RESERVED:
            base = (base + "_")[:MAX_NAME]
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            suffix = f"_{n}"
            name = base[:MAX_NAME - len(suffix)] + suffix
        taken.add(name.lower())
        out.append(name)
    return out


def _clip_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def stata_label(text: str) -> str:
    return text[:STATA_VARIABLE_LABEL]


def spss_label(text: str) -> str:
    return _clip_bytes(text, SPSS_VARIABLE_LABEL)


def spss_value_label(text: str) -> str:
    return _clip_bytes(text, SPSS_VALUE_LABEL)


def stata_value_label(text: str) -> str:
    return _clip_bytes(text, STATA_VALUE_LABEL)


# ---- values -------------------------------------------------------------------------------

def _coded(value):
    """A numeric cell for CSV/XLSX/SPSS: the special answers as their codes."""
    if isinstance(value, str):
        return MISSING_CODES[value]
    return value


def _text_cell(variable: Variable, value) -> object:
    if value is None:
        return ""
    if variable.kind == "numeric":
        value = _coded(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def codebook_rows(dataset: Dataset) -> list[list]:
    """The codebook: one row per variable, then one per labelled value."""
    rows: list[list] = []
    for v in dataset.variables:
        rows.append([v.name, v.label, v.kind, v.source, "", ""])
        for code, label in v.value_labels.items():
            rows.append([v.name, "", "", "", code, label])
        for special in v.special:
            rows.append([v.name, "", "", "", MISSING_CODES[special],
                         f"{MISSING_LABELS[special]} ({special}; Stata .{STATA_MISSING[special]})"])
    return rows


def _ticks(dataset: Dataset, progress: Progress | None, share: float = 1.0):
    """Call ``progress`` about every 2% of the rows."""
    n = dataset.n_rows
    step = max(1, n // 50)

    def tick(i: int) -> None:
        if progress is not None and i % step == 0:
            progress(share * i / max(n, 1))
    return tick


# ---- writers ------------------------------------------------------------------------------

def write_csv(dataset: Dataset, path: str | Path, progress: Progress | None = None) -> None:
    """A ZIP with ``data.csv`` and ``codebook.csv`` (UTF-8 with BOM, so Excel reads them)."""
    tick = _ticks(dataset, progress)
    variables = dataset.variables
    columns = [dataset.columns[v.name] for v in variables]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("data.csv", "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow([v.name for v in variables])
            for i in range(dataset.n_rows):
                writer.writerow([_text_cell(v, col[i]) for v, col in zip(variables, columns)])
                tick(i)
            text.flush()
            text.detach()
        with archive.open("codebook.csv", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(CODEBOOK_HEADERS)
            writer.writerows(codebook_rows(dataset))
            text.flush()
            text.detach()


def write_xlsx(dataset: Dataset, path: str | Path, progress: Progress | None = None) -> None:
    """A workbook with a ``data`` sheet and a ``codebook`` sheet (constant-memory mode)."""
    import xlsxwriter

    tick = _ticks(dataset, progress)
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False})
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    data = workbook.add_worksheet("data")
    codebook = workbook.add_worksheet("codebook")
    variables = dataset.variables
    columns = [dataset.columns[v.name] for v in variables]
    data.write_row(0, 0, [v.name for v in variables], bold)
    data.freeze_panes(1, 0)
    for i in range(dataset.n_rows):
        r = i + 1
        for c, (v, col) in enumerate(zip(variables, columns)):
            value = col[i]
            if value is None:
                continue
            if v.kind == "numeric":
                data.write_number(r, c, _coded(value))
            elif v.kind == "date":
                data.write_datetime(r, c, datetime(value.year, value.month, value.day),
                                    date_format)
            else:
                data.write_string(r, c, str(value))
        tick(i)
    codebook.write_row(0, 0, CODEBOOK_HEADERS, bold)
    for r, row in enumerate(codebook_rows(dataset), start=1):
        for c, value in enumerate(row):
            if value == "":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                codebook.write_number(r, c, value)
            else:
                codebook.write_string(r, c, str(value))
    workbook.close()


def _frame(dataset: Dataset, stata: bool):
    import numpy as np
    import pandas as pd

    data = {}
    for v in dataset.variables:
        values = dataset.columns[v.name]
        if v.kind == "numeric":
            if stata and any(isinstance(x, str) for x in values):
                # Stata extended missing values: pyreadstat takes their letter in an object
                # column of doubles.
                data[v.name] = pd.Series(
                    [STATA_MISSING[x] if isinstance(x, str) else
                     (np.nan if x is None else float(x)) for x in values], dtype=object)
            else:
                data[v.name] = pd.Series(
                    [np.nan if x is None else float(_coded(x)) for x in values],
                    dtype="float64")
        elif v.kind == "date":
            data[v.name] = pd.Series(values, dtype=object)
        else:
            # Stata strL columns refuse None; an empty string is Stata's missing string.
            data[v.name] = pd.Series(["" if x is None else str(x) for x in values],
                                     dtype=object)
    return pd.DataFrame(data, columns=[v.name for v in dataset.variables])


def write_sav(dataset: Dataset, path: str | Path, progress: Progress | None = None) -> None:
    """SPSS .sav (UTF-8): variable labels, value labels, na/dk as user-missing -99/-98."""
    import pyreadstat

    frame = _frame(dataset, stata=False)
    if progress is not None:
        progress(0.3)
    value_labels: dict[str, dict[float, str]] = {}
    missing: dict[str, list[float]] = {}
    for v in dataset.variables:
        labels = {float(code): spss_value_label(label) for code, label in v.value_labels.items()}
        for special in v.special:
            labels[float(MISSING_CODES[special])] = MISSING_LABELS[special]
        if labels and v.kind == "numeric":
            value_labels[v.name] = labels
        if v.special:
            missing[v.name] = [float(MISSING_CODES[s]) for s in v.special]
    pyreadstat.write_sav(
        frame, str(path), file_label=_clip_bytes(dataset.title, 64),
        column_labels={v.name: spss_label(v.label) or None for v in dataset.variables},
        variable_value_labels=value_labels or None, missing_ranges=missing or None)


def write_dta(dataset: Dataset, path: str | Path, progress: Progress | None = None) -> None:
    """Stata .dta format 118 (Unicode): labels, value labels, na/dk as ``.a``/``.b``."""
    import pyreadstat

    frame = _frame(dataset, stata=True)
    if progress is not None:
        progress(0.3)
    value_labels: dict[str, dict] = {}
    missing: dict[str, list[str]] = {}
    for v in dataset.variables:
        if v.kind != "numeric":
            continue
        labels: dict = {float(code): stata_value_label(label)
                        for code, label in v.value_labels.items()}
        for special in v.special:
            labels[STATA_MISSING[special]] = MISSING_LABELS[special]
        if labels:
            value_labels[v.name] = labels
        if v.special:
            missing[v.name] = [STATA_MISSING[s] for s in v.special]
    pyreadstat.write_dta(
        frame, str(path), file_label=stata_label(dataset.title),
        column_labels={v.name: stata_label(v.label) or None for v in dataset.variables},
        version=14,  # pyreadstat's 14 = Stata's format 118 (Unicode)
        variable_value_labels=value_labels or None, missing_user_values=missing or None)


WRITERS: dict[str, Callable[[Dataset, str | Path, Progress | None], None]] = {
    "csv": write_csv, "xlsx": write_xlsx, "sav": write_sav, "dta": write_dta,
}


def write(dataset: Dataset, fmt: str, path: str | Path, progress: Progress | None = None) -> None:
    """Write ``dataset`` in format ``fmt`` (one of :data:`FORMATS`) to ``path``."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
    WRITERS[fmt](dataset, path, progress)
