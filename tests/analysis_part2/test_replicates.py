"""hadamard() and replicate factors against R's survey::hadamard / as.svrepdesign."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import replicates as RP
from analysis.hadamard import hadamard, is_hadamard

from ._rutil import DATA, arr, max_rel, run_r

HAD_N = list(range(0, 101)) + [127, 150, 199, 200, 255, 256, 300, 383, 500, 701, 1000]

R_BODY = r"""
OUT$hadamard <- lapply(c(%(had)s), function(n) {
  H <- hadamard(n); list(n = S(n), rows = apply(H, 1, paste, collapse = ""))
})
strat <- rd("apistrat.csv"); clus1 <- rd("apiclus1.csv"); clus2 <- rd("apiclus2.csv")
nh <- rd("nhanes.csv")
nh_lonely <- nh[!(nh$SDMVSTRA == 83 & nh$SDMVPSU == 2), ]
nh_brr <- nh[!(nh$SDMVSTRA == 86 & nh$SDMVPSU == 3), ]  # stratum 86 has 3 PSUs: R's BRR fails
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)
dstrat_wr <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1)
dclus1_wr <- svydesign(id = ~dnum, weights = ~pw, data = clus1)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2)
dnh <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nh)
dnb <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nh_brr)
dnl <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE,
                 data = nh_lonely)
conv <- list(
  jkn_strat = quote(as.svrepdesign(dstrat, type = "JKn")),
  jkn_strat_wr = quote(as.svrepdesign(dstrat_wr, type = "JKn")),
  brr_strat = quote(suppressWarnings(as.svrepdesign(dstrat, type = "BRR"))),
  fay_strat = quote(suppressWarnings(as.svrepdesign(dstrat, type = "Fay", fay.rho = 0.3))),
  jk1_clus1 = quote(as.svrepdesign(dclus1, type = "JK1")),
  jk1_clus1_wr = quote(as.svrepdesign(dclus1_wr, type = "JK1")),
  jk1_clus2 = quote(suppressWarnings(as.svrepdesign(dclus2, type = "JK1"))),
  brr_nb = quote(as.svrepdesign(dnb, type = "BRR")),
  fay_nb = quote(as.svrepdesign(dnb, type = "Fay", fay.rho = 0.5)),
  jkn_nh = quote(as.svrepdesign(dnh, type = "JKn")),
  jkn_nh_mse = quote(as.svrepdesign(dnh, type = "JKn", mse = TRUE)),
  jkn_nl_adjust = quote({options(survey.lonely.psu = "adjust")
                      on.exit(options(survey.lonely.psu = "fail"))
                      as.svrepdesign(dnl, type = "JKn")}),
  jkn_nl_average = quote({options(survey.lonely.psu = "average")
                      on.exit(options(survey.lonely.psu = "fail"))
                      as.svrepdesign(dnl, type = "JKn")}),
  jkn_nl_remove = quote({options(survey.lonely.psu = "remove")
                      on.exit(options(survey.lonely.psu = "fail"))
                      as.svrepdesign(dnl, type = "JKn")})
)
scd <- rd("scd.csv")
repw <- 2 * cbind(c(1,0,1,0,1,0), c(1,0,0,1,0,1), c(0,1,1,0,0,1), c(0,1,0,1,1,0))
sup <- list()
one_sup <- function(d, y) {
  t <- svytotal(y, d)
  list(se = SE(t), degf = S(degf(d)), scale = S(d$scale), rscales = d$rscales)
}
sup$scd_brr <- one_sup(suppressWarnings(svrepdesign(data = scd, type = "BRR", repweights = repw,
                                                    combined.weights = FALSE)), ~alive + arrests)
jk <- as.svrepdesign(dstrat, type = "JKn")
jkw <- weights(jk, "analysis")
strat_jk <- cbind(strat, setNames(as.data.frame(jkw), paste0("rw", seq_len(ncol(jkw)))))
sup$jkn_comb <- one_sup(svrepdesign(data = strat_jk, repweights = "rw[0-9]+", weights = ~pw,
                                    type = "JKn", rscales = jk$rscales, combined.weights = TRUE),
                        ~api00 + enroll)
sup$jkn_comb_mse <- one_sup(svrepdesign(data = strat_jk, repweights = "rw[0-9]+", weights = ~pw,
                                        type = "JKn", rscales = jk$rscales, mse = TRUE),
                            ~api00 + enroll)
fy <- suppressWarnings(as.svrepdesign(dstrat, type = "Fay", fay.rho = 0.3))
fyw <- weights(fy, "analysis")
strat_fy <- cbind(strat, setNames(as.data.frame(fyw), paste0("rw", seq_len(ncol(fyw)))))
sup$fay_comb <- one_sup(svrepdesign(data = strat_fy, repweights = "rw[0-9]+", weights = ~pw,
                                    type = "Fay", rho = 0.3), ~api00 + enroll)
sup$jk1_guess <- one_sup(suppressWarnings(svrepdesign(data = strat_jk, repweights = "rw[0-9]+",
                                                      weights = ~pw, type = "JK1")), ~api00)
sup$other <- one_sup(suppressWarnings(svrepdesign(data = strat_fy, repweights = "rw[0-9]+",
                                                  weights = ~pw, type = "other", scale = 0.04,
                                                  rscales = 0.5)), ~api00)
OUT$supplied <- sup
nh$HI0 <- ifelse(is.na(nh$HI_CHOL), 0, nh$HI_CHOL)
dnh0 <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nh)
byr <- svyby(~HI0, ~agecat, as.svrepdesign(dnh0, type = "JKn"), svymean)
OUT$by_rep <- list(coef = unname(coef(byr)), se = unname(SE(byr)),
                   levels = as.character(byr$agecat))
OUT$supplied_w <- list(jk = jkw, fay = fyw)
yv <- list(strat = ~api00 + enroll, clus1 = ~api00 + enroll, clus2 = ~api00,
           nh = ~WTMEC2YR, nl = ~WTMEC2YR, nb = ~WTMEC2YR)
for (nm in names(conv)) {
  f <- local(function() eval(conv[[nm]]))
  r <- f()
  key <- sub("_.*$", "", sub("^[a-z0-9]+_", "", nm))
  rw <- r$repweights
  tot <- svytotal(yv[[key]], r)
  mn <- svymean(yv[[key]], r)
  OUT[[nm]] <- list(weights = rw$weights, index = rw$index, scale = S(r$scale),
                    rscales = r$rscales, degf = S(degf(r)), se_total = SE(tot),
                    total = coef(tot), se_mean = SE(mn), mse = S(r$mse))
}
"""

DESIGNS = {
    "strat": ("apistrat.csv", "stype", None, "pw", "fpc", ["api00", "enroll"]),
    "clus1": ("apiclus1.csv", None, "dnum", "pw", "fpc", ["api00", "enroll"]),
    "clus2": ("apiclus2.csv", None, "dnum", None, "fpc1", ["api00"]),
    "nh": ("nhanes.csv", "SDMVSTRA", "SDMVPSU", "WTMEC2YR", None, ["WTMEC2YR"]),
    "nl": ("nhanes.csv", "SDMVSTRA", "SDMVPSU", "WTMEC2YR", None, ["WTMEC2YR"]),
    "nb": ("nhanes.csv", "SDMVSTRA", "SDMVPSU", "WTMEC2YR", None, ["WTMEC2YR"]),
}


def _data(key):
    f, strata, psu, w, fpc, y = DESIGNS[key]
    d = pd.read_csv(DATA / f)
    if key == "nl":
        d = d[~((d.SDMVSTRA == 83) & (d.SDMVPSU == 2))].reset_index(drop=True)
    if key == "nb":
        d = d[~((d.SDMVSTRA == 86) & (d.SDMVPSU == 3))].reset_index(drop=True)
    if key == "clus2":
        # weights from the fpcs, as svydesign derives them: (N1/n1) (N2/n2)
        n1 = d["dnum"].nunique()
        n2 = d.groupby("dnum")["snum"].transform("count")
        wts = (d["fpc1"] / n1) * (d["fpc2"] / n2)
    else:
        wts = d[w]
    s = None if strata is None else d[strata].to_numpy()
    if psu is None:
        p = np.arange(len(d))
    elif strata is not None:
        # nest = TRUE: PSU ids are relabelled within strata
        p = (d[strata].astype(str) + "/" + d[psu].astype(str)).to_numpy()
    else:
        p = d[psu].to_numpy()
    return d, s, p, wts.to_numpy(float), (None if fpc is None else d[fpc].to_numpy(float)), y


def _factors(name, s, p, fpc):
    if name.startswith("jkn"):
        lonely = {"jkn_nl_adjust": "adjust", "jkn_nl_average": "average",
                  "jkn_nl_remove": "remove"}.get(name, "fail")
        use_fpc = None if name.endswith("_wr") else fpc
        return RP.jkn_factors(s, p, use_fpc, lonely_psu=lonely, mse=name.endswith("_mse"))
    if name.startswith("jk1"):
        return RP.jk1_factors(p, None if name.endswith("_wr") else fpc)
    if name.startswith("brr"):
        return RP.brr_factors(s, p)
    if name == "fay_strat":
        return RP.brr_factors(s, p, rho=0.3)
    if name == "fay_nb":
        return RP.brr_factors(s, p, rho=0.5)
    raise AssertionError(name)


@pytest.fixture(scope="module")
def r_out():
    return run_r(R_BODY % {"had": ", ".join(str(n) for n in HAD_N)})


@pytest.mark.r
def test_hadamard_is_rs_matrix_for_every_size(r_out):
    for item in r_out["hadamard"]:
        n = int(item["n"])
        expected = np.array([[int(c) for c in row] for row in item["rows"]])
        got = hadamard(n)
        assert got.shape == expected.shape, n
        assert np.array_equal(got, expected), n


def test_hadamard_properties():
    for n in range(0, 140):
        h = hadamard(n)
        assert h.shape[0] > n and is_hadamard(h)


CONV = ["jkn_strat", "jkn_strat_wr", "brr_strat", "fay_strat", "jk1_clus1", "jk1_clus1_wr",
        "jk1_clus2", "brr_nb", "fay_nb", "jkn_nh", "jkn_nh_mse", "jkn_nl_adjust", "jkn_nl_average",
        "jkn_nl_remove"]


@pytest.mark.r
@pytest.mark.parametrize("name", CONV)
def test_replicate_factors_match_as_svrepdesign(r_out, name):
    exp = r_out[name]
    key = name.split("_")[1]
    d, s, p, w, fpc, ycols = _data(key)
    rf = _factors(name, s, p, fpc)
    r_weights = np.column_stack([arr(c) for c in exp["weights"]])
    assert rf.psu_factors.shape == r_weights.shape
    np.testing.assert_allclose(rf.psu_factors, r_weights, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(rf.index + 1, np.asarray(exp["index"], dtype=int))
    assert max_rel([rf.scale], [exp["scale"]]) < 1e-14
    assert max_rel(rf.rscales, arr(exp["rscales"])) < 1e-14
    assert rf.degf() == int(exp["degf"])
    assert rf.mse == bool(exp["mse"])
    # the replicate variance of totals and means, as svrVar
    y = d[ycols].to_numpy(float)
    rw = rf.replicate_weights(w)
    totals = rw.T @ y
    that = w @ y
    v = rf.variance(totals, that)
    assert max_rel(np.sqrt(np.diag(v)), arr(exp["se_total"])) < 1e-9
    assert max_rel(that, arr(exp["total"])) < 1e-12
    means = totals / rw.sum(axis=0)[:, None]
    vm = rf.variance(means, that / w.sum())
    assert max_rel(np.sqrt(np.diag(np.atleast_2d(vm))), arr(exp["se_mean"])) < 1e-9


@pytest.mark.r
def test_supplied_replicate_weights_as_svrepdesign(r_out):
    sup = r_out["supplied"]
    scd = pd.read_csv(DATA / "scd.csv")
    repw = 2 * np.array([[1, 0, 1, 0, 1, 0], [1, 0, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1],
                         [0, 1, 0, 1, 1, 0]], dtype=float).T
    strat = pd.read_csv(DATA / "apistrat.csv")
    pw = strat["pw"].to_numpy(float)
    jkw = np.column_stack([arr(c) for c in r_out["supplied_w"]["jk"]])
    fyw = np.column_stack([arr(c) for c in r_out["supplied_w"]["fay"]])
    jk_rscales = arr(r_out["jkn_strat"]["rscales"])
    built = {
        "scd_brr": (RP.supplied_replicates(repw, None, type="BRR", combined_weights=False),
                    scd[["alive", "arrests"]]),
        "jkn_comb": (RP.supplied_replicates(jkw, pw, type="JKn", rscales=jk_rscales),
                     strat[["api00", "enroll"]]),
        "jkn_comb_mse": (RP.supplied_replicates(jkw, pw, type="JKn", rscales=jk_rscales,
                                                mse=True), strat[["api00", "enroll"]]),
        "fay_comb": (RP.supplied_replicates(fyw, pw, type="Fay", rho=0.3),
                     strat[["api00", "enroll"]]),
        "jk1_guess": (RP.supplied_replicates(jkw, pw, type="JK1"), strat[["api00"]]),
        "other": (RP.supplied_replicates(fyw, pw, type="other", scale=0.04, rscales=0.5),
                  strat[["api00"]]),
    }
    for name, (rw, ydf) in built.items():
        exp = sup[name]
        y = ydf.to_numpy(float)
        v = rw.variance(rw.replicate_weights.T @ y, rw.weights @ y)
        assert max_rel(np.sqrt(np.diag(v)), arr(exp["se"])) < 1e-9, name
        assert rw.degf() == int(exp["degf"]), name
        assert abs(rw.scale - exp["scale"]) <= 1e-15 * exp["scale"], name
        # R keeps a single rscales value as given (recycled in svrVar)
        expected_rscales = np.broadcast_to(arr(exp["rscales"]), (rw.replicates,))
        np.testing.assert_allclose(rw.rscales, expected_rscales, rtol=1e-15)
    with pytest.raises(RP.ReplicateError, match="rscales must be provided"):
        RP.supplied_replicates(jkw, pw, type="JKn")
    with pytest.raises(RP.ReplicateError, match="supply rho"):
        RP.supplied_replicates(fyw, pw, type="Fay")
    with pytest.raises(RP.ReplicateError, match="rscales has length"):
        RP.supplied_replicates(fyw, pw, type="other", rscales=[1.0, 2.0])


def test_converted_factors_give_replicate_weights():
    s = np.array(["a", "a", "b", "b"])
    rf = RP.brr_factors(s, np.arange(4))
    rw = rf.with_weights(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(rw.replicate_weights, rf.unit_factors() * [[1], [2], [3], [4]])
    assert rw.scale == rf.scale and rw.replicates == rf.replicates


@pytest.mark.r
def test_replicate_domain_means_as_svyby(r_out):
    d, s, p, w, fpc, _ = _data("nh")
    rf = RP.jkn_factors(s, p)
    y = np.column_stack([np.ones(len(d)), d["HI_CHOL"].fillna(0).to_numpy(float)])
    levels = r_out["by_rep"]["levels"]
    dom = pd.Categorical(d["agecat"], categories=levels).codes.astype(np.int64)
    full, reps = rf.replicate_totals(y, w, dom, len(levels))
    means = full[:, 1] / full[:, 0]
    v = rf.variance(reps[:, :, 1] / reps[:, :, 0], means)
    assert max_rel(means, arr(r_out["by_rep"]["coef"])) < 1e-12
    assert max_rel(np.sqrt(np.diag(v)), arr(r_out["by_rep"]["se"])) < 1e-9


def test_replicate_totals_by_domain_equal_dense_replicate_weights():
    d, s, p, w, fpc, _ = _data("nh")
    rf = RP.jkn_factors(s, p)
    y = np.column_stack([np.ones(len(d)), d["HI_CHOL"].fillna(0).to_numpy(float)])
    dom, _ = pd.factorize(d["agecat"])
    dom = np.where(d["race"].to_numpy() == 4, -1, dom)
    full, reps = rf.replicate_totals(y, w, dom, 4)
    dense = rf.replicate_weights(w)
    for g in range(4):
        yd = y * (dom == g)[:, None]
        np.testing.assert_allclose(full[g], w @ yd, rtol=1e-12)
        np.testing.assert_allclose(reps[:, g, :], dense.T @ yd, rtol=1e-10)
    # domain means and their replicate SE, as svyby(svymean) on the replicate design
    means = reps[:, :, 1] / reps[:, :, 0]
    v = rf.variance(means, full[:, 1] / full[:, 0])
    assert v.shape == (4, 4) and np.all(np.diag(v) > 0)


def test_replicate_variance_formula():
    thetas = np.array([1.0, 2.0, 4.0])
    v = RP.replicate_variance(thetas, 3.0, 0.5, [1.0, 2.0, 1.0])
    m = thetas.mean()
    assert np.isclose(v, 0.5 * ((1 - m) ** 2 + 2 * (2 - m) ** 2 + (4 - m) ** 2))
    v_mse = RP.replicate_variance(thetas, 3.0, 0.5, [1.0, 2.0, 1.0], mse=True)
    assert np.isclose(v_mse, 0.5 * (4 + 2 * 1 + 1))
    # replicates with NaN are dropped like na.omit
    v_na = RP.replicate_variance(np.array([1.0, np.nan, 4.0]), 3.0, 1.0, [1, 1, 1])
    assert np.isclose(v_na, 2 * 1.5**2)


def test_errors():
    s = np.array([1, 1, 2])
    p = np.array([1, 2, 3])
    with pytest.raises(RP.ReplicateError, match="fewer than 2 PSUs"):
        RP.brr_factors(s, p)
    with pytest.raises(RP.ReplicateError, match="only one PSU"):
        RP.jkn_factors(s, p)
    with pytest.raises(RP.ReplicateError, match="more than one stratum"):
        RP.jkn_factors(np.array([1, 2, 2]), np.array([1, 1, 2]))
    with pytest.raises(RP.ReplicateError, match="odd number"):
        RP.brr_factors(np.array([1, 1, 1, 2, 2]), np.arange(5))
    with pytest.raises(RP.ReplicateError, match="smaller than the sample size"):
        RP.jk1_factors(np.arange(5), np.full(5, 3.0))


def test_rao_wu_bootstrap_is_seeded_and_unbiased_for_the_linearised_variance():
    d, s, p, w, fpc, _ = _data("strat")
    y = d["api00"].to_numpy(float)
    a = RP.bootstrap_factors(s, p, replicates=40, rng=np.random.default_rng(7))
    b = RP.bootstrap_factors(s, p, replicates=40, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.psu_factors, b.psu_factors)
    assert a.scale == 1 / 39 and a.type == "bootstrap"
    # each stratum's factors sum to n_h in every replicate (n_h - 1 draws x n_h/(n_h-1))
    for h in np.unique(s):
        rows = np.unique(a.index[s == h])
        np.testing.assert_allclose(a.psu_factors[rows].sum(axis=0), rows.size)
    rf = RP.bootstrap_factors(s, p, replicates=4000, rng=np.random.default_rng(2024))
    totals = rf.replicate_weights(w).T @ y
    v_boot = rf.variance(totals, w @ y)
    # with-replacement linearisation variance of the total (no fpc): the bootstrap's target
    v_lin = 0.0
    for h in np.unique(s):
        z = (w * y)[s == h]
        v_lin += z.size / (z.size - 1) * np.sum((z - z.mean()) ** 2)
    # 4000 replicates: the relative SE of the variance estimate is about sqrt(2/4000) = 2 %
    assert abs(v_boot / v_lin - 1) < 0.1
