"""Domains of a design, as R's ``svyby`` forms them: one code per row, and totals by domain.

A domain is a subpopulation of the full design, never a subset of the data: its rows are
marked, every PSU keeps counting (R's domain vignette). The estimators
(:mod:`analysis.estimators`, :mod:`analysis.quantile_estimates`) and the indices
(:mod:`analysis.indices`) share these helpers so that every statistic forms and orders its
domains the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._data import as_list, factorize, format_value, is_missing, resolve
from .design import SurveyDesign
from .errors import DataError

__all__ = ["domain_codes", "replicate_totals"]


def domain_codes(design: SurveyDesign, by: Any, data: Any = None):
    """Domain code of every row, the domains' labels and the ``by`` names.

    Parameters
    ----------
    design : SurveyDesign
    by : column name, array, or a list of them, or None
        Several are crossed (R's ``interaction()``: the first varies fastest in the order
        of the domains). ``None``: one domain holding the design's active rows.
    data : DataFrame or mapping, optional
        Where ``by`` columns are looked up (default: the design's data).

    Returns
    -------
    dom : (n,) int64
        ``0 .. D-1``; ``-1`` for rows outside the design's subset, with a missing ``by``
        value, or in a domain without a unit of non-zero weight (R's ``svyby`` drops those
        domains).
    labels : list
        ``None`` for the one domain without ``by``; else per domain a tuple of
        ``(name, value)`` pairs.
    names : tuple of str

    Raises
    ------
    DataError
        No domain has a unit with non-zero weight.
    """
    n = design.n_rows
    if data is None:
        data = design.data
    specs = as_list(by)
    w_ok = design.active & (design.weights != 0)
    if not specs:
        return np.where(design.active, 0, -1).astype(np.int64), [None], ()
    names: list[str] = []
    codes_list, labels_list = [], []
    any_missing = np.zeros(n, dtype=bool)
    for i, spec in enumerate(specs):
        col = resolve(spec, data, n, "by", i)
        miss = is_missing(col.values)
        any_missing |= miss
        c, lab = factorize(col.values, miss)
        names.append(col.name)
        codes_list.append(c)
        labels_list.append(lab)
    # R's interaction(): the first variable varies fastest in the order of domains
    key = np.zeros(n, dtype=np.int64)
    for c, lab in zip(reversed(codes_list), reversed(labels_list), strict=True):
        key = key * max(len(lab), 1) + np.maximum(c, 0)
    usable = design.active & ~any_missing
    # R's svyby keeps the domains with at least one unit of non-zero weight
    kept = np.unique(key[usable & w_ok])
    if len(kept) == 0:
        raise DataError("no domain has a unit with non-zero weight")
    dom = np.searchsorted(kept, key)
    dom = np.where(usable & (dom < len(kept)) & (kept[np.minimum(dom, len(kept) - 1)] == key),
                   dom, -1).astype(np.int64)
    labels = []
    for k in kept:
        parts = []
        rem = int(k)
        for lab in labels_list:
            size = max(len(lab), 1)
            parts.append(format_value(lab[rem % size]))
            rem //= size
        labels.append(tuple(zip(names, parts, strict=True)))
    return dom, labels, tuple(names)


def replicate_totals(design: SurveyDesign, values: np.ndarray, dom: np.ndarray,
                     n_dom: int) -> np.ndarray:
    """(R, n_dom, k) replicate-weighted totals of the columns of ``values`` by domain.

    Rows with ``dom < 0`` count in no domain. A design converted by ``as_replicate`` keeps
    PSU factors, so the totals come from (PSU, domain) totals and one product with the
    factor matrix, never the n x R replicate weights; supplied replicate weights are
    multiplied domain by domain as a sparse (domain x row) matrix.
    """
    reps = design.replicates
    if reps is None:
        raise DataError("replicate totals need a replicate-weight design")
    if reps.weights is None:
        _, rt = reps.factors.replicate_totals(values, design.weights, dom, n_dom)
        return rt
    import scipy.sparse as sp

    rw = reps.weights
    n, k = values.shape
    inside = np.flatnonzero(dom >= 0)
    out = np.empty((rw.shape[1], n_dom, k))
    for c in range(k):
        m = sp.csr_matrix((values[inside, c], (dom[inside], inside)), shape=(n_dom, n))
        out[:, :, c] = np.asarray(m @ rw).T
    return out
