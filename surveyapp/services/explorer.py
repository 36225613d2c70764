"""The analysts' explorer (issue 10 item 1): any question or index node by any breakdown,
cross-tabs with the Rao–Scott test, and trends across the organisation's years.

Nothing is stored: a page computes from a stored weighting run. The data are the run's
respondents in the analysis extract (:func:`scorecards.analysis_frame`, no identifying
data), the design is the scorecards' (:func:`scorecards.design_of`: the locked plan's strata
and PSUs, the run's final weights), and every figure comes from ``analysis``: ``estimate``
(means, proportions with Korn–Graubard intervals, totals) by domain, ``compute_index`` for
index nodes, ``chisq`` for cross-tabs, and the scorecards' reliability rules
(``reliability.figure_status`` / ``scorecard``: cells with fewer than ``min_n`` respondents
suppressed, NCHS for shares, the CV rule otherwise; by default those of the campaign's newest
scorecard run). Suppressed cells are blanked here, so pages, charts and downloads never show
them. Figures are computed on every request; only the run's extract is kept, per process and
per fingerprint of the approved interviews (``EXPLORER_CACHE_SIZE`` frames, 4 by default, 0:
none), because reading it is what takes seconds on a large campaign
(``benchmarks/bench_explorer.py``).

Indicator keys: ``q:<question>`` (a single choice, a Likert item, a number), ``m:<question>``
(a multiple choice: the share choosing each option), ``ix:<scheme>:<node>`` (a node of a
built-in index, or of the latest version of one of the organisation's custom indices:
scheme ``custom:<version id>``). Breakdown keys: ``agency``, ``agency_kind``, ``district``, ``ward``,
``procedure_group``, or ``q:<question>`` for a single-choice or procedure question.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Campaign, QuestionnaireVersion, WeightRun
from ..models.codes import AGENCY_KIND_LABELS
from ..models.index_definitions import CUSTOM_PREFIX
from ..questionnaires import Questionnaire as Definition
from ..reporting import charts, tabular
from . import custom_indices
from .exports import _choice_codes
from .index_definitions import NODE_LABELS, SCHEMES, build_definition
from .scorecards import AGENCY, RULES, _status, analysis_frame, design_of

STATISTICS = {
    "auto": _l("Automatic (mean of numbers and scales, shares of choices)"),
    "mean": _l("Mean"),
    "proportion": _l("Share of each answer"),
    "total": _l("Estimated number in the population (total)"),
}
NUMERIC_TYPES = ("integer", "decimal", "rating")
CATEGORICAL_TYPES = ("select_one", "likert")
MIN_N_RANGE = (3, 10_000)
LEVEL_RANGE = (0.5, 0.999)
MAX_INDICATORS = 8
MAX_TREND_LINES = 7
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_COLUMNS = ("indicator", "indicator_label", "statistic", "category", "category_label",
                  "domain", "domain_label", "estimate", "se", "ci_low", "ci_high", "n", "deff",
                  "status", "reason")


class ExplorerFailed(ValidationFailed):
    """The query cannot be answered (the message says why, in the user's language)."""


def _text(label: dict | None, fallback: str) -> str:
    label = label or {}
    return label.get(str(get_locale())) or label.get("vi") or label.get("en") or fallback


# ---- what can be explored ------------------------------------------------------------------

@dataclass(frozen=True)
class Indicator:
    """Something to estimate: a question (its data column) or an index node."""

    key: str
    label: str
    group: str
    kind: str  # "numeric" | "likert" | "categorical" | "multiple" | "index"
    column: str | None = None
    categories: tuple[tuple[str, str], ...] = ()  # (value or column, label), in order
    scheme: str | None = None
    node: str | None = None


@dataclass(frozen=True)
class Breakdown:
    """A categorical variable the figures can be broken down by (or cross-tabulated)."""

    key: str
    label: str
    labels: tuple[tuple[str, str], ...] = ()  # value -> label, in display order


@dataclass(frozen=True)
class IndexChoice:
    """An index this questionnaire supports: a built-in scheme or a custom index version."""

    key: str
    label: str
    definition: object  # analysis.indices.IndexDefinition
    node_labels: dict


def index_choices(campaign: Campaign, definition: Definition) -> list[IndexChoice]:
    """The built-in schemes with items in the questionnaire, then the latest version of each
    of the organisation's custom indices whose items the questionnaire still has."""
    out = []
    for key, scheme in SCHEMES.items():
        index = build_definition(key, definition)
        if index is not None:
            out.append(IndexChoice(key, str(scheme.label), index,
                                   {k: str(v) for k, v in NODE_LABELS.items()}))
    for custom in custom_indices.list_indices(campaign.organisation_id):
        version = custom.latest
        if version is None:
            continue
        try:
            index = custom_indices.build_definition(version, definition)
        except custom_indices.CustomIndexInvalid:
            continue  # its items are not (all) in this questionnaire
        out.append(IndexChoice(f"{CUSTOM_PREFIX}:{version.id}",
                               _("Custom index: %(name)s (version %(number)d)",
                                 name=version.name, number=version.number), index,
                               custom_indices.node_labels(version)))
    return out


@dataclass(frozen=True)
class Catalogue:
    definition: Definition
    indicators: tuple[Indicator, ...]
    breakdowns: tuple[Breakdown, ...]
    indices: tuple[IndexChoice, ...] = ()

    def index(self, key: str) -> IndexChoice | None:
        return next((i for i in self.indices if i.key == key), None)

    def indicator(self, key: str) -> Indicator | None:
        return next((i for i in self.indicators if i.key == key), None)

    def breakdown(self, key: str) -> Breakdown | None:
        return next((b for b in self.breakdowns if b.key == key), None)

    @property
    def crosstab_variables(self) -> tuple[Breakdown, ...]:
        """Breakdowns and every single-choice/Likert question (for cross-tabs)."""
        seen = {b.key for b in self.breakdowns}
        extra = tuple(Breakdown(i.key, i.label, i.categories) for i in self.indicators
                      if i.kind in ("categorical", "likert") and i.key not in seen)
        return self.breakdowns + extra


def definition_of(campaign: Campaign) -> Definition:
    qv = (db.session.get(QuestionnaireVersion, campaign.questionnaire_version_id)
          if campaign.questionnaire_version_id else None)
    if qv is None:
        raise ExplorerFailed(_("This campaign has no frozen questionnaire version."))
    return Definition.from_dict(qv.document)


def _categories(definition: Definition, question) -> tuple[tuple[str, str], ...]:
    """The extract's numbers of a choice list's answers (as text) with their labels."""
    choices = definition.choice_list(question.list_name)
    if choices is None:
        return ()
    numbers = _choice_codes(choices)
    return tuple((str(numbers[c.code]), _text(c.label, c.code)) for c in choices.choices)


def catalogue(campaign: Campaign) -> Catalogue:
    """The campaign's indicators (questions, index nodes) and breakdowns."""
    definition = definition_of(campaign)
    indicators: list[Indicator] = []
    breakdowns: list[Breakdown] = [
        Breakdown(AGENCY, str(_("Agency")),
                  tuple((a.code, a.name) for a in campaign.agencies)),
        Breakdown("agency_kind", str(_("Level of the agency")),
                  tuple((str(k.value), str(v)) for k, v in AGENCY_KIND_LABELS.items())),
        Breakdown("district", str(_("District of the agency (city level for departments)"))),
        Breakdown("ward", str(_("Ward or commune of the agency"))),
        Breakdown("procedure_group", str(_("Field of the procedure"))),
    ]
    for q, ancestors in definition.walk():
        if getattr(q, "kind", "") != "question":
            continue
        group = _text(ancestors[0].label, ancestors[0].name) if ancestors else ""
        label = _text(q.label, q.name)
        if q.type in CATEGORICAL_TYPES:
            kind = "likert" if q.type == "likert" else "categorical"
            cats = _categories(definition, q)
            indicators.append(Indicator(f"q:{q.name}", label, group, kind, q.name, cats))
            if q.type == "select_one":
                breakdowns.append(Breakdown(f"q:{q.name}", label, cats))
        elif q.type == "select_multiple":
            choices = definition.choice_list(q.list_name)
            if choices is not None:
                cats = tuple((f"{q.name} = {c.code}", _text(c.label, c.code))
                             for c in choices.choices)
                indicators.append(Indicator(f"m:{q.name}", label, group, "multiple", q.name,
                                            cats))
        elif q.type in NUMERIC_TYPES or (q.type == "calculate" and "max_points" in
                                         (q.metadata or {})):
            indicators.append(Indicator(f"q:{q.name}", label, group, "numeric", q.name))
        elif q.type == "procedure":
            breakdowns.append(Breakdown(f"q:{q.name}", label, tuple(
                (p.code, p.name) for p in campaign.procedures)))
    indices = index_choices(campaign, definition)
    for choice in indices:
        index = choice.definition
        nodes = [d.name for d in index.dimensions]
        if index.overall is not None:
            nodes.insert(0, index.name)
        for node in nodes:
            indicators.append(Indicator(f"ix:{choice.key}:{node}",
                                        f"{choice.label}: {choice.node_labels.get(node, node)}",
                                        choice.label, "index", scheme=choice.key, node=node))
    return Catalogue(definition, tuple(indicators), tuple(breakdowns), tuple(indices))


# ---- the query -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """What to show: indicators, an optional breakdown, the statistic and the rules."""

    indicators: tuple[str, ...]
    by: str = ""
    statistic: str = "auto"
    min_n: int = 10
    confidence_level: float = 0.95
    rule: str = "auto"


def default_query(cat: Catalogue, campaign: Campaign | None = None) -> Query:
    """The first index's overall node (else the first indicator) by agency, with the
    publication rules of the campaign's newest scorecard run (else the scorecards' defaults):
    what is shown here is then what a scorecard would show."""
    from .scorecards import list_runs

    first = next((i for i in cat.indicators if i.kind == "index"), None) or \
        (cat.indicators[0] if cat.indicators else None)
    runs = list_runs(campaign) if campaign is not None else []
    rules = {} if not runs else {"min_n": max(runs[0].min_n, MIN_N_RANGE[0]),
                                 "confidence_level": runs[0].confidence_level,
                                 "rule": runs[0].rule}
    return Query((first.key,) if first else (), AGENCY, **rules)


def check_query(cat: Catalogue, query: Query) -> list[Indicator]:
    """The query's indicators, or a clear refusal (nothing computed)."""
    if not query.indicators:
        raise ExplorerFailed(_("Choose at least one indicator."))
    if len(query.indicators) > MAX_INDICATORS:
        raise ExplorerFailed(_("Choose at most %(n)d indicators at a time.", n=MAX_INDICATORS))
    chosen = []
    for key in query.indicators:
        ind = cat.indicator(key)
        if ind is None:
            raise ExplorerFailed(_("Unknown indicator: %(key)s.", key=key[:80]))
        if ind not in chosen:
            chosen.append(ind)
    if query.by and cat.breakdown(query.by) is None:
        raise ExplorerFailed(_("Unknown breakdown: %(key)s.", key=query.by[:80]))
    if query.statistic not in STATISTICS:
        raise ExplorerFailed(_("Unknown statistic."))
    for ind in chosen:
        if _statistic(ind, query.statistic) is None:
            raise ExplorerFailed(_("“%(statistic)s” does not apply to “%(indicator)s”.",
                                   statistic=str(STATISTICS[query.statistic]),
                                   indicator=ind.label))
    _check_rules(query.min_n, query.confidence_level, query.rule)
    return chosen


def _check_rules(min_n, level, rule) -> None:
    lo, hi = MIN_N_RANGE
    if not isinstance(min_n, int) or not lo <= min_n <= hi:
        raise ExplorerFailed(_("The minimum cell size must be a whole number from %(lo)d to "
                               "%(hi)d.", lo=lo, hi=hi))
    if not isinstance(level, (int, float)) or not math.isfinite(level) or \
            not LEVEL_RANGE[0] <= level <= LEVEL_RANGE[1]:
        raise ExplorerFailed(_("The confidence level must be from 0.5 to 0.999."))
    if rule not in RULES:
        raise ExplorerFailed(_("Unknown reliability rule."))


def _rule_for_other(rule: str) -> str:
    """NCHS applies to shares only: other figures get the CV rule under "nchs" too."""
    return "cv" if rule == "nchs" else rule


def _statistic(ind: Indicator, wanted: str) -> str | None:
    """The statistic estimated for ``ind`` (``None``: not applicable)."""
    if ind.kind == "index":
        return "index" if wanted == "auto" else None
    allowed = {"numeric": ("mean", "total"), "likert": ("mean", "proportion", "total"),
               "categorical": ("proportion", "total"), "multiple": ("proportion", "total")}
    if wanted == "auto":
        return allowed[ind.kind][0]
    return wanted if wanted in allowed[ind.kind] else None


# ---- the data ------------------------------------------------------------------------------

def _number(v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return math.nan  # None, na, dk, text
    return float(v)


def _category(v) -> str | None:
    if v is None or isinstance(v, str) and v in ("", "na", "dk"):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


@dataclass
class Frame:
    """The run's respondents as columns and their design.

    ``data`` is this request's dict (the design looks columns up in it): the raw columns of
    :func:`scorecards.analysis_frame` (possibly cached) and the registry's breakdowns; the
    cleaned columns the estimators need are added on first use (:meth:`numbers`,
    :meth:`categories`, :meth:`breakdown`), so a request cleans only what it shows.
    """

    campaign: Campaign
    run: WeightRun
    catalogue: Catalogue
    data: dict
    design: object = None
    _indices: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.data["weight"])

    def _derived(self, name: str, source: str, clean) -> str | None:
        if name not in self.data:
            if source not in self.data:
                return None
            values = self.data[source]
            self.data[name] = np.array([clean(v) for v in values],
                                       dtype=float if clean is _number else object)
        return name

    def numbers(self, column: str) -> str | None:
        """The column of ``column`` as numbers (na/dk/text: NaN), or None without data."""
        return self._derived(f"num:{column}", column, _number)

    def categories(self, column: str) -> str | None:
        """The column of ``column`` as category codes (text; na/dk/missing: None)."""
        return self._derived(f"cat:{column}", column, _category)

    def breakdown(self, key: str) -> str | None:
        """The column of breakdown (or cross-tab variable) ``key``."""
        if key.startswith("q:"):
            return self._derived(f"by:{key}", key[2:], _category)
        return f"by:{key}" if f"by:{key}" in self.data else None


def _agency_columns(campaign: Campaign, codes: np.ndarray) -> dict[str, np.ndarray]:
    """Derived breakdowns from the registry: agency level, district, ward."""
    kind, district, ward = {}, {}, {}
    for a in campaign.agencies:
        kind[a.code] = a.kind
        unit = a.admin_unit
        if unit is None:
            continue
        if unit.level == "commune":
            ward[a.code] = unit.name
            district[a.code] = unit.parent.name if unit.parent is not None else None
        elif unit.level == "district":
            district[a.code] = unit.name
        else:
            district[a.code] = str(_("City level"))
    return {"agency_kind": np.array([kind.get(c) for c in codes], dtype=object),
            "district": np.array([district.get(c) for c in codes], dtype=object),
            "ward": np.array([ward.get(c) for c in codes], dtype=object)}


# A few raw frames per process, keyed by the weighting run and a fingerprint of the approved
# interviews (a correction, an approval or a return changes it): a campaign of 20,000
# interviews takes seconds to extract (benchmarks/bench_explorer.py), the analyst's next
# request on the same run none. Only the extract's columns are kept; the registry's
# breakdowns and the cleaned columns are made per request.
_CACHE_LOCK = threading.Lock()


def _fingerprint(campaign: Campaign) -> tuple:
    from ..models import Interview, InterviewVersion
    from .interviews import approved_condition

    return tuple(db.session.execute(
        select(func.count(), func.max(InterviewVersion.id), func.sum(InterviewVersion.id))
        .select_from(InterviewVersion)
        .join(Interview, Interview.id == InterviewVersion.interview_id)
        .where(*approved_condition(campaign.id))).one())


def _raw_frame(campaign: Campaign, weight_run: WeightRun, definition: Definition) -> dict:
    size = int(current_app.config.get("EXPLORER_CACHE_SIZE", 4))
    if size <= 0:
        return analysis_frame(campaign, weight_run, definition)
    key = (campaign.id, weight_run.id, weight_run.input_sha256, str(weight_run.created_at),
           campaign.questionnaire_version_id, _fingerprint(campaign))
    cache = current_app.extensions.setdefault("explorer_frames", OrderedDict())
    with _CACHE_LOCK:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    raw = analysis_frame(campaign, weight_run, definition)
    with _CACHE_LOCK:
        cache[key] = raw
        while len(cache) > size:
            cache.popitem(last=False)
    return raw


def load_frame(campaign: Campaign, weight_run: WeightRun, cat: Catalogue | None = None) -> Frame:
    """The run's data and design (raises :class:`ExplorerFailed` when there are none)."""
    from analysis.errors import AnalysisError

    from .scorecards import ScorecardFailed

    cat = cat or catalogue(campaign)
    try:
        raw = _raw_frame(campaign, weight_run, cat.definition)
    except ScorecardFailed as exc:
        raise ExplorerFailed(exc.message) from None
    except ValidationFailed as exc:  # no approved interviews yet
        raise ExplorerFailed(exc.message) from None
    data = dict(raw)  # this request's columns: the cached arrays are never changed
    codes = raw[AGENCY]
    data["by:agency"] = np.array([c or None for c in codes], dtype=object)
    for key, values in _agency_columns(campaign, codes).items():
        data[f"by:{key}"] = values
    procedure_q = next((q.name for q in cat.definition.questions() if q.type == "procedure"),
                       None)
    fields = {p.code: p.field for p in campaign.procedures}
    procedures = raw[procedure_q] if procedure_q in raw else [None] * len(codes)
    data["by:procedure_group"] = np.array([fields.get(str(v)) if v else None
                                           for v in procedures], dtype=object)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            design = design_of(data)
    except AnalysisError as exc:
        raise ExplorerFailed(_("The design could not be declared: %(detail)s",
                               detail=str(exc))) from None
    return Frame(campaign, weight_run, cat, data, design)


def _crosstab_column(frame: Frame, key: str) -> str:
    column = frame.breakdown(key)
    if column is None and key.startswith("q:"):
        column = frame.categories(key[2:])
    if column is None:
        raise ExplorerFailed(_("The data have no values for “%(key)s”.", key=key[:80]))
    return column


# ---- estimates -----------------------------------------------------------------------------

def _labels_of(frame: Frame, key: str) -> dict[str, str]:
    b = frame.catalogue.breakdown(key) or next(
        (v for v in frame.catalogue.crosstab_variables if v.key == key), None)
    return dict(b.labels) if b is not None else {}


def _finite(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _row(ind: Indicator, statistic: str, category: str | None, category_label: str | None,
         domain: str | None, domain_label: str, e, flag, deff=None) -> dict:
    """A table row: the estimate blanked when suppressed (only its n and reason kept)."""
    status, reason = _status(flag)
    shown = flag.estimate is not None
    return {"indicator": ind.key, "indicator_label": ind.label, "statistic": statistic,
            "category": category, "category_label": category_label, "domain": domain,
            "domain_label": domain_label,
            "estimate": _finite(e["estimate"]) if shown else None,
            "se": _finite(e["se"]) if shown else None,
            "ci_low": _finite(flag.ci_low), "ci_high": _finite(flag.ci_high),
            "n": int(e["n"]), "deff": _finite(deff) if shown and deff is not None else None,
            "status": status, "reason": reason}


def _domain_label(labels: dict[str, str], value: str | None) -> str:
    if value is None:
        return str(_("Total"))
    return labels.get(value, value)


def _estimate_question(frame: Frame, ind: Indicator, statistic: str, query: Query) -> list[dict]:
    from analysis import estimate
    from analysis.reliability import figure_status

    by = frame.breakdown(query.by) if query.by else None
    labels = _labels_of(frame, query.by) if query.by else {}
    cats = dict(ind.categories)
    if ind.kind == "multiple":
        # each option's 0/1 column: its proportion of 1 (KG interval), or its total
        columns = [c for c in (frame.numbers(s) for s, _label in ind.categories) if c]
    elif statistic == "mean" or (statistic == "total" and ind.kind == "numeric"):
        columns = [c for c in [frame.numbers(ind.column)] if c]
    else:
        columns = [c for c in [frame.categories(ind.column)] if c]
    if not columns or (query.by and by is None):
        raise ExplorerFailed(_("The data have no values for “%(indicator)s”.",
                               indicator=ind.label))
    spec = {statistic: columns}
    share = statistic == "proportion"
    ci_method = "beta" if share else "wald"
    rows: list[dict] = []
    for domain_by in ([None, by] if by else [None]):
        table = estimate(frame.design, by=domain_by, missing="omit",
                         confidence_level=query.confidence_level, ci_method=ci_method, **spec)
        for e in table:
            if ind.kind == "multiple":
                if share and e.category != "1":
                    continue  # the share not choosing the option is its complement
                source = e.variable[len("num:"):]
                category, category_label = source, cats.get(source, source)
            else:
                category = e.category
                category_label = None if category is None else cats.get(category, category)
            domain = None if e.domain is None else dict(e.domain)[domain_by]
            flag = figure_status(e.value, e.se, e.ci_low, e.ci_high, e.n, e.df, share=share,
                                 rule=query.rule if share else _rule_for_other(query.rule),
                                 min_n=query.min_n)
            rows.append(_row(ind, statistic, category, category_label, domain,
                             _domain_label(labels, domain),
                             {"estimate": e.value, "se": e.se, "n": e.n}, flag, e.deff))
    return _ordered(rows, ind, labels)


def _ordered(rows: list[dict], ind: Indicator, labels: dict[str, str]) -> list[dict]:
    """Total first, then domains in the breakdown's order; categories in the list's order."""
    cat_order = {c: k for k, (c, _label) in enumerate(ind.categories)}
    dom_order = {c: k for k, c in enumerate(labels)}

    def key(r):
        d = r["domain"]
        return (d is not None, dom_order.get(d, len(dom_order)), r["domain_label"],
                cat_order.get(r["category"], len(cat_order)), str(r["category"]))

    return sorted(rows, key=key)


def _index_result(frame: Frame, scheme: str, query: Query):
    from analysis.indices import compute_index
    from analysis.reliability import scorecard

    key = (scheme, query.by, query.confidence_level, query.min_n, query.rule)
    if key not in frame._indices:
        index = frame.catalogue.index(scheme).definition
        by = frame.breakdown(query.by) if query.by else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = compute_index(index, frame.data, frame.design, by=by,
                                   confidence_level=query.confidence_level,
                                   include_total=by is not None)
        share = all(abs(r.minimum) < 1e-12 and abs(r.maximum - 1) < 1e-12
                    for r in result.rows if math.isfinite(r.maximum))
        flags = scorecard(result, rule=query.rule if share else _rule_for_other(query.rule),
                          min_n=query.min_n,
                          levels=("item", "dimension", "overall"))
        frame._indices[key] = (result, flags, by)
    return frame._indices[key]


def _estimate_index(frame: Frame, ind: Indicator, query: Query) -> list[dict]:
    result, flags, by = _index_result(frame, ind.scheme, query)
    labels = _labels_of(frame, query.by) if query.by else {}
    rows = []
    for r, f in zip([r for r in result.rows if r.level != "item"],
                    [f for f in flags if f.level != "item"], strict=True):
        if r.node != ind.node:
            continue
        domain = None if r.domain is None else r.domain_dict[by]
        rows.append(_row(ind, "index", None, None, domain, _domain_label(labels, domain),
                         {"estimate": r.estimate, "se": r.se, "n": r.n}, f, r.deff))
    return _ordered(rows, ind, labels)


def estimate_indicator(frame: Frame, ind: Indicator, query: Query) -> list[dict]:
    """The indicator's rows (total, then each domain of the breakdown), cells blanked."""
    from analysis.errors import AnalysisError

    statistic = _statistic(ind, query.statistic)
    try:
        if ind.kind == "index":
            return _estimate_index(frame, ind, query)
        return _estimate_question(frame, ind, statistic, query)
    except AnalysisError as exc:
        raise ExplorerFailed(_("“%(indicator)s” could not be estimated: %(detail)s",
                               indicator=ind.label, detail=str(exc))) from None


# ---- charts --------------------------------------------------------------------------------

def _chart(ind: Indicator, rows: list[dict], by: str) -> dict | None:
    """Categories as bars with error bars (one series per category when broken down);
    a single figure per domain as a dot plot of the domains (the total included)."""
    shown = [{"label": r["domain_label"], "series": r["category_label"],
              "value": r["estimate"], "estimate": r["estimate"], "ci_low": r["ci_low"],
              "ci_high": r["ci_high"], "domain": r["domain"]}
             for r in rows if r["estimate"] is not None]
    categorical = any(r["category"] is not None for r in rows)
    if categorical:
        if by:
            return charts.bar_chart([s for s in shown if s["domain"] is not None],
                                    series_key="series")
        return charts.bar_chart([{**s, "label": s["series"]} for s in shown])
    if by:
        return charts.dot_plot(shown)
    return charts.bar_chart(shown)


# ---- the page ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    indicator: Indicator
    statistic: str
    rows: list[dict]
    chart: dict | None
    trend: dict | None = None
    suppressed: bool = False


def explore(campaign: Campaign, weight_run: WeightRun, query: Query,
            cat: Catalogue | None = None, *, with_trend: bool = True) -> list[Section]:
    """The figures, charts and trends of the query (raises :class:`ExplorerFailed`)."""
    cat = cat or catalogue(campaign)
    chosen = check_query(cat, query)
    frame = load_frame(campaign, weight_run, cat)
    trends = trend(campaign, weight_run, query, chosen) if with_trend else {}
    out = []
    for ind in chosen:
        rows = estimate_indicator(frame, ind, query)
        out.append(Section(ind, _statistic(ind, query.statistic), rows,
                           _chart(ind, rows, query.by), trends.get(ind.key),
                           any(r["status"] == "suppressed" for r in rows)))
    return out


def export_rows(campaign: Campaign, weight_run: WeightRun, query: Query, fmt: str) -> bytes:
    """The query's table as CSV (UTF-8 with BOM) or XLSX; suppressed cells stay blank."""
    if fmt not in EXPORT_FORMATS:
        raise ExplorerFailed(_("Unknown file format."))
    rows = [r for s in explore(campaign, weight_run, query, with_trend=False) for r in s.rows]
    if fmt == "csv":
        return tabular.to_csv(list(EXPORT_COLUMNS), rows)
    return tabular.to_xlsx(list(EXPORT_COLUMNS), rows, "explorer")


# ---- trends across years -------------------------------------------------------------------

def same_questionnaire_campaigns(campaign: Campaign) -> list[tuple[Campaign, WeightRun]]:
    """The organisation's campaigns asking the same questionnaire (by its name), each with
    its newest weighting run, one per year (the newest campaign of a year), oldest first."""
    from .weighting import list_runs

    name = definition_of(campaign).name
    found: dict[int, tuple[Campaign, WeightRun]] = {}
    others = db.session.scalars(select(Campaign).where(
        Campaign.organisation_id == campaign.organisation_id,
        Campaign.questionnaire_version_id.is_not(None)).order_by(Campaign.year, Campaign.id))
    for other in others:
        qv = db.session.get(QuestionnaireVersion, other.questionnaire_version_id)
        if qv is None or Definition.from_dict(qv.document).name != name:
            continue
        runs = list_runs(other)
        if runs:
            found[other.year] = (other, runs[0])
    return [found[y] for y in sorted(found)]


def trend(campaign: Campaign, weight_run: WeightRun, query: Query,
          chosen: Iterable[Indicator]) -> dict[str, dict]:
    """Per indicator, the trend chart across the organisation's years (this campaign with
    the run shown, the others with their newest run); only when two years or more have it.

    A single figure: the total and, with a breakdown of at most ``MAX_TREND_LINES``
    domains, one line per domain. Shares of answers: one line per answer (totals).
    """
    years = same_questionnaire_campaigns(campaign)
    years = [(c, weight_run if c.id == campaign.id else r) for c, r in years]
    if len({c.year for c, _r in years}) < 2:
        return {}
    points: dict[str, dict[str, list[dict]]] = {}
    for other, run in years:
        try:
            cat = catalogue(other)
            frame = load_frame(other, run, cat)
        except ExplorerFailed:
            continue  # a year without usable data is a gap in the lines
        for ind in chosen:
            twin = cat.indicator(ind.key)
            if twin is None or (query.by and cat.breakdown(query.by) is None):
                continue
            try:
                rows = estimate_indicator(frame, twin, query)
            except ExplorerFailed:
                continue
            for r in rows:
                if r["estimate"] is None:
                    continue
                if r["category"] is not None:
                    if r["domain"] is not None:
                        continue
                    line = r["category_label"]
                else:
                    line = r["domain_label"]
                points.setdefault(ind.key, {}).setdefault(line, []).append(
                    {"year": other.year, "value": r["estimate"], "ci_low": r["ci_low"],
                     "ci_high": r["ci_high"]})
    out = {}
    total = str(_("Total"))
    for key, lines in points.items():
        if len({p["year"] for ps in lines.values() for p in ps}) < 2:
            continue
        names = list(lines)
        if total in names and len(names) > MAX_TREND_LINES + 1:
            names = [total]
        out[key] = charts.trend_lines([{"label": n, "points": lines[n]} for n in names])
    return out


# ---- cross-tabs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CrossTab:
    rows_var: Breakdown
    cols_var: Breakdown
    row_labels: list[tuple[str | None, str, int]]  # (value, label, n)
    col_labels: list[tuple[str, str]]
    cells: dict  # (row value or None, col value) -> row dict
    test: dict
    chart: dict | None
    suppressed: bool


def crosstab(campaign: Campaign, weight_run: WeightRun, rows_key: str, cols_key: str, *,
             min_n: int = 10, confidence_level: float = 0.95, rule: str = "auto",
             cat: Catalogue | None = None) -> CrossTab:
    """Row percentages (the distribution of the column variable within each row category,
    with Korn–Graubard intervals) and the Rao–Scott test of independence (``svychisq``'s
    second-order F)."""
    from analysis import estimate
    from analysis.errors import AnalysisError
    from analysis.reliability import figure_status
    from analysis.svytests import chisq

    cat = cat or catalogue(campaign)
    variables = {v.key: v for v in cat.crosstab_variables}
    rv, cv = variables.get(rows_key), variables.get(cols_key)
    if rv is None or cv is None:
        raise ExplorerFailed(_("Choose the two variables of the cross-tab among those "
                               "listed."))
    if rows_key == cols_key:
        raise ExplorerFailed(_("Choose two different variables for the rows and the "
                               "columns."))
    _check_rules(min_n, confidence_level, rule)
    frame = load_frame(campaign, weight_run, cat)
    rcol, ccol = _crosstab_column(frame, rows_key), _crosstab_column(frame, cols_key)
    rlabels, clabels = _labels_of(frame, rows_key), _labels_of(frame, cols_key)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = chisq(frame.design, rcol, ccol)
            both = np.array([a is not None and b is not None
                             for a, b in zip(frame.data[rcol], frame.data[ccol], strict=True)])
            # the column variable among rows where both are known (chisq's rows)
            data = dict(frame.data)
            data["xt:col"] = np.array([v if ok else None for v, ok in
                                       zip(frame.data[ccol], both, strict=True)], dtype=object)
            design = design_of(data)
            tables = [estimate(design, proportion="xt:col", by=by, ci_method="beta",
                               confidence_level=confidence_level)
                      for by in (None, rcol)]
    except AnalysisError as exc:
        raise ExplorerFailed(_("The cross-tab could not be computed: %(detail)s",
                               detail=str(exc))) from None
    cells: dict = {}
    row_n: dict = {}
    for table in tables:
        for e in table:
            r = None if e.domain is None else dict(e.domain)[rcol]
            flag = figure_status(e.value, e.se, e.ci_low, e.ci_high, e.n, e.df, share=True,
                                 rule=rule, min_n=min_n)
            status, reason = _status(flag)
            row_n[r] = int(e.n)
            cells[(r, e.category)] = {
                "row": r, "row_label": _domain_label(rlabels, r), "col": e.category,
                "col_label": clabels.get(e.category, e.category),
                "estimate": _finite(e.value) if flag.estimate is not None else None,
                "se": _finite(e.se) if flag.estimate is not None else None,
                "ci_low": _finite(flag.ci_low), "ci_high": _finite(flag.ci_high),
                "n": int(e.n), "status": status, "reason": reason}
    seen_rows = {k[0] for k in cells}
    seen_cols = {k[1] for k in cells}
    row_order = [v for v in rlabels if v in seen_rows] + sorted(
        v for v in seen_rows if v is not None and v not in rlabels)
    col_order = [v for v in clabels if v in seen_cols] + sorted(
        v for v in seen_cols if v not in clabels)
    row_labels = [(v, _domain_label(rlabels, v), row_n.get(v, 0)) for v in row_order]
    row_labels.append((None, str(_("Total")), row_n.get(None, 0)))
    col_labels = [(v, clabels.get(v, v)) for v in col_order]
    chart = charts.bar_chart(
        [{"label": c["row_label"], "series": c["col_label"], "value": c["estimate"],
          "ci_low": c["ci_low"], "ci_high": c["ci_high"]}
         for v, _lab, _n in row_labels for cv_, _cl in col_labels
         if (c := cells.get((v, cv_))) is not None and c["estimate"] is not None],
        series_key="series", domain=(0.0, 1.0))
    return CrossTab(rv, cv, row_labels, col_labels, cells,
                    {"statistic": _finite(test.statistic), "ndf": _finite(test.ndf),
                     "ddf": _finite(test.ddf), "p_value": _finite(test.p_value),
                     "pearson": _finite(test.pearson), "method": test.method},
                    chart, any(c["status"] == "suppressed" for c in cells.values()))


CROSSTAB_COLUMNS = ("row", "row_label", "col", "col_label", "estimate", "se", "ci_low",
                    "ci_high", "n", "status", "reason", "rao_scott_f", "ndf", "ddf", "p_value")


def export_crosstab(campaign: Campaign, weight_run: WeightRun, rows_key: str, cols_key: str,
                    *, fmt: str, min_n: int = 10, confidence_level: float = 0.95,
                    rule: str = "auto") -> bytes:
    """The cross-tab's cells (row percentages) with the test on every line; CSV or XLSX."""
    if fmt not in EXPORT_FORMATS:
        raise ExplorerFailed(_("Unknown file format."))
    xt = crosstab(campaign, weight_run, rows_key, cols_key, min_n=min_n,
                  confidence_level=confidence_level, rule=rule)
    test = {"rao_scott_f": xt.test["statistic"], "ndf": xt.test["ndf"],
            "ddf": xt.test["ddf"], "p_value": xt.test["p_value"]}
    rows = [{**xt.cells[(v, c)], **test} for v, _l, _n in xt.row_labels
            for c, _cl in xt.col_labels if (v, c) in xt.cells]
    if fmt == "csv":
        return tabular.to_csv(list(CROSSTAB_COLUMNS), rows)
    return tabular.to_xlsx(list(CROSSTAB_COLUMNS), rows, "crosstab")


# ---- choices for the forms -----------------------------------------------------------------

def run_choices(campaign: Campaign) -> list[tuple[int, str]]:
    from .weighting import list_runs

    return [(r.id, _("Weighting run %(number)s", number=r.number)) for r in list_runs(campaign)]


def pick_run(campaign: Campaign, run_id: int | None) -> WeightRun:
    """The weighting run asked for (one of the campaign's), else the newest one."""
    from .weighting import get_run_of, list_runs

    if run_id:
        run = get_run_of(campaign.id, run_id)
        if run is None:
            raise ExplorerFailed(_("Choose one of this campaign's weighting runs."))
        return run
    runs = list_runs(campaign)
    if not runs:
        raise ExplorerFailed(_("This campaign has no weighting run yet: compute the weights "
                               "first."))
    return runs[0]


# ---- the pages -----------------------------------------------------------------------------

def _newest_run_id(campaign: Campaign) -> int | None:
    runs = run_choices(campaign)
    return runs[0][0] if runs else None


def form_choices(campaign: Campaign) -> dict:
    """The explorer form's choices (indicators with their section) and its defaults."""
    cat = catalogue(campaign)
    query = default_query(cat, campaign)
    return {"runs": run_choices(campaign),
            "indicators": [(i.key, i.label, i.group or str(_("Other questions")))
                           for i in cat.indicators],
            "breakdowns": [("", str(_("No breakdown (the total only)")))] +
                          [(b.key, b.label) for b in cat.breakdowns],
            "statistics": [(k, str(v)) for k, v in STATISTICS.items()],
            "defaults": {"run": _newest_run_id(campaign), "indicator": list(query.indicators),
                         "by": query.by, "statistic": query.statistic, "min_n": query.min_n,
                         "confidence_level": query.confidence_level, "rule": query.rule}}


def explore_page(campaign: Campaign, run_id: int | None, query: Query) -> dict:
    """What the explorer page shows for the query (raises :class:`ExplorerFailed`)."""
    run = pick_run(campaign, run_id)
    labels = {k: str(v) for k, v in STATISTICS.items()} | {
        "index": str(_("Index value (weighted, by the index's method)"))}
    return {"run": run, "query": query, "sections": explore(campaign, run, query),
            "statistic_labels": labels}


def export_page(campaign: Campaign, run_id: int | None, query: Query, fmt: str) -> bytes:
    return export_rows(campaign, pick_run(campaign, run_id), query, fmt)


def crosstab_choices(campaign: Campaign) -> dict:
    """The cross-tab form's variables and defaults (the channel by overall satisfaction
    when the questionnaire has them, else the first two variables; the rules as
    :func:`default_query`)."""
    cat = catalogue(campaign)
    variables = [(v.key, v.label) for v in cat.crosstab_variables]
    keys = [k for k, _label in variables]
    rows = next((k for k in keys if k == "q:kenh"), keys[0] if keys else "")
    overall = next((q.name for q in cat.definition.questions()
                    if (q.metadata or {}).get("content") == "hai_long_chung"), None)
    cols = f"q:{overall}" if overall and f"q:{overall}" in keys else \
        next((k for k in keys if k != rows), "")
    rules = default_query(cat, campaign)
    return {"runs": run_choices(campaign), "variables": variables,
            "defaults": {"run": _newest_run_id(campaign), "rows": rows, "cols": cols,
                         "min_n": rules.min_n, "confidence_level": rules.confidence_level,
                         "rule": rules.rule}}


def crosstab_page(campaign: Campaign, run_id: int | None, **options) -> dict:
    run = pick_run(campaign, run_id)
    return {"run": run, "xt": crosstab(campaign, run, **options)}


def export_crosstab_page(campaign: Campaign, run_id: int | None, fmt: str, **options) -> bytes:
    return export_crosstab(campaign, pick_run(campaign, run_id), fmt=fmt, **options)
