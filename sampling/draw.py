"""Verifiable draws: plans, stratified and multi-stage selection, reserves, records, verify.

A :class:`DrawPlan` says what to draw (id column, one or more :class:`Stage`, reserves);
:func:`draw` runs it on a frame with a seed and returns a :class:`DrawResult` holding the
sample (frame columns plus ``pik``, ``weight``, ``reserve_rank``), its CSV bytes and a
JSON-ready draw record; :func:`verify` re-runs a record on a frame and lists what differs.

Order of the random numbers
---------------------------
One ``numpy.random.Generator(numpy.random.PCG64(seed))`` serves the whole draw and only
its ``random()`` method is called. Stages run in order. Within a stage, groups (strata at
the first stage, the selected units of the previous stage after that) are processed in
order of first appearance in the frame; within a group, units are in order of first
appearance (after sorting by ``sort`` for systematic methods) and the method consumes its
uniforms as described in :mod:`sampling.selection` (srs: one per unit; systematic: one;
poisson: one per unit; Brewer: one per draw, or one or two per proposal on large strata;
Sampford: one per unit per attempt plus one per complete attempt); then, when reserves are
asked for, one uniform per selected non-certainty unit (in frame order) puts them in random
order (srs needs none: the selecting uniforms already order the units). Sample rows are
written in frame order, then reserves by rank and frame order.

Output CSV
----------
UTF-8 without byte-order mark, ``\n`` line ends, minimal quoting (Python ``csv``), the
frame's columns as they are (text as read), then ``pik_stage1..`` for multi-stage draws,
``pik``, ``weight`` (Python ``repr`` of the float, which round-trips exactly) and
``reserve_rank`` (empty for the sample).

Reserves and weights
--------------------
See :data:`RESERVE_RULE` (also written into every record).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import platform
import secrets
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .errors import DesignError, FrameError, RecordError, SamplingError
from .frame import check_ids, frame_digest, labels, positive_sizes, require_columns
from .inclusion import inclusion_probabilities
from .plan import METHODS, DrawPlan, Stage, _as_int
from .selection import (
    random_order,
    select_brewer,
    select_poisson,
    select_sampford,
    select_systematic,
)

__all__ = [
    "METHODS",
    "RESERVE_RULE",
    "RECORD_FORMAT",
    "Stage",
    "DrawPlan",
    "DrawResult",
    "Verification",
    "draw",
    "verify",
    "canonical_json",
]

RECORD_FORMAT = "surveyapp-sampling-draw/1"

ALGORITHMS = {
    "srs": "simple random sampling without replacement: one uniform per unit, the n "
    "smallest are selected (random sort); pik = n / N",
    "systematic": "systematic sampling with interval N / n and one uniform start, in frame "
    "order or the sort order; pik = n / N",
    "poisson": "Poisson sampling (Bernoulli without size): one uniform per unit, selected "
    "when u < pik; pik = n / N, or proportional to size (expected size n)",
    "pps-systematic": "systematic πps (Madow; R sampling::UPsystematic), pik from "
    "sampling::inclusionprobabilities with iterative certainty capping",
    "pps-brewer": "Brewer's draw-by-draw πps (R sampling::UPbrewer), one uniform per draw",
    "pps-sampford": "Sampford's πps design by Poisson rejective sampling "
    "(Bondesson, Traat & Lundqvist 2006)",
}

RESERVE_RULE = (
    "Reserves are drawn in the same operation. In each group (stratum, or parent unit at "
    "the last stage of a multi-stage draw) the method selects n_g + m_g units with "
    "inclusion probabilities pi'_k computed for n_g + m_g (for srs: the n_g + m_g smallest "
    "uniforms). Certainty units (pi'_k = 1) stay in the sample; the other selected units "
    "are put in random order (one uniform each, in frame order, ascending; for srs the "
    "order of the selecting uniforms): the first n_g - c_g form the sample, the next m_g "
    "are the reserves ranked 1, 2, ... (m_g = 0 when n_g = 0; at later stages m_g is at "
    "most the units left in the parent). Sample and reserve rows carry "
    "pik = pi'_k (n_g - c_g) / (n_g + m_g - c_g) (1 for certainty units) and "
    "weight = 1 / pik. Reserves must be opened in rank order within their group. When "
    "j_g reserves of a group have been opened (whether or not they respond), the sample "
    "and the opened reserves of the group are a probability sample with "
    "pik = pi'_k (n_g - c_g + j_g) / (n_g + m_g - c_g): multiply the weight of every "
    "non-certainty unit of the group by (n_g - c_g) / (n_g - c_g + j_g) "
    "(DrawResult.weights_with_reserves does it); for srs this gives N_g / (n_g + j_g). "
    "Non-response among the opened units is then adjusted by non-response weighting."
)


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8) used for parameter digests."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


@dataclass(frozen=True)
class DrawResult:
    """A drawn sample with its record.

    Attributes
    ----------
    sample : pandas.DataFrame
        Frame columns, per-stage ``pik_stage1..`` (multi-stage only), ``pik``, ``weight``
        and ``reserve_rank`` (``<NA>`` for the sample); sample rows in frame order, then
        reserves by rank (ties in frame order). Treat it as read-only.
    record : dict
        The JSON-ready draw record.
    csv : bytes
        The sample as UTF-8 CSV (floats written with Python's ``repr``).
    groups : tuple
        The last-stage group of each sample row (stratum label, or parent unit).
    """

    sample: pd.DataFrame
    record: dict[str, Any]
    csv: bytes
    groups: tuple[Any, ...] = field(repr=False)
    certain: tuple[bool, ...] = field(repr=False)

    def record_json(self) -> str:
        """The record as indented JSON text (what the CLI writes and prints)."""
        return json.dumps(self.record, ensure_ascii=False, indent=2) + "\n"

    def to_records(self) -> list[dict[str, Any]]:
        """Sample rows as dicts (JSON-ready, missing values as ``None``)."""
        df = self.sample.astype(object).where(self.sample.notna(), None)
        return df.to_dict(orient="records")

    def weights_with_reserves(self, opened: Iterable[Any]) -> pd.Series:
        """Design weights of the sample plus the opened reserves (see :data:`RESERVE_RULE`).

        Parameters
        ----------
        opened : iterable
            Ids (values of the id column) of the reserves that were opened.

        Returns
        -------
        pandas.Series
            Weights indexed by id, for the sample rows and the opened reserves.

        Raises
        ------
        DesignError
            An id that is not a reserve, or reserves not opened in rank order in a group.
        """
        id_col = self.record["parameters"]["id"]
        ids = self.sample[id_col].to_numpy(dtype=object)
        ranks = self.sample["reserve_rank"].to_numpy(dtype=object)
        is_res = np.array([r is not None and not pd.isna(r) for r in ranks], dtype=bool)
        position = {v: i for i, v in enumerate(ids)}
        opened_set = set()
        for v in opened:
            i = position.get(v)
            if i is None or not is_res[i]:
                raise DesignError(f"{v!r} is not a reserve of this draw")
            opened_set.add(i)
        groups = np.array(self.groups, dtype=object)
        weight = self.sample["weight"].to_numpy(dtype=np.float64).copy()
        certain = np.array(self.certain, dtype=bool)
        keep = ~is_res
        for g in pd.unique(groups):
            in_g = groups == g
            res_idx = [i for i in np.flatnonzero(in_g & is_res)]
            j = sum(1 for i in res_idx if i in opened_set)
            ranks_open = sorted(int(ranks[i]) for i in res_idx if i in opened_set)
            if ranks_open != list(range(1, j + 1)):
                raise DesignError(
                    f"reserves of group {g!r} must be opened in rank order "
                    f"(opened ranks {ranks_open})"
                )
            n_free = int(np.count_nonzero(in_g & ~is_res & ~certain))
            if j:
                factor = n_free / (n_free + j)
                idx = np.flatnonzero(
                    in_g & ~certain & (~is_res | np.isin(np.arange(len(ids)), list(opened_set)))
                )
                weight[idx] *= factor
        keep |= np.isin(np.arange(len(ids)), list(opened_set))
        return pd.Series(weight[keep], index=pd.Index(ids[keep], name=id_col), name="weight")


@dataclass(frozen=True)
class Verification:
    """Result of :func:`verify`: ``ok`` and the differences in plain words."""

    ok: bool
    differences: tuple[str, ...]

    def message(self) -> str:
        """One line: what was verified, or what differs."""
        if self.ok:
            return "verified: the frame and the record reproduce the same sample"
        return "not verified: " + "; ".join(self.differences)


def _seed(seed: Any) -> int:
    if seed is None:
        return secrets.randbits(63)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise DesignError(f"seed must be a non-negative whole number, got {seed!r}")
    return int(seed)


def _first_rows(codes: np.ndarray, count: int) -> np.ndarray:
    first = np.full(count, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.size - 1, -1, -1)
    return first


def _draw_group(
    method: str,
    x: np.ndarray | None,
    n: int,
    m: int,
    rng: np.random.Generator,
    order: np.ndarray | None,
    where: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Select in one group: (pik of the group's units, sample positions, reserves by rank)."""
    size = x.size if x is not None else order.size  # type: ignore[union-attr]
    empty = np.empty(0, dtype=np.int64)
    if method == "srs":
        perm = random_order(size, rng)
        return np.full(size, n / size), np.sort(perm[:n]), perm[n : n + m]
    if method == "poisson":
        pik = np.full(size, n / size) if x is None else inclusion_probabilities(x, n)
        return pik, select_poisson(pik, rng), empty
    total = n + m
    pik_ext = np.full(size, total / size) if x is None else inclusion_probabilities(x, total)
    listed = order if order is not None else None
    p_list = pik_ext if listed is None else pik_ext[listed]
    if method in ("systematic", "pps-systematic"):
        chosen = select_systematic(p_list, rng)
    elif method == "pps-brewer":
        chosen = select_brewer(p_list, rng)
    else:
        chosen = select_sampford(p_list, rng)
    if listed is not None:
        chosen = np.sort(listed[chosen])
    if m == 0:
        return pik_ext, chosen, empty
    # Certainty units stay in the sample; with equal probabilities there are none to keep
    # (n + m = N simply takes every unit, and the random order splits them).
    certain = pik_ext[chosen] >= 1 if x is not None else np.zeros(chosen.size, dtype=bool)
    c = int(np.count_nonzero(certain))
    if c >= n:
        raise DesignError(
            f"with n + reserve = {total}{where}, {c} units are certain to be selected, "
            f"leaving no random sample units to replace; ask for fewer reserves"
        )
    free = chosen[~certain]
    perm = random_order(free.size, rng)
    sample = np.sort(np.concatenate((chosen[certain], free[perm[: n - c]])))
    reserves = free[perm[n - c :]]
    factor = (n - c) / (total - c)
    pik = np.where(pik_ext >= 1, 1.0, pik_ext * factor) if x is not None else pik_ext * factor
    return pik, sample, reserves


def _format_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float | np.floating):
        return "" if np.isnan(v) else repr(float(v))
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if v is pd.NA or v is pd.NaT:
        return ""
    return str(v)


def sample_csv(sample: pd.DataFrame) -> bytes:
    """CSV bytes of a sample table: UTF-8, ``\\n`` line ends, minimal quoting, floats by repr."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([str(c) for c in sample.columns])
    columns = [sample[c].to_numpy(dtype=object) for c in sample.columns]
    for row in zip(*columns, strict=True):
        writer.writerow([_format_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def _selection_digest(main: np.ndarray, reserve: np.ndarray, ranks: np.ndarray) -> str:
    h = hashlib.sha256(b"selection\0")
    h.update(struct.pack("<Q", main.size) + main.astype("<i8").tobytes())
    h.update(struct.pack("<Q", reserve.size) + reserve.astype("<i8").tobytes())
    h.update(ranks.astype("<i8").tobytes())
    return h.hexdigest()


def _sizes_by_group(st: Stage, group_labels: list[Any]) -> list[int]:
    if isinstance(st.n, Mapping):
        keyed = {str(k): v for k, v in st.n.items()}
        present = {str(g) for g in group_labels}
        for k in keyed:
            if k not in present:
                raise FrameError(
                    f"stratum {k!r} has a sample size but no unit in the frame (empty stratum)"
                )
        for g in group_labels:
            if str(g) not in keyed:
                raise DesignError(f"stratum {g!r} has no sample size")
        return [_as_int(keyed[str(g)], f"n of stratum {g!r}") for g in group_labels]
    return [_as_int(st.n, "n")] * len(group_labels)


def draw(frame: pd.DataFrame, plan: DrawPlan, seed: int | None = None) -> DrawResult:
    """Draw a sample from ``frame`` according to ``plan``, reproducibly from ``seed``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The sampling frame, one row per final unit (e.g. a dossier or a person); for
        multi-stage plans it also holds the columns naming the units of earlier stages
        and their size measures.
    plan : DrawPlan
    seed : int, optional
        Seed of ``numpy.random.PCG64``; a fresh 63-bit seed from the operating system is
        used (and recorded) when omitted.

    Returns
    -------
    DrawResult

    Raises
    ------
    FrameError
        Missing columns, missing or duplicate ids, missing or non-positive sizes, sizes not
        constant within a unit, units crossing strata or parents, empty strata.
    DesignError
        Invalid plan, or a sample size larger than its stratum.

    Notes
    -----
    Stage ``s`` gives each unit a conditional inclusion probability ``pik_s``; a final
    unit's ``pik`` is their product and ``weight = 1 / pik`` (Särndal et al. 1992,
    section 4.3). Nothing is returned unless the whole draw succeeds.
    """
    ids, sizes = _check_inputs(frame, plan)
    digest = frame_digest(frame)
    seed = _seed(seed)
    rng = np.random.Generator(np.random.PCG64(seed))
    state = _State.start(len(frame), len(plan.stages))
    for s in range(len(plan.stages)):
        _run_stage(frame, plan, s, ids, sizes, rng, state)
    return _result(frame, plan, seed, digest, state)


def _check_inputs(frame: pd.DataFrame, plan: DrawPlan) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Validate the plan and the frame columns it uses; return ids and size columns."""
    if not isinstance(plan, DrawPlan):
        raise DesignError("plan must be a DrawPlan")
    plan.check()
    roles: dict[str, str | None] = {"id": plan.id}
    for i, st in enumerate(plan.stages, start=1):
        roles[f"unit of stage {i}"] = st.unit
        roles[f"size of stage {i}"] = st.size
        roles[f"strata of stage {i}"] = st.strata
        for c in st.sort:
            roles[f"sort of stage {i}"] = c
    require_columns(frame, roles)
    if len(frame) == 0:
        raise FrameError("the frame has no rows")
    ids = check_ids(frame, plan.id)
    sizes = {st.size: positive_sizes(frame, st.size, ids) for st in plan.stages if st.uses_size}
    return ids, sizes


@dataclass
class _State:
    """What the stages build up, indexed by frame row (internal, mutable)."""

    rows: np.ndarray  # frame rows still eligible (selected at every stage so far)
    stage_pik: np.ndarray  # stage x row conditional inclusion probabilities
    group_label: np.ndarray  # last-stage group of each row
    certain: np.ndarray  # row's last-stage unit had pik = 1
    parent_of_row: np.ndarray | None = None  # code of the selected parent unit of each eligible row
    parent_labels: list[Any] = field(default_factory=list)
    reserve_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    reserve_ranks: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    summaries: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(cls, N: int, stages: int) -> _State:
        return cls(
            rows=np.arange(N, dtype=np.int64),
            stage_pik=np.ones((stages, N)),
            group_label=np.empty(N, dtype=object),
            certain=np.zeros(N, dtype=bool),
        )


def _stage_units(
    frame: pd.DataFrame, plan: DrawPlan, st: Stage, ids: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Unit code of each eligible row (order of first appearance) and the unit labels."""
    if st.unit == plan.id:
        return np.arange(rows.size, dtype=np.int64), ids[rows]
    vals = labels(frame, st.unit, role="unit").take(rows)
    codes, uniq = pd.factorize(pd.Series(vals, dtype=object), sort=False)
    return codes.astype(np.int64), np.asarray(uniq, dtype=object)


def _stage_groups(
    frame: pd.DataFrame,
    plan: DrawPlan,
    s: int,
    state: _State,
    unit_of_row: np.ndarray,
    first: np.ndarray,
    unit_values: np.ndarray,
) -> tuple[np.ndarray, list[Any], list[int]]:
    """Group of each unit (strata, or the parent unit), the group labels and sample sizes."""
    st = plan.stages[s]
    rows = state.rows

    def crossing(bad: np.ndarray, what: str) -> FrameError:
        i = int(np.flatnonzero(bad)[0])
        return FrameError(
            f"unit {unit_values[unit_of_row[i]]!r} of column {st.unit!r} lies in more "
            f"than one {what} (row {rows[i] + 1})"
        )

    if s > 0:
        assert state.parent_of_row is not None
        group_of_unit = state.parent_of_row[first]
        bad = group_of_unit[unit_of_row] != state.parent_of_row
        if bad.any():
            raise crossing(bad, f"unit of column {plan.stages[s - 1].unit!r}")
        n = _as_int(st.n_per_parent, "n_per_parent")
        return group_of_unit, state.parent_labels, [n] * len(state.parent_labels)
    if st.strata is None:
        return np.zeros(first.size, dtype=np.int64), ["(all)"], _sizes_by_group(st, ["(all)"])
    strata_rows = labels(frame, st.strata, role="strata").take(rows)
    row_codes, g_labels = pd.factorize(pd.Series(strata_rows, dtype=object), sort=False)
    group_of_unit = row_codes[first].astype(np.int64)
    bad = group_of_unit[unit_of_row] != row_codes
    if bad.any():
        raise crossing(bad, "stratum")
    group_labels = list(g_labels)
    return group_of_unit, group_labels, _sizes_by_group(st, group_labels)


def _unit_sizes(
    st: Stage,
    sizes: dict[str, np.ndarray],
    rows: np.ndarray,
    unit_of_row: np.ndarray,
    first: np.ndarray,
    unit_values: np.ndarray,
) -> np.ndarray | None:
    """The size measure of each unit, checked to be constant within the unit."""
    if not st.uses_size:
        return None
    assert st.size is not None
    x_rows = sizes[st.size][rows]
    x_unit = x_rows[first]
    bad = x_unit[unit_of_row] != x_rows
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FrameError(
            f"size column {st.size!r} differs within unit {unit_values[unit_of_row[i]]!r} "
            f"of column {st.unit!r} (row {rows[i] + 1})"
        )
    return x_unit


def _sort_ranks(
    frame: pd.DataFrame, st: Stage, rows: np.ndarray, first: np.ndarray
) -> np.ndarray | None:
    """Rank of each unit in the systematic list order (``sort`` columns, stable)."""
    if not st.sort:
        return None
    keys = frame.loc[:, list(st.sort)].take(rows[first]).reset_index(drop=True)
    for c in st.sort:
        if keys[c].isna().any():
            raise FrameError(f"sort column {c!r} has an empty value")
    rank = np.empty(first.size, dtype=np.int64)
    rank[keys.sort_values(list(st.sort), kind="stable").index.to_numpy()] = np.arange(first.size)
    return rank


def _run_stage(
    frame: pd.DataFrame,
    plan: DrawPlan,
    s: int,
    ids: np.ndarray,
    sizes: dict[str, np.ndarray],
    rng: np.random.Generator,
    state: _State,
) -> None:
    """Select the units of stage ``s`` within each group and update ``state``."""
    st = plan.stages[s]
    last = s == len(plan.stages) - 1
    m = _as_int(plan.reserve, "reserve") if last else 0
    at_stage = f" at stage {s + 1}" if len(plan.stages) > 1 else ""
    rows = state.rows
    unit_of_row, unit_values = _stage_units(frame, plan, st, ids, rows)
    U = int(unit_of_row.max()) + 1 if rows.size else 0
    first = _first_rows(unit_of_row, U)
    group_of_unit, group_labels, n_groups = _stage_groups(
        frame, plan, s, state, unit_of_row, first, unit_values
    )
    x_unit = _unit_sizes(st, sizes, rows, unit_of_row, first, unit_values)
    sort_rank = _sort_ranks(frame, st, rows, first)

    G = len(group_labels)
    by_group = np.argsort(group_of_unit, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(group_of_unit, minlength=G))))
    pik_unit = np.zeros(U)
    main_mask = np.zeros(U, dtype=bool)
    res_units: list[np.ndarray] = []
    res_rank: list[np.ndarray] = []
    for g in range(G):
        idx = by_group[bounds[g] : bounds[g + 1]]
        label = group_labels[g]
        if s == 0:
            where = f" in stratum {label!r}" if st.strata is not None else " of the frame"
        else:
            where = f" in unit {label!r} of {plan.stages[s - 1].unit!r}"
        Ng, n_g = idx.size, n_groups[g]
        if Ng == 0:
            raise FrameError(f"stratum {label!r} is empty")
        if s == 0:
            if n_g > Ng:
                raise DesignError(f"n = {n_g} is larger than the {Ng} units{where}{at_stage}")
            m_g = m if n_g > 0 else 0
            if n_g + m_g > Ng:
                raise DesignError(
                    f"n + reserve = {n_g + m_g} is larger than the {Ng} units{where}{at_stage}"
                )
        else:
            n_g = min(n_g, Ng)
            m_g = min(m, Ng - n_g) if n_g > 0 else 0
        if sort_rank is not None:
            order: np.ndarray | None = np.argsort(sort_rank[idx], kind="stable")
        else:
            order = np.arange(Ng) if x_unit is None else None
        xg = None if x_unit is None else x_unit[idx]
        pik_g, sel, res = _draw_group(st.method, xg, n_g, m_g, rng, order, where)
        pik_unit[idx] = pik_g
        main_mask[idx[sel]] = True
        if res.size:
            res_units.append(idx[res])
            res_rank.append(np.arange(1, res.size + 1, dtype=np.int64))

    pik_rows = pik_unit[unit_of_row]
    state.stage_pik[s, rows] = pik_rows
    state.group_label[rows] = np.asarray(group_labels, dtype=object)[group_of_unit[unit_of_row]]
    state.certain[rows] = pik_rows >= 1
    n_reserves = int(sum(r.size for r in res_units))
    state.summaries.append(
        {
            "stage": s + 1,
            "unit": st.unit,
            "method": st.method,
            "units": U,
            "groups": G,
            "selected": int(main_mask.sum()),
            "reserves": n_reserves,
        }
    )
    if last and res_units:
        unit_rank = np.zeros(U, dtype=np.int64)
        unit_rank[np.concatenate(res_units)] = np.concatenate(res_rank)
        row_rank = unit_rank[unit_of_row]
        is_res = row_rank > 0
        order_res = np.lexsort((rows[is_res], row_rank[is_res]))  # by rank, then frame order
        state.reserve_rows = rows[is_res][order_res]
        state.reserve_ranks = row_rank[is_res][order_res]
    keep = main_mask[unit_of_row]
    if not last:
        parent, uniq_codes = pd.factorize(unit_of_row[keep], sort=False)
        state.parent_of_row = parent.astype(np.int64)
        state.parent_labels = [unit_values[c] for c in uniq_codes]
    state.rows = rows[keep]


def _result(
    frame: pd.DataFrame, plan: DrawPlan, seed: int, digest: Any, state: _State
) -> DrawResult:
    """The sample table, its CSV bytes and the draw record."""
    main_rows, reserve_rows = state.rows, state.reserve_rows
    out_rows = np.concatenate((main_rows, reserve_rows))
    sample = frame.take(out_rows).reset_index(drop=True).copy()
    if len(plan.stages) > 1:
        for s in range(len(plan.stages)):
            sample[f"pik_stage{s + 1}"] = state.stage_pik[s, out_rows]
    pik = state.stage_pik[:, out_rows].prod(axis=0)
    sample["pik"] = pik
    sample["weight"] = 1.0 / pik
    ranks = np.concatenate((np.zeros(main_rows.size, dtype=np.int64), state.reserve_ranks))
    sample["reserve_rank"] = pd.array(ranks, dtype="Int64")
    sample.loc[ranks == 0, "reserve_rank"] = pd.NA
    csv_bytes = sample_csv(sample)
    params = plan.to_dict()
    record = {
        "format": RECORD_FORMAT,
        "algorithm": {st.method: ALGORITHMS[st.method] for st in plan.stages},
        "parameters": params,
        "parameters_sha256": hashlib.sha256(canonical_json(params)).hexdigest(),
        "generator": {
            "bit_generator": "PCG64",
            "seed": seed,
            "construction": "numpy.random.Generator(numpy.random.PCG64(seed))",
            "variates": "Generator.random() only, in the order documented in sampling.draw",
        },
        "versions": {
            "sampling": __version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "frame": digest.to_dict(),
        "reserve_rule": RESERVE_RULE,
        "result": {
            "selected": int(main_rows.size),
            "reserves": int(reserve_rows.size),
            "stages": state.summaries,
            "selection_sha256": _selection_digest(main_rows, reserve_rows, state.reserve_ranks),
            "output_sha256": hashlib.sha256(csv_bytes).hexdigest(),
        },
    }
    return DrawResult(
        sample=sample,
        record=record,
        csv=csv_bytes,
        groups=tuple(state.group_label[out_rows]),
        certain=tuple(bool(v) for v in state.certain[out_rows]),
    )


def _get(record: Mapping[str, Any], *path: str) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            raise RecordError(f"the draw record has no {'.'.join(path)!r}")
        value = value[key]
    return value


def verify(frame: pd.DataFrame, record: Mapping[str, Any]) -> Verification:
    """Check that ``frame`` and a draw ``record`` reproduce the recorded sample.

    The frame digest, the parameters (against their recorded digest), the library and
    numpy versions and the re-drawn sample (its selected rows and its CSV bytes) are
    compared; every difference is named.

    Raises
    ------
    RecordError
        The record is not a draw record of this library.
    """
    if not isinstance(record, Mapping) or record.get("format") != RECORD_FORMAT:
        raise RecordError(f"not a draw record (format {RECORD_FORMAT!r} expected)")
    differences: list[str] = []
    versions = _get(record, "versions")
    for name, running in (("sampling", __version__), ("numpy", np.__version__)):
        if versions.get(name) != running:
            differences.append(
                f"{'library' if name == 'sampling' else 'numpy'} version differs "
                f"(recorded {name} {versions.get(name)}, running {running})"
            )
    params = _get(record, "parameters")
    try:
        pdigest = hashlib.sha256(canonical_json(params)).hexdigest()
    except (TypeError, ValueError) as exc:
        raise RecordError(f"the record's parameters are not valid JSON values ({exc})") from None
    if pdigest != _get(record, "parameters_sha256"):
        differences.append(
            "parameters differ from those recorded (parameters_sha256 does not match)"
        )
    try:
        plan = DrawPlan.from_dict(params)
    except SamplingError as exc:
        raise RecordError(f"the record's parameters are not a valid plan: {exc}") from None
    seed = _get(record, "generator", "seed")
    recorded_frame = _get(record, "frame")
    try:
        digest = frame_digest(frame)
        differences.extend(digest.differences(recorded_frame))
    except FrameError as exc:
        differences.append(f"frame cannot be digested: {exc}")
    result = _get(record, "result")
    try:
        again = draw(frame, plan, seed=seed)
    except SamplingError as exc:
        differences.append(f"sample differs: the recorded draw fails on this frame ({exc})")
    else:
        got = again.record["result"]
        if got["selection_sha256"] != result.get("selection_sha256"):
            differences.append(
                f"sample differs: other units are selected ({got['selected']} selected and "
                f"{got['reserves']} reserves now, {result.get('selected')} and "
                f"{result.get('reserves')} recorded)"
            )
        elif got["output_sha256"] != result.get("output_sha256"):
            differences.append("sample differs: same units, but the sample file's contents differ")
    return Verification(ok=not differences, differences=tuple(differences))
