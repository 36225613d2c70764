"""Fixtures of the sampling tests: the shared reference folder and small frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _sampling_shared import MU284_CSV

from sampling.io import read_frame


@pytest.fixture
def mu284() -> pd.DataFrame:
    """R's sampling::MU284 as read from the shared CSV (all columns as text)."""
    return read_frame(MU284_CSV)


@pytest.fixture
def vn_frame() -> pd.DataFrame:
    """A small frame of dossiers with Vietnamese agency names and sizes."""
    rng = np.random.default_rng(20240104)
    agencies = ["Sở Tư pháp", "UBND phường Bến Nghé", "Sở Xây dựng", "UBND xã Bình Chánh"]
    rows = []
    for i in range(60):
        a = agencies[i % 4]
        rows.append(
            {
                "ma_ho_so": f"HS-{i:04d}",
                "co_quan": a,
                "so_ho_so": str(int(rng.integers(1, 200))),
                "ghi_chu": "Hồ sơ đất đai" if i % 3 else "",
            }
        )
    df = pd.DataFrame(rows, dtype=object)
    df.loc[df["ghi_chu"] == "", "ghi_chu"] = None
    return df
