"""Key-driver analysis (issue 10 item 2): which dimensions of an index go together with
overall satisfaction, with the uncertainty of each.

The respondents and the design are the explorer's (:func:`explorer.load_frame`: a stored
weighting run's respondents in the analysis extract, the scorecards' design). Each
respondent's dimension scores come from the chosen scheme's index tree
(:func:`analysis.drivers.respondent_scores`); the outcome is an overall question (by
default the one tagged ``content: hai_long_chung``, "overall, how satisfied are you"), not
the overall index: the index is by construction the average of its dimensions, so
regressing it on them would only return the construction's weights. The model is
``analysis.drivers.key_drivers`` (R's ``svyglm``, linear). A scheme with one dimension
(Circular 01) uses its items as drivers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from flask_babel import gettext as _

from ..models import Campaign, WeightRun
from ..reporting import charts, tabular
from . import explorer
from .explorer import ExplorerFailed
from .scorecards import design_of

OUTCOME_TYPES = ("likert", "rating", "integer", "decimal")
# A dimension score is over the items that applied to the respondent: the questionnaire's
# skip logic leaves items out on purpose (feedback items only for those who gave feedback).
MIN_SHARE = 0.0
OVERALL_CONTENT = "hai_long_chung"
LEVEL_RANGE = explorer.LEVEL_RANGE
EXPORT_FORMATS = explorer.EXPORT_FORMATS
EXPORT_COLUMNS = ("driver", "label", "coefficient", "se", "ci_low", "ci_high", "standardized",
                  "standardized_se", "standardized_ci_low", "standardized_ci_high", "t",
                  "p_value", "mean", "sd", "outcome", "n", "r_squared", "df_residual")


def _min_rows(k: int) -> int:
    """Respondents needed for a model with ``k`` drivers (a rule of thumb: 5 per
    coefficient, at least 20) — fewer give intervals too wide to read."""
    return max(20, 5 * (k + 1))


@dataclass(frozen=True)
class DriverQuery:
    scheme: str
    outcome: str
    confidence_level: float = 0.95


def choices(campaign: Campaign, cat: explorer.Catalogue | None = None) -> dict[str, list]:
    """The form's choices: schemes the questionnaire supports, and the outcome questions
    (scales and numbers that are not items of an index), the overall question first."""
    cat = cat or explorer.catalogue(campaign)
    schemes = []
    used: set[str] = set()
    for choice in cat.indices:
        used |= {it.name for it in choice.definition.items}
        if len(_drivers(choice, cat.definition)) >= 2:
            schemes.append((choice.key, choice.label))
    outcomes = []
    for q in cat.definition.questions():
        if q.type in OUTCOME_TYPES and q.name not in used:
            label = explorer._text(q.label, q.name)
            position = 0 if (q.metadata or {}).get("content") == OVERALL_CONTENT \
                else len(outcomes)
            outcomes.insert(position, (q.name, label))
    return {"schemes": schemes, "outcomes": outcomes}


def default_query(campaign: Campaign, cat: explorer.Catalogue | None = None) -> DriverQuery:
    c = choices(campaign, cat)
    return DriverQuery(c["schemes"][0][0] if c["schemes"] else "",
                       c["outcomes"][0][0] if c["outcomes"] else "")


def _drivers(choice: explorer.IndexChoice, definition) -> list[tuple[str, str]]:
    """(node, label) of the drivers: the dimensions, or the items of a single dimension."""
    index = choice.definition
    if len(index.dimensions) >= 2:
        return [(d.name, choice.node_labels.get(d.name, d.name)) for d in index.dimensions]
    out = []
    for it in index.dimensions[0].items:
        q = definition.find(it.name)
        out.append((it.name, explorer._text(q.label, it.name) if q is not None else it.name))
    return out


@dataclass(frozen=True)
class DriverPage:
    query: DriverQuery
    scheme_label: str
    outcome_label: str
    outcome_range: tuple[float, float] | None
    result: object  # analysis.drivers.DriverResult
    rows: list[dict]
    chart: dict | None
    strongest: dict | None
    unclear: list[str]
    n_respondents: int


def analyse(campaign: Campaign, weight_run: WeightRun, query: DriverQuery,
            cat: explorer.Catalogue | None = None) -> DriverPage:
    """Fit the key-driver model of the query (raises :class:`ExplorerFailed`)."""
    from analysis.drivers import key_drivers, respondent_scores
    from analysis.errors import AnalysisError

    cat = cat or explorer.catalogue(campaign)
    offered = choices(campaign, cat)
    if query.scheme not in dict(offered["schemes"]):
        raise ExplorerFailed(_("Choose one of the indices listed."))
    if query.outcome not in dict(offered["outcomes"]):
        raise ExplorerFailed(_("Choose one of the overall questions listed."))
    level = query.confidence_level
    if not isinstance(level, (int, float)) or not math.isfinite(level) or \
            not LEVEL_RANGE[0] <= level <= LEVEL_RANGE[1]:
        raise ExplorerFailed(_("The confidence level must be from 0.5 to 0.999."))
    frame = explorer.load_frame(campaign, weight_run, cat)
    choice = cat.index(query.scheme)
    index = choice.definition
    drivers = _drivers(choice, cat.definition)
    data = dict(frame.data)
    try:
        scores = respondent_scores(index, data, min_share=MIN_SHARE)
    except AnalysisError as exc:
        raise ExplorerFailed(_("The dimension scores could not be computed: %(detail)s",
                               detail=str(exc))) from None
    # formula-safe column names; the labels carry the meaning
    columns = []
    for k, (node, _label) in enumerate(drivers):
        data[f"kd_x{k}"] = scores[node]
        columns.append(f"kd_x{k}")
    data["kd_y"] = np.array([explorer._number(v) for v in data[query.outcome]])
    complete = np.isfinite(data["kd_y"])
    for c in columns:
        complete &= np.isfinite(data[c])
    needed = _min_rows(len(columns))
    if int(complete.sum()) < needed:
        raise ExplorerFailed(_("Only %(n)d respondents have the outcome and every driver; a "
                               "model with %(k)d drivers needs at least %(m)d.",
                               n=int(complete.sum()), k=len(columns), m=needed))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            design = design_of(data)
            result = key_drivers(design, "kd_y", columns,
                                 labels={c: label for c, (_n, label) in zip(columns, drivers,
                                                                            strict=True)},
                                 confidence_level=level)
    except AnalysisError as exc:
        raise ExplorerFailed(_("The model could not be fitted: %(detail)s",
                               detail=str(exc))) from None
    node_of = {c: node for c, (node, _label) in zip(columns, drivers, strict=True)}
    rows = [{**d.to_dict(), "driver": node_of[d.name], "outcome": query.outcome,
             "n": result.n, "r_squared": result.r_squared,
             "df_residual": result.df_residual} for d in result.drivers]
    chart = charts.coefficient_plot([{"label": r["label"], "estimate": r["standardized"],
                                      "ci_low": r["standardized_ci_low"],
                                      "ci_high": r["standardized_ci_high"]} for r in rows])
    clear = [r for r in rows if r["standardized_ci_low"] is not None
             and r["standardized_ci_low"] > 0]
    unclear = [r["label"] for r in rows if not (r["standardized_ci_low"] or 0) > 0
               and not (r["standardized_ci_high"] or 0) < 0]
    question = cat.definition.find(query.outcome)
    rng = None
    if question is not None and question.type == "likert":
        codes = [float(c) for c, _label in explorer._categories(cat.definition, question)]
        rng = (min(codes), max(codes)) if codes else None
    elif question is not None and question.type == "rating":
        rng = (0.0, 10.0)
    return DriverPage(query, choice.label,
                      dict(offered["outcomes"])[query.outcome], rng, result, rows, chart,
                      clear[0] if clear else None, unclear, len(frame))


def export_drivers(campaign: Campaign, weight_run: WeightRun, query: DriverQuery,
                   fmt: str) -> bytes:
    """The model's table (one row per driver) as CSV (UTF-8 with BOM) or XLSX."""
    if fmt not in EXPORT_FORMATS:
        raise ExplorerFailed(_("Unknown file format."))
    page = analyse(campaign, weight_run, query)
    if fmt == "csv":
        return tabular.to_csv(list(EXPORT_COLUMNS), page.rows)
    return tabular.to_xlsx(list(EXPORT_COLUMNS), page.rows, "key_drivers")


# ---- the page ------------------------------------------------------------------------------

def form_choices(campaign: Campaign) -> dict:
    """The form's choices (weighting runs, indices, overall questions) and its defaults."""
    cat = explorer.catalogue(campaign)
    offered = choices(campaign, cat)
    query = default_query(campaign, cat)
    runs = explorer.run_choices(campaign)
    return {"runs": runs, **offered,
            "defaults": {"run": runs[0][0] if runs else None, "scheme": query.scheme,
                         "outcome": query.outcome, "confidence_level": 0.95}}


def drivers_page(campaign: Campaign, run_id: int | None, query: DriverQuery) -> dict:
    run = explorer.pick_run(campaign, run_id)
    return {"run": run, "kd": analyse(campaign, run, query)}


def export_page(campaign: Campaign, run_id: int | None, query: DriverQuery, fmt: str) -> bytes:
    return export_drivers(campaign, explorer.pick_run(campaign, run_id), query, fmt)
