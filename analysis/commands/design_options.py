"""The design options shared by every subcommand that declares a survey design.

They mean exactly what ``survey::svydesign``'s arguments mean::

    --ids A[+B]       cluster ids per stage (R: ids = ~A + B); "1" or absent: none
    --strata S        first-stage strata
    --weights W       sampling weights        (exclusive with --probs)
    --probs P         selection probabilities (weights = 1/P)
    --fpc F1[+F2]     population sizes per stage, or sampling fractions when all <= 1
    --nest            cluster ids are unique only within strata
    --lonely-psu ...  single-PSU strata: fail | remove | certainty | adjust | average

Replicate weights (R's ``as.svrepdesign`` / ``svrepdesign``)::

    --type T          JK1 | JKn | BRR | Fay | bootstrap: without --repweights, convert the
                      design above (--rho for Fay; --replicates N --seed K for bootstrap)
    --repweights RE   columns whose names match the regular expression RE are full
                      replicate weights (combined.weights = TRUE), with --weights the
                      full-sample weights; --scale, --rscales LIST|@file, --rho, --mse

Calibration (R's ``postStratify`` / ``rake`` / ``calibrate``; the design is calibrated
after any replicate conversion, each replicate like the full sample)::

    --calibrate-method M   poststratify | rake | linear | raking | logit
    --totals T.json        population totals (see ``python -m analysis calibrate --help``)
    --bounds LO,HI         bounds on the g-weights;  --trim LO,HI  trim g
"""

from __future__ import annotations

import argparse
from typing import Any

LONELY_CHOICES = ("fail", "remove", "certainty", "adjust", "average")
REPLICATE_CHOICES = ("JK1", "JKn", "BRR", "Fay", "bootstrap")
CALIBRATION_CHOICES = ("poststratify", "rake", "linear", "raking", "logit")


def level_type(text: str) -> float:
    """argparse type of ``--level``: a confidence level strictly between 0 and 1."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return v


def add_data_and_design_arguments(parser: argparse.ArgumentParser, *,
                                  calibration: bool = True) -> None:
    """``--data FILE.csv`` followed by the design options: what every subcommand starts with."""
    parser.add_argument("--data", required=True, metavar="FILE.csv",
                        help="comma-separated file with a header row")
    add_design_arguments(parser, calibration=calibration)


def read_data(args: argparse.Namespace, columns=()) -> Any:
    """The ``--data`` file's columns, after checking that every named column is there."""
    from ..errors import DataError
    from ..io import read_csv

    data = read_csv(args.data)
    for name in columns:
        if name not in data:
            raise DataError(f"unknown column {name!r} in {args.data}")
    return data


def add_design_arguments(parser: argparse.ArgumentParser, *, calibration: bool = True) -> None:
    """Add the svydesign, replicate-weight and calibration options to a subcommand's parser.

    ``calibration=False`` leaves out ``--calibrate-method/--totals/--bounds/--trim`` (for
    the ``calibrate`` subcommand, which has its own).
    """
    g = parser.add_argument_group("design (as R's svydesign)")
    g.add_argument("--ids", metavar="A[+B]", default=None,
                   help="cluster ids of each sampling stage, '+'-separated; '1' or absent "
                        "means no clustering")
    g.add_argument("--strata", metavar="S", default=None, help="first-stage strata column")
    w = g.add_mutually_exclusive_group()
    w.add_argument("--weights", metavar="W", default=None, help="sampling weights column")
    w.add_argument("--probs", metavar="P[+P2]", default=None,
                   help="selection probabilities column(s); weight = 1/prod(P)")
    g.add_argument("--fpc", metavar="F1[+F2]", default=None,
                   help="finite population correction per stage: population sizes, or "
                        "sampling fractions if all values are <= 1; without --weights/"
                        "--probs the weights are derived from it")
    g.add_argument("--nest", action="store_true",
                   help="PSU ids are only unique within strata (relabel them per stratum)")
    g.add_argument("--lonely-psu", choices=LONELY_CHOICES, default="fail",
                   help="strata with a single PSU: fail (default, an error), remove / "
                        "certainty (contribute nothing), adjust (centre at the overall "
                        "mean), average (average of the other strata) — R's "
                        "survey.lonely.psu")
    r = parser.add_argument_group("replicate weights (as R's as.svrepdesign / svrepdesign)")
    r.add_argument("--type", choices=REPLICATE_CHOICES, default=None, dest="rep_type",
                   help="replicate design: without --repweights, convert the design (JK1 "
                        "unstratified, JKn/BRR/Fay stratified, bootstrap = Rao-Wu); with "
                        "--repweights, the type of the supplied weights (default BRR)")
    r.add_argument("--repweights", metavar="REGEX", default=None,
                   help="columns matching REGEX are full replicate weights")
    r.add_argument("--scale", type=float, default=None, metavar="X",
                   help="variance scale of supplied replicate weights")
    r.add_argument("--rscales", default=None, metavar="LIST|@file",
                   help="per-replicate scales: comma list or @file with one per line")
    r.add_argument("--rho", type=float, default=None, metavar="R", help="Fay's rho")
    r.add_argument("--mse", action="store_true",
                   help="centre replicate deviations on the full-sample estimate")
    r.add_argument("--replicates", type=int, default=50, metavar="N",
                   help="bootstrap replicates (default 50)")
    r.add_argument("--seed", type=int, default=None, metavar="K", help="bootstrap seed")
    if calibration:
        c = parser.add_argument_group("calibration (as R's postStratify / rake / calibrate)")
        c.add_argument("--calibrate-method", choices=CALIBRATION_CHOICES, default=None,
                       help="calibrate the design's weights before estimating")
        c.add_argument("--totals", metavar="T.json", default=None, dest="calibrate_totals",
                       help="population totals: {\"var\": {\"level\": N}, \"a:b\": "
                            "{\"la:lb\": N}, \"x\": total, \"(Intercept)\": N}")
        c.add_argument("--bounds", metavar="LO,HI", default=None, dest="calibrate_bounds",
                       help="bounds on g")
        c.add_argument("--trim", metavar="LO,HI", default=None, dest="calibrate_trim",
                       help="trim g to [LO, HI]")


def read_totals(path: str) -> Any:
    """The population totals of a TOTALS.json file."""
    import json

    from ..calibration import CalibrationError

    try:
        with open(path, encoding="utf-8") as fh:
            totals = json.load(fh)
    except OSError as exc:
        raise CalibrationError(f"cannot read totals file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise CalibrationError(f"totals file {path} is not valid JSON: {exc}") from None
    if not isinstance(totals, dict) or not totals:
        raise CalibrationError(f"totals file {path} must hold a non-empty JSON object")
    return totals


def parse_pair(text: str | None, option: str) -> tuple[float, float] | None:
    """``LO,HI`` as two numbers."""
    if text is None:
        return None
    from ..errors import DataError

    parts = text.split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise DataError(f"{option}: expected LO,HI (two numbers), got {text!r}") from None
    return lo, hi


def _rscales(text: str | None) -> list[float] | None:
    from ..errors import DesignError

    if text is None:
        return None
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as fh:
                parts = [ln.strip() for ln in fh if ln.strip()]
        except OSError as exc:
            raise DesignError(f"--rscales: cannot read {text[1:]}: {exc.strerror}") from None
    else:
        parts = [p.strip() for p in text.split(",")]
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise DesignError(f"--rscales: not a list of numbers: {text!r}") from None


def _plus_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split("+")]
    if any(not p for p in parts):
        raise ValueError(f"empty name in {text!r}")
    return parts


def design_from_args(args: argparse.Namespace, data: Any):
    """Build the :class:`~analysis.design.SurveyDesign` the options describe.

    The linearisation design of the svydesign options; or a replicate design (converted
    with ``--type``, or from ``--repweights``); then calibrated when
    ``--calibrate-method`` is given.
    """
    design = _base_design(args, data)
    method = getattr(args, "calibrate_method", None)
    totals_path = getattr(args, "calibrate_totals", None)
    if method is not None or totals_path is not None:
        from ..errors import DataError

        if method is None or totals_path is None:
            raise DataError("--calibrate-method and --totals go together")
        design = design.calibrate(
            read_totals(totals_path), method,
            bounds=parse_pair(getattr(args, "calibrate_bounds", None), "--bounds"),
            trim=parse_pair(getattr(args, "calibrate_trim", None), "--trim"),
        )
    elif (getattr(args, "calibrate_bounds", None) is not None
          or getattr(args, "calibrate_trim", None) is not None):
        from ..errors import DataError

        raise DataError("--bounds and --trim need --calibrate-method and --totals")
    return design


def _base_design(args: argparse.Namespace, data: Any):
    import re

    from ..design import SurveyDesign
    from ..errors import DesignError

    rep_type = getattr(args, "rep_type", None)
    repweights = getattr(args, "repweights", None)
    if repweights is not None:
        for opt, val in (("--ids", args.ids), ("--strata", args.strata), ("--fpc", args.fpc),
                         ("--probs", args.probs)):
            if val is not None:
                raise DesignError(f"{opt} does not apply with --repweights: the replicate "
                                  "weights describe the design")
        try:
            pattern = re.compile(repweights)
        except re.error as exc:
            raise DesignError(f"--repweights: invalid regular expression ({exc})") from None
        cols = [c for c in list(getattr(data, "columns", data)) if pattern.search(str(c))]
        if not cols:
            raise DesignError(f"--repweights: no column matches {repweights!r}")
        return SurveyDesign.from_replicate_weights(
            data, repweights=cols, weights=args.weights, type=rep_type or "BRR",
            scale=args.scale, rscales=_rscales(args.rscales), rho=args.rho, mse=args.mse,
        )
    if getattr(args, "scale", None) is not None or getattr(args, "rscales", None) is not None:
        raise DesignError("--scale and --rscales apply to supplied --repweights")

    try:
        ids = _plus_list(args.ids)
        probs = _plus_list(args.probs)
        fpc = _plus_list(args.fpc)
    except ValueError as exc:
        raise DesignError(str(exc)) from None
    if ids == ["1"]:
        ids = None
    design = SurveyDesign.create(
        data,
        ids=ids,
        strata=args.strata,
        weights=args.weights,
        probs=probs,
        fpc=fpc,
        nest=args.nest,
        lonely_psu=args.lonely_psu,
    )
    if rep_type is not None:
        design = design.as_replicate(rep_type, rho=args.rho, replicates=args.replicates,
                                     seed=args.seed, mse=args.mse)
    elif getattr(args, "mse", False) or getattr(args, "rho", None) is not None:
        raise DesignError("--mse and --rho apply to replicate designs (--type)")
    return design
