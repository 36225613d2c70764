"""Design-based variance of estimated totals by Taylor linearisation.

This is R survey's ``svyrecvar`` → ``multistage`` → ``onestage`` → ``onestrat``
recursion, vectorised over many score variables and over all domains at once.

For every score column (the linearised estimate, "influence function" times weight) and
every domain, the variance is the sum over strata of

    scale_h * sum_i (z_hi - zbar_h)^2,   scale_h = f_h * n_h / (n_h - 1),  f_h = 1 - n_h/N_h

where ``z_hi`` are PSU totals of the scores and ``zbar_h`` their mean over *all* ``n_h``
PSUs of the stratum (PSUs without domain members count as zeros: that is what makes a
domain a subpopulation and not a subset). With an fpc, each later stage adds the same
sum within every sampled unit of the previous stage, multiplied by the sampling
fractions ``n/N`` of the enclosing units (Cochran 1977, §11.8; Särndal, Swensson and
Wretman 1992, §4.3). Without an fpc only the first stage counts (the with-replacement
"ultimate cluster" approximation).

Single-PSU strata follow R's ``survey.lonely.psu`` vocabulary; see
:meth:`analysis.design.SurveyDesign.create`.
"""

from __future__ import annotations

import numpy as np

from .design import Stage, SurveyDesign
from .errors import LonelyPSUError

__all__ = ["domain_variance", "domain_psu_counts"]


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.empty(len(sorted_keys), dtype=bool)
    change[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=change[1:])
    return np.flatnonzero(change)


def _psu_groups(stage: Stage, dom: np.ndarray, n_dom: int):
    """Sort rows by (domain, unit) and return the order, group starts, domain and unit."""
    n_cl = stage.n_clusters
    if n_dom == 1:
        key = stage.cluster if len(dom) == len(stage.cluster) else stage.cluster[dom]
        order = np.argsort(key, kind="stable")
    else:
        key = dom * np.int64(n_cl) + stage.cluster
        order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = _group_starts(sk)
    gkey = sk[starts]
    return order, starts, gkey // n_cl, gkey % n_cl


def domain_variance(
    design: SurveyDesign,
    scores: np.ndarray,
    present: np.ndarray,
    dom: np.ndarray,
    n_dom: int,
) -> np.ndarray:
    """Variance of the totals of ``scores`` within each domain.

    Parameters
    ----------
    design : SurveyDesign
    scores : (n, J) float
        Weighted linearised scores of J estimates; zero where a row does not take part.
    present : (n, J) bool
        Rows observed for each estimate (in the domain, not missing, in the design's
        subset). Presence decides which strata "exist" for an estimate, as the rows of a
        subset do in R: it matters for ``lonely_psu="fail"`` and ``"average"``.
    dom : (n,) int
        Domain code of each row, ``-1`` for rows in no domain.
    n_dom : int

    Returns
    -------
    (n_dom, J) float
        Variances; NaN where R gives NaN (``"average"`` with only single-PSU strata).

    Raises
    ------
    LonelyPSUError
        A stratum with one PSU is used by an estimate and ``lonely_psu="fail"``.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores[:, None]
        present = present[:, None]
    keep = dom >= 0
    if not keep.all():
        idx = np.flatnonzero(keep)
        scores, present, dom = scores[idx], present[idx], dom[idx]
        rows = idx
    else:
        rows = None
    J = scores.shape[1]
    out = np.zeros((n_dom, J))
    if len(dom) == 0:
        return out
    for s, stage in enumerate(design.stages):
        cluster = stage.cluster if rows is None else stage.cluster[rows]
        sub = Stage(cluster, stage.cluster_stratum, stage.n_psu, stage.popsize, stage.scale,
                    stage.certainty, stage.stratum_parent, stage.multiplier,
                    stage.stratum_labels)
        _add_stage(out, design.lonely_psu, s, sub, scores, present, dom, n_dom)
    return out


def _add_stage(out, policy, s, stage: Stage, scores, present, dom, n_dom) -> None:
    order, starts, gd, gc = _psu_groups(stage, dom, n_dom)
    Z = np.add.reduceat(scores[order], starts, axis=0)
    Pg = np.logical_or.reduceat(present[order], starts, axis=0)
    gh = stage.cluster_stratum[gc]
    n_strata = stage.n_strata
    dh = gd * np.int64(n_strata) + gh
    starts2 = _group_starts(dh)
    kd = gd[starts2]
    kh = gh[starts2]
    counts = np.diff(np.append(starts2, len(gd)))
    S = np.add.reduceat(Z, starts2, axis=0)
    nh = stage.n_psu[kh].astype(float)
    zbar = S / nh[:, None]
    absent = (nh - counts)[:, None]
    # second pass, as R's mean(): makes identical PSU totals give exactly zero variance
    dev = Z - np.repeat(zbar, counts, axis=0)
    zbar = zbar + (np.add.reduceat(dev, starts2, axis=0) - absent * zbar) / nh[:, None]
    dev = Z - np.repeat(zbar, counts, axis=0)
    sc = stage.scale[gc]
    within = np.add.reduceat(sc[:, None] * dev * dev, starts2, axis=0)
    sc_all = np.bincount(stage.cluster_stratum, weights=stage.scale, minlength=n_strata)[kh]
    sc_here = np.add.reduceat(sc, starts2)
    sc_absent = np.where(counts == nh, 0.0, np.maximum(sc_all - sc_here, 0.0))
    var_k = within + sc_absent[:, None] * zbar * zbar
    cert = stage.certainty[kh]
    if cert.any():
        var_k[cert] = 0.0
    lonely = (stage.n_psu[kh] == 1) & ~cert
    present_k = None
    factor = None
    if lonely.any():
        present_k = np.logical_or.reduceat(Pg, starts2, axis=0)
        if policy == "fail":
            bad = lonely[:, None] & present_k
            if bad.any():
                k = int(np.flatnonzero(bad.any(axis=1))[0])
                raise LonelyPSUError(
                    f"Stratum ({stage.stratum_labels[kh[k]]}) has only one PSU at stage {s + 1}"
                )
        elif policy == "adjust":
            var_k[lonely] = sc_all[lonely, None] * S[lonely] ** 2
        elif policy == "average":
            var_k[lonely] = 0.0
            parent = stage.stratum_parent[kh]
            dp = kd * np.int64(parent.max() + 1) + parent
            starts3 = _group_starts(dp)
            nstrat = np.add.reduceat(present_k.astype(np.int64), starts3, axis=0)
            nok = np.add.reduceat((present_k & ~lonely[:, None]).astype(np.int64), starts3, axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(nstrat > 0, nstrat / nok, 1.0)
            mult = stage.multiplier[kh]
            vdp = np.add.reduceat(var_k * mult[:, None], starts3, axis=0)
            with np.errstate(invalid="ignore"):
                vdp = vdp * factor
            np.add.at(out, kd[starts3], vdp)
            return
        # "remove" and "certainty": the centred single PSU contributes zero already
    mult = stage.multiplier[kh]
    if s == 0:
        contrib = var_k
    else:
        contrib = var_k * mult[:, None]
    dstarts = _group_starts(kd)
    np.add.at(out, kd[dstarts], np.add.reduceat(contrib, dstarts, axis=0))


def domain_psu_counts(
    design: SurveyDesign, inset: np.ndarray, dom: np.ndarray, n_dom: int
) -> tuple[np.ndarray, np.ndarray]:
    """First-stage PSUs and strata having rows in ``inset`` (n, J), per domain.

    Used for the degrees of freedom of a domain, R's ``degf()`` on a subset.
    """
    stage = design.stages[0]
    keep = dom >= 0
    idx = np.flatnonzero(keep)
    cl = stage.cluster[idx]
    d = dom[idx]
    ins = inset[idx]
    key = d * np.int64(stage.n_clusters) + cl
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = _group_starts(sk)
    J = inset.shape[1]
    if len(starts) == 0:
        return np.zeros((n_dom, J), np.int64), np.zeros((n_dom, J), np.int64)
    gk = sk[starts]
    gd, gc = gk // stage.n_clusters, gk % stage.n_clusters
    Pg = np.logical_or.reduceat(ins[order], starts, axis=0)
    psus = np.zeros((n_dom, J), np.int64)
    np.add.at(psus, gd, Pg.astype(np.int64))
    gh = stage.cluster_stratum[gc]
    dh = gd * np.int64(stage.n_strata) + gh
    s2 = _group_starts(dh)
    Ph = np.logical_or.reduceat(Pg, s2, axis=0)
    strata = np.zeros((n_dom, J), np.int64)
    np.add.at(strata, gd[s2], Ph.astype(np.int64))
    return psus, strata
