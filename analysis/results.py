"""Frozen results of the estimators: one :class:`Estimate` per row of an :class:`EstimateTable`.

A table keeps what contrasts need — the linearised scores of every estimate — so the
difference of two domains' estimates gets its design-based standard error, covariance
included (R: ``svyby(..., covmat=TRUE)`` followed by ``svycontrast``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .errors import DataError

__all__ = ["ConfidenceInterval", "Estimate", "EstimateTable"]

#: keys of :meth:`Estimate.to_dict`, the command line's contract
RECORD_KEYS = ("estimand", "variable", "category", "quantile", "domain", "estimate", "se",
               "ci_low", "ci_high", "deff", "n")


class ConfidenceInterval(NamedTuple):
    low: float
    high: float


def _clean(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _clean_list(a: np.ndarray) -> list[float | None]:
    a = np.asarray(a, dtype=float)
    out = a.tolist()
    bad = ~np.isfinite(a)
    if bad.any():
        for i in np.flatnonzero(bad).tolist():
            out[i] = None
    return out


@dataclass(frozen=True)
class Estimate:
    """One estimate with its design-based uncertainty.

    Attributes
    ----------
    statistic : {"mean", "total", "proportion", "ratio", "quantile", "difference"}
    variable : str
        The variable (``"num/den"`` for ratios).
    category : str or None
        Category of a categorical variable.
    domain : tuple of (name, value) pairs, or None
        The subpopulation; :attr:`domain_dict` gives it as a dict.
    value, se : float
        Estimate and its standard error.
    df : float
        Degrees of freedom of the interval.
    n : int
        Respondents contributing (in the domain, value not missing, non-zero weight).
    deff : float or None
        Design effect against simple random sampling without replacement (R's
        ``deff=TRUE``).
    ci_low, ci_high : float
    confidence_level : float
    ci_method : {"wald", "logit", "beta"} or a quantile interval type
    quantile : float or None
        The probability of a quantile row.
    """

    statistic: str
    variable: str
    category: str | None
    domain: tuple[tuple[str, str], ...] | None
    value: float
    se: float
    df: float
    n: int
    deff: float | None
    ci_low: float
    ci_high: float
    confidence_level: float
    ci_method: str = "wald"
    quantile: float | None = None

    @property
    def domain_dict(self) -> dict[str, str] | None:
        return None if self.domain is None else dict(self.domain)

    @property
    def variance(self) -> float:
        return self.se * self.se

    @property
    def cv(self) -> float:
        """Coefficient of variation ``se / |value|`` (NaN for a zero estimate)."""
        return self.se / abs(self.value) if self.value != 0 else math.nan

    @property
    def n_effective(self) -> float | None:
        """Effective sample size ``n / deff`` (Kish), when the design effect is known."""
        if self.deff is None or not self.deff or not math.isfinite(self.deff):
            return None
        return self.n / self.deff

    def confidence_interval(self, confidence_level: float | None = None) -> ConfidenceInterval:
        """The interval at ``confidence_level`` (default: the one computed).

        Another level gives the Wald interval ``value ± t(df) · se``.
        """
        if confidence_level is None or confidence_level == self.confidence_level:
            return ConfidenceInterval(self.ci_low, self.ci_high)
        from ._dist import t_quantile

        _check_level(confidence_level)
        q = t_quantile(1 - (1 - confidence_level) / 2, self.df)
        return ConfidenceInterval(self.value - q * self.se, self.value + q * self.se)

    def to_dict(self, deff: bool = True) -> dict[str, Any]:
        """A JSON-ready record with the command line's keys; NaN and infinities → None."""
        rec: dict[str, Any] = {
            "estimand": self.statistic,
            "variable": self.variable,
            "category": self.category,
            "quantile": self.quantile,
            "domain": self.domain_dict,
            "estimate": _clean(self.value),
            "se": _clean(self.se),
            "ci_low": _clean(self.ci_low),
            "ci_high": _clean(self.ci_high),
        }
        if deff:
            rec["deff"] = _clean(self.deff)
        rec["n"] = int(self.n)
        return rec

    def __repr__(self) -> str:
        what = self.variable + (f"={self.category}" if self.category is not None else "")
        dom = "" if self.domain is None else " | " + ", ".join(f"{k}={v}" for k, v in self.domain)
        level = f"{self.confidence_level:.0%}"
        return (
            f"<Estimate {self.statistic}({what}){dom}: {self.value:.6g} "
            f"(se {self.se:.4g}, {level} CI {self.ci_low:.6g}..{self.ci_high:.6g}, n={self.n})>"
        )


def _check_level(level: float) -> None:
    if not (0 < level < 1):
        raise DataError(f"confidence_level must be between 0 and 1, got {level!r}")


@dataclass(frozen=True, eq=False)
class _Linearisation:
    """Scores kept for contrasts: column ``j`` of ``scores`` restricted to domain ``d``."""

    design: Any
    scores: np.ndarray
    present: np.ndarray
    dom: np.ndarray
    column: np.ndarray  # row of the table -> score column
    domain: np.ndarray  # row of the table -> domain code (0 when no domains)
    thetas: np.ndarray | None = None  # replicate designs: (R, rows) replicate estimates
    values: np.ndarray | None = None  # replicate designs: (rows,) full-sample estimates


@dataclass(frozen=True, eq=False)
class EstimateTable(Sequence):
    """A sequence of :class:`Estimate` rows, one per (statistic, variable, category, domain).

    Columns are stored as arrays; rows are built when indexed. Use :meth:`to_frame` for a
    pandas DataFrame, :meth:`to_records` for JSON-ready dicts, :meth:`contrast` for the
    difference of two rows with its standard error.
    """

    statistic: tuple[str, ...]
    variable: tuple[str, ...]
    category: tuple[str | None, ...]
    domain: tuple[tuple[tuple[str, str], ...] | None, ...]
    value: np.ndarray
    se: np.ndarray
    df: np.ndarray
    n: np.ndarray
    deff: np.ndarray | None
    ci_low: np.ndarray
    ci_high: np.ndarray
    ci_method: tuple[str, ...]
    confidence_level: float
    by: tuple[str, ...] = ()
    _lin: _Linearisation | None = field(default=None, repr=False)
    quantile: tuple[float | None, ...] | None = None

    def __len__(self) -> int:
        return len(self.statistic)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return Estimate(
            statistic=self.statistic[i],
            variable=self.variable[i],
            category=self.category[i],
            domain=self.domain[i],
            value=float(self.value[i]),
            se=float(self.se[i]),
            df=float(self.df[i]),
            n=int(self.n[i]),
            deff=None if self.deff is None else float(self.deff[i]),
            ci_low=float(self.ci_low[i]),
            ci_high=float(self.ci_high[i]),
            confidence_level=self.confidence_level,
            ci_method=self.ci_method[i],
            quantile=None if self.quantile is None else self.quantile[i],
        )

    def __iter__(self) -> Iterator[Estimate]:
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------------ lookup
    def find(
        self,
        variable: str | None = None,
        *,
        category: str | None = None,
        domain: Mapping[str, Any] | None = None,
        statistic: str | None = None,
    ) -> int:
        """Index of the one row matching the given fields (domain values compared as text)."""
        want = None if domain is None else {k: str(v) for k, v in domain.items()}
        hits = [
            i for i in range(len(self))
            if (variable is None or self.variable[i] == variable)
            and (category is None or self.category[i] == category)
            and (statistic is None or self.statistic[i] == statistic)
            and (want is None or (self.domain[i] is not None and dict(self.domain[i]) == want))
        ]
        if len(hits) != 1:
            raise DataError(f"{len(hits)} rows match variable={variable!r}, "
                            f"category={category!r}, domain={domain!r}, statistic={statistic!r}")
        return hits[0]

    def _index(self, key: int | Mapping[str, Any]) -> int:
        if isinstance(key, (int, np.integer)):
            if not -len(self) <= key < len(self):
                raise DataError(f"row {key} out of range for a table of {len(self)} rows")
            return int(key) % len(self)
        return self.find(**dict(key))

    # ------------------------------------------------------------------ covariance
    def _column(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        lin = self._lin
        if lin is None:
            raise DataError("this table keeps no linearisation data for covariances")
        j, d = int(lin.column[i]), int(lin.domain[i])
        mask = lin.dom == d
        return np.where(mask, lin.scores[:, j], 0.0), lin.present[:, j] & mask

    def _variance_of(self, score: np.ndarray, present: np.ndarray) -> float:
        from .variance import domain_variance

        lin = self._lin
        dom = np.where(lin.dom >= 0, 0, -1)  # type: ignore[union-attr]
        return float(domain_variance(lin.design, score[:, None], present[:, None], dom, 1)[0, 0])  # type: ignore[union-attr]

    def _replicate_cov(self, i: int, k: int) -> np.ndarray | None:
        lin = self._lin
        if lin is None or lin.thetas is None:
            return None
        idx = [i, k]
        return lin.design.replicate_covariance(lin.thetas[:, idx], lin.values[idx])

    def covariance(self, a: int | Mapping[str, Any], b: int | Mapping[str, Any]) -> float:
        """Design-based covariance of two rows' estimates (e.g. two domains' means)."""
        i, k = self._index(a), self._index(b)
        rc = self._replicate_cov(i, k)
        if rc is not None:
            return float(rc[0, 1])
        sa, pa = self._column(i)
        sb, pb = self._column(k)
        v_diff = self._variance_of(sa - sb, pa | pb)
        return (float(self.se[i]) ** 2 + float(self.se[k]) ** 2 - v_diff) / 2

    def contrast(self, a: int | Mapping[str, Any], b: int | Mapping[str, Any]) -> Estimate:
        """The difference ``a - b`` of two rows with its design-based standard error.

        ``a`` and ``b`` are row indices or keyword dicts for :meth:`find`, e.g.
        ``table.contrast({"variable": "q1", "domain": {"agency": "3"}},
        {"variable": "q1", "domain": {"agency": "7"}})``. The variance accounts for the
        covariance of domains sharing strata and PSUs; the interval is Wald with the
        design's degrees of freedom.
        """
        from ._dist import t_quantile

        i, k = self._index(a), self._index(b)
        sa, pa = self._column(i)
        sb, pb = self._column(k)
        rc = self._replicate_cov(i, k)
        if rc is not None:
            var = float(rc[0, 0] + rc[1, 1] - 2 * rc[0, 1])
        else:
            var = self._variance_of(sa - sb, pa | pb)
        se = math.sqrt(var) if var >= 0 else math.nan
        value = float(self.value[i] - self.value[k])
        df = float(self.lin_df)
        q = t_quantile(1 - (1 - self.confidence_level) / 2, df)

        def label(r: int) -> str:
            cat = self.category[r]
            txt = self.variable[r] + (f"={cat}" if cat is not None else "")
            if self.domain[r] is not None:
                txt += "[" + ",".join(f"{k}={v}" for k, v in self.domain[r]) + "]"  # type: ignore[union-attr]
            return txt

        return Estimate(
            statistic="difference",
            variable=f"{label(i)} - {label(k)}",
            category=None,
            domain=None,
            value=value,
            se=se,
            df=df,
            n=int(np.count_nonzero(pa | pb)),
            deff=None,
            ci_low=value - q * se,
            ci_high=value + q * se,
            confidence_level=self.confidence_level,
        )

    @property
    def lin_df(self) -> float:
        lin = self._lin
        return float(lin.design.degf()) if lin is not None else math.nan

    # ------------------------------------------------------------------ export
    def to_records(self, deff: bool = True) -> list[dict[str, Any]]:
        """One JSON-ready dict per row (the command line's output format).

        The same records as ``[row.to_dict() for row in table]``, built column-wise.
        """
        est, se = _clean_list(self.value), _clean_list(self.se)
        lo, hi = _clean_list(self.ci_low), _clean_list(self.ci_high)
        de = _clean_list(self.deff) if (deff and self.deff is not None) else None
        n = np.asarray(self.n).tolist()
        out = []
        for i in range(len(self)):
            d = self.domain[i]
            rec: dict[str, Any] = {
                "estimand": self.statistic[i], "variable": self.variable[i],
                "category": self.category[i],
                "quantile": None if self.quantile is None else self.quantile[i],
                "domain": None if d is None else dict(d),
                "estimate": est[i], "se": se[i], "ci_low": lo[i], "ci_high": hi[i],
            }
            if deff:
                rec["deff"] = None if de is None else de[i]
            rec["n"] = n[i]
            out.append(rec)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The table as a dict: its settings and its records."""
        return {
            "confidence_level": self.confidence_level,
            "by": list(self.by),
            "rows": self.to_records(),
        }

    def to_frame(self):
        """A pandas DataFrame with one row per estimate (domain variables as columns)."""
        import pandas as pd

        cols: dict[str, Any] = {
            "statistic": list(self.statistic),
            "variable": list(self.variable),
            "category": list(self.category),
        }
        for name in self.by:
            cols[name] = [None if d is None else dict(d).get(name) for d in self.domain]
        se = np.asarray(self.se, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = se / np.abs(self.value)
        cols.update(
            estimate=self.value, se=se, ci_low=self.ci_low, ci_high=self.ci_high, cv=cv,
            df=self.df, n=self.n,
        )
        if self.deff is not None:
            cols["deff"] = self.deff
            with np.errstate(divide="ignore", invalid="ignore"):
                cols["n_effective"] = self.n / self.deff
        cols["ci_method"] = list(self.ci_method)
        return pd.DataFrame(cols)

    def __repr__(self) -> str:
        lines = [f"<EstimateTable: {len(self)} rows, {self.confidence_level:.0%} intervals>"]
        show = list(range(min(len(self), 10)))
        for i in show:
            cat = self.category[i]
            what = self.variable[i] + (f"={cat}" if cat is not None else "")
            dom = "" if self.domain[i] is None else " | " + ", ".join(
                f"{k}={v}" for k, v in self.domain[i]  # type: ignore[union-attr]
            )
            lines.append(
                f"  {self.statistic[i]:<10} {what}{dom}: {self.value[i]:.6g} "
                f"(se {self.se[i]:.4g}) [{self.ci_low[i]:.6g}, {self.ci_high[i]:.6g}] n={self.n[i]}"
            )
        if len(self) > len(show):
            lines.append(f"  ... {len(self) - len(show)} more rows")
        return "\n".join(lines)
