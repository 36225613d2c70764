"""The annual report (issue 10 item 3): one plain dict of everything the report shows, built
from stored runs, and the stored report files generated from it.

``build_report_data(scorecard_run, *, locale="vi") -> dict`` is the report's data contract
(also in ``/tmp/coord/report_api.md`` while the issue is worked on). The renderers
(:mod:`surveyapp.reporting.annual_xlsx`, :mod:`~surveyapp.reporting.annual_html`,
:mod:`~surveyapp.reporting.annual_pdf`) take ONLY this dict — no database, no Flask — so a
submission package can freeze the dict and render it again later.

The dict is deterministic: the same stored runs give the same dict (no "now" in it; the
response rates are those of the campaign's approved field work, stable once it is closed),
hence the same figures and the same XLSX bytes when the report is generated again. Plain
JSON types only (str, int, float, bool, None, list, dict with str keys); dates and moments
are ISO 8601 strings. The labels of codes (methods, nodes, statuses, rules) are translated
into ``locale`` here; renderers translate only their own fixed headings, with the same
``locale``.

::

    schema            "surveyapp.annual-report/1"
    locale            "vi" | "en"
    organisation      {id, name, short_name}
    campaign          {id, title, year, fieldwork_start, fieldwork_end, description}
    year              the campaign's year
    scorecard_run     {id, number, created_at, created_by, index_key, index_label,
                       method_version, confidence_level, min_n, rule, rule_label, seed,
                       rank_draws}
    design            {plan_id, plan_version, title, method, method_label, stratum_column,
                       psu_column, psu_method, psu_method_label, n_per_psu,
                       allocation_method, allocation_label, n, reserve, seed, frame_rows,
                       frame_sha256, strata: [{stratum, N_h, n_h}]}      | None
    sizes             {frame_units, sample_size, cases, respondents, agencies,
                       agencies_ranked, agencies_suppressed}
    response_rates    {basis: "approved", survey: RATES, by_stratum: [RATES + {group}]}
                       RATES = {n, I, P, R, NC, O, U, NE, in_field, e, rr1, rr3, coop1,
                                ref1, ref2, ref3}      (rates are shares 0–1 or None)
    weighting         {run_id, number, created_at, status, converged, classes, method,
                       method_label, totals: [{variable, level, total}], bounds, trim,
                       unknown_eligible_share, input_rows, input_sha256,
                       stages: [{stage, label, n, sum, min, max, cv, deff_weighting,
                                 n_effective}],
                       calibration: {method, converged, iterations, max_misfit, trimmed,
                                     totals: [{name, target, achieved}]} | None,
                       outcomes: {respondents, eligible_nonrespondents, not_eligible,
                                  unknown_eligibility, no_approved_interview}}   | None
    index             {key, label, name, method_version, overall, overall_label,
                       dimensions: [{node, label, combine, combine_label, weight,
                                     items: [{node, label, rule}]}]}
    nodes             [{node, label, level}]  the scorecard's columns: dimensions, overall
    rank_node, rank_label   the node ranked (the overall index, else the last dimension)
    scorecard         [{code, name, cells: {node: ROW}, rank: ROW | None}]  agencies in
                       rank order (unranked last, by name); cells hold every node, items too
    total             {code: None, name, cells: {node: ROW}} | None    the city total
    rankings          [{agency_code, agency_name, estimate, se, ci_low, ci_high, n, status,
                        rank_median, rank_low, rank_high, band}]    ranked agencies, by rank
    comparisons       [{kind, node, label, agency_code, agency_name, reference, difference,
                        se, p_value, p_adjusted, direction}]   the run's stored comparisons
                       (with the city, with the previous year); [] when the run has none
    trend             [{year, campaign_id, title, scorecard_run_id, scorecard_run_number,
                        method_version, nodes: [{node, label, estimate, ci_low, ci_high}]}]
                       city totals of this and the organisation's earlier campaigns with the
                       same index (each campaign's newest run; this campaign: this run),
                       oldest first
    ROW               a dict of :func:`scorecards.run_rows`: agency_code, agency_name, node,
                       label, level, estimate, se, ci_low, ci_high, unweighted, n,
                       n_effective, status (reliable | flagged | suppressed), reason,
                       band (0-based), rank_median, rank_low, rank_high — suppressed cells
                       already blanked (None)
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..models import (
    AnnualReport,
    AnnualReportFile,
    Campaign,
    Job,
    QuestionnaireVersion,
    SamplingPlan,
    ScorecardRun,
)
from ..models.codes import SCORECARD_RULE_LABELS, WEIGHT_METHOD_LABELS, AuditAction, JobStatus
from ..models.scorecards import ScorecardStatus
from ..questionnaires import Questionnaire as Definition
from ..reporting.annual_html import render_html
from ..reporting.annual_pdf import PdfFailed, render_pdf
from ..reporting.annual_xlsx import render_xlsx
from . import audit, numbered_runs, response_rates, scorecards
from .index_definitions import NODE_LABELS, SCHEMES, build_definition
from .sampling_plans import ALLOCATION_LABELS, METHOD_LABELS

SCHEMA = "surveyapp.annual-report/1"
LOCALES = ("vi", "en")


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _num(value):
    """A JSON number (finite float or int) or None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    value = float(value)
    return value if math.isfinite(value) else None


def _label(mapping, code) -> str | None:
    return None if code is None else str(mapping.get(code, code))


def build_report_data(scorecard_run: ScorecardRun, *, locale: str = "vi") -> dict:
    """Everything the annual report of ``scorecard_run`` shows, as a plain dict (see the
    module docstring for its keys). Reads the database; commits nothing."""
    if locale not in LOCALES:
        locale = "vi"
    with force_locale(locale):
        return _build(scorecard_run, locale)


def _build(run: ScorecardRun, locale: str) -> dict:
    campaign = run.campaign
    org = campaign.organisation
    rows = scorecards.run_rows(run)
    table = scorecards.agency_table(rows)
    weight_run = run.weight_run
    plan = (db.session.get(SamplingPlan, weight_run.plan_id)
            if weight_run is not None and weight_run.plan_id else None)
    scheme = SCHEMES.get(run.index_key)
    agencies = [{"code": a["code"], "name": a["name"], "cells": a["cells"],
                 "rank": a.get("rank")} for a in table["agencies"]]
    rankings = sorted(
        ({k: a["rank"][k] for k in ("agency_code", "agency_name", "estimate", "se", "ci_low",
                                    "ci_high", "n", "status", "rank_median", "rank_low",
                                    "rank_high", "band")}
         for a in agencies if a["rank"] is not None and a["rank"]["rank_median"] is not None),
        key=lambda r: (r["rank_median"], r["agency_name"]))
    weighting = _weighting(weight_run)
    data = {
        "schema": SCHEMA,
        "locale": locale,
        "organisation": {"id": org.id, "name": org.name, "short_name": org.short_name},
        "campaign": {"id": campaign.id, "title": campaign.title, "year": campaign.year,
                     "fieldwork_start": _iso(campaign.fieldwork_start),
                     "fieldwork_end": _iso(campaign.fieldwork_end),
                     "description": campaign.description or ""},
        "year": campaign.year,
        "scorecard_run": {
            "id": run.id, "number": run.number, "created_at": _iso(run.created_at),
            "created_by": run.created_by.full_name if run.created_by else None,
            "index_key": run.index_key,
            "index_label": str(scheme.label) if scheme else run.index_key,
            "method_version": run.method_version,
            "confidence_level": _num(run.confidence_level), "min_n": run.min_n,
            "rule": run.rule, "rule_label": _label(SCORECARD_RULE_LABELS, run.rule),
            "seed": run.seed, "rank_draws": scorecards.RANK_DRAWS},
        "design": _design(plan),
        "sizes": {
            "frame_units": plan.frame_rows if plan else None,
            "sample_size": plan.n if plan else None,
            "cases": weight_run.input_rows if weight_run else None,
            "respondents": (weighting or {}).get("outcomes", {}).get("respondents"),
            "agencies": len(agencies),
            "agencies_ranked": len(rankings),
            "agencies_suppressed": sum(
                1 for a in agencies
                if (a["cells"].get(table["rank_node"]) or {}).get("status")
                == ScorecardStatus.SUPPRESSED)},
        "response_rates": _rates(campaign),
        "weighting": weighting,
        "index": _index(run, campaign, locale),
        "nodes": table["nodes"],
        "rank_node": table["rank_node"],
        "rank_label": table["rank_label"],
        "scorecard": agencies,
        "total": table["total"],
        "rankings": rankings,
        "comparisons": _comparisons(run, rows),
        "trend": _trend(run, campaign, table["nodes"], rows),
    }
    return data


def _design(plan: SamplingPlan | None) -> dict | None:
    if plan is None:
        return None
    return {
        "plan_id": plan.id, "plan_version": plan.version, "title": plan.title,
        "method": plan.method, "method_label": _label(METHOD_LABELS, plan.method),
        "stratum_column": plan.stratum_column, "psu_column": plan.psu_column,
        "psu_method": plan.psu_method, "psu_method_label": _label(METHOD_LABELS,
                                                                  plan.psu_method),
        "n_per_psu": plan.n_per_psu, "allocation_method": plan.allocation_method,
        "allocation_label": _label(ALLOCATION_LABELS, plan.allocation_method),
        "n": plan.n, "reserve": plan.reserve, "seed": plan.seed, "frame_rows": plan.frame_rows,
        "frame_sha256": plan.frame_sha256,
        "strata": [{"stratum": str(a.get("stratum")), "N_h": _num(a.get("N_h")),
                    "n_h": _num(a.get("n_h"))} for a in (plan.allocation or [])]}


RATE_KEYS = ("n", "I", "P", "R", "NC", "O", "U", "NE", "in_field", "e", "rr1", "rr3", "coop1",
             "ref1", "ref2", "ref3")


def _rates(campaign: Campaign) -> dict:
    rows = response_rates.rate_rows(campaign, "approved", dimensions=("survey", "stratum"))
    survey = next(r for r in rows if r["dimension"] == "survey")
    return {"basis": "approved", "survey": {k: _num(survey.get(k)) for k in RATE_KEYS},
            "by_stratum": [{"group": r["group"], **{k: _num(r.get(k)) for k in RATE_KEYS}}
                           for r in rows if r["dimension"] == "stratum"]}


def _stage_labels() -> dict[str, str]:
    return {"base": _("Base weights"), "nonresponse": _("After non-response adjustment"),
            "final": _("Final weights")}


def _weighting(run) -> dict | None:
    if run is None:
        return None
    from .weighting import WeightSpec

    spec = {**WeightSpec().to_dict(), **(run.spec or {})}
    d = run.diagnostics or {}
    labels = _stage_labels()
    keys = ("n", "sum", "min", "max", "cv", "deff_weighting", "n_effective")
    calibration = d.get("calibration")
    return {
        "run_id": run.id, "number": run.number, "created_at": _iso(run.created_at),
        "status": run.status, "converged": run.status != "not_converged",
        "classes": spec["classes"], "method": spec["method"],
        "method_label": _label(WEIGHT_METHOD_LABELS, spec["method"]),
        "totals": [{"variable": var, "level": str(level), "total": _num(total)}
                   for var, levels in (spec.get("totals") or {}).items()
                   for level, total in levels.items()],
        "bounds": spec.get("bounds"), "trim": spec.get("trim"),
        "unknown_eligible_share": _num(spec.get("unknown_eligible_share")),
        "input_rows": run.input_rows, "input_sha256": run.input_sha256,
        "stages": [{"stage": s, "label": labels[s],
                    **{k: _num((d.get("stages", {}).get(s) or {}).get(k)) for k in keys}}
                   for s in ("base", "nonresponse", "final")],
        "calibration": None if not calibration else {
            k: calibration.get(k) for k in ("method", "converged", "iterations", "max_misfit",
                                            "trimmed", "totals")},
        "outcomes": {k: int((d.get("outcomes") or {}).get(k, 0)) for k in (
            "respondents", "eligible_nonrespondents", "not_eligible", "unknown_eligibility",
            "no_approved_interview")}}


def _rule_text(rule) -> str:
    from analysis.indices import Points, Rescale, TopBox

    if isinstance(rule, TopBox):
        return _("Share answering %(codes)s", codes=", ".join(sorted(rule.codes)))
    if isinstance(rule, Rescale):
        lo, hi, a, b = (format(v, "g") for v in (rule.lo, rule.hi, *rule.to))
        return _("Rescaled from %(lo)s–%(hi)s to %(a)s–%(b)s", lo=lo, hi=hi, a=a, b=b)
    if isinstance(rule, Points):
        return _("Points: %(points)s", points="; ".join(f"{k} → {v:g}" for k, v in rule.map))
    return type(rule).__name__


def _combine_label(how: str | None) -> str | None:
    return {None: None, "mean": _("Mean"), "sum": _("Sum")}.get(how, how)


def _index(run: ScorecardRun, campaign: Campaign, locale: str) -> dict:
    scheme = SCHEMES.get(run.index_key)
    out = {"key": run.index_key, "label": str(scheme.label) if scheme else run.index_key,
           "name": run.index_key, "method_version": run.method_version, "overall": None,
           "overall_label": None, "dimensions": []}
    qv = (db.session.get(QuestionnaireVersion, campaign.questionnaire_version_id)
          if campaign.questionnaire_version_id else None)
    if qv is None:
        return out
    questionnaire = Definition.from_dict(qv.document)
    index = build_definition(run.index_key, questionnaire)
    # An index whose method changed since the run is not described (its items may differ).
    if index is None or index.method_version != run.method_version:
        return out
    labels = {q.name: _question_label(q, locale) for q in questionnaire.questions()}
    out.update(name=index.name, overall=index.overall,
               overall_label=_combine_label(index.overall))
    out["dimensions"] = [{
        "node": d.name, "label": str(NODE_LABELS.get(d.name, d.label or d.name)),
        "combine": d.combine, "combine_label": _combine_label(d.combine),
        "weight": _num(d.weight),
        "items": [{"node": i.name, "label": labels.get(i.column or i.name, i.label or i.name),
                   "rule": _rule_text(i.rule)} for i in d.items]} for d in index.dimensions]
    return out


def _question_label(question, locale: str) -> str:
    label = question.label or {}
    return label.get(locale) or label.get("vi") or next(iter(label.values()), question.name)


def _comparisons(run: ScorecardRun, rows: list[dict]) -> list[dict]:
    """The run's stored comparisons (another part of issue 9 adds them; none before)."""
    stored = getattr(run, "comparisons", None) or []
    names = {r["agency_code"]: r["agency_name"] for r in rows}
    labels = {r["node"]: r["label"] for r in rows}
    return [{"kind": c.kind, "node": c.node, "label": labels.get(c.node, c.node),
             "agency_code": c.agency_code, "agency_name": names.get(c.agency_code,
                                                                    c.agency_code),
             "reference": _num(c.reference), "difference": _num(c.difference),
             "se": _num(c.se), "p_value": _num(c.p_value), "p_adjusted": _num(c.p_adjusted),
             "direction": c.direction} for c in stored]


def _trend(run: ScorecardRun, campaign: Campaign, nodes: list[dict],
           rows: list[dict]) -> list[dict]:
    earlier = db.session.execute(
        select(ScorecardRun, Campaign).join(Campaign, Campaign.id == ScorecardRun.campaign_id)
        .where(Campaign.organisation_id == campaign.organisation_id,
               Campaign.year < campaign.year, ScorecardRun.index_key == run.index_key,
               # one index and method version per line (every custom index is "custom")
               ScorecardRun.method_version == run.method_version)
        .order_by(Campaign.year, Campaign.id, ScorecardRun.number.desc())).all()
    newest: dict[int, ScorecardRun] = {}
    for other, c in earlier:
        newest.setdefault(c.id, other)
    wanted = [n["node"] for n in nodes]
    out = []
    for other in [*newest.values(), run]:
        total = {r["node"]: r for r in (rows if other is run else scorecards.run_rows(other))
                 if r["agency_code"] is None and r["node"] in wanted}
        out.append({"year": other.campaign.year, "campaign_id": other.campaign_id,
                    "title": other.campaign.title, "scorecard_run_id": other.id,
                    "scorecard_run_number": other.number,
                    "method_version": other.method_version,
                    "nodes": [{"node": n["node"], "label": n["label"],
                               "estimate": (total.get(n["node"]) or {}).get("estimate"),
                               "ci_low": (total.get(n["node"]) or {}).get("ci_low"),
                               "ci_high": (total.get(n["node"]) or {}).get("ci_high")}
                              for n in nodes]})
    return out


# ---- stored reports ----------------------------------------------------------------------------

JOB_KIND = "annual_report"
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "pdf": "application/pdf", "html": "text/html; charset=utf-8"}


class ReportFailed(DomainError):
    """The report could not be generated (the message says why); nothing was stored."""


def data_digest(data: dict) -> str:
    """SHA-256 of the report data as sorted, compact UTF-8 JSON: equal digests, equal figures."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render_all(data: dict, progress=None) -> dict[str, bytes]:
    """The report's three files from its data: the workbook, the page and its PDF."""
    step = progress or (lambda pct, message: None)
    step(30, _("Writing the workbook"))
    xlsx = render_xlsx(data)
    step(50, _("Writing the report page"))
    html = render_html(data)
    step(60, _("Printing the PDF"))
    try:
        pdf = render_pdf(html)
    except PdfFailed as exc:
        raise ReportFailed(_("The PDF could not be printed: %(detail)s", detail=str(exc))) \
            from None
    return {"xlsx": xlsx, "html": html.encode("utf-8"), "pdf": pdf}


def request_report(actor, campaign: Campaign, scorecard_run_id: int | None,
                   locale: str = "vi") -> Job:
    """Queue the generation of the campaign's report from one of its scorecard runs."""
    from .jobs import submit_job

    run = scorecards.get_run_of(campaign.id, scorecard_run_id) if scorecard_run_id else None
    if run is None:
        raise ReportFailed(_("Choose one of this campaign's scorecard runs."),
                           fields={"scorecard_run": _("Choose one of this campaign's "
                                                      "scorecard runs.")})
    return submit_job(actor, JOB_KIND, {"campaign_id": campaign.id, "scorecard_run_id": run.id,
                                        "locale": locale if locale in LOCALES else "vi"},
                      organisation_id=campaign.organisation_id)


def run_report_job(job: Job, actor, progress) -> dict:
    """The job kind's body: build the data, render the files, stage the report version (the
    job commits it with its "done" status; any failure stores nothing)."""
    run = db.session.get(ScorecardRun, job.params.get("scorecard_run_id"))
    if run is None or run.campaign_id != job.params.get("campaign_id"):
        raise NotFound(_("The scorecard run no longer exists."))
    progress(5, _("Reading the runs"))
    data = build_report_data(run, locale=job.params.get("locale", "vi"))
    files = render_all(data, progress)
    progress(95, _("Storing the report"))
    report = store_report(actor, run, data, files, job_id=job.id)
    return {"report_id": report.id, "number": report.number}


def store_report(actor, run: ScorecardRun, data: dict, files: dict[str, bytes], *,
                 job_id: int | None = None) -> AnnualReport:
    """Stage the next report version of the run's campaign with its files (no commit)."""
    campaign = run.campaign
    number = numbered_runs.next_number(AnnualReport, campaign.id)
    report = AnnualReport(campaign_id=campaign.id, number=number, scorecard_run_id=run.id,
                          locale=data["locale"], data_sha256=data_digest(data), job_id=job_id,
                          created_by_id=getattr(actor, "id", None))
    report.files = [AnnualReportFile(format=fmt, sha256=hashlib.sha256(content).hexdigest(),
                                     size=len(content), content=content)
                    for fmt, content in files.items()]
    numbered_runs.stage(report, _number_taken)
    audit.record(actor, AuditAction.CREATE, report, organisation_id=campaign.organisation_id,
                 after={"number": number, "scorecard_run": run.number,
                        "data_sha256": report.data_sha256,
                        "files": {f.format: f.sha256 for f in report.files}},
                 summary=f"annual report {number} of campaign {campaign.id}")
    return report


def _number_taken() -> Conflict:
    return Conflict(_("Another report of this campaign was stored at the same time; "
                      "generate the report again."))


def list_reports(campaign: Campaign) -> list[AnnualReport]:
    """The campaign's report versions, newest first."""
    return list(db.session.scalars(select(AnnualReport)
                                   .where(AnnualReport.campaign_id == campaign.id)
                                   .order_by(AnnualReport.number.desc())))


def report_jobs(campaign: Campaign) -> list[Job]:
    """The campaign's report jobs still running or failed (the finished ones are reports)."""
    jobs = db.session.scalars(select(Job).where(Job.kind == JOB_KIND,
                                                Job.organisation_id == campaign.organisation_id,
                                                Job.status != JobStatus.DONE.value)
                              .order_by(Job.id.desc()).limit(50))
    return [j for j in jobs if j.params.get("campaign_id") == campaign.id][:10]


@dataclass(frozen=True)
class ReportFile:
    filename: str
    media_type: str
    content: bytes


def get_report_of(campaign_id: int, report_id: int) -> AnnualReport | None:
    report = db.session.get(AnnualReport, report_id)
    return report if report is not None and report.campaign_id == campaign_id else None


def report_file(report: AnnualReport, fmt: str) -> ReportFile:
    """One file of a report, or a clear refusal."""
    stored = db.session.scalar(select(AnnualReportFile).where(
        AnnualReportFile.report_id == report.id, AnnualReportFile.format == fmt)) \
        if fmt in MEDIA_TYPES else None
    if stored is None:
        raise NotFound(_("This report has no such file."))
    campaign = report.campaign
    return ReportFile(f"bao-cao-{campaign.year}-{campaign.id}-{report.number}.{fmt}",
                      MEDIA_TYPES[fmt], stored.content)


def reports_page(campaign: Campaign) -> dict:
    """What the reports page shows: the versions, the jobs in progress, the runs to choose."""
    from .jobs import job_status

    jobs = report_jobs(campaign)
    return {"reports": list_reports(campaign), "jobs": jobs,
            "statuses": {j.id: job_status(j) for j in jobs},
            "runs": scorecards.list_runs(campaign)}
