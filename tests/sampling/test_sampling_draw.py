"""Draws: reproducibility, output layout, records, verify, reserves, multi-stage."""

from __future__ import annotations

import copy
import io
import json

import numpy as np
import pandas as pd
import pytest

import sampling
from sampling import DesignError, DrawPlan, FrameError, Stage, draw, verify
from sampling.draw import RECORD_FORMAT, RESERVE_RULE


def _plan(**kw):
    base = dict(id="LABEL", method="pps-systematic", n=3, strata="REG", size="P75", reserve=1)
    base.update(kw)
    ident = base.pop("id")
    method = base.pop("method")
    n = base.pop("n")
    return DrawPlan.single(ident, method, n, **base)


@pytest.mark.parametrize(
    "method", ["srs", "systematic", "poisson", "pps-systematic", "pps-brewer", "pps-sampford"]
)
def test_same_seed_same_frame_gives_byte_identical_output(mu284, method):
    size = "P75" if method.startswith("pps") else None
    reserve = 0 if method == "poisson" else 2
    plan = DrawPlan.single("LABEL", method, 4, strata="REG", size=size, reserve=reserve)
    a = draw(mu284, plan, seed=2024)
    b = draw(mu284.copy(), plan, seed=2024)
    assert a.csv == b.csv
    assert a.record_json() == b.record_json()
    c = draw(mu284, plan, seed=2025)
    assert c.csv != a.csv
    assert verify(mu284, a.record).ok


def test_output_layout_sample_in_frame_order_then_reserves_by_rank(mu284):
    res = draw(mu284, _plan(reserve=2), seed=11)
    s = res.sample
    assert list(s.columns) == list(mu284.columns) + ["pik", "weight", "reserve_rank"]
    main = s[s["reserve_rank"].isna()]
    reserves = s[s["reserve_rank"].notna()]
    assert len(main) == 8 * 3 and len(reserves) == 8 * 2
    labels = mu284["LABEL"].tolist()
    pos = [labels.index(v) for v in main["LABEL"]]
    assert pos == sorted(pos)
    assert reserves["reserve_rank"].tolist() == sorted(reserves["reserve_rank"].tolist())
    assert np.allclose(s["weight"], 1 / s["pik"])
    # the CSV: floats by repr, empty rank for the sample, ranks for reserves
    text = res.csv.decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == ",".join(list(mu284.columns) + ["pik", "weight", "reserve_rank"])
    first = lines[1].split(",")
    assert first[-1] == "" and first[-3] == repr(float(s["pik"][0]))
    assert lines[-1].split(",")[-1] == "2"
    back = pd.read_csv(io.StringIO(text))
    assert np.array_equal(back["pik"].to_numpy(), s["pik"].to_numpy())  # repr round-trips exactly


def test_record_content(mu284):
    res = draw(mu284, _plan(), seed=5)
    rec = json.loads(res.record_json())
    assert rec["format"] == RECORD_FORMAT
    assert rec["generator"]["bit_generator"] == "PCG64" and rec["generator"]["seed"] == 5
    assert rec["versions"]["numpy"] == np.__version__
    assert rec["versions"]["sampling"] == sampling.__version__
    assert rec["parameters"] == {
        "id": "LABEL",
        "reserve": 1,
        "stages": [
            {"unit": "LABEL", "method": "pps-systematic", "n": 3, "size": "P75", "strata": "REG"}
        ],
    }
    assert rec["frame"]["rows"] == 284 and len(rec["frame"]["sha256"]) == 64
    assert rec["reserve_rule"] == RESERVE_RULE
    assert "pps-systematic" in rec["algorithm"]
    assert rec["result"]["selected"] == 24 and rec["result"]["reserves"] == 8


def test_seed_is_generated_and_recorded_when_missing(mu284):
    res = draw(mu284, _plan(), seed=None)
    seed = res.record["generator"]["seed"]
    assert isinstance(seed, int) and seed >= 0
    assert draw(mu284, _plan(), seed=seed).csv == res.csv


def test_verify_names_what_differs(mu284):
    res = draw(mu284, _plan(), seed=3)
    assert verify(mu284, res.record).message().startswith("verified")

    changed = mu284.copy()
    changed.loc[10, "P75"] = "999"
    v = verify(changed, res.record)
    assert not v.ok
    assert "frame digest differs" in v.message() and "'P75'" in v.message()

    longer = pd.concat([mu284, mu284.iloc[[0]].assign(LABEL="999")], ignore_index=True)
    v = verify(longer, res.record)
    assert "frame has 285 rows, the record 284" in v.message()

    rec = copy.deepcopy(res.record)
    rec["versions"]["numpy"] = "1.0.0"
    v = verify(mu284, rec)
    assert not v.ok and "numpy version differs (recorded numpy 1.0.0" in v.message()

    rec = copy.deepcopy(res.record)
    rec["parameters"]["stages"][0]["n"] = 4
    v = verify(mu284, rec)
    assert "parameters differ" in v.message() and "sample differs" in v.message()

    rec = copy.deepcopy(res.record)
    rec["generator"]["seed"] = 4
    assert "sample differs: other units are selected" in verify(mu284, rec).message()

    with pytest.raises(sampling.RecordError):
        verify(mu284, {"format": "something else"})


def test_unrelated_column_change_keeps_sample_but_fails_verification(mu284):
    res = draw(mu284, _plan(), seed=3)
    changed = mu284.copy()
    changed.loc[0, "CS82"] = "1"
    msg = verify(changed, res.record).message()
    assert "values changed in columns 'CS82'" in msg


def test_reserves_srs_weights_rule():
    frame = pd.DataFrame({"id": [f"u{i}" for i in range(20)], "g": ["a"] * 10 + ["b"] * 10})
    res = draw(frame, DrawPlan.single("id", "srs", 3, strata="g", reserve=2), seed=8)
    s = res.sample
    assert np.allclose(s["weight"], 10 / 3)
    a_res = (
        s[(s["g"] == "a") & s["reserve_rank"].notna()].sort_values("reserve_rank")["id"].tolist()
    )
    w = res.weights_with_reserves(a_res[:1])
    a_ids = s[(s["g"] == "a") & s["reserve_rank"].isna()]["id"].tolist() + a_res[:1]
    assert np.allclose(w[a_ids], 10 / 4)  # N / (n + j)
    b_ids = s[(s["g"] == "b") & s["reserve_rank"].isna()]["id"].tolist()
    assert np.allclose(w[b_ids], 10 / 3)
    assert len(w) == 7
    with pytest.raises(DesignError, match="rank order"):
        res.weights_with_reserves(a_res[1:])
    with pytest.raises(DesignError, match="not a reserve"):
        res.weights_with_reserves([b_ids[0]])


def test_reserves_pps_keep_certainty_units_in_the_sample():
    x = [1000, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    frame = pd.DataFrame({"id": list("abcdefghij"), "x": [str(v) for v in x]})
    res = draw(frame, DrawPlan.single("id", "pps-brewer", 3, size="x", reserve=2), seed=1)
    s = res.sample
    assert "a" in s[s["reserve_rank"].isna()]["id"].tolist()
    row = s[s["id"] == "a"].iloc[0]
    assert row["pik"] == 1 and row["weight"] == 1
    # n - c = 2 free sample units out of n + m - c = 4 drawn: pik = pi'(5) * 2 / 4
    ext = sampling.inclusion_probabilities(np.array(x, float), 5)
    for _, r in s[s["id"] != "a"].iterrows():
        assert r["pik"] == pytest.approx(ext[list("abcdefghij").index(r["id"])] * 2 / 4)
    w = res.weights_with_reserves(s[s["reserve_rank"] == 1]["id"])
    assert w["a"] == 1
    free = [i for i in w.index if i != "a"]
    assert np.allclose(w[free], s.set_index("id").loc[free, "weight"] * 2 / 3)


def test_poisson_refuses_reserves_and_srs_ignores_a_size(mu284):
    with pytest.raises(DesignError, match="fixed-size"):
        draw(mu284, DrawPlan.single("LABEL", "poisson", 3, reserve=1), seed=1)
    # STAGES.json may name a size on every stage; equal-probability methods ignore it
    with_size = draw(mu284, DrawPlan.single("LABEL", "srs", 3, size="P75"), seed=1)
    without = draw(mu284, DrawPlan.single("LABEL", "srs", 3), seed=1)
    assert with_size.csv == without.csv
    assert with_size.record["parameters"]["stages"][0]["size"] == "P75"
    with pytest.raises(DesignError, match="needs a size column"):
        draw(mu284, DrawPlan.single("LABEL", "pps-brewer", 3), seed=1)


def test_systematic_sort_order_gives_implicit_stratification():
    # 40 units interleaved over 4 regions; sorted by region each region is a block of 10
    # and the interval is 40 / 4 = 10, so every seed gives exactly one unit per region.
    frame = pd.DataFrame(
        {"id": [f"u{i:02d}" for i in range(40)], "region": [f"R{i % 4}" for i in range(40)]}
    )
    for seed in range(20):
        res = draw(frame, DrawPlan.single("id", "systematic", 4, sort=["region"]), seed=seed)
        assert sorted(res.sample["region"]) == ["R0", "R1", "R2", "R3"]
        assert np.allclose(res.sample["pik"], 0.1)
    unsorted = [
        sorted(draw(frame, DrawPlan.single("id", "systematic", 4), seed=s).sample["region"])
        for s in range(20)
    ]
    assert all(len(set(r)) == 2 for r in unsorted)  # in frame order it hits only 2 regions


def _two_stage_frame():
    rows = []
    for w in range(12):
        pop = 1000 * (w + 1)
        for i in range(3 + w % 4):
            rows.append(
                {
                    "id": f"W{w:02d}-{i}",
                    "ward": f"Phường {w:02d}",
                    "pop": str(pop),
                    "district": "Quận 1" if w < 6 else "Quận 3",
                }
            )
    return pd.DataFrame(rows, dtype=object)


def test_multistage_probabilities_are_products():
    frame = _two_stage_frame()
    plan = DrawPlan(
        id="id",
        stages=(
            Stage(unit="ward", method="pps-systematic", n=2, size="pop", strata="district"),
            Stage(unit="id", method="srs", n_per_parent=2),
        ),
        reserve=1,
    )
    res = draw(frame, plan, seed=10)
    s = res.sample
    assert {"pik_stage1", "pik_stage2"} <= set(s.columns)
    assert np.allclose(s["pik"], s["pik_stage1"] * s["pik_stage2"])
    main = s[s["reserve_rank"].isna()]
    assert main["ward"].nunique() == 4 and len(main) == 8
    for ward, g in s.groupby("ward"):
        Nw = int((frame["ward"] == ward).sum())
        assert np.allclose(g["pik_stage2"], (3 / Nw) * 2 / 3)  # n + m = 3 drawn, 2 kept
        pops = frame.drop_duplicates("ward").set_index("ward")["pop"].astype(float)
        dist = frame.drop_duplicates("ward").set_index("ward")["district"]
        same = pops[dist == dist[ward]]
        expected = sampling.inclusion_probabilities(same.to_numpy(), 2)[
            list(same.index).index(ward)
        ]
        assert np.allclose(g["pik_stage1"], expected)
    assert verify(frame, res.record).ok


def test_multistage_take_all_when_parent_is_small_and_nesting_checks():
    frame = _two_stage_frame()
    plan = DrawPlan(
        id="id",
        stages=(
            Stage(unit="ward", method="srs", n=12),
            Stage(unit="id", method="srs", n_per_parent=6),
        ),
    )
    res = draw(frame, plan, seed=1)
    assert len(res.sample) == len(frame) and np.allclose(res.sample["pik"], 1)
    bad = frame.copy()
    bad.loc[0, "pop"] = "7"
    plan2 = DrawPlan(
        id="id",
        stages=(
            Stage(unit="ward", method="pps-brewer", n=2, size="pop"),
            Stage(unit="id", method="srs", n_per_parent=1),
        ),
    )
    with pytest.raises(FrameError, match="size column 'pop' differs within unit 'Phường 00'"):
        draw(bad, plan2, seed=1)
    crossing = frame.copy()
    crossing.loc[0, "district"] = "Quận 3"
    plan3 = DrawPlan(
        id="id",
        stages=(
            Stage(unit="ward", method="srs", n=1, strata="district"),
            Stage(unit="id", method="srs", n_per_parent=1),
        ),
    )
    with pytest.raises(FrameError, match="lies in more than one stratum"):
        draw(crossing, plan3, seed=1)


def test_plan_round_trips_through_dicts():
    plan = DrawPlan(
        id="id",
        stages=(
            Stage(unit="ward", method="pps-sampford", n={"a": 1}, size="pop", strata="d"),
            Stage(unit="id", method="systematic", n_per_parent=2, sort=("x",)),
        ),
        reserve=2,
    )
    assert DrawPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    with pytest.raises(DesignError, match="unknown key 'N'"):
        Stage.from_dict({"unit": "x", "method": "srs", "N": 3})


def test_to_records_is_json_ready(mu284):
    res = draw(mu284, _plan(), seed=2)
    recs = res.to_records()
    json.dumps(recs)
    assert recs[0]["reserve_rank"] is None and recs[-1]["reserve_rank"] == 1


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.floats(min_value=0.5, max_value=1000), min_size=4, max_size=40),
    method=st.sampled_from(["srs", "systematic", "pps-systematic", "pps-brewer", "pps-sampford"]),
    seed=st.integers(min_value=0, max_value=2**32),
    data=st.data(),
)
def test_fixed_size_draws_always_return_n_per_stratum(sizes, method, seed, data):
    N = len(sizes)
    strata = [f"s{i % 2}" for i in range(N)]
    n = data.draw(st.integers(min_value=0, max_value=N // 2 - 1))
    m = data.draw(st.integers(min_value=0, max_value=1))
    frame = pd.DataFrame({"id": [f"u{i}" for i in range(N)], "g": strata, "x": sizes})
    size = "x" if method.startswith("pps") else None
    try:
        res = draw(
            frame, DrawPlan.single("id", method, n, strata="g", size=size, reserve=m), seed=seed
        )
    except DesignError as exc:  # reserves impossible when n + m makes too many units certain
        assert "certain" in str(exc)
        return
    s = res.sample
    main = s[s["reserve_rank"].isna()]
    assert main["g"].value_counts().reindex(["s0", "s1"], fill_value=0).tolist() == [n, n]
    assert (s["reserve_rank"] == 1).sum() == (2 * m if n else 0)
    assert np.all((s["pik"] > 0) & (s["pik"] <= 1))


def test_equal_probability_reserves_may_take_the_whole_group():
    frame = pd.DataFrame({"id": [f"u{i}" for i in range(6)]})
    for method in ("srs", "systematic"):
        res = draw(frame, DrawPlan.single("id", method, 4, reserve=2), seed=3)
        s = res.sample
        assert s["reserve_rank"].isna().sum() == 4 and s["reserve_rank"].tolist()[-2:] == [1, 2]
        assert np.allclose(s["pik"], 4 / 6)
