"""Reliability and disclosure rules for published figures (scorecards, issue 9).

- :func:`nchs_proportion` — the NCHS Data Presentation Standards for Proportions
  (Parker et al. 2017): Korn–Graubard confidence interval, effective sample size and the
  flags "suppress" / "review" (statistical review) / "present".
- :func:`cv_rule` — a configurable coefficient-of-variation rule.
- :func:`small_cells` — suppression of cells that could identify a respondent (fewer
  than a configurable minimum of unweighted respondents).
- :func:`complementary_suppression` — further cells hidden so that a small cell cannot be
  worked out from the shown ones through the index tree (a dimension is a known linear
  combination of its items, the overall index of its dimensions).
- :func:`scorecard` — the rules applied to an :class:`analysis.indices.IndexResult`.

Pure functions over arrays; every threshold is an argument.

References
----------
Parker, J. D., Talih, M., Malec, D. J., et al. (2017). National Center for Health
Statistics Data Presentation Standards for Proportions. *Vital Health Stat* 2(175).
Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with small
expected number of positive counts estimated from survey data. *Survey Methodology*
24, 193–201.
Lumley, T. (2010). *Complex Surveys*, §2.4 (``svyciprop(method = "beta")``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .errors import DataError

__all__ = ["FigureStatus", "NCHSResult", "ScorecardRow", "complementary_suppression",
           "cv_rule", "df_adjusted",
           "effective_sample_size", "figure_status", "korn_graubard", "nchs_proportion",
           "scorecard", "small_cells"]

SUPPRESS, REVIEW, PRESENT = "suppress", "review", "present"
SMALL_CELL = "suppressed (small cell)"
COMPLEMENTARY = "suppressed (complementary)"


def _arr(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def effective_sample_size(p, se, n) -> np.ndarray:
    """NCHS effective sample size ``n / deff``, ``deff = se² / (p (1 - p) / n)``.

    A design effect below 1 is set to 1 (``n_eff <= n``); ``p`` of 0 or 1 (or a zero
    SE) gives ``n_eff = n`` (Parker et al. 2017, "effective sample size").
    """
    p, se, n = np.broadcast_arrays(_arr(p), _arr(se), _arr(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = p * (1 - p) / se ** 2
    return np.where((p <= 0) | (p >= 1) | ~(se > 0), n, np.minimum(raw, n))


def df_adjusted(n_eff, n, df) -> np.ndarray:
    """``n_eff × (t_{0.975, n-1} / t_{0.975, df})²``: the effective n of the KG interval.

    Korn and Graubard (1998); R's ``svyciprop(method = "beta")`` with ``n`` its rows and
    ``df`` its ``degf``. ``df`` infinite or NaN: no adjustment.
    """
    n_eff, n, df = np.broadcast_arrays(_arr(n_eff), _arr(n), _arr(df))
    ok = np.isfinite(df) & (df > 0)
    # scipy.special's ufuncs are what stats.t.ppf / stats.beta.ppf evaluate, without
    # their per-call argument checking (a scorecard judges thousands of single figures)
    t_n = special.stdtrit(np.maximum(n - 1, 1), 0.975)
    t_df = special.stdtrit(np.where(ok, df, 1.0), 0.975)
    return n_eff * np.where(ok, (t_n / t_df) ** 2, 1.0)


def korn_graubard(p, n_eff, confidence_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Korn–Graubard interval: Clopper–Pearson with the (df-adjusted) effective n.

    ``x = p n_eff``; lower ``Beta_{α/2}(x, n_eff - x + 1)`` (0 when ``x = 0``), upper
    ``Beta_{1-α/2}(x + 1, n_eff - x)`` (1 when ``x = n_eff``): R's
    ``svyciprop(method = "beta")`` given the same effective n.
    """
    p, n_eff = np.broadcast_arrays(_arr(p), _arr(n_eff))
    a = 1 - confidence_level
    x = p * n_eff
    with np.errstate(invalid="ignore"):
        lo = np.where(x <= 0, 0.0, special.betaincinv(x, n_eff - x + 1, a / 2))
        hi = np.where(x >= n_eff, 1.0, special.betaincinv(x + 1, n_eff - x, 1 - a / 2))
    return lo, hi


@dataclass(frozen=True)
class NCHSResult:
    """Per estimate: the Korn–Graubard CI, widths, effective n and the decision.

    ``n_effective`` is the unadjusted effective n of rule 1.

    ``flag`` is ``"suppress"``, ``"review"`` or ``"present"``; ``reasons`` lists the
    rules that fired (``"n_eff<30"``, ``"width>=0.30"``, ``"relative_width>130%"``,
    ``"df<8"``, ``"p=0or1"``); ``footnotes`` holds
    ``"complement_relative_width>130%"`` for a presented proportion whose complement
    ``1 - p`` would fail the relative-width rule (footnote it, as NCHS does).
    """

    ci_low: np.ndarray
    ci_high: np.ndarray
    width: np.ndarray
    relative_width: np.ndarray
    n_effective: np.ndarray
    flag: tuple[str, ...]
    reasons: tuple[tuple[str, ...], ...]
    footnotes: tuple[tuple[str, ...], ...] = ()

    @property
    def reliable(self) -> np.ndarray:
        return np.array([f == PRESENT for f in self.flag])


def nchs_proportion(p, se, n, df, *, min_n_effective: float = 30.0,
                    max_width: float = 0.30, width_no_relative: float = 0.05,
                    max_relative_width: float = 1.30, min_df: float = 8.0,
                    confidence_level: float = 0.95,
                    df_adjusted_rule: bool = False) -> NCHSResult:
    """The NCHS Data Presentation Standards for Proportions (Parker et al. 2017).

    Parameters
    ----------
    p, se : array_like
        Weighted proportions (0–1) and their design-based SEs.
    n : array_like
        Unweighted sample sizes of the denominators.
    df : array_like
        Degrees of freedom (PSUs minus strata in the domain); ``inf`` for none.

    Returns
    -------
    NCHSResult

    Notes
    -----
    The rules, in the standard's order:

    1. effective sample size (:func:`effective_sample_size`) < 30 → suppress;
    2. Korn–Graubard 95 % CI absolute width ≤ 0.05 → present;
    3. absolute width ≥ 0.30 → suppress;
    4. relative width (width / p) > 130 % → suppress; otherwise present, with a
       footnote when the complement's relative width ``width / (1 - p)`` exceeds 130 %;
    5. a presented estimate is flagged for statistical review when df < 8 or when ``p``
       is 0 or 1 (no events; the width rules are not applied to it).

    The effective n of rule 1 is :func:`effective_sample_size` (n ≥ 30 follows, as
    ``n_eff <= n``); the interval uses its df-adjusted value (:func:`df_adjusted`).
    ``df_adjusted_rule=True`` applies rule 1 to the df-adjusted value instead.
    This is the order and the flags (Px, Pc, Pdf, P0) of NCHS's own implementation in
    the R package surveytable (Strashny, CDC; ``.lpe_percents``).

    An absolute width ≤ 0.05 is presented whatever the relative width.
    """
    p, se, n, df = np.broadcast_arrays(_arr(p), _arr(se), _arr(n), _arr(df))
    if np.any((p < 0) | (p > 1)):
        raise DataError("nchs_proportion: p must be proportions between 0 and 1")
    n_eff = effective_sample_size(p, se, n)
    n_df = df_adjusted(n_eff, n, df)
    lo, hi = korn_graubard(p, n_df, confidence_level)
    n_rule = n_df if df_adjusted_rule else n_eff
    width = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(p > 0, width / p, np.inf)
    flags, reasons, notes = [], [], []
    for i in range(len(p)):
        r: list[str] = []
        foot: list[str] = []
        # no events (p = 0 or 1): the width rules do not apply (width taken as 0)
        events = 0 < p[i] < 1
        if not n_rule[i] >= min_n_effective:
            r.append("n_eff<30" if min_n_effective == 30 else f"n_eff<{min_n_effective:g}")
        elif events and width[i] > width_no_relative:
            if not width[i] < max_width:
                r.append("width>=0.30" if max_width == 0.30 else f"width>={max_width:g}")
            elif rel[i] > max_relative_width:
                r.append("relative_width>130%")
            elif width[i] / (1 - p[i]) > max_relative_width:
                foot.append("complement_relative_width>130%")
        if r:
            flags.append(SUPPRESS)
        else:
            if df[i] < min_df:
                r.append("df<8")
            if not events:
                r.append("p=0or1")
            flags.append(REVIEW if r else PRESENT)
        reasons.append(tuple(r))
        notes.append(tuple(foot))
    return NCHSResult(lo, hi, width, rel, n_eff, tuple(flags), tuple(reasons), tuple(notes))


def cv_rule(estimate, se, *, thresholds: tuple[float, ...] = (0.2, 0.3),
            labels: tuple[str, ...] = ("reliable", "caution", "unreliable")) -> tuple[str, ...]:
    """Label each estimate by its coefficient of variation ``se / |estimate|``.

    ``CV < thresholds[0]`` → ``labels[0]``, ..., ``CV ≥ thresholds[-1]`` → ``labels[-1]``
    (``len(labels) == len(thresholds) + 1``); a zero or NaN estimate gets the last label.
    """
    if len(labels) != len(thresholds) + 1 or list(thresholds) != sorted(thresholds):
        raise DataError("cv_rule: need increasing thresholds and one more label than them")
    e, s = np.broadcast_arrays(_arr(estimate), _arr(se))
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = s / np.abs(e)
    out = []
    for c in cv:
        k = len(thresholds) if not np.isfinite(c) else int(np.searchsorted(thresholds, c,
                                                                          side="right"))
        out.append(labels[k])
    return tuple(out)


def small_cells(n, *, minimum: int = 10) -> np.ndarray:
    """True where a cell has fewer than ``minimum`` unweighted respondents (suppress).

    Cells of 1 or 2 respondents can identify a person (Decree 61/2018 Art. 27 requires
    respondents' confidentiality); the minimum is configuration, 10 by default.
    """
    if minimum < 1:
        raise DataError("small_cells: minimum must be at least 1")
    return _arr(n) < minimum


@dataclass(frozen=True)
class ScorecardRow:
    """One published figure: the estimate (``None`` when suppressed) and its status.

    ``status``: ``"suppressed (small cell)"``, or the reliability rule's label
    (NCHS: ``"suppress"``/``"review"``/``"present"``; CV rule: its labels).
    """

    domain: dict[str, str] | None
    node: str
    level: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_effective: float
    status: str
    reasons: tuple[str, ...]
    flagged: bool


@dataclass(frozen=True)
class FigureStatus:
    """The decision on one figure: what may be shown and why.

    ``estimate``/``ci_low``/``ci_high`` are ``None`` when the figure is not shown (a small
    cell, the NCHS rule's "suppress", or no estimate); the interval is the rule's (NCHS:
    Korn–Graubard). ``status`` and ``reasons`` as in :class:`ScorecardRow`.
    """

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    status: str
    reasons: tuple[str, ...]
    flagged: bool


def figure_status(estimate: float, se: float, ci_low: float, ci_high: float, n: int,
                  df: float, *, share: bool, rule: str = "auto", min_n: int = 10,
                  cv_thresholds: tuple[float, ...] = (0.2, 0.3),
                  cv_labels: tuple[str, ...] = ("reliable", "caution", "unreliable"),
                  **nchs_options) -> FigureStatus:
    """Suppression and reliability of one published figure (a cell of any table).

    Parameters
    ----------
    estimate, se, ci_low, ci_high : float
        The design-based estimate, its SE and interval.
    n : int
        Unweighted respondents behind the figure.
    df : float
        Degrees of freedom for the NCHS rule (PSUs minus strata in the domain).
    share : bool
        Whether the figure is a proportion on 0–1.
    rule, min_n, cv_thresholds, cv_labels, nchs_options
        As :func:`scorecard`: a cell with fewer than ``min_n`` respondents is suppressed
        before any rule; ``"auto"`` applies NCHS to shares and the CV rule otherwise.

    Raises
    ------
    DataError
        ``rule="nchs"`` for a figure that is not a share, or an unknown rule.
    """
    return figure_statuses([estimate], [se], [ci_low], [ci_high], [n], [df], share=[share],
                           rule=rule, min_n=min_n, cv_thresholds=cv_thresholds,
                           cv_labels=cv_labels, **nchs_options)[0]


def figure_statuses(estimate, se, ci_low, ci_high, n, df, *, share, rule: str = "auto",
                    min_n: int = 10, cv_thresholds: tuple[float, ...] = (0.2, 0.3),
                    cv_labels: tuple[str, ...] = ("reliable", "caution", "unreliable"),
                    **nchs_options) -> list[FigureStatus]:
    """:func:`figure_status` of many figures at once (arrays of equal length; ``share`` an
    array of bools): each rule is evaluated once over all the figures it applies to, which
    matters for a scorecard of thousands of cells."""
    if rule not in ("auto", "nchs", "cv"):
        raise DataError('rule must be "auto", "nchs" or "cv"')
    given = list(zip(np.atleast_1d(estimate).tolist(), np.atleast_1d(ci_low).tolist(),
                     np.atleast_1d(ci_high).tolist()))  # shown as given (CV rule)
    est, se, n, df = (_arr(x) for x in (estimate, se, n, df))
    share = np.asarray(share, dtype=bool).reshape(-1)
    use_nchs = share if rule == "auto" else np.full(len(est), rule == "nchs")
    small = small_cells(n, minimum=min_n)
    measured = ~small & np.isfinite(est)
    nchs = np.flatnonzero(measured & use_nchs)
    if rule == "nchs" and not share[nchs].all():
        raise DataError("the figure is not a proportion: use rule='cv'")
    statuses: list = [None] * len(est)
    if len(nchs):
        res = nchs_proportion(est[nchs], se[nchs], n[nchs], df[nchs], **nchs_options)
        for j, i in enumerate(nchs):
            statuses[i] = (res.flag[j], res.reasons[j] + res.footnotes[j],
                           float(res.ci_low[j]), float(res.ci_high[j]))
    cv = np.flatnonzero(measured & ~use_nchs)
    if len(cv):
        labels = cv_rule(est[cv], se[cv], thresholds=cv_thresholds, labels=cv_labels)
        for j, i in enumerate(cv):
            statuses[i] = (labels[j], (), given[i][1], given[i][2])
    out = []
    for i in range(len(est)):
        if small[i]:
            out.append(FigureStatus(None, None, None, SMALL_CELL,
                                    (f"n<{min_n}",), True))
            continue
        status, reasons, low, high = statuses[i] or ("not measured", (), None, None)
        shown = status not in (SUPPRESS, "not measured")
        out.append(FigureStatus(given[i][0] if shown else None, low if shown else None,
                                high if shown else None, status, reasons,
                                status not in (PRESENT, cv_labels[0])))
    return out


def _combination(definition, parent: str, children: list[str]) -> dict[str, float]:
    """The coefficients of ``parent`` = sum(c_k * child_k) over its measured children, as
    analysis.indices combines them (mean, weighted mean or weighted sum)."""
    if parent == definition.name:
        kind = definition.overall
        weights = {d.name: d.weight for d in definition.dimensions}
    else:
        dim = next(d for d in definition.dimensions if d.name == parent)
        kind, weights = dim.combine, {it.name: it.weight for it in dim.items}
    if kind == "mean":
        return {c: 1.0 / len(children) for c in children}
    if kind == "weighted":
        total = sum(weights[c] for c in children)
        return {c: weights[c] / total for c in children} if total > 0 else {}
    return {c: weights[c] for c in children}


def _determined(equations: np.ndarray, unknown: list[int], cell: int) -> bool:
    """Whether ``cell`` (one of ``unknown``) follows from the equations once every other
    cell is known: its unit vector lies in the row space of the unknowns' columns."""
    if not len(equations):
        return False
    A = equations[:, unknown]
    e = np.zeros((1, len(unknown)))
    e[0, unknown.index(cell)] = 1.0
    return np.linalg.matrix_rank(np.vstack([A, e])) == np.linalg.matrix_rank(A)


def complementary_suppression(result, protected, shown) -> set[int]:
    """The further rows to hide so that no protected (hidden) row can be worked out from
    the rows shown.

    A dimension is a known linear combination of its measured items and the overall index
    of its dimensions (:mod:`analysis.indices`), so a small cell hidden alone is often the
    difference of figures that are shown (e.g. an item = k * its factor - its k - 1 other
    items). Within each domain the relations form a linear system; a hidden row is
    disclosed when its unit vector lies in the row space of the hidden rows' columns.
    While a protected row is disclosed, one more shown row is hidden, chosen to keep the
    most useful figures (items before dimensions before the overall index, then the
    smallest ``n``): the first below the overall index that hides it on its own, else the
    first of its relations; the overall index is hidden only when nothing else protects.
    Relations across domains (the city total from the agencies) are not exact without the
    unpublished weight totals and are not used.

    Parameters
    ----------
    result : analysis.indices.IndexResult
    protected : iterable of int
        Positions in ``result.rows`` hidden for confidentiality (small cells).
    shown : iterable of int
        Positions of the rows published.

    Returns
    -------
    set of int
        Further positions to hide (none of ``protected``).
    """
    protected, shown = set(protected), set(shown) - set(protected)
    by_domain: dict = {}
    for i, r in enumerate(result.rows):
        by_domain.setdefault(r.domain, []).append(i)
    added: set[int] = set()
    for positions in by_domain.values():
        guard = sorted(p for p in positions if p in protected)
        if not guard:
            continue
        local = {result.rows[i].node: i for i in positions}
        column = {i: k for k, i in enumerate(positions)}
        rows = []
        for i in positions:
            children = [c for c in positions if result.rows[c].parent == result.rows[i].node
                        and np.isfinite(result.rows[c].estimate)]
            if not children or not np.isfinite(result.rows[i].estimate):
                continue
            coef = _combination(result.definition, result.rows[i].node,
                                [result.rows[c].node for c in children])
            eq = np.zeros(len(positions))
            eq[column[i]] = 1.0
            for child, c in coef.items():
                eq[column[local[child]]] -= c
            rows.append(eq)
        equations = np.array(rows).reshape(len(rows), len(positions))
        visible = {i for i in positions if i in shown}

        def order(i):
            r = result.rows[i]
            return ({"item": 0, "dimension": 1}.get(r.level, 2), r.n, i)

        while True:
            unknown = [column[i] for i in positions if i not in visible]
            disclosed = next((p for p in guard
                              if _determined(equations, unknown, column[p])), None)
            if disclosed is None:
                break
            candidates = sorted(visible, key=order)
            # the first below the top that hides the disclosed row on its own; else the
            # first of its relations (the next pass looks again, one more row hidden), so
            # the overall index goes only when nothing else can protect the cell
            pick = next((i for i in candidates if result.rows[i].level != "overall"
                         and not _determined(equations, sorted(unknown + [column[i]]),
                                             column[disclosed])), None)
            if pick is None:
                related = [i for i in candidates if any(
                    eq[column[disclosed]] != 0 and eq[column[i]] != 0 for eq in equations)]
                pick = (related or candidates)[0]
            visible.discard(pick)
            added.add(pick)
    return added


def scorecard(result, *, rule: str = "auto", min_n: int = 10, levels=("dimension", "overall"),
              cv_thresholds: tuple[float, ...] = (0.2, 0.3),
              cv_labels: tuple[str, ...] = ("reliable", "caution", "unreliable"),
              complementary: bool = True, **nchs_options) -> tuple[ScorecardRow, ...]:
    """Per agency and node: estimate, CI, n, effective n and a reliability status.

    Parameters
    ----------
    result : analysis.indices.IndexResult
    rule : {"auto", "nchs", "cv"}
        ``"nchs"``: :func:`nchs_proportion` with the node's ``df_domain`` (the node must
        be a share on 0–1); ``"cv"``: :func:`cv_rule`; ``"auto"``: NCHS for nodes whose
        range is 0–1 (SIPAS shares and their averages), the CV rule otherwise.
    min_n : int
        Cells with fewer unweighted respondents are suppressed (:func:`small_cells`)
        before any reliability rule: their estimate and CI are not shown.
    levels : tuple of str
        Node levels to include (``"item"``, ``"dimension"``, ``"overall"``).
    complementary : bool
        Also hide the figures from which a small cell could be worked out
        (:func:`complementary_suppression`; status ``"suppressed (complementary)"``).

    Returns
    -------
    tuple of ScorecardRow
        ``flagged`` is true for every figure that is not plainly reliable.
    """
    if rule not in ("auto", "nchs", "cv"):
        raise DataError('rule must be "auto", "nchs" or "cv"')
    positions = [i for i, r in enumerate(result.rows) if r.level in levels]
    rows = [result.rows[i] for i in positions]
    share = [abs(r.minimum) < 1e-12 and abs(r.maximum - 1) < 1e-12 for r in rows]
    if rule == "nchs":
        wrong = next((r for r, s in zip(rows, share) if not s and r.n >= min_n
                      and np.isfinite(r.estimate)), None)
        if wrong is not None:
            raise DataError(f"node {wrong.node!r} is not a proportion: use rule='cv'")
    statuses = figure_statuses(
        [r.estimate for r in rows], [r.se for r in rows], [r.ci_low for r in rows],
        [r.ci_high for r in rows], [r.n for r in rows], [r.df_domain for r in rows],
        share=share, rule=rule, min_n=min_n, cv_thresholds=cv_thresholds, cv_labels=cv_labels,
        **nchs_options)
    if complementary:
        more = complementary_suppression(
            result, [i for i, f in zip(positions, statuses) if f.status == SMALL_CELL],
            [i for i, f in zip(positions, statuses) if f.estimate is not None])
        statuses = [FigureStatus(None, None, None, COMPLEMENTARY, ("complementary",), True)
                    if i in more else f for i, f in zip(positions, statuses)]
    return tuple(ScorecardRow(r.domain_dict, r.node, r.level, f.estimate, f.ci_low, f.ci_high,
                              r.n, r.n_effective, f.status, f.reasons, f.flagged)
                 for r, f in zip(rows, statuses))
