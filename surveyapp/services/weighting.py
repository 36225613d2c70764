"""Weighting a fielded survey (issue 9): stored, versioned weighting runs.

``compute_weights`` turns the campaign's locked sample and its approved interviews into plain
arrays, lets ``analysis`` compute the weights — base weights, non-response adjustment by
weighting classes (:func:`analysis.weighting.nonresponse_adjustment`), calibration
(:meth:`analysis.SurveyDesign.calibrate`) — and stores the result as a new ``WeightRun`` with
one ``UnitWeight`` per respondent. Nothing here re-implements the statistics.

The input rows are every case of the locked plan that carries a design weight
(:func:`surveyapp.services.assignments.campaign_weights`: the sample and the reserves that
were opened). A case's outcome is the final disposition of its *approved* interview:

* complete, partial: respondent;
* refusal, non-contact, other non-interview: eligible non-respondent;
* not eligible: out of the population (its weight drops out);
* unknown eligibility — and every case with no approved interview (never assigned, never
  finished, waiting for review, returned or rejected): unknown eligibility, counted as
  eligible in the share ``unknown_eligible_share`` of the specification (AAPOR's *e*;
  1 by default, the conservative choice).

Walk-in interviews (no case of the sample) have no design weight and are not weighted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import insert, select

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import (
    Assignment,
    Campaign,
    Interview,
    InterviewVersion,
    QuestionnaireVersion,
    SamplingCase,
    SamplingPlan,
    UnitWeight,
    WeightRun,
)
from ..models.codes import AuditAction, Disposition
from ..models.weighting import WeightRunStatus
from ..questionnaires import Questionnaire as Definition
from . import audit, numbered_runs
from .answer_sql import answer_json_text, json_value
from .assignments import campaign_weights, locked_plan
from .driver_rows import driver_rows
from .interviews import approved_condition, approved_interviews, canonical_json

STRATUM = "stratum"  # the case's stratum of the plan (the agency), as a variable name
NO_CLASSES = "none"
METHODS = ("none", "poststratify", "rake", "linear")
RESPONDENT = (Disposition.COMPLETE.value, Disposition.PARTIAL.value)
NOT_ELIGIBLE = (Disposition.NOT_ELIGIBLE.value,)
UNKNOWN = (Disposition.UNKNOWN_ELIGIBILITY.value,)
NO_INTERVIEW = "no_approved_interview"  # the input rows' disposition of such a case
HISTOGRAM_WIDTH, HISTOGRAM_HEIGHT = 600, 200


class WeightingFailed(ValidationFailed):
    """The specification or the inputs do not allow a weighting run (nothing is stored)."""


@dataclass(frozen=True)
class WeightSpec:
    """What a run does: the classes, the calibration and its totals, bounds and trimming."""

    classes: str = STRATUM  # STRATUM, NO_CLASSES or a question name
    method: str = "none"  # one of METHODS
    totals: dict = field(default_factory=dict)  # {"var": {"level": total}}
    bounds: tuple[float, float] | None = None  # on the g-weights (linear only)
    trim: tuple[float, float] | None = None  # of the g-weights (linear only)
    unknown_eligible_share: float = 1.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bounds"] = list(self.bounds) if self.bounds else None
        d["trim"] = list(self.trim) if self.trim else None
        return d


# ---- totals entered as a table ------------------------------------------------------------

def parse_totals(text: str | bytes | None) -> dict[str, dict[str, float]]:
    """Population totals from a table (``variable,level,total`` per line, a header line
    allowed, comma/semicolon/tab separated) or from JSON in the analysis shape."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise WeightingFailed(_("The totals file is not UTF-8 text.")) from None
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        return _totals_from_json(text)
    totals: dict[str, dict[str, float]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        delimiter = "\t" if "\t" in line else ";" if ";" in line else ","
        cells = [c.strip() for row in csv.reader(io.StringIO(line), delimiter=delimiter)
                 for c in row]
        if not any(cells):
            continue
        if len(cells) != 3:
            raise WeightingFailed(_("Totals line %(line)d: write variable, level, total.",
                                    line=number))
        variable, level, raw = cells
        value = _number(raw)
        if value is None:
            if number == 1:
                continue  # a header line
            raise WeightingFailed(_("Totals line %(line)d: %(value)s is not a number.",
                                    line=number, value=raw))
        if value < 0:
            raise WeightingFailed(_("Totals line %(line)d: a total cannot be negative.",
                                    line=number))
        if not variable or not level:
            raise WeightingFailed(_("Totals line %(line)d: write variable, level, total.",
                                    line=number))
        if level in totals.setdefault(variable, {}):
            raise WeightingFailed(_("Totals line %(line)d: level %(level)s of %(variable)s "
                                    "is given twice.", line=number, level=level,
                                    variable=variable))
        totals[variable][level] = value
    return totals


def _number(raw: Any) -> float | None:
    try:
        value = float(str(raw).replace(" ", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _totals_from_json(text: str) -> dict[str, dict[str, float]]:
    try:
        data = json.loads(text)
    except ValueError:
        raise WeightingFailed(_("The totals are not valid JSON.")) from None
    totals: dict[str, dict[str, float]] = {}
    for variable, levels in data.items():
        if not isinstance(levels, dict):
            raise WeightingFailed(_("Totals of %(variable)s must be given per level.",
                                    variable=variable))
        totals[variable] = {}
        for level, raw in levels.items():
            value = _number(raw) if not isinstance(raw, bool) else None
            if value is None or value < 0:
                raise WeightingFailed(_("Total of level %(level)s of %(variable)s is not a "
                                        "number of at least 0.", level=level,
                                        variable=variable))
            totals[variable][str(level)] = value
    return totals


def totals_table(totals: dict[str, dict[str, float]]) -> str:
    """The totals as the form's table text (the inverse of :func:`parse_totals`)."""
    return "\n".join(f"{variable},{level},{_plain(total)}"
                     for variable, levels in totals.items() for level, total in levels.items())


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def frame_totals(campaign: Campaign) -> dict[str, dict[str, float]]:
    """Dossiers per stratum (agency) in the locked plan's frame: the natural agency totals."""
    plan = locked_plan(campaign)
    if plan is None or not plan.allocation:
        return {}
    return {STRATUM: {str(a["stratum"]): float(a["N_h"]) for a in plan.allocation
                      if a.get("stratum") is not None}}


# ---- the inputs ------------------------------------------------------------------------------

@dataclass
class _Inputs:
    plan: SamplingPlan
    case_ids: list[int]
    strata: list[str]
    base: np.ndarray
    dispositions: list[str]
    interview_ids: list[int | None]
    answers: list[dict]

    @property
    def responded(self) -> np.ndarray:
        return np.array([d in RESPONDENT for d in self.dispositions], dtype=bool)

    @property
    def eligible(self) -> np.ndarray:
        return np.array([d not in NOT_ELIGIBLE for d in self.dispositions], dtype=bool)

    @property
    def unknown(self) -> np.ndarray:
        return np.array([d in UNKNOWN or d == NO_INTERVIEW for d in self.dispositions],
                        dtype=bool)

    def value(self, i: int, variable: str):
        if variable == STRATUM:
            return self.strata[i]
        value = self.answers[i].get(variable)
        if value is None or value in ("na", "dk") or isinstance(value, (list, dict)):
            return None
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _load_inputs(campaign: Campaign, variables: list[str]) -> _Inputs:
    """The sample's cases with their approved interviews' dispositions and the answers to
    ``variables`` (the classes and margins of the run) — each read in SQL as JSON text and
    decoded once per distinct text: a run needs a few answers, not whole documents (those
    were most of the time of a 200,000-interview run)."""
    plan = locked_plan(campaign)
    if plan is None:
        raise WeightingFailed(_("This campaign has no locked sampling plan: lock the sample "
                                "before weighting."))
    weights = campaign_weights(campaign)
    # Plain rows in two queries (design columns, then the approved interviews with their
    # cases): no per-interview look-ups, and the cases' identifying columns stay unread.
    strata = {case_id: stratum for case_id, stratum in driver_rows(
        select(SamplingCase.id, SamplingCase.stratum).where(SamplingCase.plan_id == plan.id))
        if case_id in weights}
    questions = [v for v in variables if v != STRATUM]
    decoded: dict[str | None, Any] = {}
    by_case: dict[int, tuple] = {}
    for interview_id, case_id, disposition, *texts in driver_rows(
            select(Interview.id, Assignment.case_id, InterviewVersion.disposition,
                   *[answer_json_text(q, f"a{k}") for k, q in enumerate(questions)])
            .select_from(InterviewVersion)
            .join(Interview, Interview.id == InterviewVersion.interview_id)
            .join(Assignment, Assignment.id == Interview.assignment_id)
            .where(*approved_condition(campaign.id))):
        if case_id in strata:
            answers = {}
            for name, text in zip(questions, texts, strict=True):
                if text not in decoded:
                    decoded[text] = json_value(text)
                answers[name] = decoded[text]
            by_case[case_id] = (interview_id, disposition, answers)
    if not any(v[1] in RESPONDENT for v in by_case.values()):
        raise WeightingFailed(_("This campaign has no approved complete or partial interview "
                                "of its sample yet: there is nothing to weight."))
    ids = sorted(strata)
    versions = [by_case.get(i) for i in ids]
    return _Inputs(
        plan=plan, case_ids=ids, strata=[strata[i] or "" for i in ids],
        base=np.array([weights[i] for i in ids], dtype=float),
        dispositions=[v[1] if v is not None else NO_INTERVIEW for v in versions],
        interview_ids=[v[0] if v is not None else None for v in versions],
        answers=[v[2] if v is not None else {} for v in versions])


def _variables(spec: WeightSpec) -> list[str]:
    names = [spec.classes] if spec.classes != NO_CLASSES else []
    if spec.method != "none":
        for key in spec.totals:
            for v in key.split(":"):
                if v not in names:
                    names.append(v)
    return names


def input_digest(inputs: _Inputs, variables: list[str]) -> str:
    """SHA-256 of the canonical JSON of the input rows: case id, base weight, disposition,
    interview id and the values of the variables the specification uses."""
    rows = [[inputs.case_ids[i], float(inputs.base[i]), inputs.dispositions[i],
             inputs.interview_ids[i], {v: inputs.value(i, v) for v in variables}]
            for i in range(len(inputs.case_ids))]
    return hashlib.sha256(canonical_json(rows)).hexdigest()


# ---- checks with the user's words ------------------------------------------------------------

def _question_names(campaign: Campaign) -> set[str]:
    version = db.session.get(QuestionnaireVersion, campaign.questionnaire_version_id) \
        if campaign.questionnaire_version_id else None
    if version is None:
        return set()
    return {q.name for q in Definition.from_dict(version.document).questions()}


def question_choices(campaign: Campaign) -> list[tuple[str, str]]:
    """(name, label) of the single-choice questions: what classes and margins can use."""
    version = db.session.get(QuestionnaireVersion, campaign.questionnaire_version_id) \
        if campaign.questionnaire_version_id else None
    if version is None:
        return []
    definition = Definition.from_dict(version.document)
    return [(q.name, f"{q.name} — {q.label.get('vi') or q.label.get('en') or q.name}")
            for q in definition.questions() if q.type == "select_one"]


def _check_spec(campaign: Campaign, spec: WeightSpec) -> None:
    if spec.method not in METHODS:
        raise WeightingFailed(_("Unknown calibration method %(method)s.", method=spec.method))
    if not 0.0 <= spec.unknown_eligible_share <= 1.0:
        raise WeightingFailed(_("The eligible share of cases of unknown eligibility must be "
                                "between 0 and 1."))
    known = _question_names(campaign) | {STRATUM}
    if spec.classes != NO_CLASSES and spec.classes not in known:
        raise WeightingFailed(_("Non-response classes: %(name)s is neither the stratum nor a "
                                "question of the questionnaire.", name=spec.classes))
    if spec.method == "none":
        if spec.bounds or spec.trim:
            raise WeightingFailed(_("Bounds and trimming apply to linear calibration only."))
        return
    if not spec.totals:
        raise WeightingFailed(_("Calibration needs population totals: enter one line per "
                                "level (variable, level, total)."))
    for key in spec.totals:
        for v in key.split(":"):
            if v not in known:
                raise WeightingFailed(_("Calibration totals: %(name)s is neither the stratum "
                                        "nor a question of the questionnaire.", name=v))
    if spec.method == "poststratify" and len(spec.totals) != 1:
        raise WeightingFailed(_("Post-stratification uses one variable (or one crossed "
                                "variable a:b); rake or calibrate for several."))
    if spec.method != "linear" and (spec.bounds or spec.trim):
        raise WeightingFailed(_("Bounds and trimming apply to linear calibration only."))
    for pair in (spec.bounds, spec.trim):
        if pair is not None and not (0 <= pair[0] < 1 < pair[1]):
            raise WeightingFailed(_("Bounds and trimming limits must satisfy 0 ≤ low < 1 < "
                                    "high."))


def _check_classes(inputs: _Inputs, spec: WeightSpec) -> list[str] | None:
    if spec.classes == NO_CLASSES:
        return None
    labels = [inputs.value(i, spec.classes) for i in range(len(inputs.case_ids))]
    missing = sum(1 for x in labels if x is None)
    if missing:
        raise WeightingFailed(_("Non-response classes by %(name)s need a value for every "
                                "sampled case, and %(count)d cases have none (non-respondents "
                                "have no answers): use the stratum.", name=spec.classes,
                                count=missing))
    responded, unknown, eligible = inputs.responded, inputs.unknown, inputs.eligible
    counts_as_eligible = eligible & (~unknown | (spec.unknown_eligible_share > 0))
    empty = sorted({labels[i] for i in range(len(labels)) if counts_as_eligible[i]}
                   - {labels[i] for i in range(len(labels)) if responded[i]})
    if empty:
        raise WeightingFailed(_("Non-response class %(classes)s has eligible cases but no "
                                "respondent: choose other classes (or none).",
                                classes=", ".join(empty)))
    return labels


def _check_margins(inputs: _Inputs, spec: WeightSpec, rows: list[int]) -> dict[str, list]:
    columns: dict[str, list] = {}
    for key, levels in spec.totals.items():
        parts = key.split(":")
        for v in parts:
            if v not in columns:
                values = [inputs.value(i, v) for i in rows]
                missing = sum(1 for x in values if x is None)
                if missing:
                    raise WeightingFailed(_("Calibration variable %(name)s has no usable "
                                            "answer for %(count)d respondents.", name=v,
                                            count=missing))
                columns[v] = values
        observed = {":".join(columns[v][j] for v in parts) for j in range(len(rows))}
        absent = sorted(level for level, total in levels.items()
                        if total > 0 and level not in observed)
        if absent:
            raise WeightingFailed(_("Calibration totals of %(name)s: level %(levels)s has a "
                                    "population total but no respondent.", name=key,
                                    levels=", ".join(absent)))
        untotalled = sorted(observed - set(levels))
        if untotalled:
            raise WeightingFailed(_("Calibration totals of %(name)s: respondents have level "
                                    "%(levels)s, which has no total.", name=key,
                                    levels=", ".join(untotalled)))
    return columns


# ---- the run ---------------------------------------------------------------------------------

def compute_weights(actor, campaign: Campaign, spec: WeightSpec) -> WeightRun:
    """Weight the campaign's approved interviews by ``spec`` and store the run (commits once).

    Raises :class:`WeightingFailed` (nothing stored) for a missing locked plan, no respondent,
    unknown class or calibration variables or levels, a class with no respondent. A
    calibration that does not converge is stored with ``converged: false`` and status
    ``not_converged``: never hidden.
    """

    from analysis import SurveyDesign
    from analysis.calibration import weight_diagnostics
    from analysis.errors import AnalysisError, AnalysisWarning
    from analysis.weighting import nonresponse_adjustment

    _check_spec(campaign, spec)
    variables = _variables(spec)
    inputs = _load_inputs(campaign, variables)
    classes = _check_classes(inputs, spec)
    responded = inputs.responded
    rows = [int(i) for i in np.flatnonzero(responded)]
    columns = _check_margins(inputs, spec, rows) if spec.method != "none" else {}
    try:
        nr = nonresponse_adjustment(inputs.base, responded, classes, eligible=inputs.eligible,
                                    unknown_eligibility=inputs.unknown,
                                    unknown_eligible_share=spec.unknown_eligible_share)
        w_nr = np.asarray(nr.weights)[rows]
        calibration = None
        final = w_nr
        if spec.method != "none":
            design = SurveyDesign.create(
                data={k: np.array(v, dtype=object) for k, v in columns.items()}, weights=w_nr)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AnalysisWarning)
                calibrated = design.calibrate(
                    spec.totals, spec.method,
                    bounds=list(spec.bounds) if spec.bounds else None,
                    trim=list(spec.trim) if spec.trim else None)
            calibration = calibrated.calibration
            final = np.asarray(calibrated.weights, dtype=float)
        stages = {"base": weight_diagnostics(inputs.base[rows]).to_dict(),
                  "nonresponse": nr.diagnostics.to_dict(),
                  "final": weight_diagnostics(final).to_dict()}
        strata = _by_stratum(inputs, rows, final, weight_diagnostics)
    except AnalysisError as exc:
        raise WeightingFailed(_("The weights could not be computed: %(detail)s",
                                detail=str(exc))) from None
    converged = calibration.converged if calibration is not None else True
    diagnostics = _json_safe({
        "stages": stages,
        "strata": strata,
        "classes": nr.to_dict()["classes"],
        "outcomes": _outcomes(inputs),
        "calibration": None if calibration is None else {
            "method": calibration.method, "converged": bool(calibration.converged),
            "iterations": int(calibration.iterations),
            "max_misfit": float(calibration.max_misfit), "trimmed": int(calibration.trimmed),
            "notes": list(calibration.notes),
            "totals": [{"name": n, "target": float(t), "achieved": float(a)} for n, t, a in
                       zip(calibration.names, calibration.targets, calibration.achieved,
                           strict=True)]},
    })
    number = numbered_runs.next_number(WeightRun, campaign.id)
    run = WeightRun(campaign_id=campaign.id, number=number, spec=spec.to_dict(),
                    plan_id=inputs.plan.id, plan_version=inputs.plan.version,
                    input_rows=len(inputs.case_ids),
                    input_sha256=input_digest(inputs, variables), diagnostics=diagnostics,
                    status=WeightRunStatus.DONE if converged else WeightRunStatus.NOT_CONVERGED,
                    created_by_id=getattr(actor, "id", None))
    numbered_runs.stage(run, _number_taken)
    _store_unit_weights(run.id, [
        (inputs.interview_ids[i], inputs.case_ids[i], float(inputs.base[i]),
         float(w_nr[j]), float(final[j])) for j, i in enumerate(rows)])
    audit.record(actor, AuditAction.CREATE, run, organisation_id=campaign.organisation_id,
                 after={"number": number, "spec": spec.to_dict(), "status": run.status,
                        "input_sha256": run.input_sha256},
                 summary=f"weight run {number} of campaign {campaign.id}")
    numbered_runs.commit(_number_taken)
    return run


_UNIT_COLUMNS = ("interview_id", "case_id", "base_weight", "nonresponse_weight",
                 "final_weight")


def _store_unit_weights(run_id: int, units: list[tuple]) -> None:
    """The run's unit weights, in the run's transaction: on PostgreSQL by ``COPY … FROM
    STDIN`` (200,000 rows: a fraction of a second, where an executemany took seconds),
    elsewhere by one executemany (never a unit-of-work object per respondent)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        columns = ", ".join(("run_id", *_UNIT_COLUMNS))
        with cursor.copy(f"COPY unit_weight ({columns}) FROM STDIN") as copy:
            for unit in units:
                copy.write_row((run_id, *unit))
        return
    connection.execute(insert(UnitWeight.__table__), [
        dict(zip(_UNIT_COLUMNS, unit, strict=True), run_id=run_id) for unit in units])


def _number_taken() -> Conflict:
    return Conflict(_("Another weighting run of this campaign was stored at the same time; "
                      "compute the run again."))


def _by_stratum(inputs: _Inputs, rows: list[int], final: np.ndarray, diagnostics) -> list[dict]:
    out = []
    members: dict[str, list[int]] = {}
    for j, i in enumerate(rows):  # one pass, not one per stratum
        members.setdefault(inputs.strata[i], []).append(j)
    for stratum in sorted(members):
        w = final[members[stratum]]
        d = diagnostics(w).to_dict()
        out.append({"stratum": stratum, "n_respondents": d["n"], "sum": d["sum"],
                    "deff_weighting": d["deff_weighting"], "n_effective": d["n_effective"]})
    return out


def _outcomes(inputs: _Inputs) -> dict[str, int]:
    out = {"respondents": 0, "eligible_nonrespondents": 0, "not_eligible": 0,
           "unknown_eligibility": 0, "no_approved_interview": 0}
    for d in inputs.dispositions:
        if d in RESPONDENT:
            out["respondents"] += 1
        elif d in NOT_ELIGIBLE:
            out["not_eligible"] += 1
        elif d in UNKNOWN:
            out["unknown_eligibility"] += 1
        elif d == NO_INTERVIEW:
            out["no_approved_interview"] += 1
        else:
            out["eligible_nonrespondents"] += 1
    return out


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# ---- reading runs ----------------------------------------------------------------------------

def list_runs(campaign: Campaign) -> list[WeightRun]:
    """The campaign's runs, newest first."""
    return list(db.session.scalars(select(WeightRun).where(WeightRun.campaign_id == campaign.id)
                                   .order_by(WeightRun.number.desc())))


def get_run_of(campaign_id: int, run_id: int) -> WeightRun | None:
    """The run ``run_id`` if it belongs to campaign ``campaign_id``."""
    run = db.session.get(WeightRun, run_id)
    return run if run is not None and run.campaign_id == campaign_id else None


def analysis_weights(run: WeightRun) -> dict[int, float]:
    """{interview id: final weight} of a run, for the estimation steps."""
    # a large survey has hundreds of thousands of rows: read by the driver (plain columns)
    return dict(driver_rows(select(UnitWeight.interview_id, UnitWeight.final_weight)
                            .where(UnitWeight.run_id == run.id)))


def histogram(weights: list[float], bins: int | None = None) -> dict:
    """Bins of the weights with the bars' geometry for the page's inline SVG."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return {"bars": [], "width": HISTOGRAM_WIDTH, "height": HISTOGRAM_HEIGHT}
    k = bins or int(min(20, max(5, math.ceil(math.sqrt(w.size)))))
    lo, hi = float(w.min()), float(w.max())
    if hi - lo < 1e-9 * max(1.0, abs(hi)):
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(w, bins=k, range=(lo, hi))
    top = int(counts.max()) or 1
    step = HISTOGRAM_WIDTH / k
    bars = []
    for i, c in enumerate(counts):
        h = round(HISTOGRAM_HEIGHT * int(c) / top, 2)
        bars.append({"low": float(edges[i]), "high": float(edges[i + 1]), "count": int(c),
                     "x": round(i * step, 2), "width": round(step - 1, 2),
                     "y": round(HISTOGRAM_HEIGHT - h, 2), "height": h})
    return {"bars": bars, "width": HISTOGRAM_WIDTH, "height": HISTOGRAM_HEIGHT, "low": lo,
            "high": hi, "top": top}


STAGE_LABELS = ("base", "nonresponse", "final")


def run_detail(run: WeightRun) -> dict:
    """Everything the run's page shows (computed here; the template only displays)."""
    final = [u.final_weight for u in run.units]
    d = run.diagnostics or {}
    empty = dict.fromkeys(("n", "sum", "min", "max", "cv", "deff_weighting", "n_effective"))
    outcomes = dict.fromkeys(("respondents", "eligible_nonrespondents", "not_eligible",
                              "unknown_eligibility", "no_approved_interview"), 0)
    return {
        "run": run, "spec": {**WeightSpec().to_dict(), **(run.spec or {})},
        "stages": [(s, {**empty, **d.get("stages", {}).get(s, {})}) for s in STAGE_LABELS],
        "strata": d.get("strata", []), "classes": d.get("classes", []),
        "outcomes": {**outcomes, **d.get("outcomes", {})}, "calibration": d.get("calibration"),
        "converged": run.status != WeightRunStatus.NOT_CONVERGED,
        "histogram": histogram(final), "n_units": len(final),
        "totals_text": totals_table(run.spec.get("totals") or {}),
    }


# ---- the demo --------------------------------------------------------------------------------

# Applicants by age group among the dossiers the demo agencies settled in 2024: invented for
# the demo, shaped like the adult population of the city (few under 25 and over 65). Sex is
# not used: the demo's random answers choose "other" as often as "male" or "female", and a
# realistic 1 % for "other" would squeeze those respondents' weights to almost nothing.
DEMO_MARGIN = "nhom_tuoi"
DEMO_SHARES = {"18-24": 0.10, "25-34": 0.24, "35-44": 0.25, "45-54": 0.19, "55-64": 0.14,
               "65+": 0.08}


def demo_spec(campaign: Campaign) -> WeightSpec:
    """Classes by agency; raking to the frame's dossiers per agency and to age group (shares
    above applied to the frame's total, over the levels the respondents use)."""
    totals = frame_totals(campaign)
    population = sum(totals.get(STRATUM, {}).values())
    used = {v.answers.get(DEMO_MARGIN) for v in approved_interviews(campaign)
            if v.disposition in RESPONDENT}
    shares = {k: s for k, s in DEMO_SHARES.items() if k in used}
    scale = sum(shares.values()) or 1.0
    if shares:
        margin = {k: float(round(population * s / scale)) for k, s in shares.items()}
        first = next(iter(margin))
        margin[first] += population - sum(margin.values())  # every margin adds up to N
        totals[DEMO_MARGIN] = margin
    return WeightSpec(classes=STRATUM, method="rake", totals=totals)


def load_demo_weights(campaign: Campaign) -> WeightRun | None:
    """The demo's weighting run (skipped once the campaign has one, or without a locked plan)."""
    if list_runs(campaign) or locked_plan(campaign) is None:
        return None
    return compute_weights(None, campaign, demo_spec(campaign))


# ---- the form's request ----------------------------------------------------------------------

def _pair(low: float | None, high: float | None, what: str) -> tuple[float, float] | None:
    if low is None and high is None:
        return None
    if low is None or high is None:
        raise WeightingFailed(_("%(what)s: give both the low and the high limit.", what=what))
    return (float(low), float(high))


def create_run(actor, campaign: Campaign, *, classes: str, method: str, totals_text: str,
               totals_file: bytes | None, bounds: tuple, trim: tuple,
               unknown_eligible_share: float) -> WeightRun:
    """A new run from the form's fields (the totals from the file when one is uploaded)."""
    totals = parse_totals(totals_file) if totals_file else parse_totals(totals_text)
    spec = WeightSpec(classes=classes, method=method, totals=totals if method != "none" else {},
                      bounds=_pair(*bounds, _("Bounds")), trim=_pair(*trim, _("Trimming")),
                      unknown_eligible_share=float(unknown_eligible_share))
    return compute_weights(actor, campaign, spec)


def class_choices(campaign: Campaign) -> list[tuple[str, str]]:
    """What the form offers as non-response classes and as calibration variables."""
    return [(STRATUM, _("Stratum (agency)")), (NO_CLASSES, _("None (one class)"))] + \
        question_choices(campaign)
