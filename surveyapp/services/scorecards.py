"""Scorecard runs (issue 9): index estimates per agency with reliability flags, suppression
of small cells, rank intervals and performance bands — stored, versioned, never overwritten.

``compute_scorecard`` reads the analysis extract of the campaign (``exports.build_extract``:
no identifying data), keeps the respondents of the weighting run, declares the design
(strata and PSUs of the locked plan, the run's final weights), and calls ``analysis`` only:
``compute_index`` (agencies and the city total), ``reliability.scorecard``,
``ranking.rank_intervals`` and ``ranking.performance_bands`` on the top node(s) of the index
over the agencies not suppressed. One commit.

A suppressed row keeps its estimate and CI in the database (so the run can be verified),
but :func:`run_rows` — what pages, exports and :func:`api_document` read — returns them
blanked with the reason.

The index is a built-in scheme (``index_definitions``) or a version of one of the
organisation's custom indices (``custom_indices``; the run names the version). A band table
(``band_tables``: data, never constants) grades the top nodes; the run keeps a copy of it.
The run's comparisons — each agency against the city total and against the previous year
(``scorecard_comparisons``) — are computed once with it and stored.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import insert, select

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import Campaign, QuestionnaireVersion, WeightRun
from ..models._types import as_utc
from ..models.codes import AuditAction
from ..models.index_definitions import CUSTOM_PREFIX
from ..models.scorecards import (
    ComparisonKind,
    ScorecardComparison,
    ScorecardRow,
    ScorecardRun,
    ScorecardStatus,
)
from ..questionnaires import Questionnaire as Definition
from ..reporting import charts, tabular
from . import audit, band_tables, custom_indices, numbered_runs
from . import scorecard_comparisons as comparisons
from .exports import build_extract
from .index_definitions import NODE_LABELS, SCHEMES, build_definition
from .weighting import analysis_weights

RULES = ("auto", "nchs", "cv")
AGENCY = "agency"
RANK_DRAWS = 10_000


class ScorecardFailed(ValidationFailed):
    """The scorecard could not be computed (the message says why); nothing was stored."""


@dataclass(frozen=True)
class Options:
    index_key: str
    confidence_level: float = 0.95
    min_n: int = 10
    rule: str = "auto"
    seed: int = 20240903
    band_table: str = band_tables.DEFAULT  # "default" | "none" | a band table's id


def _custom_version_id(index_key: str) -> int | None:
    """``"custom:<version id>"`` names a version of a custom index."""
    prefix, sep, rest = str(index_key).partition(":")
    if prefix == CUSTOM_PREFIX and sep and rest.isdigit():
        return int(rest)
    return None


def _check_options(options: Options) -> None:
    if options.index_key not in SCHEMES and _custom_version_id(options.index_key) is None:
        raise ScorecardFailed(_("Unknown index: choose SIPAS, Circular 01 or PAPI."))
    level = options.confidence_level
    if not isinstance(level, (int, float)) or not math.isfinite(level) or not 0.5 <= level < 1:
        raise ScorecardFailed(_("The confidence level must be at least 0.5 and below 1."))
    if not isinstance(options.min_n, int) or not 1 <= options.min_n <= 10_000:
        raise ScorecardFailed(_("The minimum cell size must be a whole number from 1 to "
                                "10000."))
    if options.rule not in RULES:
        raise ScorecardFailed(_("Unknown reliability rule."))
    if not isinstance(options.seed, int) or not 0 <= options.seed < 2 ** 31:
        raise ScorecardFailed(_("The seed must be a whole number from 0 to 2147483647."))


def _definition(campaign: Campaign) -> Definition:
    qv = (db.session.get(QuestionnaireVersion, campaign.questionnaire_version_id)
          if campaign.questionnaire_version_id else None)
    if qv is None:
        raise ScorecardFailed(_("This campaign has no frozen questionnaire version."))
    return Definition.from_dict(qv.document)


def analysis_frame(campaign: Campaign, weight_run: WeightRun, definition: Definition,
                   columns=None):
    """(data, design inputs) of the run's respondents from the analysis extract.

    ``data`` has one column per question name, one 0/1 column per choice of a multiple
    choice keyed by the extract variable's source (``"<question> = <code>"``), plus
    ``agency`` (the agency question's code), ``stratum``, ``psu`` and ``weight`` (the run's
    final weight). ``columns``: only these of the question columns (``None``: all), so
    only their questions are read into the extract.
    """
    agency_q = next((q.name for q in definition.questions() if q.type == "agency"), None)
    questions = None
    if columns is not None:
        questions = {q.name for q in definition.questions()
                     if q.name in columns or any(c.startswith(f"{q.name} = ") for c in columns)}
        questions.add(agency_q)
    extract = build_extract(campaign, questions=questions)
    weights = analysis_weights(weight_run)
    by_source = {v.source: v.name for v in extract.variables}
    if agency_q is None or agency_q not in by_source:
        raise ScorecardFailed(_("The questionnaire has no agency question: scorecards are "
                                "computed per agency."))
    ids = extract.columns["resp_id"]
    weight = [weights.get(rid) for rid in ids]
    keep = np.array([i for i, w in enumerate(weight) if w is not None], dtype=np.intp)
    if not len(keep):
        raise ScorecardFailed(_("No respondent of this weighting run is among the approved "
                                "interviews."))

    def column(values) -> np.ndarray:  # the run's respondents' values, in extract order
        return np.array(values, dtype=object)[keep]

    data: dict[str, np.ndarray] = {}
    for q in definition.questions():
        choices = definition.choice_list(q.list_name) if q.type == "select_multiple" else None
        sources = [f"{q.name} = {c}" for c in choices.codes()] if choices else [q.name]
        for source in sources:
            col = by_source.get(source)
            if col is not None:
                data[source] = column(extract.columns[col])
    agency = column(extract.columns[by_source[agency_q]])
    data[AGENCY] = np.array(["" if a is None else str(a) for a in agency], dtype=object)
    data["stratum"] = np.array(["" if s is None else str(s)
                                for s in column(extract.columns["stratum"])], dtype=object)
    data["psu"] = np.array([f"id{rid}" if p in (None, "") else str(p) for rid, p in
                            zip(column(ids), column(extract.columns["psu"]))], dtype=object)
    data["weight"] = np.array(weight, dtype=object)[keep].astype(float)
    return data


def design_of(data):
    """The run's design: strata and PSUs of the plan, the run's final weights."""
    from analysis import SurveyDesign

    return SurveyDesign.create(data=data, ids="psu", strata="stratum", weights="weight",
                               nest=True)


def top_nodes(definition) -> list[str]:
    """The nodes ranked: the overall index, or each dimension when there is none."""
    if definition.overall is not None:
        return [definition.name]
    return [d.name for d in definition.dimensions]


def _index_of(campaign: Campaign, definition: Definition, options: Options):
    """(the ``analysis`` definition graded with the chosen band table, the index key stored,
    the custom index version or None, the band table or None)."""
    version_id = _custom_version_id(options.index_key)
    version = None
    try:
        if version_id is None:
            key = options.index_key
            index = build_definition(key, definition)
            if index is None:
                raise ScorecardFailed(_("The questionnaire has none of this index's items."))
        else:
            key = CUSTOM_PREFIX
            version = custom_indices.get_version_of(campaign.organisation_id, version_id)
            if version is None:
                raise ScorecardFailed(_("Choose one of the organisation's custom indices."))
            index = custom_indices.build_definition(version, definition)
        table = band_tables.resolve(campaign.organisation_id, key, options.band_table)
    except ValidationFailed as exc:
        if isinstance(exc, ScorecardFailed):
            raise
        raise ScorecardFailed(exc.message) from None
    # the band table comes from the database (or none): never a default written in code
    index = dataclasses.replace(
        index, bands=None if table is None else band_tables.library_table(table.spec))
    return index, key, version, table


def _status(row) -> tuple[str, str]:
    if row.estimate is None:
        return ScorecardStatus.SUPPRESSED, "; ".join(row.reasons) or row.status
    if row.flagged:
        return ScorecardStatus.FLAGGED, "; ".join(row.reasons) or row.status
    return ScorecardStatus.RELIABLE, ""


def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def compute_scorecard(actor, weight_run: WeightRun, options: Options) -> ScorecardRun:
    """Compute and store the scorecard of ``weight_run``'s campaign (commits once).

    Raises :class:`ScorecardFailed` (nothing stored) for an unknown index, bad options, a
    questionnaire without the index's items or an agency question, or an estimation error.
    """
    from analysis.errors import AnalysisError, AnalysisWarning
    from analysis.indices import compute_index
    from analysis.ranking import performance_bands, rank_intervals
    from analysis.reliability import scorecard

    _check_options(options)
    campaign = weight_run.campaign
    definition = _definition(campaign)
    index, key, version, table = _index_of(campaign, definition, options)
    data = analysis_frame(campaign, weight_run, definition,
                          columns={it.column or it.name for it in index.items})
    names = {a.code: a.name for a in campaign.agencies}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AnalysisWarning)
            design = design_of(data)
            result = compute_index(index, data, design, by=AGENCY,
                                   confidence_level=options.confidence_level,
                                   include_total=True)
            flags = scorecard(result, rule=options.rule, min_n=options.min_n,
                              levels=("item", "dimension", "overall"))
            ranks: dict[tuple[str, str], tuple[float, float, float, int]] = {}
            rng = np.random.default_rng(options.seed)
            shown = {(None if f.domain is None else f.domain[AGENCY], f.node)
                     for f in flags if f.estimate is not None}
            for node in top_nodes(index):
                rows, est, cov = result.block(node)
                keep = [k for k, r in enumerate(rows)
                        if (r.domain_dict[AGENCY], node) in shown and math.isfinite(est[k])]
                if len(keep) < 2:
                    continue
                labels = [rows[k].domain_dict[AGENCY] for k in keep]
                e, V = est[keep], cov[np.ix_(keep, keep)]
                ri = rank_intervals(e, V, rng=rng, labels=labels, draws=RANK_DRAWS,
                                    level=options.confidence_level)
                bands = performance_bands(e, V, labels=labels,
                                          confidence_level=options.confidence_level,
                                          df=result.df)
                for j, code in enumerate(labels):
                    ranks[(code, node)] = (float(ri.median[j]), float(ri.low[j]),
                                           float(ri.high[j]), int(bands.band[j]))
            compared = comparisons.with_city(result, top_nodes(index), shown, AGENCY,
                                             options.confidence_level)
            previous = comparisons.previous_run(campaign, key, index.method_version)
            if previous is not None:
                compared += comparisons.with_previous(result, top_nodes(index), shown, AGENCY,
                                                      previous, options.confidence_level)
    except AnalysisError as exc:
        raise ScorecardFailed(_("The scorecard could not be computed: %(detail)s",
                                detail=str(exc))) from None
    flag_of = {(None if f.domain is None else f.domain[AGENCY], f.node): f for f in flags}
    number = numbered_runs.next_number(ScorecardRun, campaign.id)
    run = ScorecardRun(campaign_id=campaign.id, number=number, weight_run_id=weight_run.id,
                       index_key=key, method_version=index.method_version,
                       confidence_level=float(options.confidence_level), min_n=options.min_n,
                       rule=options.rule, seed=options.seed, status="done",
                       created_by_id=getattr(actor, "id", None),
                       custom_index_version_id=None if version is None else version.id,
                       band_table_id=None if table is None else table.id,
                       bands=None if table is None else dict(table.spec),
                       df=_finite(result.df),
                       previous_run_id=None if previous is None else previous.id,
                       comparison_adjust=comparisons.ADJUST)
    numbered_runs.stage(run, _number_taken)
    city = _("City total")
    stored = []
    for position, r in enumerate(result.rows):
        code = None if r.domain is None else r.domain_dict[AGENCY]
        flag = flag_of[(code, r.node)]
        status, reason = _status(flag)
        rank = ranks.get((code, r.node))
        # a shown figure keeps the interval its rule judged (NCHS: Korn-Graubard, within
        # 0-1); a hidden one keeps the t interval, blanked on every read
        low, high = ((flag.ci_low, flag.ci_high) if flag.estimate is not None
                     else (r.ci_low, r.ci_high))
        stored.append(dict(
            run_id=run.id, position=position, agency_code=code,
            agency_name=city if code is None else names.get(code, code),
            node=r.node, level=r.level, estimate=_finite(r.estimate), se=_finite(r.se),
            ci_low=_finite(low), ci_high=_finite(high),
            unweighted=_finite(r.unweighted), n=int(r.n), n_effective=_finite(r.n_effective),
            status=status, reason=reason[:255],
            band=None if rank is None else rank[3],
            rank_median=None if rank is None else rank[0],
            rank_low=None if rank is None else rank[1],
            rank_high=None if rank is None else rank[2],
            grade=r.band, maximum=_finite(r.maximum),
            display=None if index.display_decimals is None else _finite(r.display),
            na=r.na, dk=r.dk))
    # thousands of rows (300 agencies x 31 nodes): one executemany, not one ORM object each
    db.session.execute(insert(ScorecardRow), stored)
    for c in compared:
        db.session.add(ScorecardComparison(run_id=run.id, **dataclasses.asdict(c)))
    audit.record(actor, AuditAction.CREATE, run, organisation_id=campaign.organisation_id,
                 after={"number": number, "weight_run": weight_run.number,
                        "index": key, "method_version": index.method_version,
                        "min_n": options.min_n, "rule": options.rule, "seed": options.seed,
                        "band_table": None if table is None else table.name,
                        "previous_run": None if previous is None else previous.id},
                 summary=f"scorecard run {number} of campaign {campaign.id}")
    numbered_runs.commit(_number_taken)
    return run


def _number_taken() -> Conflict:
    return Conflict(_("Another scorecard run of this campaign was stored at the same time; "
                      "compute the run again."))


# ---- reading -----------------------------------------------------------------------------------

def list_runs(campaign: Campaign) -> list[ScorecardRun]:
    """The campaign's scorecard runs, newest first."""
    return list(db.session.scalars(select(ScorecardRun)
                                   .where(ScorecardRun.campaign_id == campaign.id)
                                   .order_by(ScorecardRun.number.desc())))


def get_run_of(campaign_id: int, run_id: int) -> ScorecardRun | None:
    run = db.session.get(ScorecardRun, run_id)
    return run if run is not None and run.campaign_id == campaign_id else None


BLANKED = ("estimate", "se", "ci_low", "ci_high", "unweighted", "grade", "display")

# The reliability rules' reason codes (analysis.reliability) in words, for people.
_REASONS = (
    (re.compile(r"n<(\d+)$"), lambda m: _("fewer than %(n)s respondents", n=m.group(1))),
    (re.compile(r"n_eff<(.+)$"), lambda m: _("effective sample size below %(n)s",
                                             n=m.group(1))),
    (re.compile(r"width>=(.+)$"), lambda m: _("confidence interval %(w)s wide or wider",
                                              w=m.group(1))),
    (re.compile(r"relative_width>130%$"),
     lambda m: _("confidence interval wider than %(share)s of the estimate",
                 share="130 %")),
    (re.compile(r"complement_relative_width>130%$"),
     lambda m: _("the complement's confidence interval is wider than %(share)s of it",
                 share="130 %")),
    (re.compile(r"df<(\d+)$"), lambda m: _("fewer than %(n)s degrees of freedom",
                                            n=m.group(1))),
    (re.compile(r"p=0or1$"), lambda m: _("no respondent, or every respondent, in the category")),
    (re.compile(r"caution$"), lambda m: _("coefficient of variation from %(low)s to %(high)s",
                                          low="20 %", high="30 %")),
    (re.compile(r"unreliable$"), lambda m: _("coefficient of variation of %(high)s or more",
                                             high="30 %")),
    (re.compile(r"not measured$"), lambda m: _("not measured")),
    (re.compile(r"complementary$"),
     lambda m: _("hidden so that a small cell cannot be worked out from the figures shown")),
)


def reason_text(reason: str) -> str:
    """A stored reason (codes joined by "; ") in words."""
    out = []
    for code in filter(None, (c.strip() for c in (reason or "").split(";"))):
        for pattern, words in _REASONS:
            match = pattern.match(code)
            if match:
                out.append(words(match))
                break
        else:
            out.append(code)
    return "; ".join(out)


def _node_labels(run: ScorecardRun) -> dict:
    if run.custom_index_version is not None:
        return custom_indices.node_labels(run.custom_index_version)
    return NODE_LABELS


def run_rows(run: ScorecardRun) -> list[dict]:
    """The run's figures as plain dicts, suppressed cells blanked (estimate, SE, CI, unweighted
    value and grade ``None``) and their ``reason`` kept (with ``reason_text`` in words): what
    pages, exports and the API show."""
    labels = _node_labels(run)
    out = []
    for r in run.rows:
        d = {k: getattr(r, k) for k in (
            "agency_code", "agency_name", "node", "level", "estimate", "se", "ci_low",
            "ci_high", "unweighted", "n", "n_effective", "status", "reason", "band",
            "rank_median", "rank_low", "rank_high", "grade", "maximum", "display", "na", "dk")}
        if r.status == ScorecardStatus.SUPPRESSED:
            d.update(dict.fromkeys(BLANKED))
        d["label"] = str(labels.get(r.node, r.node))
        d["reason_text"] = reason_text(r.reason)
        out.append(d)
    return out


COMPARISON_FIELDS = ("reference", "difference", "se", "statistic", "p_value", "p_adjusted",
                     "direction")


def comparison_records(run: ScorecardRun) -> list[dict]:
    """The run's stored comparisons as plain dicts (only agencies whose figures are shown)."""
    return [{"kind": c.kind, "node": c.node, "agency_code": c.agency_code,
             **{k: getattr(c, k) for k in COMPARISON_FIELDS}} for c in run.comparisons]


# the comparison columns: vs_city_* (against the city total), vs_previous_* (previous year)
EXPORT_COMPARISON = ("reference", "difference", "se", "p_value", "p_adjusted", "direction")
EXPORT_COLUMNS = ("agency_code", "agency_name", "node", "label", "level", "estimate", "se",
                  "ci_low", "ci_high", "unweighted", "n", "n_effective", "status", "reason",
                  "reason_text", "band", "rank_median", "rank_low", "rank_high", "grade",
                  "maximum", "display", "na", "dk",
                  *(f"vs_{kind}_{k}" for kind in (ComparisonKind.CITY, ComparisonKind.PREVIOUS)
                    for k in EXPORT_COMPARISON))
EXPORT_FORMATS = ("csv", "xlsx")


def export_rows(run: ScorecardRun) -> list[dict]:
    """:func:`run_rows` with each row's comparisons as ``vs_city_*``/``vs_previous_*``."""
    found = {(c["kind"], c["agency_code"], c["node"]): c for c in comparison_records(run)}
    rows = run_rows(run)
    for row in rows:
        for kind in (ComparisonKind.CITY, ComparisonKind.PREVIOUS):
            c = found.get((kind, row["agency_code"], row["node"]), {})
            row.update({f"vs_{kind}_{k}": c.get(k) for k in EXPORT_COMPARISON})
    return rows


def export_run(run: ScorecardRun, fmt: str) -> bytes:
    """The run's table as CSV (UTF-8 with BOM) or XLSX, from :func:`export_rows`: suppressed
    cells are blank there too (only their n and the reason are given) and have no
    comparison."""
    if fmt not in EXPORT_FORMATS:
        raise ScorecardFailed(_("Unknown file format."))
    rows = export_rows(run)
    if fmt == "csv":
        return tabular.to_csv(list(EXPORT_COLUMNS), rows)
    return tabular.to_xlsx(list(EXPORT_COLUMNS), rows, f"scorecard_{run.number}")


# ---- the pages ---------------------------------------------------------------------------------

def form_choices(campaign: Campaign) -> dict[str, list[tuple]]:
    """The new-run form's choices: the campaign's weighting runs and the index schemes."""
    from .weighting import list_runs as weight_runs

    custom = [(f"{CUSTOM_PREFIX}:{i.latest.id}",
               _("Custom index: %(name)s (version %(number)d)", name=i.latest.name,
                 number=i.latest.number))
              for i in custom_indices.list_indices(campaign.organisation_id) if i.latest]
    tables = [(str(t.id), t.name) for t in band_tables.tables_for(campaign.organisation_id)]
    return {"weight_runs": [(r.id, _("Weighting run %(number)s", number=r.number))
                            for r in weight_runs(campaign)],
            "indices": [(k, str(s.label)) for k, s in SCHEMES.items()] + custom,
            "band_tables": [(band_tables.DEFAULT, _("The index's default table (Circular 01 "
                                                    "points: the Art. 15 table)")),
                            (band_tables.NONE, _("No grading"))] + tables}


def create_run(actor, campaign: Campaign, weight_run_id: int | None,
               options: Options) -> ScorecardRun:
    """The form's request: the weighting run must be one of this campaign's."""
    from .weighting import get_run_of as weight_run_of

    weight_run = weight_run_of(campaign.id, weight_run_id) if weight_run_id else None
    if weight_run is None:
        raise ScorecardFailed(_("Choose one of this campaign's weighting runs."))
    return compute_scorecard(actor, weight_run, options)


def agency_table(rows: list[dict]) -> dict:
    """Read rows (:func:`run_rows`) grouped by domain: the non-item nodes (the columns), the
    node ranked (the overall index, else the last node with ranks), each agency's cells by
    node (items included) and its rank row, agencies in rank order (unranked last, by name),
    and the city total."""
    nodes: list[dict] = []
    for r in rows:
        if r["level"] != "item" and r["node"] not in [n["node"] for n in nodes]:
            nodes.append({"node": r["node"], "label": r["label"], "level": r["level"]})
    ranked = [n["node"] for n in nodes if any(r["node"] == n["node"] and
                                               r["rank_median"] is not None for r in rows)]
    rank_node = ranked[-1] if ranked else nodes[-1]["node"] if nodes else None
    domains: dict[str | None, dict] = {}
    for r in rows:
        d = domains.setdefault(r["agency_code"], {"code": r["agency_code"],
                                                  "name": r["agency_name"], "cells": {}})
        d["cells"][r["node"]] = r
        if r["node"] == rank_node:
            d["rank"] = r
    agencies = [d for code, d in domains.items() if code is not None]
    agencies.sort(key=lambda d: (d.get("rank", {}).get("rank_median") is None,
                                 d.get("rank", {}).get("rank_median") or 0, d["name"]))
    return {"nodes": nodes, "rank_node": rank_node,
            "rank_label": next((n["label"] for n in nodes if n["node"] == rank_node), ""),
            "agencies": agencies, "total": domains.get(None)}


def run_page(run: ScorecardRun) -> dict:
    """What the run page shows: per agency (then the city) each dimension and the overall
    node with CI, n, effective n, status; the ranked node's rank interval and band; the plot."""
    rows = [r for r in run_rows(run) if r["level"] != "item"]
    table = agency_table(rows)
    return {"run": run, "scheme_label": index_label(run),
            **table,
            "suppressed": any(r["status"] == ScorecardStatus.SUPPRESSED for r in rows),
            "plot": charts.dot_plot([r for r in rows if r["node"] == table["rank_node"]
                                     and r["agency_code"] is not None],
                                    label_key="agency_name"),
            "comparison": comparison_page(run, table),
            "grading": grading_page(run, table)}


def index_label(run: ScorecardRun) -> str:
    """The index's name: the scheme's, or the custom index version's."""
    version = run.custom_index_version
    if version is not None:
        return _("%(name)s (custom index, version %(number)d)", name=version.name,
                 number=version.number)
    scheme = SCHEMES.get(run.index_key)
    return str(scheme.label) if scheme else run.index_key


ADJUST_LABELS = {"holm": "Holm", "bh": "Benjamini–Hochberg"}


def _directions(kind: str) -> dict[str, str]:
    if kind == ComparisonKind.CITY:
        return {"above": _("Above the city"), "below": _("Below the city"),
                "not different": _("Not significantly different")}
    return {"above": _("Improved"), "below": _("Declined"),
            "not different": _("No significant change")}


def comparison_page(run: ScorecardRun, table: dict) -> dict | None:
    """The stored comparisons by node, agencies in the table's order: each agency's figure,
    its difference with the city and with the previous year (SE, adjusted p, verdict)."""
    records = comparison_records(run)
    if not records:
        return None
    found = {(c["kind"], c["agency_code"], c["node"]): c for c in records}
    labels = {n["node"]: n["label"] for n in table["nodes"]}
    nodes = []
    for node in dict.fromkeys(c["node"] for c in records):
        lines = []
        for a in table["agencies"]:
            cell = a["cells"].get(node)
            line = {"code": a["code"], "name": a["name"], "cell": cell}
            for kind in (ComparisonKind.CITY, ComparisonKind.PREVIOUS):
                c = found.get((kind, a["code"], node))
                line[kind] = None if c is None else {
                    **c, "verdict": _directions(kind).get(c["direction"], c["direction"])}
            lines.append(line)
        nodes.append({"node": node, "label": labels.get(node, node), "lines": lines})
    previous = run.previous_run
    return {"nodes": nodes, "adjust": ADJUST_LABELS.get(run.comparison_adjust or "",
                                                        run.comparison_adjust),
            "alpha": 1 - run.confidence_level, "previous": previous,
            "previous_year": None if previous is None else previous.campaign.year,
            "previous_title": None if previous is None else previous.campaign.title}


def grading_page(run: ScorecardRun, table: dict) -> dict | None:
    """The band table the run graded with: its thresholds as applied to the city total's
    maximum (Circular 01's table is written for nine indicators and scaled)."""
    if not run.bands:
        return None
    total = table["total"] or {}
    cell = (total.get("cells") or {}).get(table["rank_node"]) or {}
    maximum = cell.get("maximum")
    spec = run.bands
    scaled = bool(spec.get("scale_to_measured") and spec.get("reference_max")
                  and maximum is not None
                  and not math.isclose(float(maximum), float(spec["reference_max"])))
    return {"name": spec.get("name", ""), "maximum": maximum,
            "reference_max": spec.get("reference_max"), "scaled": scaled,
            "thresholds": band_tables.applied_thresholds(spec, maximum),
            "written": band_tables.applied_thresholds(spec, None)}


def run_metadata(run: ScorecardRun) -> dict:
    """A run's metadata as JSON-serialisable data (the ``run`` part of :func:`api_document`,
    without reading its rows): number, weighting run, index key and method version, confidence
    level, rule, minimum n, seed, df, band table, comparisons' adjustment and previous run."""
    version = run.custom_index_version
    previous = run.previous_run
    return {
        "id": run.id, "campaign_id": run.campaign_id, "number": run.number,
        "status": run.status,
        # RFC 3339 with its offset (SQLite hands back naive UTC timestamps)
        "created_at": (None if run.created_at is None
                       else as_utc(run.created_at).isoformat()),
        "weighting_run": None if run.weight_run is None else {
            "id": run.weight_run.id, "number": run.weight_run.number},
        "index": {"key": run.index_key, "method_version": run.method_version,
                  "label": index_label(run),
                  "custom_index_id": None if version is None else version.index_id,
                  "custom_index_version": None if version is None else version.number},
        "confidence_level": run.confidence_level, "rule": run.rule, "min_n": run.min_n,
        "seed": run.seed, "df": run.df,
        "band_table": None if not run.bands else dict(run.bands),
        "comparison_adjust": run.comparison_adjust,
        "previous_run": None if previous is None else {
            "id": previous.id, "campaign_id": previous.campaign_id,
            "year": previous.campaign.year, "number": previous.number},
    }


def api_document(run: ScorecardRun) -> dict:
    """The run as JSON-serialisable data (``GET /api/v1/scorecards/<run_id>``): its metadata
    (:func:`run_metadata`), the rows as :func:`run_rows` gives them (suppressed cells blanked)
    and the comparisons."""
    return {"run": run_metadata(run), "rows": run_rows(run),
            "comparisons": comparison_records(run)}


DEMO_OPTIONS = Options("sipas", min_n=5, rule="cv")


def load_demo_scorecard(campaign: Campaign) -> ScorecardRun | None:
    """The demo's scorecard (skipped once the campaign has one, or without a weighting run)."""
    from .weighting import list_runs as weight_runs

    runs = weight_runs(campaign)
    if list_runs(campaign) or not runs:
        return None
    return compute_scorecard(None, runs[0], DEMO_OPTIONS)
