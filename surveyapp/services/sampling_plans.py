"""Sampling plans: frame upload, design, calculator, allocation preview, draw, verify, lock.

The statistics are the ``sampling`` library's: this module reads the stored frame with the
library's reader, builds a ``DrawPlan`` from the design, asks ``allocate`` and
``margin_of_error``/``sample_size`` for the calculator, ``draw`` for the sample and
``verify`` to check it. It persists the results and commits once per call; the draw (its
record and every case) is one transaction.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select

import sampling as S
from sampling.frame import check_ids, labels, positive_sizes
from sampling.io import read_frame

from ..errors import Conflict, DomainError, ValidationFailed
from ..extensions import db
from ..models import Campaign, Membership, SamplingCase, SamplingPlan, User
from ..models._types import utcnow
from ..models.codes import CASE_STATUS_LABELS, AuditAction, CaseStatus, Role, SamplingPlanStatus
from ..reporting import sampling_xlsx
from . import audit
from .sampling_messages import translate, translate_differences

# Fixed-size methods only: a plan's sample is a list of cases with reserves.
METHOD_LABELS = {
    "srs": _l("Simple random sampling"),
    "systematic": _l("Systematic sampling"),
    "pps-systematic": _l("PPS, systematic"),
    "pps-brewer": _l("PPS, Brewer's method"),
    "pps-sampford": _l("PPS, Sampford's method"),
}
PPS_METHODS = ("pps-systematic", "pps-brewer", "pps-sampford")
EQUAL_METHODS = ("srs", "systematic")
ALLOCATION_LABELS = {
    "proportional": _l("Proportional to stratum size"),
    "equal": _l("Equal in every stratum"),
    "power": _l("Power allocation (Bankier)"),
    "neyman": _l("Neyman (needs a standard deviation per stratum)"),
    "optimal": _l("Optimal with costs (needs a standard deviation and a cost per stratum)"),
}
MAX_SEED = 2**63 - 1
MAX_ID_LENGTH = 200
ALL = "(all)"  # the library's label of the one group of an unstratified draw


# ---- frames --------------------------------------------------------------------------

_FRAMES: OrderedDict[str, pd.DataFrame] = OrderedDict()  # digest -> frame (read-only)
_FRAMES_LOCK = threading.Lock()  # background draws run in threads of the web process


def _library_error(exc: S.SamplingError, field: str | None = None) -> ValidationFailed:
    message = translate(str(exc))
    return ValidationFailed(message, fields={field: message} if field else None)


def read_uploaded_frame(filename: str, content: bytes) -> pd.DataFrame:
    """Read a frame file with the library's reader (CSV UTF-8 or XLSX); translated errors."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        message = _("Upload a .csv (UTF-8) or .xlsx file.")
        raise ValidationFailed(message, fields={"file": message})
    if not content:
        message = _("The file has no data rows.")
        raise ValidationFailed(message, fields={"file": message})
    with tempfile.TemporaryDirectory(prefix="surveyapp-frame-") as folder:
        path = Path(folder) / f"frame{suffix}"
        path.write_bytes(content)
        try:
            frame = read_frame(path)
        except S.SamplingError as exc:
            raise _library_error(exc, "file") from None
    if len(frame) == 0:
        message = _("The file has no data rows.")
        raise ValidationFailed(message, fields={"file": message})
    return frame


def plan_frame(plan: SamplingPlan) -> pd.DataFrame:
    """The plan's stored frame, re-read with the library's reader (cached by its digest)."""
    if plan.frame_content is None or plan.frame_sha256 is None:
        raise DomainError(_("Upload the sampling frame first."))
    key = plan.frame_sha256
    with _FRAMES_LOCK:
        if key in _FRAMES:
            _FRAMES.move_to_end(key)
            return _FRAMES[key]
    frame = read_uploaded_frame(plan.frame_filename or "frame.csv", plan.frame_content)
    if S.frame_digest(frame).sha256 != plan.frame_sha256:
        raise DomainError(_("The stored frame no longer matches its recorded digest."))
    with _FRAMES_LOCK:
        _FRAMES[key] = frame
        while len(_FRAMES) > 4:
            _FRAMES.popitem(last=False)
    return frame


# ---- plans ---------------------------------------------------------------------------

def list_plans(campaign: Campaign) -> list[SamplingPlan]:
    return list(db.session.scalars(select(SamplingPlan).where(
        SamplingPlan.campaign_id == campaign.id).order_by(SamplingPlan.version.desc())))


def _snapshot(plan: SamplingPlan) -> dict:
    """What the audit log keeps of a plan (not the file bytes, only the record's digests)."""
    values = {k: getattr(plan, k) for k in (
        "campaign_id", "version", "previous_id", "title", "status", "frame_filename",
        "frame_sha256", "frame_rows", "id_column", "label_columns", "stratum_column",
        "size_column", "psu_column", "method", "psu_method", "n_per_psu", "allocation_method",
        "allocation_params", "n", "seed", "reserve", "stages")}
    record = plan.draw_record or {}
    values["draw"] = ({"seed": record["generator"]["seed"],
                       "selection_sha256": record["result"]["selection_sha256"],
                       "selected": record["result"]["selected"],
                       "reserves": record["result"]["reserves"]} if record else None)
    return values


def _record(actor: User | None, action: AuditAction, plan: SamplingPlan, before: dict | None,
            summary: str) -> None:
    audit.record(actor, action, plan, before=before, after=_snapshot(plan),
                 organisation_id=plan.campaign.organisation_id, summary=summary)


def _next_version(campaign_id: int) -> int:
    current = db.session.scalar(select(func.max(SamplingPlan.version)).where(
        SamplingPlan.campaign_id == campaign_id))
    return (current or 0) + 1


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not 3 <= len(title) <= 200:
        message = _("Between %(min)d and %(max)d characters.", min=3, max=200)
        raise ValidationFailed(message, fields={"title": message})
    return title


def create_plan(actor: User | None, campaign: Campaign, title: str) -> SamplingPlan:
    """A new, empty draft plan (the next version number of the campaign)."""
    plan = SamplingPlan(campaign_id=campaign.id, campaign=campaign, title=_check_title(title),
                        version=_next_version(campaign.id),
                        status=SamplingPlanStatus.DRAFT.value, label_columns=[],
                        allocation_params={}, reserve=0,
                        created_by_id=actor.id if actor else None)
    db.session.add(plan)
    db.session.flush()
    _record(actor, AuditAction.CREATE, plan, None, plan.title)
    db.session.commit()
    return plan


def _ensure_editable(plan: SamplingPlan) -> None:
    """Refuse changes to a locked plan, judged on the row as it is now (locked for update).

    The row lock (PostgreSQL; SQLite serialises writers anyway) makes two draws, or a draw
    and a lock, of the same plan run one after the other instead of interleaving.
    """
    if plan.id is not None:
        db.session.refresh(plan, with_for_update=True)
    if plan.locked:
        raise Conflict(_("This plan is locked and cannot change. Make a new version to change "
                         "it."))


def _clear_draw(plan: SamplingPlan) -> None:
    """Forget a draw that the new frame or design makes stale (the plan is not locked)."""
    if plan.draw_record is None and plan.status == SamplingPlanStatus.DRAFT:
        return
    db.session.execute(delete(SamplingCase).where(SamplingCase.plan_id == plan.id))
    db.session.expire(plan, ["cases"])
    plan.draw_record = None
    plan.drawn_at = None
    plan.drawn_by_id = None
    plan.status = SamplingPlanStatus.DRAFT.value


def upload_frame(actor: User | None, plan: SamplingPlan, filename: str,
                 content: bytes) -> SamplingPlan:
    """Read and check a frame file; store it with its digest (nothing stored on error)."""
    _ensure_editable(plan)
    frame = read_uploaded_frame(filename, content)
    try:
        digest = S.frame_digest(frame)
    except S.SamplingError as exc:
        raise _library_error(exc, "file") from None
    before = _snapshot(plan)
    columns = [str(c) for c in frame.columns]
    _clear_draw(plan)
    plan.frame_filename = Path(filename).name[:255]
    plan.frame_content = content
    plan.frame_sha256 = digest.sha256
    plan.frame_rows = len(frame)
    plan.frame_columns = columns
    # A mapping that names a column the new file lacks is dropped with the design.
    mapped = [plan.id_column, plan.stratum_column, plan.size_column, plan.psu_column,
              *(plan.label_columns or [])]
    if any(c is not None and c not in columns for c in mapped):
        plan.id_column = plan.stratum_column = plan.size_column = plan.psu_column = None
        plan.label_columns = []
        plan.stages = plan.allocation = None
    elif plan.stages is not None:
        plan.stages = plan.allocation = None  # the allocation depends on the frame: set again
    db.session.flush()
    _record(actor, AuditAction.UPDATE, plan, before,
            _("Frame %(name)s uploaded (%(rows)s rows)", name=plan.frame_filename,
              rows=plan.frame_rows))
    db.session.commit()
    return plan


@dataclass(frozen=True)
class DesignData:
    """The column mapping and design choices a form (or the demo) gives."""

    id_column: str
    label_columns: list[str]
    stratum_column: str | None
    size_column: str | None
    psu_column: str | None
    method: str
    psu_method: str | None
    n_per_psu: int | None
    allocation_method: str
    power_exponent: float
    minimum: int
    maximum: int | None
    n: int
    reserve: int
    seed: int | None
    sd_column: str | None = None  # Neyman / optimal: S_h, one value per stratum
    cost_column: str | None = None  # optimal: cost of an interview, one value per stratum
    sort_column: str | None = None  # systematic methods: list order (implicit stratification)


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={field: message})


def _check_shape(data: DesignData, columns: list[str]) -> None:
    """Rules about the design's shape, before the library sees the frame."""
    for field in ("id_column", "stratum_column", "size_column", "psu_column", "sd_column",
                  "cost_column", "sort_column"):
        value = getattr(data, field)
        if value is not None and value not in columns:
            raise _fail(field, _("The frame has no column “%(column)s”.", column=value))
    for value in data.label_columns:
        if value not in columns:
            raise _fail("label_columns", _("The frame has no column “%(column)s”.",
                                           column=value))
    if data.method not in METHOD_LABELS:
        raise _fail("method", _("Choose a selection method."))
    if data.allocation_method not in ALLOCATION_LABELS:
        raise _fail("allocation_method", _("Choose an allocation method."))
    if data.sort_column is not None and data.method not in ("systematic", "pps-systematic"):
        raise _fail("sort_column", _("A sort order applies to systematic selection only."))
    if data.allocation_method in ("neyman", "optimal") and data.sd_column is None:
        raise _fail("sd_column", _("Neyman and optimal allocation need a column with the "
                                   "standard deviation of each stratum."))
    if data.allocation_method == "optimal" and data.cost_column is None:
        raise _fail("cost_column", _("Optimal allocation needs a column with the cost of an "
                                     "interview in each stratum."))
    if data.stratum_column is not None and data.stratum_column == data.id_column:
        raise _fail("stratum_column", _("The stratification column cannot be the ID column."))
    if data.psu_column is not None:
        if data.psu_column in (data.id_column, data.stratum_column):
            raise _fail("psu_column", _("The first-stage unit column must differ from the ID "
                                        "and stratification columns."))
        if data.psu_method not in METHOD_LABELS:
            raise _fail("psu_method", _("Choose how the first-stage units are selected."))
        if data.method not in EQUAL_METHODS:
            raise _fail("method", _("Within the selected first-stage units, units are drawn "
                                    "by simple random or systematic sampling."))
        if data.n_per_psu is None or data.n_per_psu < 1:
            raise _fail("n_per_psu", _("Give the number of units to select in each "
                                       "first-stage unit."))
    pps_stage = data.psu_method if data.psu_column is not None else data.method
    if pps_stage in PPS_METHODS and data.size_column is None:
        raise _fail("size_column", _("A PPS method needs a size measure column."))
    if data.n < 1:
        raise _fail("n", _("The sample size must be at least 1."))
    if data.reserve < 0:
        raise _fail("reserve", _("The number of reserves cannot be negative."))
    if data.seed is not None and not 0 <= data.seed <= MAX_SEED:
        raise _fail("seed", _("The seed must be a whole number from 0 to %(max)s.",
                              max=MAX_SEED))


def _strata_counts(frame: pd.DataFrame, data: DesignData) -> tuple[list[str], list[int],
                                                                    list[int]]:
    """Strata in order of first appearance, units to allocate (rows or PSUs), and rows."""
    if data.stratum_column is None:
        psus = frame[data.psu_column].nunique() if data.psu_column else len(frame)
        return [ALL], [int(psus)], [len(frame)]
    strata = frame[data.stratum_column]
    order = [str(s) for s in pd.unique(strata)]
    rows = strata.value_counts(sort=False)
    if data.psu_column:
        units = frame[[data.stratum_column, data.psu_column]].drop_duplicates()[
            data.stratum_column].value_counts(sort=False)
    else:
        units = rows
    return order, [int(units[s]) for s in order], [int(rows[s]) for s in order]


def _per_stratum(frame: pd.DataFrame, data: DesignData, column: str, field: str,
                 strata: list[str]) -> list[float]:
    """One number per stratum read from ``column`` (it must be the same on every row)."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (values < 0)
    if field == "cost_column":
        bad |= values <= 0
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise _fail(field, _("The column “%(column)s” needs a number of zero or more (a cost: "
                             "more than zero) on every row; data row %(row)s has “%(value)s”.",
                             column=column, row=i + 1, value=frame[column].iloc[i] or ""))
    if data.stratum_column is None:
        groups = pd.Series(ALL, index=frame.index)
    else:
        groups = frame[data.stratum_column].astype(str)
    spread = values.groupby(groups, sort=False).agg(["min", "max"])
    varying = spread.index[spread["min"] != spread["max"]]
    if len(varying):
        raise _fail(field, _("The column “%(column)s” must hold one value per stratum, but it "
                             "varies within stratum “%(stratum)s”.", column=column,
                             stratum=varying[0]))
    return [float(spread.loc[s, "min"]) for s in strata]


def _draw_plan(data: DesignData, n_by_stratum: dict[str, int] | int) -> S.DrawPlan:
    sort = (data.sort_column,) if data.sort_column else ()
    if data.psu_column is None:
        return S.DrawPlan.single(
            data.id_column, data.method, n_by_stratum, strata=data.stratum_column,
            size=data.size_column if data.method in PPS_METHODS else None, sort=sort,
            reserve=data.reserve)
    first = S.Stage(unit=data.psu_column, method=data.psu_method, n=n_by_stratum,
                    size=data.size_column if data.psu_method in PPS_METHODS else None,
                    strata=data.stratum_column)
    second = S.Stage(unit=data.id_column, method=data.method, n_per_parent=data.n_per_psu,
                     sort=sort)
    return S.DrawPlan(id=data.id_column, stages=(first, second), reserve=data.reserve)


def set_design(actor: User | None, plan: SamplingPlan, data: DesignData) -> SamplingPlan:
    """Check the mapping and design with the library, allocate, and store (all or nothing)."""
    _ensure_editable(plan)
    frame = plan_frame(plan)
    _check_shape(data, plan.frame_columns or [])
    try:
        ids = check_ids(frame, data.id_column)
    except S.SamplingError as exc:
        raise _library_error(exc, "id_column") from None
    if any(len(str(v)) > MAX_ID_LENGTH for v in ids):
        raise _fail("id_column", _("IDs longer than %(max)s characters cannot be stored.",
                                   max=MAX_ID_LENGTH))
    for field, column, role in (("stratum_column", data.stratum_column, "strata"),
                                ("psu_column", data.psu_column, "unit")):
        if column is not None:
            try:
                labels(frame, column, role=role)
            except S.SamplingError as exc:
                raise _library_error(exc, field) from None
    pps_stage = data.psu_method if data.psu_column is not None else data.method
    if pps_stage in PPS_METHODS:
        try:
            positive_sizes(frame, data.size_column, ids)
        except S.SamplingError as exc:
            raise _library_error(exc, "size_column") from None
    strata, units, rows = _strata_counts(frame, data)
    sd = cost = None
    if data.allocation_method in ("neyman", "optimal"):
        sd = _per_stratum(frame, data, data.sd_column, "sd_column", strata)
    if data.allocation_method == "optimal":
        cost = _per_stratum(frame, data, data.cost_column, "cost_column", strata)
    try:
        allocation = S.allocate(units, data.n, data.allocation_method, strata=strata,
                                sd=sd, cost=cost, power_exponent=data.power_exponent,
                                minimum=data.minimum, maximum=data.maximum)
    except S.SamplingError as exc:
        raise _library_error(exc, "n") from None
    n_spec: dict[str, int] | int = (dict(zip(strata, allocation.n_h, strict=True))
                                    if data.stratum_column else allocation.n_h[0])
    draw_plan = _draw_plan(data, n_spec)
    try:
        draw_plan.check()
    except S.SamplingError as exc:
        raise _library_error(exc, "method") from None
    if len(frame) <= _inline_limit():
        # A trial draw: every rule the library checks only when drawing (sample plus
        # reserves within each stratum, certainty units) is reported now, on the form.
        try:
            S.draw(frame, draw_plan, seed=0)
        except S.SamplingError as exc:
            raise _library_error(exc, "reserve" if "reserve" in str(exc) else "n") from None
    before = _snapshot(plan)
    _clear_draw(plan)
    plan.id_column = data.id_column
    plan.label_columns = list(data.label_columns)
    plan.stratum_column = data.stratum_column
    plan.size_column = data.size_column
    plan.psu_column = data.psu_column
    plan.method = data.method
    plan.psu_method = data.psu_method if data.psu_column else None
    plan.n_per_psu = data.n_per_psu if data.psu_column else None
    plan.allocation_method = data.allocation_method
    plan.allocation_params = {"power_exponent": data.power_exponent, "minimum": data.minimum,
                              "maximum": data.maximum, "sd_column": data.sd_column,
                              "cost_column": data.cost_column, "sort_column": data.sort_column}
    plan.n = data.n
    plan.reserve = data.reserve
    plan.seed = data.seed
    plan.stages = draw_plan.to_dict()["stages"]
    plan.allocation = [{"stratum": s, "N_h": N, "n_h": k, "rows": r} for s, N, k, r in zip(
        strata, allocation.N_h, allocation.n_h, rows, strict=True)]
    db.session.flush()
    _record(actor, AuditAction.UPDATE, plan, before, _("Design set (n = %(n)s)", n=data.n))
    db.session.commit()
    return plan


def design_data(plan: SamplingPlan) -> DesignData | None:
    """The plan's stored design as the dataclass the form and ``set_design`` use."""
    if plan.id_column is None or plan.method is None or plan.allocation_method is None:
        return None
    params = plan.allocation_params or {}
    return DesignData(
        id_column=plan.id_column, label_columns=list(plan.label_columns or []),
        stratum_column=plan.stratum_column, size_column=plan.size_column,
        psu_column=plan.psu_column, method=plan.method, psu_method=plan.psu_method,
        n_per_psu=plan.n_per_psu, allocation_method=plan.allocation_method,
        power_exponent=float(params.get("power_exponent", 0.5)),
        minimum=int(params.get("minimum", 0)), maximum=params.get("maximum"), n=plan.n,
        reserve=plan.reserve, seed=plan.seed, sd_column=params.get("sd_column"),
        cost_column=params.get("cost_column"), sort_column=params.get("sort_column"))


# ---- calculator ----------------------------------------------------------------------

@dataclass(frozen=True)
class CalculatorInput:
    confidence_level: float = 0.95
    p: float = 0.5
    deff: float = 1.0
    response_rate: float = 1.0
    target_moe: float | None = None


@dataclass(frozen=True)
class StratumPrecision:
    stratum: str
    units: int  # units the allocation shares out (frame rows, or first-stage units)
    rows: int  # final units in the frame
    n: int  # units allocated (rows, or first-stage units)
    interviews: int  # final units selected
    completes: float  # expected completed interviews
    moe: float | None  # expected margin of error (None: fewer than one complete)
    n_needed: int | None  # units to contact for the target margin of error


@dataclass(frozen=True)
class Calculation:
    rows: list[StratumPrecision]
    total: StratumPrecision
    two_stage: bool
    inputs: CalculatorInput


def _check_calculator(c: CalculatorInput) -> None:
    if not 0.5 <= c.confidence_level < 1:
        raise _fail("confidence_level", _("The confidence level must lie between 0.5 and 1."))
    if not 0 < c.p < 1:
        raise _fail("p", _("The expected proportion must lie strictly between 0 and 1."))
    if not 0 < c.deff <= 100:
        raise _fail("deff", _("The design effect must be positive (at most 100)."))
    if not 0 < c.response_rate <= 1:
        raise _fail("response_rate", _("The response rate must lie in (0, 1]."))
    if c.target_moe is not None and not 0 < c.target_moe < 1:
        raise _fail("target_moe", _("The target margin of error must lie strictly between "
                                    "0 and 1 (0.05 = 5 percentage points)."))


def _precision(stratum: str, units: int, rows: int, n: int, interviews: int,
               c: CalculatorInput) -> StratumPrecision:
    completes = interviews * c.response_rate
    moe = None
    if completes >= 1:
        moe = S.margin_of_error(min(completes, rows), p=c.p, confidence_level=c.confidence_level,
                                deff=c.deff, N=rows)
    needed = None
    if c.target_moe is not None:
        needed = S.sample_size(c.target_moe, p=c.p, confidence_level=c.confidence_level,
                               deff=c.deff, response_rate=c.response_rate, N=rows).n_to_contact
    return StratumPrecision(stratum, units, rows, n, interviews, completes, moe, needed)


def calculate(plan: SamplingPlan, c: CalculatorInput) -> Calculation:
    """Expected margin of error per stratum (and overall) for the plan's allocation.

    Per stratum: ``margin_of_error`` for the expected completes (interviews x response rate)
    with the finite-population correction on the stratum's final units; two-stage designs
    take their clustering into account only through the design effect given. The overall
    line treats the whole sample as one (an approximation that ignores the stratification).
    """
    if not plan.allocation:
        raise DomainError(_("Set the design first."))
    _check_calculator(c)
    per_psu = plan.n_per_psu if plan.psu_column else None
    out = []
    try:
        for a in plan.allocation:
            interviews = a["n_h"] * per_psu if per_psu else a["n_h"]
            out.append(_precision(a["stratum"], a["N_h"], a["rows"], a["n_h"],
                                  min(interviews, a["rows"]), c))
        total = _precision(str(_("Whole sample")), sum(r.units for r in out),
                           sum(r.rows for r in out), sum(r.n for r in out),
                           sum(r.interviews for r in out), c)
    except S.SamplingError as exc:
        raise _library_error(exc) from None
    return Calculation(out, total, per_psu is not None, c)


# ---- draw ----------------------------------------------------------------------------

def _check_drawable(plan: SamplingPlan) -> None:
    _ensure_editable(plan)
    if plan.frame_content is None:
        raise DomainError(_("Upload the sampling frame first."))
    if plan.stages is None:
        raise DomainError(_("Set the design first."))


def _library_plan(plan: SamplingPlan) -> S.DrawPlan:
    return S.DrawPlan.from_dict({"id": plan.id_column, "reserve": plan.reserve,
                                 "stages": plan.stages})


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def _inline_limit() -> int:
    """Frames up to this many rows are drawn within the request; larger ones by a job."""
    return int(current_app.config.get("SAMPLING_INLINE_MAX_ROWS", 200_000))


def stage_draw(actor: User | None, plan: SamplingPlan) -> dict:
    """Draw the sample and stage the record and every case (the caller commits once)."""
    _check_drawable(plan)
    frame = plan_frame(plan)
    if plan.seed is None:
        plan.seed = secrets.randbits(63)
    try:
        result = S.draw(frame, _library_plan(plan), seed=plan.seed)
    except S.SamplingError as exc:
        raise _library_error(exc) from None
    before = _snapshot(plan)
    _clear_draw(plan)
    sample = result.sample
    ranks = sample["reserve_rank"]
    keep = [c for c in (plan.label_columns or []) if c != plan.id_column]
    data_cols = {c: sample[c].tolist() for c in keep}
    ids = sample[plan.id_column].tolist()
    strata = sample[plan.stratum_column].tolist() if plan.stratum_column else [None] * len(ids)
    psus = sample[plan.psu_column].tolist() if plan.psu_column else [None] * len(ids)
    pik = sample["pik"].to_numpy(dtype=np.float64)
    weight = sample["weight"].to_numpy(dtype=np.float64)
    rows = []
    for i, unit in enumerate(ids):
        rank = None if pd.isna(ranks.iloc[i]) else int(ranks.iloc[i])
        rows.append({
            "plan_id": plan.id,
            "position": i + 1,
            "unit_id": str(unit),
            "data": {c: _text(data_cols[c][i]) for c in keep},
            "stratum": _text(strata[i]),
            "psu": _text(psus[i]),
            "pik": float(pik[i]),
            "weight": float(weight[i]),
            "reserve_rank": rank,
            "status": (CaseStatus.SELECTED if rank is None else CaseStatus.RESERVE).value,
        })
    if rows:
        db.session.execute(insert(SamplingCase), rows)
    plan.draw_record = result.record
    plan.drawn_at = utcnow()
    plan.drawn_by_id = actor.id if actor else None
    plan.status = SamplingPlanStatus.DRAWN.value
    db.session.flush()
    _record(actor, AuditAction.STATE, plan, before,
            _("Sample drawn: %(selected)s selected, %(reserves)s reserves (seed %(seed)s)",
              selected=result.record["result"]["selected"],
              reserves=result.record["result"]["reserves"], seed=plan.seed))
    return {"plan_id": plan.id, "selected": result.record["result"]["selected"],
            "reserves": result.record["result"]["reserves"], "seed": plan.seed}


def draw_sample(actor: User | None, plan: SamplingPlan) -> dict:
    """Draw now: the draw record and all cases commit together, or nothing does."""
    summary = stage_draw(actor, plan)
    db.session.commit()
    return summary


def request_draw(actor: User | None, plan: SamplingPlan):
    """Draw at once for ordinary frames; a large frame is drawn by a background job.

    Returns ``(summary, None)`` after an immediate draw or ``(None, job)``.
    """
    _check_drawable(plan)
    if (plan.frame_rows or 0) <= _inline_limit():
        return draw_sample(actor, plan), None
    from .jobs import submit_job

    job = submit_job(actor, "sampling_draw", {"plan_id": plan.id},
                     organisation_id=plan.campaign.organisation_id)
    return None, job


# ---- verify, lock, versions -----------------------------------------------------------

@dataclass(frozen=True)
class VerifyOutcome:
    ok: bool
    messages: list[str]


def verify_plan(plan: SamplingPlan) -> VerifyOutcome:
    """Re-run the library's verify on the stored frame and record; check the stored cases too."""
    if plan.draw_record is None:
        raise DomainError(_("This plan has no drawn sample yet."))
    frame = plan_frame(plan)
    try:
        outcome = S.verify(frame, plan.draw_record)
    except S.SamplingError as exc:
        return VerifyOutcome(False, [translate(str(exc))])
    messages = translate_differences(outcome.differences)
    if outcome.ok:
        again = S.draw(frame, _library_plan(plan), seed=plan.draw_record["generator"]["seed"])
        expected = [(str(u), None if pd.isna(r) else int(r)) for u, r in zip(
            again.sample[plan.id_column], again.sample["reserve_rank"], strict=True)]
        stored = [(c.unit_id, c.reserve_rank) for c in db.session.scalars(
            select(SamplingCase).where(SamplingCase.plan_id == plan.id)
            .order_by(SamplingCase.position))]
        if stored != expected:
            messages.append(_("The stored cases differ from the sample the record reproduces."))
    return VerifyOutcome(not messages, messages)


def lock_plan(actor: User | None, plan: SamplingPlan) -> SamplingPlan:
    """Lock a drawn plan: its sample becomes the campaign's list of cases; nothing changes."""
    _ensure_editable(plan)
    if plan.status != SamplingPlanStatus.DRAWN or plan.draw_record is None:
        raise Conflict(_("Only a drawn plan can be locked."))
    before = _snapshot(plan)
    plan.status = SamplingPlanStatus.LOCKED.value
    plan.locked_at = utcnow()
    plan.locked_by_id = actor.id if actor else None
    db.session.flush()
    _record(actor, AuditAction.STATE, plan, before, _("Plan locked"))
    db.session.commit()
    return plan


def new_version(actor: User | None, plan: SamplingPlan) -> SamplingPlan:
    """Copy a plan's frame and design into a new draft version (the draw is not copied)."""
    copy = SamplingPlan(
        campaign_id=plan.campaign_id, campaign=plan.campaign,
        version=_next_version(plan.campaign_id), previous_id=plan.id, title=plan.title,
        status=SamplingPlanStatus.DRAFT.value, created_by_id=actor.id if actor else None,
        **{k: getattr(plan, k) for k in (
            "frame_filename", "frame_content", "frame_sha256", "frame_rows", "frame_columns",
            "id_column", "label_columns", "stratum_column", "size_column", "psu_column",
            "method", "psu_method", "n_per_psu", "allocation_method", "allocation_params", "n",
            "seed", "reserve", "stages", "allocation")})
    db.session.add(copy)
    db.session.flush()
    _record(actor, AuditAction.CREATE, copy, None,
            _("Version %(version)s made from version %(previous)s", version=copy.version,
              previous=plan.version))
    db.session.commit()
    return copy


def locked_cases(campaign: Campaign) -> list[SamplingCase]:
    """The cases to be interviewed: the latest locked plan's sample (field work reads this)."""
    plan = db.session.scalar(select(SamplingPlan).where(
        SamplingPlan.campaign_id == campaign.id,
        SamplingPlan.status == SamplingPlanStatus.LOCKED.value)
        .order_by(SamplingPlan.version.desc()).limit(1))
    if plan is None:
        return []
    return list(db.session.scalars(select(SamplingCase).where(
        SamplingCase.plan_id == plan.id).order_by(SamplingCase.position)))


# ---- downloads -----------------------------------------------------------------------

def _cases(plan: SamplingPlan) -> list[SamplingCase]:
    if plan.draw_record is None:
        raise DomainError(_("This plan has no drawn sample yet."))
    return list(db.session.scalars(select(SamplingCase).where(
        SamplingCase.plan_id == plan.id).order_by(SamplingCase.position)))


def _columns(plan: SamplingPlan, with_design: bool,
             with_labels: bool) -> list[tuple[str, str]]:
    cols = [("unit_id", _("ID (%(column)s)", column=plan.id_column))]
    if with_labels:  # identifying columns: only for those the policy lets see them
        cols += [(f"data:{c}", c) for c in plan.label_columns or [] if c != plan.id_column]
    if plan.stratum_column:
        cols.append(("stratum", _("Stratum (%(column)s)", column=plan.stratum_column)))
    if plan.psu_column:
        cols.append(("psu", _("First-stage unit (%(column)s)", column=plan.psu_column)))
    if with_design:
        cols += [("pik", _("Inclusion probability")), ("weight", _("Design weight"))]
    cols += [("reserve_rank", _("Reserve rank")), ("status", _("Status"))]
    return cols


def _row(case: SamplingCase, cols: list[tuple[str, str]]) -> dict:
    row = {}
    for key, _label in cols:
        if key.startswith("data:"):
            row[key] = (case.data or {}).get(key[5:])
        elif key == "status":
            row[key] = str(CASE_STATUS_LABELS[CaseStatus(case.status)])
        else:
            row[key] = getattr(case, key)
    return row


def _filename(plan: SamplingPlan, what: str) -> str:
    return f"{what}-campaign{plan.campaign_id}-v{plan.version}.xlsx"


def sample_workbook(plan: SamplingPlan, with_labels: bool = False) -> tuple[str, bytes]:
    """The drawn sample (cases and reserves) with inclusion probabilities and weights; the
    frame's identifying columns only ``with_labels``."""
    cases = _cases(plan)
    cols = _columns(plan, with_design=True, with_labels=with_labels)
    record = plan.draw_record
    info = [(_("Campaign"), plan.campaign.title), (_("Plan"), f"{plan.title} (v{plan.version})"),
            (_("Frame file"), plan.frame_filename or ""),
            (_("Frame digest (SHA-256)"), plan.frame_sha256 or ""),
            (_("Seed"), str(record["generator"]["seed"])),
            (_("Selection digest"), record["result"]["selection_sha256"])]
    content = sampling_xlsx.sample_workbook(
        title=_("Sample"), headers=[label for _k, label in cols],
        rows=[[_row(c, cols)[k] for k, _h in cols] for c in cases],
        info_title=_("Draw"), info=info)
    return _filename(plan, "sample"), content


def _interviewers(plan: SamplingPlan) -> list[User]:
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.organisation_id == plan.campaign.organisation_id,
        Membership.role == Role.INTERVIEWER.value, User.active.is_(True))
        .order_by(User.full_name, User.login)))


def split_work(cases: list[SamplingCase], people: int) -> list[list[SamplingCase]]:
    """Sample cases in stratum / first-stage-unit order, cut into near-equal consecutive lists."""
    ordered = sorted(cases, key=lambda c: (c.stratum or "", c.psu or "", c.position))
    size, extra = divmod(len(ordered), people)
    out, start = [], 0
    for i in range(people):
        end = start + size + (1 if i < extra else 0)
        out.append(ordered[start:end])
        start = end
    return out


def worklists_workbook(plan: SamplingPlan, with_labels: bool = False) -> tuple[str, bytes]:
    """Per-interviewer work lists (one sheet each) plus the reserve list, as XLSX.

    The sample is shared among the organisation's interviewers in consecutive blocks of
    strata and first-stage units, so that each person works in as few places as possible;
    supervisors re-assign in the field-work pages.
    """
    cases = _cases(plan)
    cols = [("no", _("No."))] + _columns(plan, with_design=False, with_labels=with_labels)[:-1] + [
        ("outcome", _("Contact result")), ("note", _("Notes"))]
    people = _interviewers(plan)
    selected = [c for c in cases if c.reserve_rank is None]
    reserves = sorted((c for c in cases if c.reserve_rank is not None),
                      key=lambda c: (c.stratum or "", c.psu or "", c.reserve_rank, c.position))
    lists = split_work(selected, max(len(people), 1))
    names = [p.full_name for p in people] or [str(_("Not yet assigned"))]

    def rows(chunk: list[SamplingCase]) -> list[list]:
        out = []
        for i, case in enumerate(chunk, start=1):
            values = _row(case, [c for c in cols if c[0] not in ("no", "outcome", "note")])
            out.append([i if k == "no" else "" if k in ("outcome", "note") else values[k]
                        for k, _label in cols])
        return out

    sheets = [(name, _("Interviewer: %(name)s (%(count)s cases)", name=name, count=len(chunk)),
               rows(chunk)) for name, chunk in zip(names, lists, strict=True)]
    sheets.append((_("Reserves"), _("Reserve cases: open them only when the supervisor says "
                                    "so, in rank order within their group."), rows(reserves)))
    content = sampling_xlsx.worklists_workbook(
        headers=[label for _k, label in cols], sheets=sheets,
        heading=_("Work list — %(campaign)s (plan version %(version)s)",
                  campaign=plan.campaign.title, version=plan.version))
    return _filename(plan, "worklists"), content


# ---- choices for the forms -----------------------------------------------------------

def method_choices() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in METHOD_LABELS.items()]


def allocation_choices() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in ALLOCATION_LABELS.items()]
