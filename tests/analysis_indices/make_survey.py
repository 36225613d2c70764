"""Writes fixtures/survey.csv, the synthetic survey of the index tests (seeded; rerun to
regenerate: ``python tests/analysis_indices/make_survey.py``).

A stratified two-level sample: 4 strata (districts), 5 PSUs (wards) each, 12 respondents
per ward, unequal weights; each respondent names one of 4 agencies. Six 1–5 satisfaction
items with "na", "dk" and blank answers (SIPAS), four Circular 01 indicators (codes
"sooner"/"ontime"/"late" etc. mapped to 2/1/0) and three numeric PAPI-style items.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def make(seed: int = 20261204) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(4):
        for p in range(5):
            ward_effect = rng.normal(0, 0.4)
            for i in range(12):
                agency = "ABCD"[rng.integers(0, 4)]
                shift = {"A": 0.6, "B": 0.2, "C": -0.1, "D": -0.5}[agency] + ward_effect
                r = {"stratum": f"S{h + 1}", "psu": f"S{h + 1}P{p + 1}", "agency": agency,
                     "w": float(np.round(rng.uniform(20, 80) * (1 + h), 3)),
                     "fpc": 40 + 10 * h}
                for q in range(1, 7):
                    x = int(np.clip(np.round(3.4 + shift + rng.normal(0, 1.1)), 1, 5))
                    u = rng.uniform()
                    r[f"q{q}"] = "na" if u < 0.05 else "dk" if u < 0.09 else "" if u < 0.11 \
                        else str(x)
                for c, codes in (("c1", ("late", "ontime", "sooner")),
                                 ("c3", ("many", "once", "none")),
                                 ("c4", ("many", "onestop", "none")),
                                 ("c7", ("harassed", "ontime", "early"))):
                    k = int(np.clip(np.round(1.2 + 0.6 * shift + rng.normal(0, 0.7)), 0, 2))
                    r[c] = "" if rng.uniform() < 0.04 else codes[k]
                for t in ("t1", "t2", "t3"):
                    r[t] = float(np.clip(np.round(2.5 + shift + rng.normal(0, 1.0)), 0, 4))
                rows.append(r)
    return pd.DataFrame(rows)


if __name__ == "__main__":
    out = Path(__file__).with_name("fixtures") / "survey.csv"
    make().to_csv(out, index=False)
    print(out)
