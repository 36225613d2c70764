"""Comparisons stored with a scorecard run (issue 9), computed by ``analysis.ranking`` only.

- **With the city**: each agency's figure minus the city total of the same run, a
  design-based t test whose variance uses the covariance of the agency with the city total
  (the city's sample contains the agency's: ``compare_to_reference`` with the joint
  covariance from ``compute_index(..., include_total=True)``).
- **With the previous year**: each agency's figure minus its own figure in the newest
  scorecard run of the same index and method version on the organisation's campaign of the
  previous year (``compare_periods``: independent samples, ``se = sqrt(se1² + se2²)``, t with
  the smaller of the two designs' degrees of freedom).

Both are multiple-comparison aware: per node and kind, the p-values are adjusted across the
agencies with Holm's method (family-wise error rate) at ``alpha = 1 - confidence level``.
Suppressed figures (this year's or last year's) take no part: nothing hidden can be recovered
from a difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from ..extensions import db
from ..models import Campaign
from ..models.scorecards import ComparisonKind, ScorecardRun, ScorecardStatus

ADJUST = "holm"


@dataclass(frozen=True)
class ComparisonRow:
    kind: str
    node: str
    agency_code: str
    reference: float
    difference: float
    se: float
    statistic: float | None
    p_value: float
    p_adjusted: float
    direction: str


def _rows(kind: str, node: str, cmp, references) -> list[ComparisonRow]:
    out = []
    for i, code in enumerate(cmp.labels):
        stat = float(cmp.statistic[i])
        out.append(ComparisonRow(kind, node, code, float(references[i]),
                                 float(cmp.difference[i]), float(cmp.se[i]),
                                 stat if math.isfinite(stat) else None, float(cmp.p_value[i]),
                                 float(cmp.p_adjusted[i]), cmp.direction[i]))
    return out


def with_city(result, nodes: list[str], shown: set, key: str,
              confidence_level: float) -> list[ComparisonRow]:
    """Each shown agency against the city total of ``result``, per node in ``nodes``.

    ``shown``: the (agency code or None for the city, node) pairs whose figures are shown;
    ``key``: the domain variable holding the agency code.
    """
    from analysis.ranking import compare_to_reference

    out: list[ComparisonRow] = []
    for node in nodes:
        rows, est, cov = result.block(node, include_total=True)
        codes = [None if r.domain is None else r.domain_dict[key] for r in rows]
        keep = [k for k, c in enumerate(codes) if (c, node) in shown and math.isfinite(est[k])]
        city = [j for j, k in enumerate(keep) if codes[k] is None]
        if not city or len(keep) < 2:
            continue
        labels = ["" if codes[k] is None else codes[k] for k in keep]
        e = est[keep]
        cmp = compare_to_reference(e, cov[np.ix_(keep, keep)], city[0], labels=labels,
                                   df=result.df, adjust=ADJUST, alpha=1 - confidence_level)
        out.extend(_rows(ComparisonKind.CITY, node, cmp, [e[city[0]]] * len(cmp.labels)))
    return out


def previous_run(campaign: Campaign, index_key: str, method_version: str) -> ScorecardRun | None:
    """The newest run of the same index and method version on the organisation's campaigns of
    the previous year (None when there is none)."""
    return db.session.scalar(
        select(ScorecardRun).join(Campaign, Campaign.id == ScorecardRun.campaign_id)
        .where(Campaign.organisation_id == campaign.organisation_id,
               Campaign.year == campaign.year - 1, ScorecardRun.index_key == index_key,
               ScorecardRun.method_version == method_version, ScorecardRun.status == "done")
        .order_by(ScorecardRun.created_at.desc(), ScorecardRun.id.desc()).limit(1))


def with_previous(result, nodes: list[str], shown: set, key: str, previous: ScorecardRun,
                  confidence_level: float) -> list[ComparisonRow]:
    """Each agency shown in both years against its own figure in ``previous``."""
    from analysis.ranking import compare_periods

    before = {(r.agency_code, r.node): r for r in previous.rows
              if r.agency_code is not None and r.status != ScorecardStatus.SUPPRESSED
              and r.estimate is not None and r.se is not None}
    df = result.df if previous.df is None else min(result.df, previous.df)
    out: list[ComparisonRow] = []
    for node in nodes:
        rows, est, _cov = result.block(node)
        codes = [r.domain_dict[key] for r in rows]
        keep = [k for k, c in enumerate(codes)
                if (c, node) in shown and (c, node) in before and math.isfinite(est[k])
                and math.isfinite(rows[k].se)]
        if not keep:
            continue
        labels = [codes[k] for k in keep]
        prev = [before[(c, node)] for c in labels]
        cmp = compare_periods(est[keep], [rows[k].se for k in keep],
                              [p.estimate for p in prev], [p.se for p in prev], labels=labels,
                              df=df, adjust=ADJUST, alpha=1 - confidence_level)
        out.extend(_rows(ComparisonKind.PREVIOUS, node, cmp, [p.estimate for p in prev]))
    return out
