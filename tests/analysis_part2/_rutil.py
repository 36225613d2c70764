"""Helpers shared by the part-2 test modules: data location and one batched R run each."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SHARED = Path(
    os.environ.get("SURVEYAPP_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
)
DATA = SHARED / "reference" / "data"

# A JSON writer with full double precision (jsonlite stops at 15 significant digits):
# numbers as %.17g, NA/NaN as null, named lists as objects, matrices as lists of columns.
R_PRELUDE = r"""
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail", warn = 1)
DATA <- Sys.getenv("SURVEYAPP_REF_DATA")
rd <- function(f) read.csv(file.path(DATA, f), stringsAsFactors = TRUE)
toj <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    nm <- names(x)
    parts <- vapply(x, toj, "")
    if (is.null(nm)) return(paste0("[", paste(parts, collapse = ","), "]"))
    return(paste0("{", paste0('"', nm, '":', parts, collapse = ","), "}"))
  }
  if (is.matrix(x)) return(toj(lapply(seq_len(ncol(x)), function(j) as.vector(x[, j]))))
  if (is.character(x) || is.factor(x)) {
    v <- paste0('"', as.character(x), '"')
  } else if (is.logical(x)) {
    v <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    v <- ifelse(is.finite(x), sprintf("%.17g", as.numeric(x)), "null")
  }
  if (!is.null(attr(x, "scalar"))) return(v)
  paste0("[", paste(v, collapse = ","), "]")
}
S <- function(x) { attr(x, "scalar") <- TRUE; x }
OUT <- list()
"""


def run_r(body: str) -> dict:
    """Run ``body`` (which fills the list ``OUT``) in one Rscript; return OUT as a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "case.R"
        out = Path(tmp) / "out.json"
        script.write_text(
            R_PRELUDE + body + f'\nwriteLines(toj(OUT), "{out}")\n', encoding="utf-8"
        )
        env = dict(os.environ, SURVEYAPP_REF_DATA=str(DATA), LC_ALL="C")
        proc = subprocess.run(
            ["Rscript", "--vanilla", str(script)], capture_output=True, text=True, env=env,
            timeout=600,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"R failed:\n{proc.stderr[-4000:]}")
        return json.loads(out.read_text(encoding="utf-8"))


def arr(x) -> np.ndarray:
    """An R vector from the JSON (null -> NaN)."""
    return np.array([np.nan if v is None else v for v in x], dtype=float)


def close(actual, expected, rel=1e-9, abs_=1e-12) -> bool:
    a = np.asarray(actual, dtype=float)
    b = np.asarray(expected, dtype=float)
    both_nan = np.isnan(a) & np.isnan(b)
    ok = np.abs(a - b) <= abs_ + rel * np.abs(b)
    return bool(np.all(ok | both_nan))


def max_rel(actual, expected) -> float:
    a = np.asarray(actual, dtype=float)
    b = np.asarray(expected, dtype=float)
    m = ~(np.isnan(a) & np.isnan(b))
    return float(np.max(np.abs(a[m] - b[m]) / np.maximum(np.abs(b[m]), 1e-300)))
