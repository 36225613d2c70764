"""Satisfaction indices as data, estimated with the survey design (issue 9).

An index is a tree — items → dimensions → overall — given as plain frozen data
(:class:`Item`, :class:`Dimension`, :class:`IndexDefinition`) with a scoring rule per item
and a versioned method. :func:`compute_index` estimates every node of the tree in every
domain with its design-based standard error, confidence interval, counts and the full
covariance matrix of all nodes within and across domains (for ranking and contrasts,
:mod:`analysis.ranking`).

Scoring rules
-------------
- :func:`top_box` — SIPAS-style share of "Hài lòng"/"Rất hài lòng" (score 1, other valid
  answers 0); ``na``/``dk`` codes and missing values are excluded per item and counted.
- :func:`points` — Circular 01/2018/TT-VPCP points (a map code → 2/1/0).
- :func:`rescale` — PAPI-style linear rescaling of a fixed *theoretical* range
  ``[lo, hi]`` to ``to`` (default 1–10); never a min–max across agencies, so an
  agency's score does not depend on the other agencies in the sample.
- :func:`mean_0_100` — ``100 (x - lo) / (hi - lo)`` for user-defined trees.

Linearisation
-------------
Each item score in a domain ``d`` is a ratio ``R_dj = sum w s v / sum w v`` over the
domain's rows (``s`` the score, ``v`` the valid-answer indicator), with influence
``z_i = w_i v_i (s_i - R_dj) / sum w v`` inside the domain and 0 outside it (the domain
is a subpopulation: R's ``svyby``). Every dimension and the overall index is a linear
combination ``a_d' R_d`` of its domain's item ratios, so its influence is ``a_d' z``; the
covariance of all (domain, node) estimates is :func:`analysis.variance.score_covariance`
of these influences (R's ``svyrecvar``; calibration residuals for calibrated designs).
This equals ``svyby(~items, ~domain, svymean, covmat=TRUE)`` followed by
``svycontrast`` (Lumley 2010, §2.5 and appendix C). Replicate-weight designs recompute
every ratio with each replicate's weights and use R's ``svrVar``.

Scale: the influences are never stored as an n x (domains x nodes) matrix. A domain's
influence is zero outside it, so only its (stratum, PSU) totals are kept
(:func:`analysis.variance.domain_score_factor`: the centred PSU totals in the strata the
domain has rows in, plus the calibration basis for a calibrated design), and a
replicate design keeps the (replicates x (domain, node)) estimates. A covariance block
(:meth:`IndexResult.block`, :meth:`IndexResult.contrast`) is computed from those when
asked; the full matrix (:attr:`IndexResult.covariance`) only when it is read.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
Bộ Nội vụ (2017). Quyết định 2640/QĐ-BNV; Quyết định 1383/QĐ-BNV (SIPAS method).
Văn phòng Chính phủ (2018). Thông tư 01/2018/TT-VPCP, Arts. 13–15.
CECODES, VFF-CRT, RTA and UNDP. *The Viet Nam Provincial Governance and Public
Administration Performance Index (PAPI)*, annual reports, methodology appendix.
Kish, L. (1965). *Survey Sampling*. Wiley (design effect, effective sample size).
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy import stats

from ._data import format_value, is_missing, resolve
from .design import SurveyDesign
from .domains import domain_codes, replicate_totals
from .errors import DataError
from .variance import ScoreFactor, domain_psu_counts, domain_score_factor

__all__ = [
    "Band",
    "BandTable",
    "Dimension",
    "IndexDefinition",
    "IndexResult",
    "IndexRow",
    "Item",
    "Mean0100",
    "Points",
    "Rescale",
    "TopBox",
    "circular01_bands",
    "circular01_index",
    "compute_index",
    "mean_0_100",
    "papi_index",
    "points",
    "rescale",
    "sipas_index",
    "top_box",
]

NA_CODES = ("na",)
DK_CODES = ("dk",)


# ---------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class _Answers:
    """An item's answers by distinct value: ``labels[k]`` is the text code of value ``k``
    (integral numbers without a decimal point; the last, ``""``, stands for missing),
    ``inv`` each row's value and the flags are per distinct value."""

    inv: np.ndarray
    labels: np.ndarray
    valid: np.ndarray
    na: np.ndarray
    dk: np.ndarray
    missing: np.ndarray

    def rows(self, score: np.ndarray):
        """(score, valid, na, dk, missing) per row from the score per distinct value."""
        inv = self.inv
        return (np.where(self.valid, score, 0.0)[inv], self.valid[inv], self.na[inv],
                self.dk[inv], self.missing[inv])


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inv, labels, missing): each row's distinct answer, their text codes, missingness.

    Each distinct answer is formatted and judged once (``pandas.factorize``), not each row.
    """
    import pandas as pd

    inv, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    uniq = np.asarray(uniq, dtype=object)
    umiss = is_missing(uniq) if len(uniq) else np.zeros(0, dtype=bool)
    labels = np.array(["" if m else format_value(v) for v, m in zip(uniq, umiss, strict=True)]
                      + [""], dtype=object)
    inv = np.where(inv < 0, len(uniq), inv)
    return inv, labels, np.append(umiss, True)


@dataclass(frozen=True)
class _Rule(abc.ABC):
    """A scoring rule of an item; each concrete rule defines ``score`` and its fixed range."""

    na_codes: tuple[str, ...] = NA_CODES
    dk_codes: tuple[str, ...] = DK_CODES

    def _split(self, values: np.ndarray) -> _Answers:
        inv, labels, miss = _codes(values)
        na = np.isin(labels, list(self.na_codes)) & ~miss
        dk = np.isin(labels, list(self.dk_codes)) & ~miss & ~na
        return _Answers(inv, labels, ~(miss | na | dk), na, dk, miss)

    @abc.abstractmethod
    def score(self, values: np.ndarray, name: str):
        """(score, valid, na, dk, missing) arrays; the score is 0 where not valid."""

    @property
    @abc.abstractmethod
    def minimum(self) -> float:
        """The lowest score the rule can give (its fixed theoretical range)."""

    @property
    @abc.abstractmethod
    def maximum(self) -> float:
        """The highest score the rule can give."""


@dataclass(frozen=True)
class TopBox(_Rule):
    """Score 1 for an answer in ``codes`` (e.g. "Hài lòng", "Rất hài lòng"), else 0.

    ``valid``, when given, lists every admissible answer code: others raise
    :class:`~analysis.errors.DataError` (a typo must not count as "not satisfied").
    """

    codes: frozenset[str] = frozenset({"4", "5"})
    valid: frozenset[str] | None = None

    def score(self, values, name):
        ans = self._split(values)
        if self.valid is not None:
            bad = ans.valid & ~np.isin(ans.labels, list(self.valid))
            if bad.any():
                raise DataError(f"item {name!r}: answer codes not in the scale: "
                                f"{sorted(set(ans.labels[bad].tolist()))[:5]}")
        return ans.rows(np.isin(ans.labels, list(self.codes)).astype(float))

    minimum = 0.0  # type: ignore[assignment]
    maximum = 1.0  # type: ignore[assignment]


@dataclass(frozen=True)
class Points(_Rule):
    """Points per answer code (Circular 01/2018 Art. 13: 2/1/0); unknown codes raise."""

    map: tuple[tuple[str, float], ...] = ()

    def score(self, values, name):
        ans = self._split(values)
        table = dict(self.map)
        s = np.zeros(len(ans.labels))
        # distinct answers in order of first appearance: the first unknown row's code
        for k in np.flatnonzero(ans.valid):
            c = ans.labels[k]
            if c not in table:
                raise DataError(f"item {name!r}: answer code {c!r} has no points "
                                f"(known: {sorted(table)})")
            s[k] = table[c]
        return ans.rows(s)

    @property
    def minimum(self) -> float:
        return float(min(v for _, v in self.map))

    @property
    def maximum(self) -> float:
        return float(max(v for _, v in self.map))


@dataclass(frozen=True)
class Rescale(_Rule):
    """Linear map of the fixed theoretical range ``[lo, hi]`` onto ``to`` (PAPI)."""

    lo: float = 1.0
    hi: float = 5.0
    to: tuple[float, float] = (1.0, 10.0)

    def _numeric(self, values, name) -> tuple[np.ndarray, _Answers]:
        ans = self._split(values)
        x = np.zeros(len(ans.labels))
        for k in np.flatnonzero(ans.valid):
            try:
                x[k] = float(ans.labels[k])
            except ValueError:
                raise DataError(f"item {name!r}: answer {ans.labels[k]!r} is not a number"
                                ) from None
        out = ans.valid & ((x < self.lo) | (x > self.hi))
        if out.any():
            raise DataError(f"item {name!r}: answers outside the theoretical range "
                            f"[{self.lo:g}, {self.hi:g}]: {sorted(set(x[out].tolist()))[:5]}")
        return x, ans

    def score(self, values, name):
        x, ans = self._numeric(values, name)
        a, b = self.to
        return ans.rows(a + (x - self.lo) * (b - a) / (self.hi - self.lo))

    @property
    def minimum(self) -> float:
        return float(min(self.to))

    @property
    def maximum(self) -> float:
        return float(max(self.to))


@dataclass(frozen=True)
class Mean0100(Rescale):
    """``100 (x - lo) / (hi - lo)``: a mean score on 0–100."""

    to: tuple[float, float] = (0.0, 100.0)


def top_box(codes: Iterable[Any] = ("4", "5"), *, valid: Iterable[Any] | None = None,
            na_codes: Sequence[str] = NA_CODES, dk_codes: Sequence[str] = DK_CODES) -> TopBox:
    """SIPAS share rule: 1 for an answer in ``codes``, 0 for another valid answer.

    ``na_codes``/``dk_codes`` ("not applicable", "don't know") and missing answers are
    excluded from the item's denominator and counted in the result.
    """
    return TopBox(na_codes=tuple(na_codes), dk_codes=tuple(dk_codes),
                  codes=frozenset(format_value(c) for c in codes),
                  valid=None if valid is None else frozenset(format_value(c) for c in valid))


def points(map: Mapping[Any, float], *, na_codes: Sequence[str] = NA_CODES,
           dk_codes: Sequence[str] = DK_CODES) -> Points:
    """Circular 01/2018 rule: ``map`` gives the points of each answer code."""
    if not map:
        raise DataError("points(): the map of answer codes to points is empty")
    return Points(na_codes=tuple(na_codes), dk_codes=tuple(dk_codes),
                  map=tuple(sorted((format_value(k), float(v)) for k, v in map.items())))


def rescale(lo: float, hi: float, to: tuple[float, float] = (1.0, 10.0), *,
            na_codes: Sequence[str] = NA_CODES, dk_codes: Sequence[str] = DK_CODES) -> Rescale:
    """PAPI rule: ``to[0] + (x - lo) (to[1] - to[0]) / (hi - lo)`` on the fixed range."""
    if not hi > lo:
        raise DataError(f"rescale(): need hi > lo, got [{lo}, {hi}]")
    return Rescale(na_codes=tuple(na_codes), dk_codes=tuple(dk_codes), lo=float(lo),
                   hi=float(hi), to=(float(to[0]), float(to[1])))


def mean_0_100(lo: float, hi: float, *, na_codes: Sequence[str] = NA_CODES,
               dk_codes: Sequence[str] = DK_CODES) -> Mean0100:
    """User-defined trees: the answer rescaled to 0–100 over ``[lo, hi]``."""
    if not hi > lo:
        raise DataError(f"mean_0_100(): need hi > lo, got [{lo}, {hi}]")
    return Mean0100(na_codes=tuple(na_codes), dk_codes=tuple(dk_codes), lo=float(lo),
                    hi=float(hi))


# ---------------------------------------------------------------------------- bands
@dataclass(frozen=True)
class Band:
    """A band: values ``>= lower`` (``None``: no lower bound) up to the next band."""

    label: str
    lower: float | None


@dataclass(frozen=True)
class BandTable:
    """Configurable band thresholds (data, never code constants).

    Attributes
    ----------
    name : str
    bands : tuple of Band
        From the highest to the lowest; the last usually has ``lower=None``.
    reference_max : float or None
        The maximum the thresholds were written for (Circular 01: 18 = 9 indicators × 2).
    scale_to_measured : bool
        When true, each threshold ``t`` is applied as ``t × M / reference_max`` where
        ``M`` is the maximum of the indicators actually measured (e.g. 4 citizen
        indicators: ``M = 8`` and "Xuất sắc ≥ 15" becomes ``≥ 6.67``). The result says so.
    """

    name: str
    bands: tuple[Band, ...]
    reference_max: float | None = None
    scale_to_measured: bool = False

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> BandTable:
        """From ``{"name", "bands": [{"label", "lower"}, ...], "reference_max",
        "scale_to_measured"}`` (the shape stored in configuration)."""
        return cls(name=str(spec["name"]),
                   bands=tuple(Band(str(b["label"]), None if b.get("lower") is None
                                    else float(b["lower"])) for b in spec["bands"]),
                   reference_max=spec.get("reference_max"),
                   scale_to_measured=bool(spec.get("scale_to_measured", False)))

    def thresholds(self, maximum: float | None = None) -> tuple[tuple[str, float | None], ...]:
        """(label, lower bound) as applied for a measured ``maximum``."""
        f = 1.0
        if self.scale_to_measured and self.reference_max and maximum is not None:
            f = float(maximum) / float(self.reference_max)
        return tuple((b.label, None if b.lower is None else b.lower * f) for b in self.bands)

    def classify(self, value: float, maximum: float | None = None) -> str | None:
        """The band of ``value`` (``None`` for NaN or a value below every band)."""
        if value is None or not math.isfinite(value):
            return None
        for label, lower in self.thresholds(maximum):
            if lower is None or value >= lower - 1e-12:
                return label
        return None

    def note(self, maximum: float | None = None) -> str:
        parts = [f"{lab} ≥ {lo:.4g}" if lo is not None else f"{lab} below"
                 for lab, lo in self.thresholds(maximum)]
        text = f"{self.name}: " + ", ".join(parts)
        if self.scale_to_measured and self.reference_max and maximum is not None \
                and not math.isclose(float(maximum), float(self.reference_max)):
            text += (f" (thresholds written for a maximum of {self.reference_max:g}, "
                     f"scaled to the measured maximum {maximum:g})")
        return text


def circular01_bands() -> BandTable:
    """The default table of Circular 01/2018/TT-VPCP Art. 15 for agencies.

    Xuất sắc ≥ 15, Tốt 12–<15, Khá 9–<12, Trung bình 6–<9, Yếu < 6, written for all
    nine indicators (maximum 18) and scaled to the measured maximum.
    """
    return BandTable.from_dict({
        "name": "TT 01/2018/TT-VPCP Art. 15",
        "bands": [{"label": "Xuất sắc", "lower": 15}, {"label": "Tốt", "lower": 12},
                  {"label": "Khá", "lower": 9}, {"label": "Trung bình", "lower": 6},
                  {"label": "Yếu", "lower": None}],
        "reference_max": 18, "scale_to_measured": True,
    })


# ---------------------------------------------------------------------------- tree
@dataclass(frozen=True)
class Item:
    """A question scored by ``rule``; ``column`` defaults to ``name``."""

    name: str
    rule: _Rule
    weight: float = 1.0
    column: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Dimension:
    """A factor/dimension: ``combine`` of its items' scores.

    ``"mean"``: plain average; ``"weighted"``: ``sum w_j s_j / sum w_j`` with the items'
    weights; ``"sum"``: ``sum w_j s_j``. Items without any valid answer in a domain are
    left out there (the mean/weighted average is taken over the measured items; the sum
    and its maximum run over the measured items, as Circular 01 Art. 15 does).
    """

    name: str
    items: tuple[Item, ...]
    combine: str = "mean"
    weight: float = 1.0
    label: str | None = None


@dataclass(frozen=True)
class IndexDefinition:
    """An index tree with a versioned method.

    ``overall``: ``"mean"``/``"weighted"``/``"sum"`` of the dimensions, or ``None``.
    ``bands`` apply to the top nodes (the overall index, else each dimension).
    ``display_decimals``: the display value of an item is its estimate rounded half up
    to this many decimals; a ``"sum"`` node displays the sum of its children's display
    values (Circular 01 Art. 15 rounds each indicator to one decimal, then adds).
    """

    name: str
    method_version: str
    dimensions: tuple[Dimension, ...]
    overall: str | None = "mean"
    bands: BandTable | None = None
    display_decimals: int | None = None

    def __post_init__(self):
        seen: set[str] = set()
        if not self.dimensions:
            raise DataError("an index needs at least one dimension")
        for d in self.dimensions:
            if d.combine not in _COMBINE:
                raise DataError(f"dimension {d.name!r}: combine must be one of {_COMBINE}")
            if not d.items:
                raise DataError(f"dimension {d.name!r} has no items")
            for it in d.items:
                if it.name in seen:
                    raise DataError(f"item {it.name!r} appears twice in the index")
                if not (it.weight >= 0):
                    raise DataError(f"item {it.name!r}: weight must be non-negative")
                seen.add(it.name)
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names) or set(names) & seen or self.name in seen | set(names):
            raise DataError("node names (index, dimensions, items) must be distinct")
        if self.overall is not None and self.overall not in _COMBINE:
            raise DataError(f"overall must be None or one of {_COMBINE}")

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(it for d in self.dimensions for it in d.items)


_COMBINE = ("mean", "weighted", "sum")


def sipas_index(factors: Mapping[str, Sequence[str]], *, satisfied: Iterable[Any] = ("4", "5"),
                valid: Iterable[Any] | None = ("1", "2", "3", "4", "5"),
                na_codes: Sequence[str] = NA_CODES, dk_codes: Sequence[str] = DK_CODES,
                name: str = "SIPAS", method_version: str = "sipas-top2/v1",
                bands: BandTable | None = None) -> IndexDefinition:
    """SIPAS-style index: per item the share answering "Hài lòng"/"Rất hài lòng".

    ``factors`` maps each factor (the five of QĐ 2640/QĐ-BNV: tiếp cận dịch vụ, thủ tục
    hành chính, công chức, kết quả, góp ý/phản ánh) to its item columns. A factor index
    averages its items' shares; the overall index averages the factors. The exact
    2023–2026 formula is not published in our sources (docs/domain.md §3.3), hence the
    method version.
    """
    rule = top_box(satisfied, valid=valid, na_codes=na_codes, dk_codes=dk_codes)
    dims = tuple(Dimension(f, tuple(Item(c, rule) for c in cols), "mean")
                 for f, cols in factors.items())
    return IndexDefinition(name, method_version, dims, "mean", bands)


def circular01_index(indicators: Mapping[str, Mapping[Any, float]], *,
                     name: str = "TT01", method_version: str = "tt01-2018-art15/v1",
                     bands: BandTable | None = None,
                     na_codes: Sequence[str] = NA_CODES,
                     dk_codes: Sequence[str] = DK_CODES) -> IndexDefinition:
    """Circular 01/2018/TT-VPCP points for the citizen-collectable indicators.

    ``indicators`` maps each indicator's column (Art. 14: indicators 1, 3, 4 and 7 come
    from the citizen) to its answer → points map (2/1/0). Each indicator's score is the
    mean points per respondent (unrounded estimate and SE kept; the display value is
    rounded half up to one decimal as Art. 15 does); the total is the sum over the
    indicators measured, with its maximum; the bands default to
    :func:`circular01_bands` scaled to the measured maximum.
    """
    items = tuple(Item(col, points(m, na_codes=na_codes, dk_codes=dk_codes))
                  for col, m in indicators.items())
    return IndexDefinition(name, method_version, (Dimension("total", items, "sum"),), None,
                           circular01_bands() if bands is None else bands,
                           display_decimals=1)


def papi_index(dimensions: Mapping[str, Mapping[str, tuple[float, float]]], *,
               name: str = "PAPI", method_version: str = "papi-fixed-range/v1",
               to: tuple[float, float] = (1.0, 10.0), overall: str | None = "sum",
               bands: BandTable | None = None) -> IndexDefinition:
    """PAPI-style index: items rescaled over their fixed theoretical range, summed.

    ``dimensions`` maps each dimension to ``{column: (lo, hi)}``. With ``k`` items each
    item is rescaled to ``to / k`` (e.g. 0.25–2.5 for four), so that the dimension, the
    sum of its items, runs over ``to`` (1–10); the overall index is the sum of the
    dimensions (8–80 for eight).
    """
    dims = []
    for dname, cols in dimensions.items():
        k = len(cols)
        if k == 0:
            raise DataError(f"dimension {dname!r} has no items")
        rng_to = (to[0] / k, to[1] / k)
        dims.append(Dimension(dname, tuple(Item(c, rescale(lo, hi, rng_to))
                                           for c, (lo, hi) in cols.items()), "sum"))
    return IndexDefinition(name, method_version, tuple(dims), overall, bands)


# ---------------------------------------------------------------------------- result
@dataclass(frozen=True)
class IndexRow:
    """One node of the index tree in one domain.

    ``estimate``/``se``/``ci_low``/``ci_high`` are weighted and design-based (t interval
    with ``df``, the design degrees of freedom); ``unweighted`` is the same statistic
    with unit weights. ``n`` counts the respondents with a valid answer (for a dimension
    or the overall index: at least one valid item). ``n_effective = S² / se²``, where
    ``S²`` is the weighted element variance of the respondents' linearised node score,
    i.e. ``n / deff`` with ``deff`` against simple random sampling with replacement
    (Kish 1965); for a top-box item it is NCHS's ``p (1 - p) / se²``.
    ``df_domain`` is PSUs minus strata among the node's respondents (NCHS's df; for a
    replicate design, R's ``degf`` of the domain: the rank of its replicate weights - 1).
    ``na``/``dk``/``missing`` are unweighted counts (items only). ``maximum`` is the
    largest attainable value given the measured items; ``display`` the rounded value.
    """

    domain: tuple[tuple[str, str], ...] | None
    node: str
    level: str  # "item" | "dimension" | "overall"
    parent: str | None
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    df: float
    df_domain: float
    n: int
    n_effective: float
    deff: float
    unweighted: float
    minimum: float
    maximum: float
    display: float
    items_measured: int
    na: int | None = None
    dk: int | None = None
    missing: int | None = None
    band: str | None = None
    band_note: str | None = None

    @property
    def cv(self) -> float:
        return self.se / abs(self.estimate) if self.estimate else math.nan

    @property
    def domain_dict(self) -> dict[str, str] | None:
        return None if self.domain is None else dict(self.domain)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["domain"] = self.domain_dict
        for k, v in d.items():
            if isinstance(v, float) and not math.isfinite(v):
                d[k] = None
        return d


@dataclass(frozen=True)
class IndexResult:
    """All (domain, node) estimates of an index with their joint covariance.

    ``covariance[i, k]`` is the design-based covariance of ``rows[i]`` and ``rows[k]``
    (NaN for unmeasured nodes). The full matrix (rows x rows) is formed only when
    :attr:`covariance` is read; :meth:`block` and :meth:`contrast` compute just the
    entries they use, from the same factored influences.
    """

    definition: IndexDefinition
    rows: tuple[IndexRow, ...]
    confidence_level: float
    df: float
    by: tuple[str, ...]
    method: str  # "linearisation" | "replicates"
    _covariance: Any = field(repr=False, compare=False)

    def _cov(self, ix: np.ndarray) -> np.ndarray:
        ix = np.asarray(ix, dtype=np.int64)
        cov = np.array(self._covariance.covariance(ix), dtype=float)
        bad = ~np.isfinite(np.array([self.rows[i].estimate for i in ix], dtype=float))
        cov[bad, :] = np.nan
        cov[:, bad] = np.nan
        return cov

    @cached_property
    def covariance(self) -> np.ndarray:
        """(rows, rows) covariance of every (domain, node) estimate (read-only)."""
        cov = self._cov(np.arange(len(self.rows)))
        cov.setflags(write=False)
        return cov

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i: int) -> IndexRow:
        return self.rows[i]

    def index(self, node: str, domain: Mapping[str, Any] | None = None) -> int:
        """Position of the row of ``node`` in ``domain`` (``None``: the total domain)."""
        key = None if domain is None else tuple(sorted((k, format_value(v))
                                                       for k, v in domain.items()))
        for i, r in enumerate(self.rows):
            rk = None if r.domain is None else tuple(sorted(r.domain))
            if r.node == node and rk == key:
                return i
        raise DataError(f"no row for node {node!r} in domain {domain!r}")

    def find(self, node: str, domain: Mapping[str, Any] | None = None) -> IndexRow:
        return self.rows[self.index(node, domain)]

    def block(self, node: str, *, include_total: bool = False):
        """(rows, estimates, covariance) of ``node`` across domains, for ranking."""
        idx = [i for i, r in enumerate(self.rows)
               if r.node == node and (include_total or r.domain is not None)]
        if not idx:
            raise DataError(f"no rows for node {node!r}")
        return (tuple(self.rows[i] for i in idx),
                np.array([self.rows[i].estimate for i in idx]), self._cov(np.array(idx)))

    def contrast(self, coefficients: Mapping[int, float]) -> tuple[float, float]:
        """Estimate and SE of ``sum c_i rows[i].estimate`` (R's ``svycontrast``)."""
        ix = np.array(list(coefficients), dtype=int)
        c = np.array([coefficients[i] for i in coefficients], dtype=float)
        est = float(c @ np.array([self.rows[i].estimate for i in ix]))
        var = float(c @ self._cov(ix) @ c)
        return est, math.sqrt(max(var, 0.0))

    def to_records(self) -> list[dict[str, Any]]:
        recs = []
        for r in self.rows:
            d = r.to_dict()
            d["method_version"] = self.definition.method_version
            d["index"] = self.definition.name
            recs.append(d)
        return recs

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.to_records())


# ---------------------------------------------------------------------------- compute
def _round_half_up(x: float, d: int) -> float:
    if not math.isfinite(x):
        return x
    f = 10.0 ** d
    return math.floor(x * f + 0.5 + 1e-9) / f


def _combine_rows(kind: str, rows: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Coefficients over items of a node combining measured children ``rows``."""
    J = len(rows[0])
    ok = [k for k, r in enumerate(rows) if np.all(np.isfinite(r))]
    if not ok:
        return np.full(J, np.nan)
    if kind == "mean":
        return sum(rows[k] for k in ok) / len(ok)
    if kind == "weighted":
        tw = sum(weights[k] for k in ok)
        if tw <= 0:
            return np.full(J, np.nan)
        return sum(weights[k] * rows[k] for k in ok) / tw
    return sum(weights[k] * rows[k] for k in ok)


@dataclass(frozen=True)
class _Scores:
    """The items' scores and answer flags, (n, J) each."""

    S: np.ndarray
    V: np.ndarray
    NA: np.ndarray
    DK: np.ndarray
    MS: np.ndarray


@dataclass
class _Layer:
    """Estimates of every (domain, node) of one set of disjoint domains (rows of ``dom``)."""

    est: np.ndarray  # (D, K)
    unw: np.ndarray
    coef: np.ndarray  # (D, K, J) node coefficients over the items, NaN rows: unmeasured
    s2: np.ndarray
    n_node: np.ndarray
    df_dom: np.ndarray
    counts: np.ndarray  # (D, J, 4): valid, na, dk, missing
    cov: Any  # ScoreFactor (linearisation) or (R, D*K) replicate estimates


def _estimate_layer(design: SurveyDesign, sc: _Scores, w: np.ndarray, inrow: np.ndarray,
                    dom: np.ndarray, n_dom: int, coefficient_rows, K: int) -> _Layer:
    """Every node in each domain of ``dom``, its influence kept per (domain, PSU) only.

    A domain's item ratio ``R_dj`` has influence ``w v (s - R_dj) / sum w v`` on the
    domain's rows and zero elsewhere; a node's is the combination ``a_dk`` of those. The
    rows are sorted by domain once, so every domain's sums are a slice: linear in n.
    """
    import scipy.sparse as sp

    n, J = sc.S.shape
    order = np.argsort(dom, kind="stable")
    order = order[int(np.sum(dom < 0)):]  # the rows of the domains, domain by domain
    sizes = np.bincount(dom[order], minlength=n_dom)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    L = len(order)
    # (domain x row) indicator: domain sums of sorted rows as one sparse product
    ind = sp.csr_matrix((np.ones(L), np.arange(L), bounds), shape=(n_dom, L))
    ds = dom[order]
    ws = w[order]
    ms = inrow[order]
    Ss = sc.S[order]
    Vs = sc.V[order]
    Vf = Vs.astype(float)
    Wv = ws[:, None] * Vf
    N = ind @ Wv
    num = ind @ (Wv * Ss)
    Vm = Vf * ms[:, None]
    cnt = ind @ Vm
    counts = np.empty((n_dom, J, 4), dtype=np.int64)
    counts[:, :, 0] = np.rint(cnt)
    for c, flag in ((1, sc.NA), (2, sc.DK), (3, sc.MS)):
        counts[:, :, c] = np.rint(ind @ (flag[order] & ms[:, None]).astype(float))
    measured = N > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        Ru = np.where(cnt > 0, (ind @ (Ss * Vm)) / np.maximum(cnt, 1), np.nan)
        Rz = np.where(measured, num / np.where(measured, N, 1.0), 0.0)
    # domains measuring the same items share their coefficients
    cache: dict[bytes, np.ndarray] = {}
    A_all = np.empty((n_dom, K, J))
    for d in range(n_dom):
        key = measured[d].tobytes()
        if key not in cache:
            cache[key] = coefficient_rows(measured[d])
        A_all[d] = cache[key]
    fin = np.all(np.isfinite(A_all), axis=2)
    A0 = np.where(fin[:, :, None], A_all, 0.0)
    est = np.where(fin, np.einsum("dkj,dj->dk", A0, Rz), np.nan)
    unw = np.where(fin, np.einsum("dkj,dj->dk", A0, np.where(np.isfinite(Ru), Ru, 0.0)),
                   np.nan)
    dev = Ss - Rz[ds]
    resid = Vf * dev  # v (s - R): the per-respondent residual of each item
    # a node's respondents: a valid answer to one of its items
    used = (A0 != 0).astype(float)
    resp = np.empty((L, K), dtype=bool)
    s2 = np.full((n_dom, K), np.nan)
    for d in range(n_dom):
        lo, hi = bounds[d], bounds[d + 1]
        r = (Vm[lo:hi] @ used[d].T) > 0
        resp[lo:hi] = r
        # n_effective: the weighted element variance of the respondents' linearised score
        wr = ws[lo:hi, None] * r
        tw = wr.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (wr.T @ Vf[lo:hi]) / tw[:, None]
            coef = np.where(share > 0, A0[d] / np.where(share > 0, share, 1.0), 0.0)
            psi = resid[lo:hi] @ coef.T
            s2[d] = np.where(fin[d] & (tw > 0), (wr * psi * psi).sum(axis=0) / tw, np.nan)
    n_node = np.rint(ind @ resp.astype(float)).astype(np.int64)
    resp_rows = np.zeros((n, K), dtype=bool)
    resp_rows[order] = resp
    if design.replicates is not None:
        # a replicate design's df (rank of its replicate weights) costs a QR: per domain
        rep_df = np.empty(n_dom)
        for d in range(n_dom):
            mask = np.zeros(n, dtype=bool)
            mask[order[bounds[d]:bounds[d + 1]]] = True
            rep_df[d] = float(design.degf(rows=mask))
        df_dom = np.where(fin, rep_df[:, None], np.nan)
        cov = _replicate_estimates(design, sc, dom, n_dom, A_all)
    else:
        psus, strata = domain_psu_counts(design, resp_rows, dom, n_dom)
        df_dom = np.where(fin, (psus - strata).astype(float), np.nan)
        Z = np.zeros((n, J))
        with np.errstate(invalid="ignore", divide="ignore"):
            Z[order] = Wv * dev / np.where(measured, N, 1.0)[ds]
        cov = domain_score_factor(design, Z, dom, n_dom).combine(_node_map(A_all))
    return _Layer(est, unw, A_all, s2, n_node, df_dom, counts, cov)


def _node_map(A_all: np.ndarray):
    """Sparse (D J, D K) map of every domain's item influences to its nodes' influences."""
    import scipy.sparse as sp

    D, K, J = A_all.shape
    A0 = np.where(np.isfinite(A_all), A_all, 0.0)
    d, k, j = np.nonzero(A0)
    return sp.csc_matrix((A0[d, k, j], (d * J + j, d * K + k)), shape=(D * J, D * K))


def _replicate_estimates(design, sc: _Scores, dom, n_dom, A_all) -> np.ndarray:
    """(R, D K) replicate estimates: every item ratio with each replicate's weights, then
    each node's combination (items a node does not use do not make it missing)."""
    J = sc.S.shape[1]
    V = sc.V.astype(float)
    rt = replicate_totals(design, np.hstack([V, V * sc.S]), dom, n_dom)
    with np.errstate(invalid="ignore", divide="ignore"):
        Rr = rt[:, :, J:] / rt[:, :, :J]  # (R, D, J)
    A0 = np.where(np.isfinite(A_all), A_all, 0.0)
    used = (A0 != 0).astype(float)
    bad = np.isnan(Rr)
    thetas = np.einsum("dkj,rdj->rdk", A0, np.where(bad, 0.0, Rr))
    thetas[np.einsum("dkj,rdj->rdk", used, bad.astype(float)) > 0] = np.nan
    return thetas.reshape(thetas.shape[0], -1)


class _ReplicateCovariance:
    """Covariance blocks of replicate estimates (R's ``svrVar``), never the full matrix.

    The replicates dropped are those missing for any measured (domain, node), as in a
    single ``svrVar`` call on all of them, so every block equals that matrix's block.
    """

    def __init__(self, design: SurveyDesign, thetas: np.ndarray, full: np.ndarray):
        from .replicates import ReplicateError

        reps = design.replicates
        ok_cols = np.isfinite(full)
        keep = ~np.any(np.isnan(thetas[:, ok_cols]), axis=1)
        if not keep.any():
            raise ReplicateError("all replicates gave missing results")
        self.thetas = thetas[keep]
        self.rscales = np.asarray(reps.rscales, dtype=float)[keep]
        self.scale = reps.scale
        self.mse = reps.mse
        self.full = full

    def covariance(self, columns: np.ndarray) -> np.ndarray:
        from .replicates import replicate_variance

        ix = np.asarray(columns, dtype=np.int64)
        return np.atleast_2d(replicate_variance(self.thetas[:, ix], self.full[ix], self.scale,
                                                self.rscales, mse=self.mse))

    def variances(self) -> np.ndarray:
        m = self.thetas.shape[1]
        out = np.empty(m)
        step = 512
        for c0 in range(0, m, step):
            ix = np.arange(c0, min(m, c0 + step))
            out[ix] = np.diag(self.covariance(ix))
        return out


def compute_index(
    definition: IndexDefinition,
    data: Any,
    design: SurveyDesign,
    by: Any = None,
    confidence_level: float = 0.95,
    *,
    include_total: bool = False,
) -> IndexResult:
    """Estimate every node of ``definition`` in every domain, with the design.

    Parameters
    ----------
    definition : IndexDefinition
    data : DataFrame or mapping of columns, or None
        The answers, one row per design row (``None``: the design's data).
    design : SurveyDesign
        Linearisation or replicate-weight design (calibrated or not).
    by : column name(s), optional
        Domains (agencies), as R's ``svyby``: every domain keeps the full design.
    confidence_level : float
        For the t intervals with the design's degrees of freedom.
    include_total : bool
        Also estimate the index over all rows (the city), domain ``None``, with its
        covariance with every agency (for comparisons with the city average).

    Returns
    -------
    IndexResult
        Rows ordered by domain, then by tree (each dimension's items, the dimension,
        ..., the overall index last).

    Notes
    -----
    Each node is a linear combination of the domain's item ratios, linearised as in the
    module docstring; the covariance is that of ``svyby(..., covmat=TRUE)`` followed by
    ``svycontrast`` (linearisation) or of the replicate estimates (replicate designs).
    The influences are kept as (domain, PSU) totals
    (:func:`analysis.variance.domain_score_factor`) or as replicate estimates, so the
    time and memory grow with n plus domains x nodes x PSUs, not n x domains x nodes;
    covariance blocks (:meth:`IndexResult.block`) are formed when asked for.

    References
    ----------
    Lumley (2010), §2.5, §3.4 and appendix C; Kish (1965), §8.2 (design effect).
    """
    if not 0 < confidence_level < 1:
        raise DataError("confidence_level must be between 0 and 1")
    if data is None:
        data = design.data
    n = design.n_rows
    items = definition.items
    J = len(items)
    S = np.zeros((n, J))
    V = np.zeros((n, J), dtype=bool)
    NA = np.zeros((n, J), dtype=bool)
    DK = np.zeros((n, J), dtype=bool)
    MS = np.zeros((n, J), dtype=bool)
    for j, it in enumerate(items):
        col = resolve(it.column or it.name, data, n, "index item", j)
        S[:, j], V[:, j], NA[:, j], DK[:, j], MS[:, j] = it.rule.score(col.values, it.name)
    sc = _Scores(S, V, NA, DK, MS)
    if by is None:
        dom, labels, by_names = domain_codes(design, None)
        layers = [(dom, 1)]
    else:
        dom, labels, by_names = domain_codes(design, by, data)
        layers = [(dom, len(labels))]
        if include_total:
            layers.append((np.where(design.active, 0, -1).astype(np.int64), 1))
            labels = list(labels) + [None]
    D = len(labels)
    w = design.effective_weights()
    inrow = design.active & (w != 0)

    # nodes: each dimension's items, then the dimension; the overall index last
    nodes: list[tuple[str, str, str | None, Any]] = []
    for dim in definition.dimensions:
        for it in dim.items:
            nodes.append((it.name, "item", dim.name, it))
        nodes.append((dim.name, "dimension",
                      definition.name if definition.overall else None, dim))
    if definition.overall:
        nodes.append((definition.name, "overall", None, None))
    K = len(nodes)
    item_pos = {it.name: j for j, it in enumerate(items)}

    def coefficient_rows(measured: np.ndarray) -> np.ndarray:
        A = np.full((K, J), np.nan)
        dim_rows, dim_w = [], []
        k = 0
        for dim in definition.dimensions:
            child = []
            for it in dim.items:
                r = np.zeros(J)
                r[item_pos[it.name]] = 1.0
                if not measured[item_pos[it.name]]:
                    r[:] = np.nan
                A[k] = r
                child.append(r)
                k += 1
            A[k] = _combine_rows(dim.combine, child, [it.weight for it in dim.items])
            dim_rows.append(A[k])
            dim_w.append(dim.weight)
            k += 1
        if definition.overall:
            A[k] = _combine_rows(definition.overall, dim_rows, dim_w)
        return A

    item_min = np.array([it.rule.minimum for it in items])
    item_max = np.array([it.rule.maximum for it in items])
    parts = [_estimate_layer(design, sc, w, inrow, dm, nd, coefficient_rows, K)
             for dm, nd in layers]
    est = np.vstack([p.est for p in parts])
    unw = np.vstack([p.unw for p in parts])
    A_all = np.concatenate([p.coef for p in parts])
    s2 = np.vstack([p.s2 for p in parts])
    n_node = np.vstack([p.n_node for p in parts])
    df_dom = np.vstack([p.df_dom for p in parts])
    counts = np.concatenate([p.counts for p in parts])
    flat = est.reshape(-1)
    if design.replicates is None:
        covariance: Any = ScoreFactor.hstack([p.cov for p in parts])
        method = "linearisation"
    else:
        covariance = _ReplicateCovariance(design, np.hstack([p.cov for p in parts]), flat)
        method = "replicates"
    var = covariance.variances()
    df = float(design.degf())
    tq = float(stats.t.ppf(0.5 + confidence_level / 2, df)) if df > 0 else math.nan
    se_all = np.where(np.isfinite(flat), np.sqrt(np.maximum(var, 0.0)), np.nan)

    # the per-row numbers as arrays first: thousands of rows for hundreds of agencies
    fin_all = np.all(np.isfinite(A_all), axis=2)
    A0 = np.where(fin_all[:, :, None], A_all, 0.0)
    mx_all = np.where(fin_all, A0 @ item_max, np.nan).tolist()
    mn_all = np.where(fin_all, A0 @ item_min, np.nan).tolist()
    measured_all = np.where(fin_all, (A0 != 0).sum(axis=2), 0).tolist()
    se_dk = se_all.reshape(D, K)
    with np.errstate(invalid="ignore", divide="ignore"):
        neff_all = np.where((se_dk > 0) & np.isfinite(s2), s2 / se_dk ** 2, np.nan)
        deff_all = np.where(np.isfinite(neff_all) & (neff_all > 0), n_node / neff_all, np.nan)
    lo_all, hi_all = (est - tq * se_dk).tolist(), (est + tq * se_dk).tolist()
    est_l, se_l, unw_l = est.tolist(), se_dk.tolist(), unw.tolist()
    neff_l, deff_l = neff_all.tolist(), deff_all.tolist()
    n_l, dfd_l, counts_l = n_node.tolist(), df_dom.tolist(), counts.tolist()
    dec = definition.display_decimals
    rows = []
    for d in range(D):
        display: dict[str, float] = {}
        for k, (name, level, parent, obj) in enumerate(nodes):
            e = est_l[d][k]
            fin = bool(fin_all[d, k])
            mx = mx_all[d][k]
            if dec is None:
                disp = e
            elif level == "item":
                disp = _round_half_up(e, dec)
            else:
                comb = obj.combine if level == "dimension" else definition.overall
                kids = ([it.name for it in obj.items] if level == "dimension"
                        else [x.name for x in definition.dimensions])
                if comb == "sum" and fin:
                    wts = ([it.weight for it in obj.items] if level == "dimension"
                           else [x.weight for x in definition.dimensions])
                    vals = [(wt, display.get(c, math.nan)) for wt, c in zip(wts, kids,
                                                                            strict=True)]
                    disp = _round_half_up(sum(wt * v for wt, v in vals if math.isfinite(v)),
                                          dec)
                else:
                    disp = _round_half_up(e, dec)
            display[name] = disp
            band = note = None
            top = level == "overall" or (level == "dimension" and definition.overall is None)
            if top and definition.bands is not None:
                band = definition.bands.classify(disp, mx)
                note = definition.bands.note(mx)
            extra = {}
            if level == "item":
                c = counts_l[d][item_pos[name]]
                extra = dict(na=c[1], dk=c[2], missing=c[3])
            rows.append(IndexRow(
                domain=labels[d], node=name, level=level, parent=parent,
                estimate=e, se=se_l[d][k], ci_low=lo_all[d][k], ci_high=hi_all[d][k], df=df,
                df_domain=dfd_l[d][k], n=n_l[d][k], n_effective=neff_l[d][k],
                deff=deff_l[d][k], unweighted=unw_l[d][k], minimum=mn_all[d][k], maximum=mx,
                display=float(disp), items_measured=measured_all[d][k], band=band,
                band_note=note, **extra))
    return IndexResult(definition, tuple(rows), float(confidence_level), df, by_names, method,
                       covariance)
