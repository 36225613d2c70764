"""Cross-checks against R's sampling package on random inputs, in one Rscript call.

The fixture writes random size vectors and probability vectors, runs a single R script
(``inclusionprobabilities``, ``UPsystematicpi2``, ``UPsampfordpi2``,
``UPmaxentropypi2``) and reads R's numbers back at 17 significant digits.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sampling import inclusion_probabilities, joint_inclusion_probabilities

pytestmark = pytest.mark.r

R_SCRIPT = r"""
suppressMessages(library(sampling))
d <- commandArgs(TRUE)[1]
inc <- read.csv(file.path(d, "inc_in.csv"))
con <- file(file.path(d, "inc_out.csv"), "w")
writeLines("case,k,pik", con)
for (g in split(inc, inc$case)) {
  p <- inclusionprobabilities(g$x, g$n[1])
  writeLines(sprintf("%d,%d,%.17g", g$case[1], seq_along(p), p), con)
}
close(con)
jin <- read.csv(file.path(d, "joint_in.csv"), stringsAsFactors = FALSE)
con <- file(file.path(d, "joint_out.csv"), "w")
writeLines("case,k,l,pikl", con)
for (g in split(jin, jin$case)) {
  f <- switch(g$method[1], systematic = UPsystematicpi2, sampford = UPsampfordpi2,
              maxentropy = UPmaxentropypi2)
  m <- f(g$pik)
  N <- length(g$pik)
  k <- rep(1:N, N); l <- rep(1:N, each = N)
  writeLines(sprintf("%d,%d,%d,%.17g", g$case[1], k, l, as.vector(m)), con)
}
close(con)
"""


def _inclusion_cases():
    rng = np.random.default_rng(20260104)
    cases = []
    for c in range(40):
        N = int(rng.integers(2, 400))
        kind = c % 4
        if kind == 0:
            x = rng.uniform(1, 100, N)
        elif kind == 1:
            x = rng.pareto(0.8, N) + 1  # heavy tail: several rounds of capping
        elif kind == 2:
            x = rng.integers(1, 50, N).astype(float)
        else:
            x = np.exp(rng.normal(0, 2.5, N))
        n = int(rng.integers(1, N + 1))
        cases.append((x, n))
    return cases


def _joint_cases():
    rng = np.random.default_rng(77)
    cases = []
    for c in range(12):
        method = ["systematic", "sampford", "maxentropy"][c % 3]
        N = int(rng.integers(6, 40))
        n = int(rng.integers(3, max(4, N // 3)))
        x = rng.uniform(1, 10, N)
        if method == "maxentropy" and c % 2:
            x[0] = 1000.0  # a certainty unit (R needs n >= 2 among the others)
        pik = inclusion_probabilities(x, n)
        if method == "sampford":
            assert pik.max() < 1  # R's UPsampfordpi2 has no certainty handling
        cases.append((method, pik))
    return cases


@pytest.fixture(scope="module")
def r_results(tmp_path_factory):
    d = tmp_path_factory.mktemp("r_sampling")
    inc = _inclusion_cases()
    rows = [(i, float(v), n) for i, (x, n) in enumerate(inc) for v in x]
    pd.DataFrame(rows, columns=["case", "x", "n"]).to_csv(
        d / "inc_in.csv", index=False, float_format="%.17g"
    )
    jc = _joint_cases()
    rows = [(i, m, float(v)) for i, (m, p) in enumerate(jc) for v in p]
    pd.DataFrame(rows, columns=["case", "method", "pik"]).to_csv(
        d / "joint_in.csv", index=False, float_format="%.17g"
    )
    script = Path(d / "check.R")
    script.write_text(R_SCRIPT, encoding="utf-8")
    subprocess.run(["Rscript", str(script), str(d)], check=True, capture_output=True, timeout=300)
    inc_in = pd.read_csv(d / "inc_in.csv")
    joint_in = pd.read_csv(d / "joint_in.csv")
    return inc_in, pd.read_csv(d / "inc_out.csv"), joint_in, pd.read_csv(d / "joint_out.csv")


def test_inclusion_probabilities_match_r_on_random_inputs(r_results):
    inc_in, inc_out, _, _ = r_results
    n_capped = 0
    for case, g in inc_in.groupby("case"):
        ours = inclusion_probabilities(g["x"].to_numpy(), int(g["n"].iloc[0]))
        theirs = inc_out[inc_out["case"] == case]["pik"].to_numpy()
        assert np.all(np.abs(ours - theirs) <= 1e-12 + 1e-9 * np.abs(theirs)), case
        assert np.array_equal(ours == 1, theirs == 1)
        n_capped += int(np.sum(theirs == 1) > 0)
    assert n_capped >= 10  # the random cases exercise certainty capping


def test_joint_probabilities_match_r(r_results):
    _, _, joint_in, joint_out = r_results
    for case, g in joint_in.groupby("case"):
        method = g["method"].iloc[0]
        pik = g["pik"].to_numpy()
        N = pik.size
        r = joint_out[joint_out["case"] == case]
        theirs = np.zeros((N, N))
        theirs[r["k"].to_numpy() - 1, r["l"].to_numpy() - 1] = r["pikl"].to_numpy()
        ours = joint_inclusion_probabilities(pik, method)
        assert np.max(np.abs(ours - theirs)) <= 1e-9, (case, method)
