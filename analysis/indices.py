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
every ratio with each replicate's weights and use ``design.replicate_covariance``.

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
from typing import Any

import numpy as np
from scipy import stats

from ._data import format_value, is_missing, resolve
from .design import SurveyDesign
from .errors import DataError
from .variance import score_covariance

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
def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Answers as text codes (integral numbers without a decimal point) and missingness.

    Each distinct answer is formatted once (``pandas.factorize``), not each row.
    """
    import pandas as pd

    inv, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    uniq = np.asarray(uniq, dtype=object)
    umiss = is_missing(uniq) if len(uniq) else np.zeros(0, dtype=bool)
    labels = np.array(["" if m else format_value(v) for v, m in zip(uniq, umiss, strict=True)]
                      + [""], dtype=object)
    miss = (inv < 0) | np.append(umiss, True)[inv]
    return labels[inv], miss


@dataclass(frozen=True)
class _Rule(abc.ABC):
    """A scoring rule of an item; each concrete rule defines ``score`` and its fixed range."""

    na_codes: tuple[str, ...] = NA_CODES
    dk_codes: tuple[str, ...] = DK_CODES

    def _split(self, values: np.ndarray):
        codes, miss = _codes(values)
        na = np.isin(codes, list(self.na_codes)) & ~miss
        dk = np.isin(codes, list(self.dk_codes)) & ~miss & ~na
        valid = ~(miss | na | dk)
        return codes, valid, na, dk, miss

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
        codes, valid, na, dk, miss = self._split(values)
        if self.valid is not None:
            bad = valid & ~np.isin(codes, list(self.valid))
            if bad.any():
                raise DataError(f"item {name!r}: answer codes not in the scale: "
                                f"{sorted(set(codes[bad].tolist()))[:5]}")
        s = (valid & np.isin(codes, list(self.codes))).astype(float)
        return s, valid, na, dk, miss

    minimum = 0.0  # type: ignore[assignment]
    maximum = 1.0  # type: ignore[assignment]


@dataclass(frozen=True)
class Points(_Rule):
    """Points per answer code (Circular 01/2018 Art. 13: 2/1/0); unknown codes raise."""

    map: tuple[tuple[str, float], ...] = ()

    def score(self, values, name):
        codes, valid, na, dk, miss = self._split(values)
        table = dict(self.map)
        s = np.zeros(len(codes))
        for i in np.flatnonzero(valid):
            c = codes[i]
            if c not in table:
                raise DataError(f"item {name!r}: answer code {c!r} has no points "
                                f"(known: {sorted(table)})")
            s[i] = table[c]
        return s, valid, na, dk, miss

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

    def _numeric(self, values, name):
        codes, valid, na, dk, miss = self._split(values)
        x = np.zeros(len(codes))
        for i in np.flatnonzero(valid):
            try:
                x[i] = float(codes[i])
            except ValueError:
                raise DataError(f"item {name!r}: answer {codes[i]!r} is not a number") from None
        out = valid & ((x < self.lo) | (x > self.hi))
        if out.any():
            raise DataError(f"item {name!r}: answers outside the theoretical range "
                            f"[{self.lo:g}, {self.hi:g}]: {sorted(set(x[out].tolist()))[:5]}")
        return x, valid, na, dk, miss

    def score(self, values, name):
        x, valid, na, dk, miss = self._numeric(values, name)
        a, b = self.to
        s = np.where(valid, a + (x - self.lo) * (b - a) / (self.hi - self.lo), 0.0)
        return s, valid, na, dk, miss

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
    (NaN for unmeasured nodes).
    """

    definition: IndexDefinition
    rows: tuple[IndexRow, ...]
    covariance: np.ndarray = field(repr=False)
    confidence_level: float
    df: float
    by: tuple[str, ...]
    method: str  # "linearisation" | "replicates"

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
        ix = np.array(idx)
        return (tuple(self.rows[i] for i in idx),
                np.array([self.rows[i].estimate for i in idx]),
                self.covariance[np.ix_(ix, ix)].copy())

    def contrast(self, coefficients: Mapping[int, float]) -> tuple[float, float]:
        """Estimate and SE of ``sum c_i rows[i].estimate`` (R's ``svycontrast``)."""
        ix = np.array(list(coefficients), dtype=int)
        c = np.array([coefficients[i] for i in coefficients], dtype=float)
        est = float(c @ np.array([self.rows[i].estimate for i in ix]))
        var = float(c @ self.covariance[np.ix_(ix, ix)] @ c)
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


def _domain_codes(design: SurveyDesign, data: Any, by: Any, include_total: bool):
    from .estimators import _domains

    n = design.n_rows
    if by is None:
        dom = np.where(design.active, 0, -1).astype(np.int64)
        return [dom == 0], [None], ()
    d = design if data is design.data else dataclasses.replace(design, data=data)
    dom, labels, names = _domains(d, by, n)
    masks = [dom == k for k in range(len(labels))]
    labels = list(labels)
    if include_total:
        masks.append(design.active.copy())
        labels.append(None)
    return masks, labels, tuple(names)


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
    masks, labels, by_names = _domain_codes(design, data, by, include_total)
    D = len(masks)
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
    est = np.full((D, K), np.nan)
    unw = np.full((D, K), np.nan)
    A_all = np.empty((D, K, J))
    U = np.zeros((n, D * K))
    ratios = np.full((D, J), np.nan)
    s2 = np.full((D, K), np.nan)
    n_node = np.zeros((D, K), dtype=np.int64)
    df_dom = np.full((D, K), np.nan)
    counts = np.zeros((D, J, 4), dtype=np.int64)
    for d in range(D):
        m = masks[d]
        # work on the domain's rows only: outside them every score is zero
        idx = np.flatnonzero(m)
        wd = w[idx]
        Sd, Vd = S[idx], V[idx]
        Wv = wd[:, None] * Vd
        N = Wv.sum(axis=0)
        num = (Wv * Sd).sum(axis=0)
        measured = N > 0
        mrow = inrow[idx]
        Vm = Vd & mrow[:, None]
        cnt = Vm.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            R = np.where(measured, num / np.where(measured, N, 1.0), np.nan)
            Ru = np.where(cnt > 0, (Sd * Vm).sum(axis=0) / np.maximum(cnt, 1), np.nan)
        ratios[d] = R
        A = coefficient_rows(measured)
        A_all[d] = A
        counts[d, :, 0] = cnt
        counts[d, :, 1] = (NA[idx] & mrow[:, None]).sum(axis=0)
        counts[d, :, 2] = (DK[idx] & mrow[:, None]).sum(axis=0)
        counts[d, :, 3] = (MS[idx] & mrow[:, None]).sum(axis=0)
        Rz = np.where(measured, R, 0.0)
        # influence of every item ratio (weighted scores), zero outside the domain
        Z = Wv * (Sd - Rz) / np.where(measured, N, 1.0)
        resid = Vd * (Sd - Rz)
        au = np.where(np.isfinite(Ru), Ru, 0.0)
        # a replicate design's df (rank of its replicate weights) costs a QR: once per domain
        rep_df = None if design.replicates is None else float(design.degf(rows=m))
        for k in range(K):
            a = A[k]
            if not np.all(np.isfinite(a)):
                continue
            est[d, k] = a @ Rz
            unw[d, k] = a @ au
            U[idx, d * K + k] = Z @ a
            used = a != 0
            resp = mrow & Vd[:, used].any(axis=1)
            n_node[d, k] = int(resp.sum())
            if rep_df is None:
                full = np.zeros(n, dtype=bool)
                full[idx[resp]] = True
                df_dom[d, k] = design.degf(rows=full)
            else:
                df_dom[d, k] = rep_df
            wr = np.where(resp, wd, 0.0)
            tw = wr.sum()
            if tw > 0:
                share = (wr[:, None] * Vd).sum(axis=0) / tw
                coef = np.where(share > 0, a / np.where(share > 0, share, 1.0), 0.0)
                psi = resid @ coef
                s2[d, k] = float((wr * psi * psi).sum() / tw)

    if design.replicates is None:
        cov = score_covariance(design, U)
        method = "linearisation"
    else:
        cov = _replicate_cov(design, masks, S, V, A_all, est)
        method = "replicates"
    flat = est.reshape(-1)
    bad = ~np.isfinite(flat)
    cov[bad, :] = np.nan
    cov[:, bad] = np.nan
    cov.setflags(write=False)
    df = float(design.degf())
    tq = float(stats.t.ppf(0.5 + confidence_level / 2, df)) if df > 0 else math.nan
    se_all = np.sqrt(np.maximum(np.diag(cov), 0.0))

    rows = []
    for d in range(D):
        display: dict[str, float] = {}
        for k, (name, level, parent, obj) in enumerate(nodes):
            i = d * K + k
            a = A_all[d, k]
            e = est[d, k]
            se = se_all[i] if np.isfinite(e) else math.nan
            fin = np.all(np.isfinite(a))
            mx = float(np.where(a != 0, a, 0) @ item_max) if fin else math.nan
            mn = float(np.where(a != 0, a, 0) @ item_min) if fin else math.nan
            dec = definition.display_decimals
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
            n_eff = s2[d, k] / se ** 2 if se and se > 0 and np.isfinite(s2[d, k]) else math.nan
            deff = n_node[d, k] / n_eff if n_eff and np.isfinite(n_eff) and n_eff > 0 \
                else math.nan
            band = note = None
            top = level == "overall" or (level == "dimension" and definition.overall is None)
            if top and definition.bands is not None:
                band = definition.bands.classify(disp, mx)
                note = definition.bands.note(mx)
            extra = {}
            if level == "item":
                j = item_pos[name]
                extra = dict(na=int(counts[d, j, 1]), dk=int(counts[d, j, 2]),
                             missing=int(counts[d, j, 3]))
            rows.append(IndexRow(
                domain=labels[d], node=name, level=level, parent=parent,
                estimate=float(e), se=float(se), ci_low=float(e - tq * se),
                ci_high=float(e + tq * se), df=df, df_domain=float(df_dom[d, k]),
                n=int(n_node[d, k]), n_effective=float(n_eff), deff=float(deff),
                unweighted=float(unw[d, k]), minimum=mn, maximum=mx, display=float(disp),
                items_measured=int(np.sum(a != 0)) if fin else 0, band=band,
                band_note=note, **extra))
    return IndexResult(definition, tuple(rows), cov, float(confidence_level), df, by_names,
                       method)


def _replicate_cov(design, masks, S, V, A_all, est) -> np.ndarray:
    """Covariance of the replicate estimates of every (domain, node)."""
    RW = design.replicate_weights  # (n, R)
    D, K, J = A_all.shape
    thetas = np.full((RW.shape[1], D * K), np.nan)
    for d, m in enumerate(masks):
        idx = np.flatnonzero(m)  # outside the domain every term is zero
        RWd = np.ascontiguousarray(RW[idx])
        Vm = V[idx].astype(float)
        N = Vm.T @ RWd  # (J, R)
        num = (Vm * S[idx]).T @ RWd
        with np.errstate(invalid="ignore", divide="ignore"):
            Rr = num / N
        for k in range(K):
            a = A_all[d, k]
            if np.all(np.isfinite(a)):
                used = a != 0
                thetas[:, d * K + k] = a[used] @ Rr[used]
    full = est.reshape(-1)
    ok = np.isfinite(full)
    cov = np.full((D * K, D * K), np.nan)
    ix = np.flatnonzero(ok)
    cov[np.ix_(ix, ix)] = design.replicate_covariance(thetas[:, ix], full[ix])
    return cov
