"""Shared data of the index tests: the synthetic survey and the three built-in indices."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import SurveyDesign
from analysis.indices import circular01_index, papi_index, sipas_index

FIXTURES = Path(__file__).with_name("fixtures")

TT01_MAPS = {"c1": {"sooner": 2, "ontime": 1, "late": 0},
             "c3": {"none": 2, "once": 1, "many": 0},
             "c4": {"none": 2, "onestop": 1, "many": 0},
             "c7": {"early": 2, "ontime": 1, "harassed": 0}}


def survey() -> pd.DataFrame:
    df = pd.read_csv(FIXTURES / "survey.csv", dtype=str, keep_default_na=False)
    for c in ("w", "fpc", "t1", "t2", "t3"):
        df[c] = df[c].astype(float)
    return df


def design(df: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign.create(df, ids="psu", strata="stratum", weights="w", fpc="fpc")


def sipas():
    return sipas_index({"F1": ["q1", "q2"], "F2": ["q3", "q4"], "F3": ["q5", "q6"]})


def tt01():
    return circular01_index(TT01_MAPS)


def papi():
    return papi_index({"D1": {"t1": (0, 4), "t2": (0, 4)}, "D2": {"t3": (0, 4)}})
