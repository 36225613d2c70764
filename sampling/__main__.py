"""Command line: ``python -m sampling size|allocate|inclusion|joint|draw|verify ...``.

Results go to stdout; an error is one line on stderr with exit status 1 (2 for a usage
error) and nothing on stdout. Files are written only when the whole command succeeds.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from .allocation import ALLOCATION_METHODS, allocate
from .draw import METHODS, DrawPlan, Stage, draw, verify
from .errors import DesignError, FrameError, RecordError, SamplingError
from .frame import check_ids, labels, positive_sizes, require_columns
from .inclusion import inclusion_probabilities, stratified_inclusion_probabilities
from .io import read_frame, read_table, write_atomic
from .joint import joint_inclusion_probabilities
from .size import margin_of_error, sample_size, two_group_size

PROG = "python -m sampling"
DEFAULT_STRATA = "stratum"  # strata column assumed by --n-file when --strata is not given


class UsageError(Exception):
    """A problem with the command line itself (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (status 2) instead of a usage block."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: usage error: {message} (see --help)\n")
        sys.exit(2)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# ---------------------------------------------------------------------------- helpers


def _frame(args: argparse.Namespace) -> pd.DataFrame:
    return read_frame(args.frame, sheet=getattr(args, "sheet", None))


def _n_file(path: str) -> dict[str, int]:
    table = read_table(path)
    if list(table.columns[:2]) != ["stratum", "n"] and not {"stratum", "n"} <= set(table.columns):
        raise FrameError(f"{path}: the n-file needs the columns stratum,n")
    out: dict[str, int] = {}
    for i, (s, n) in enumerate(zip(table["stratum"], table["n"], strict=True), start=1):
        if s is None:
            raise FrameError(f"{path}: row {i} has no stratum")
        if s in out:
            raise FrameError(f"{path}: stratum {s!r} appears twice")
        try:
            value = int(str(n).strip())
        except ValueError:
            raise FrameError(f"{path}: n of stratum {s!r} is not a whole number: {n!r}") from None
        if value < 0:
            raise FrameError(f"{path}: n of stratum {s!r} is negative")
        out[str(s)] = value
    return out


def _fmt(x: float) -> str:
    return repr(float(x))


def _csv_text(header: Sequence[str], rows: Any) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def _number_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    s = frame[column]
    values = pd.to_numeric(s.map(lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FrameError(
            f"column {column!r} is missing or not a number in row {i + 1}: {s.iloc[i]!r}"
        )
    return values.to_numpy(dtype=np.float64)


# ---------------------------------------------------------------------------- commands


def cmd_size(args: argparse.Namespace) -> str:
    chosen = [x for x in (args.moe, args.n, args.detect) if x is not None]
    if len(chosen) != 1:
        raise UsageError(
            "give exactly one of --moe (sample size), --n (margin of error) or --detect (power)"
        )
    if args.type == "mean" and args.sd is None:
        raise UsageError("--type mean needs --sd")
    if args.type == "proportion" and args.sd is not None:
        raise UsageError("--type proportion takes --p, not --sd")
    if args.type == "mean" and args.p is not None:
        raise UsageError("--type mean takes --sd, not --p")
    common = dict(type=args.type, p=args.p, sd=args.sd, confidence_level=args.level, deff=args.deff)
    if args.moe is not None:
        res = sample_size(
            args.moe, response_rate=args.response_rate, N=args.N, domains=args.domains, **common
        )
        d = res.to_dict()
        head = {k: d.pop(k) for k in ("n", "n_per_domain", "n_to_contact", "moe")}
        return _json({**head, **d})
    if args.n is not None:
        if args.domains != 1:
            raise UsageError("--domains applies to --moe only")
        moe = margin_of_error(args.n, N=args.N, **common)
        return _json(
            {
                "n": args.n,
                "moe": moe,
                "type": args.type,
                "p": (0.5 if args.p is None and args.type == "proportion" else args.p),
                "sd": args.sd,
                "level": args.level,
                "deff": args.deff,
                "N": args.N,
            }
        )
    if args.type == "proportion":
        p1 = 0.5 if args.p is None else args.p
        res2 = two_group_size(
            type="proportion",
            p1=p1,
            p2=p1 + args.detect,
            power=args.power,
            confidence_level=args.level,
            deff=args.deff,
            response_rate=args.response_rate,
        )
    else:
        res2 = two_group_size(
            type="mean",
            difference=args.detect,
            sd=args.sd,
            power=args.power,
            confidence_level=args.level,
            deff=args.deff,
            response_rate=args.response_rate,
        )
    d = res2.to_dict()
    return _json({"n": 2 * d["n_per_group"], **d, "n_to_contact": 2 * d["n_to_contact_per_group"]})


def cmd_allocate(args: argparse.Namespace) -> str:
    frame = _frame(args)
    require_columns(frame, {"--strata": args.strata, "--sd": args.sd, "--cost": args.cost})
    strata = labels(frame, args.strata)
    codes, uniq = pd.factorize(pd.Series(strata, dtype=object), sort=False)
    N_h = np.bincount(codes, minlength=len(uniq))
    sd = cost = None
    if args.sd is not None:
        values = _number_column(frame, args.sd)
        sd = []
        for h in range(len(uniq)):
            v = values[codes == h]
            sd.append(float(v[0]) if np.all(v == v[0]) else float(np.std(v, ddof=1)))
    if args.cost is not None:
        values = _number_column(frame, args.cost)
        cost = []
        for h, label in enumerate(uniq):
            v = values[codes == h]
            if not np.all(v == v[0]):
                raise FrameError(
                    f"cost column {args.cost!r} must be constant within stratum {label!r}"
                )
            cost.append(float(v[0]))
    res = allocate(
        N_h,
        args.n,
        args.method,
        strata=list(uniq),
        sd=sd,
        cost=cost,
        power_exponent=args.power_exponent,
        minimum=args.min,
        maximum=args.max,
    )
    return _json(res.to_records())


def cmd_inclusion(args: argparse.Namespace) -> str:
    n_by = _sizes_arg(args)
    if args.n_file is not None and args.strata is None:
        args.strata = DEFAULT_STRATA
    frame = _frame(args)
    require_columns(frame, {"--id": args.id, "--size": args.size, "--strata": args.strata})
    ids = check_ids(frame, args.id)
    x = positive_sizes(frame, args.size, ids)
    if args.strata is None:
        pik = inclusion_probabilities(x, n_by)
        return _csv_text(["id", "pik"], ([i, _fmt(p)] for i, p in zip(ids, pik, strict=True)))
    strata = labels(frame, args.strata)
    pik = stratified_inclusion_probabilities(x, strata, n_by)
    return _csv_text(
        ["id", "stratum", "pik"],
        ([i, s, _fmt(p)] for i, s, p in zip(ids, strata, pik, strict=True)),
    )


def _sizes_arg(args: argparse.Namespace) -> Any:
    """Per-stratum sizes from --n-file (which overrides --n), or --n."""
    if args.n_file is not None:
        return _n_file(args.n_file)
    if args.n is None:
        raise UsageError("--n is required (or --strata with --n-file)")
    return args.n


def cmd_joint(args: argparse.Namespace) -> str:
    if args.method == "brewer":
        joint_inclusion_probabilities([], "brewer")  # raises the explanatory DesignError
    frame = _frame(args)
    require_columns(frame, {"--id": args.id, "--size": args.size})
    ids = check_ids(frame, args.id)
    x = positive_sizes(frame, args.size, ids)
    pik = inclusion_probabilities(x, args.n)
    m = joint_inclusion_probabilities(pik, args.method)
    k, l_ = np.triu_indices(len(ids))
    return _csv_text(
        ["id_k", "id_l", "pikl"],
        ([ids[a], ids[b], _fmt(m[a, b])] for a, b in zip(k, l_, strict=True)),
    )


def _stages(path: str) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise DesignError(f"stages file {path!r} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DesignError(f"stages file {path!r} is not valid JSON ({exc})") from None
    if isinstance(data, dict) and "stages" in data:
        data = data["stages"]
    if not isinstance(data, list) or not data:
        raise DesignError(f"stages file {path!r} must hold a non-empty list of stages")
    return data


def cmd_draw(args: argparse.Namespace) -> str:
    if args.out == args.record:
        raise UsageError("--out and --record must be different files")
    n_by = None
    if args.n_file is not None or args.n is not None:
        n_by = _sizes_arg(args)
    if args.stages is not None:
        stages = [Stage.from_dict(s) for s in _stages(args.stages)]
        first = stages[0]
        if args.method is not None and args.method != first.method:
            raise UsageError(
                f"--method {args.method} differs from the first stage's method {first.method}"
            )
        if args.size is not None and first.size is not None and args.size != first.size:
            raise UsageError("--size differs from the first stage's size column")
        if args.sort:
            raise UsageError("with --stages, give the sort order as 'sort' inside the stage")
        changes: dict[str, Any] = {}
        if args.strata is not None:
            if first.strata is not None and first.strata != args.strata:
                raise UsageError("--strata differs from the first stage's strata column")
            changes["strata"] = args.strata
        elif args.n_file is not None and first.strata is None:
            changes["strata"] = DEFAULT_STRATA
        if n_by is not None:
            if first.n is not None and first.n != n_by:
                raise UsageError("--n differs from the first stage's n")
            changes["n"] = n_by
        if args.size is not None and first.size is None:
            changes["size"] = args.size
        if changes:
            stages[0] = Stage.from_dict({**first.to_dict(), **changes})
        plan = DrawPlan(id=args.id, stages=tuple(stages), reserve=args.reserve)
    else:
        if args.method is None or n_by is None:
            raise UsageError(
                "--method and --n (or --strata with --n-file) are required without --stages"
            )
        plan = DrawPlan.single(
            args.id,
            args.method,
            n_by,
            strata=args.strata or (DEFAULT_STRATA if args.n_file is not None else None),
            size=args.size,
            sort=args.sort or (),
            reserve=args.reserve,
        )
    plan.check()
    frame = _frame(args)
    result = draw(frame, plan, seed=args.seed)
    text = result.record_json()
    write_atomic(args.out, result.csv)
    try:
        write_atomic(args.record, text.encode("utf-8"))
    except BaseException:
        os.unlink(args.out)
        raise
    return text


def cmd_verify(args: argparse.Namespace) -> str:
    try:
        with open(args.record, encoding="utf-8") as fh:
            record = json.load(fh)
    except FileNotFoundError:
        raise RecordError(f"record file {args.record!r} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordError(f"record file {args.record!r} is not valid JSON ({exc})") from None
    frame = _frame(args)
    result = verify(frame, record)
    if not result.ok:
        raise SamplingError(result.message())
    return result.message() + "\n"


# ---------------------------------------------------------------------------- parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per task)."""
    parser = _Parser(
        prog=PROG,
        description="Sample size, allocation, inclusion probabilities and verifiable draws "
        "for survey samples. Each command prints its result; errors are one line on stderr.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "size",
        help="how many interviews are needed (or the margin of error of n)",
        description="Compute how many completed interviews give a wanted margin of "
        "error for a proportion or a mean (Cochran's formula with design effect, "
        "finite-population correction and response rate). With --n instead of --moe, "
        "print the margin of error that n interviews give. With --detect, print the "
        "interviews per group needed to detect that difference between two groups.",
    )
    p.add_argument(
        "--type",
        required=True,
        choices=["proportion", "mean"],
        help="estimate a proportion or a mean",
    )
    p.add_argument(
        "--moe", type=float, help="wanted margin of error (0.05 = 5 points for a proportion)"
    )
    p.add_argument(
        "--n", type=_positive_int, help="print the margin of error for this many interviews instead"
    )
    p.add_argument(
        "--detect", type=float, help="difference between two groups to detect (power calculation)"
    )
    p.add_argument("--power", type=float, default=0.8, help="power for --detect (default 0.8)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--p", type=float, help="expected proportion (default 0.5, the safest guess)")
    g.add_argument("--sd", type=float, help="expected standard deviation (needed for a mean)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument(
        "--deff",
        type=float,
        default=1.0,
        help="design effect of clustering and weighting (default 1)",
    )
    p.add_argument(
        "--response-rate",
        type=float,
        default=1.0,
        help="expected share of contacts who answer (default 1)",
    )
    p.add_argument("--N", type=float, help="population size, for the finite-population correction")
    p.add_argument(
        "--domains",
        type=_positive_int,
        default=1,
        help="number of domains (e.g. agencies) that each need this precision; "
        "--N is then split evenly between them",
    )
    p.set_defaults(func=cmd_size)

    p = sub.add_parser(
        "allocate",
        help="split a total sample size across strata",
        description="Split N interviews across the strata of a frame; the sizes are "
        "whole numbers that add up exactly to N. Strata are listed in order of first "
        "appearance. A stratum that would get all its units is taken whole.",
    )
    p.add_argument("--frame", required=True, help="frame file (.csv UTF-8 or .xlsx)")
    p.add_argument("--sheet", help="worksheet of an .xlsx frame (default: the first)")
    p.add_argument("--strata", required=True, help="column holding the stratum of each unit")
    p.add_argument("--n", type=_positive_int, required=True, help="total sample size")
    p.add_argument(
        "--method",
        required=True,
        choices=ALLOCATION_METHODS,
        help="proportional to N_h; equal; neyman (N_h S_h); optimal (N_h S_h / sqrt(cost)); "
        "power (N_h^q, Bankier)",
    )
    p.add_argument(
        "--sd",
        help="column with the standard deviation of the stratum (a value constant "
        "within the stratum, otherwise the standard deviation of the column in the stratum)",
    )
    p.add_argument("--cost", help="column with the cost per interview (constant within a stratum)")
    p.add_argument(
        "--power-exponent",
        type=float,
        default=0.5,
        help="exponent q of the power allocation (default 0.5)",
    )
    p.add_argument("--min", type=_positive_int, default=0, help="at least this many per stratum")
    p.add_argument("--max", type=_positive_int, default=None, help="at most this many per stratum")
    p.set_defaults(func=cmd_allocate)

    for name, func, helptext, desc in (
        (
            "inclusion",
            cmd_inclusion,
            "inclusion probabilities proportional to size",
            "Print each unit's probability of selection proportional to its size (CSV "
            "id,pik in frame order; id,stratum,pik with --strata). Units so big that their "
            "probability would exceed 1 are taken for certain (pik = 1) and the rest is spread "
            "again, as R's sampling::inclusionprobabilities does. With --strata, --n is the "
            "size of every stratum; --n-file (CSV with columns stratum,n) gives each stratum "
            "its own size.",
        ),
        (
            "joint",
            cmd_joint,
            "joint inclusion probabilities (for exact variances)",
            "Print the probability pikl that units k and l are both selected, for exact "
            "Horvitz-Thompson or Sen-Yates-Grundy variances: CSV id_k,id_l,pikl, one row per "
            "pair k <= l in frame order (the row k = l holds pik). Brewer's method has no "
            "closed form and is refused; use sampford or maxentropy for the same first-order "
            "probabilities.",
        ),
    ):
        p = sub.add_parser(name, help=helptext, description=desc)
        p.add_argument("--frame", required=True, help="frame file (.csv UTF-8 or .xlsx)")
        p.add_argument("--sheet", help="worksheet of an .xlsx frame (default: the first)")
        p.add_argument("--id", required=True, help="column with the unique id of each unit")
        p.add_argument(
            "--size", required=True, help="column with the size measure (positive numbers)"
        )
        if name == "inclusion":
            p.add_argument(
                "--n", type=_positive_int, help="sample size (per stratum with --strata)"
            )
            p.add_argument("--strata", help="column holding the stratum of each unit")
            p.add_argument(
                "--n-file",
                help="CSV with columns stratum,n: the sample size of each stratum (overrides "
                "--n; the strata column is --strata, by default 'stratum')",
            )
        else:
            p.add_argument("--n", type=_positive_int, required=True, help="sample size")
            p.add_argument(
                "--method",
                required=True,
                choices=["systematic", "sampford", "maxentropy", "brewer"],
                help="the selection design (systematic uses the frame order)",
            )
        p.set_defaults(func=func)

    p = sub.add_parser(
        "draw",
        help="draw a sample and write it with its draw record",
        description="Draw a sample from the frame and write it (--out: the frame's "
        "columns plus pik, weight and reserve_rank; sample rows in frame order, then "
        "reserves by rank) and its draw record (--record, also printed). The record "
        "holds the method, every parameter, the seed, the numpy and library versions "
        "and a SHA-256 digest of the frame, so `verify` can prove the draw. The same "
        "seed and frame give a byte-identical sample file.",
    )
    p.add_argument("--frame", required=True, help="frame file (.csv UTF-8 or .xlsx)")
    p.add_argument("--sheet", help="worksheet of an .xlsx frame (default: the first)")
    p.add_argument("--id", required=True, help="column with the unique id of each row")
    p.add_argument("--method", choices=METHODS, help="selection method (first stage with --stages)")
    p.add_argument("--n", type=_positive_int, help="sample size (per stratum with --strata)")
    p.add_argument("--strata", help="column holding the stratum of each unit")
    p.add_argument(
        "--n-file",
        help="CSV with columns stratum,n: the sample size of each stratum (overrides "
        "--n; the strata column is --strata, by default 'stratum')",
    )
    p.add_argument(
        "--size",
        help="column with the size measure (pps-* methods and size-proportional poisson; "
        "srs and systematic ignore it)",
    )
    p.add_argument(
        "--sort", nargs="+", metavar="COL", help="systematic methods: list order within strata"
    )
    p.add_argument(
        "--seed",
        type=_positive_int,
        help="seed of the random generator (default: a fresh one, recorded)",
    )
    p.add_argument(
        "--reserve",
        type=_positive_int,
        default=0,
        help="reserves per stratum (per parent at the last stage) to replace non-respondents",
    )
    p.add_argument(
        "--stages", help="JSON file with a list of stages {unit, method, n or n_per_parent, size}"
    )
    p.add_argument("--out", required=True, help="where to write the sample CSV")
    p.add_argument("--record", required=True, help="where to write the draw record JSON")
    p.set_defaults(func=cmd_draw)

    p = sub.add_parser(
        "verify",
        help="check that a frame and a draw record reproduce the sample",
        description="Re-run a recorded draw on a frame. Exit 0 and say so when the frame "
        "digest, the parameters, the library and numpy versions and the sample all match; "
        "otherwise exit 1 naming what differs.",
    )
    p.add_argument("--record", required=True, help="the draw record JSON written by `draw`")
    p.add_argument("--frame", required=True, help="frame file (.csv UTF-8 or .xlsx)")
    p.add_argument("--sheet", help="worksheet of an .xlsx frame (default: the first)")
    p.set_defaults(func=cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"{PROG} {args.command}"
    try:
        out = args.func(args)
    except UsageError as exc:
        sys.stderr.write(f"{prog}: usage error: {_one_line(str(exc))} (see --help)\n")
        return 2
    except SamplingError as exc:
        sys.stderr.write(f"{prog}: {_one_line(str(exc))}\n")
        return 1
    except OSError as exc:
        what = exc.strerror or str(exc)
        name = f": {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"{prog}: {_one_line(what + name)}\n")
        return 1
    except Exception as exc:  # never a traceback for the caller; the message says it is a bug
        sys.stderr.write(f"{prog}: internal error ({type(exc).__name__}: {_one_line(str(exc))})\n")
        return 1
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
