"""compute_index against a plain dense computation (issue 9: the domain-sparse path).

compute_index keeps every domain's influence as (domain, PSU) totals and never forms the
n x (domains x nodes) matrix. Here that matrix is built the obvious way — one column per
(domain, node), the ratio influences written out, zero outside the domain — and its
covariance taken with the textbook stratified cluster formula (Lohr 2019, §6.5 / 9.1:
``sum_h (1 - f_h) n_h / (n_h - 1) sum_i (t_hi - tbar_h)(t_hi - tbar_h)'`` of the PSU
totals), calibration residuals with the textbook GREG and post-stratification formulas
(Särndal, Swensson and Wretman 1992, §6.5, §7.6), and replicate designs by recomputing
every node with every replicate's weights (svrVar). The random design has agencies that
cross strata, one agency confined to a single stratum (another never in it), an item nobody in one agency
answers, and na/dk/missing answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign
from analysis.indices import compute_index, sipas_index

ITEMS = {"F1": ["q1", "q2"], "F2": ["q3", "q4"]}
AGENCIES = ["A", "B", "C", "D", "E", "F"]


def _data(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(5):
        for p in range(3 + h % 3):
            for _ in range(rng.integers(6, 14)):
                # agency F lies in stratum 0 only, A never; the others cross the strata
                if h == 0:
                    agency = "F" if rng.random() < 0.5 else rng.choice(AGENCIES[1:5])
                else:
                    agency = rng.choice(AGENCIES[:5])
                rows.append({"stratum": f"S{h}", "psu": f"S{h}P{p}", "agency": agency,
                             "w": rng.uniform(5, 40), "fpc": 12 + h,
                             "sex": rng.choice(["m", "f"]), "x": rng.normal(3, 1)})
    df = pd.DataFrame(rows)
    n = len(df)
    for q in ("q1", "q2", "q3", "q4"):
        ans = rng.choice(["1", "2", "3", "4", "5", "na", "dk", None], n,
                         p=[0.1, 0.1, 0.15, 0.3, 0.25, 0.04, 0.03, 0.03])
        df[q] = ans
    df.loc[df.agency == "E", "q4"] = "na"  # q4 is not measured in agency E
    return df


def _plain_nodes(df: pd.DataFrame, w: np.ndarray, include_total: bool):
    """Each node of each domain, plainly: (labels, estimates, influences n x columns,
    extras) where extras[k] = (respondents mask, element variance S² of the respondents'
    linearised score) of column k."""
    domains = [("agency", a) for a in sorted(df.agency.unique())]
    if include_total:
        domains.append(None)
    n = len(df)
    labels, est, cols, extras = [], [], [], []
    valid_all = {q: np.array([v in ("1", "2", "3", "4", "5") for v in df[q]]) & (w > 0)
                 for q in sum(ITEMS.values(), [])}
    score_all = {q: np.array([1.0 if v in ("4", "5") else 0.0 for v in df[q]])
                 for q in valid_all}

    def extra(inside, coef, ratio):
        # respondents: a valid answer to one of the node's items; S² is the weighted
        # variance of sum_j a_j v_j (s_j - R_j) / share_j over them (Kish's deff base)
        resp = inside & np.any([valid_all[q] for q in coef], axis=0)
        wr = np.where(resp, w, 0.0)
        psi = np.zeros(n)
        for q, a in coef.items():
            share = np.sum(wr * valid_all[q]) / wr.sum()
            psi += a * valid_all[q] * (score_all[q] - ratio[q]) / share
        return resp, np.sum(wr * psi * psi) / wr.sum()

    for dom in domains:
        inside = np.ones(n, bool) if dom is None else (df.agency == dom[1]).to_numpy()
        ratio, infl = {}, {}
        for q in valid_all:
            valid = valid_all[q] & inside
            den = np.sum(w * valid)
            if den > 0:
                ratio[q] = np.sum(w * valid * score_all[q]) / den
                infl[q] = w * valid * (score_all[q] - ratio[q]) / den
        dims = {}
        for f, qs in ITEMS.items():
            for q in qs:
                labels.append((dom, q))
                est.append(ratio.get(q, np.nan))
                cols.append(infl.get(q, np.full(n, np.nan)))
                extras.append(extra(inside, {q: 1.0}, ratio) if q in ratio else None)
            measured = [q for q in qs if q in ratio]
            dims[f] = {q: 1.0 / len(measured) for q in measured}
            labels.append((dom, f))
            est.append(sum(a * ratio[q] for q, a in dims[f].items()))
            cols.append(sum(a * infl[q] for q, a in dims[f].items()))
            extras.append(extra(inside, dims[f], ratio))
        overall = {q: a / len(ITEMS) for f in ITEMS for q, a in dims[f].items()}
        labels.append((dom, "SIPAS"))
        est.append(sum(a * ratio[q] for q, a in overall.items()))
        cols.append(sum(a * infl[q] for q, a in overall.items()))
        extras.append(extra(inside, overall, ratio))
    return labels, np.array(est), np.column_stack(cols), extras


def _textbook_covariance(df: pd.DataFrame, U: np.ndarray, fpc: bool,
                         psu: str = "psu") -> np.ndarray:
    """Stratified one-stage cluster covariance of the column totals of U."""
    V = np.zeros((U.shape[1], U.shape[1]))
    for h, sub in df.groupby("stratum"):
        psus = sorted(sub[psu].unique())
        t = np.array([U[(df[psu] == p).to_numpy()].sum(axis=0) for p in psus])
        nh = len(psus)
        f = nh / sub.fpc.iloc[0] if fpc else 0.0
        dev = t - t.mean(axis=0)
        V += (1 - f) * nh / (nh - 1) * dev.T @ dev
    return V


def _check(res, labels, est, V, extras, df=None):
    got = [(None if r.domain is None else r.domain[0], r.node) for r in res]
    assert got == labels
    np.testing.assert_allclose([r.estimate for r in res], est, rtol=1e-12)
    ok = np.isfinite(est)
    se = np.sqrt(np.diag(V))
    np.testing.assert_allclose(np.array([r.se for r in res])[ok], se[ok], rtol=1e-10)
    assert all(np.isnan(res[k].se) for k in np.flatnonzero(~ok))
    for k in np.flatnonzero(ok):
        resp, s2 = extras[k]
        assert res[k].n == resp.sum()
        assert res[k].n_effective == pytest.approx(s2 / se[k] ** 2, rel=1e-9)
        if df is not None:
            # NCHS's df of the cell: PSUs minus strata among its respondents
            sub = df[resp]
            assert res[k].df_domain == sub.psu.nunique() - sub.stratum.nunique()
    # what the ranking uses: the overall index of every agency (and the city)
    for total in (False, True):
        rows, e, cov = res.block("SIPAS", include_total=total)
        ix = [k for k, (d, node) in enumerate(labels)
              if node == "SIPAS" and (total or d is not None)]
        assert [(None if r.domain is None else r.domain[0]) for r in rows] == \
            [labels[k][0] for k in ix]
        np.testing.assert_allclose(e, est[ix], rtol=1e-12)
        np.testing.assert_allclose(cov, V[np.ix_(ix, ix)], rtol=1e-9,
                                   atol=1e-12 * np.abs(V).max())
    # and the whole matrix, unmeasured nodes NaN
    full = res.covariance
    np.testing.assert_allclose(full[np.ix_(ok, ok)], V[np.ix_(ok, ok)], rtol=1e-9,
                               atol=1e-12 * np.abs(V).max())
    assert np.isnan(full[~ok]).all() and np.isnan(full[:, ~ok]).all()


@pytest.mark.parametrize("psu", ["psu", "row"])
@pytest.mark.parametrize("fpc", [False, True])
@pytest.mark.parametrize("include_total", [False, True])
def test_linearisation_equals_the_dense_textbook_computation(fpc, include_total, psu):
    # psu="row": every respondent its own PSU (a survey without a plan's clusters), so
    # most PSUs of a stratum hold none of an agency's respondents
    df = _data()
    df["row"] = np.arange(len(df))
    df["fpc_row"] = df.groupby("stratum").row.transform("size") * 4
    des = SurveyDesign.create(df, ids=psu, strata="stratum", weights="w",
                              fpc=None if not fpc else "fpc" if psu == "psu" else "fpc_row")
    res = compute_index(sipas_index(ITEMS), df, des, by="agency",
                        include_total=include_total)
    labels, est, U, extras = _plain_nodes(df, df.w.to_numpy(), include_total)
    assert not np.isfinite(est[labels.index((("agency", "E"), "q4"))])
    _check(res, labels, est,
           _textbook_covariance(df.assign(fpc=df.fpc_row) if psu == "row" else df,
                                np.nan_to_num(U), fpc, psu), extras, df.assign(psu=df[psu]))
    # agencies sharing no stratum are uncorrelated; sharing one, they are not
    f = res.index("SIPAS", {"agency": "F"})
    assert res.covariance[f, res.index("SIPAS", {"agency": "A"})] == 0.0
    assert res.covariance[f, res.index("SIPAS", {"agency": "B"})] != 0.0


def _greg_residuals(df, U, d, w_cal):
    """w_cal (u - X B), u = U / w_cal, B the design-weighted regression of u on X."""
    X = np.column_stack([np.ones(len(df)), df.x.to_numpy()])
    u = U / w_cal[:, None]
    B = np.linalg.solve(X.T @ (d[:, None] * X), X.T @ (d[:, None] * u))
    return w_cal[:, None] * (u - X @ B)


def _poststrat_residuals(df, U, w_ps):
    """w (u - ubar_h): u centred on its weighted mean in each post-stratum h."""
    out = np.empty_like(U)
    u = U / w_ps[:, None]
    for _, idx in df.groupby("sex").indices.items():
        ubar = (w_ps[idx, None] * u[idx]).sum(axis=0) / w_ps[idx].sum()
        out[idx] = w_ps[idx, None] * (u[idx] - ubar)
    return out


@pytest.mark.parametrize("method", ["linear", "poststratify"])
def test_calibrated_design_equals_the_dense_residual_computation(method):
    df = _data(5)
    base = SurveyDesign.create(df, ids="psu", strata="stratum", weights="w")
    if method == "linear":
        des = base.calibrate({"(Intercept)": 9000.0, "x": 28000.0}, "linear")
    else:
        des = base.poststratify({"sex": {"m": 4400.0, "f": 4700.0}})
    res = compute_index(sipas_index(ITEMS), df, des, by="agency", include_total=True)
    w_cal = des.weights
    labels, est, U, extras = _plain_nodes(df, w_cal, True)
    U = np.nan_to_num(U)
    E = (_greg_residuals(df, U, df.w.to_numpy(), w_cal) if method == "linear"
         else _poststrat_residuals(df, U, w_cal))
    _check(res, labels, est, _textbook_covariance(df, E, fpc=False), extras, df)


def test_replicate_design_equals_every_node_recomputed_per_replicate():
    df = _data(7)
    jk = SurveyDesign.create(df, ids="psu", strata="stratum", weights="w").as_replicate("JKn")
    res = compute_index(sipas_index(ITEMS), df, jk, by="agency", include_total=True)
    labels, est, _, extras = _plain_nodes(df, df.w.to_numpy(), True)
    rw = jk.replicate_weights
    thetas = np.array([_plain_nodes(df, rw[:, r], True)[1] for r in range(rw.shape[1])])
    ok = np.isfinite(est)
    reps = jk.replicates
    centre = est if reps.mse else thetas.mean(axis=0)
    dev = thetas - centre
    V = reps.scale * (dev * np.asarray(reps.rscales)[:, None]).T @ dev
    V[~ok] = 0.0
    V[:, ~ok] = 0.0
    assert res.method == "replicates"
    _check(res, labels, est, V, extras)
