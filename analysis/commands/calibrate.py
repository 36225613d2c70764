"""``calibrate``: post-stratify, rake or calibrate the design weights to population totals.

Writes the data with a ``calibrated_weight`` column to ``--out`` and prints the
diagnostics as one JSON object::

    {"method", "converged", "iterations", "sum", "min", "max", "cv", "deff_weighting",
     "n_effective", "achieved": {...}}

``achieved`` has the shape of TOTALS.json. A calibration that does not converge is still
written, with ``"converged": false`` and a warning on stderr: never hidden.
"""

from __future__ import annotations

import argparse
from typing import Any

from .design_options import (
    CALIBRATION_CHOICES,
    add_data_and_design_arguments,
    design_from_args,
    parse_pair,
    read_data,
    read_totals,
)

NAME = "calibrate"
HELP = "calibrated weights: postStratify / rake / calibrate (linear, raking, logit)"
DESCRIPTION = """\
Calibrate the sampling weights of a design to known population totals, as R's survey
package does: poststratify (postStratify, one margin; "a:b" for a cross-classification),
rake (iterative proportional fitting to convergence) or calibrate with the linear (GREG),
raking or logit distance, optionally with --bounds on the g-weights and --trim.

TOTALS.json:
  {"var": {"level": total, ...}}           a categorical margin
  {"a:b": {"levelA:levelB": total, ...}}   a cross-classified margin
  {"x": total}                             a numeric variable
  {"(Intercept)": N}                       the population size (optional)

The data are written to --out with a calibrated_weight column; the diagnostics (sum, min,
max, coefficient of variation, Kish's design effect due to weighting, effective sample
size, achieved totals) are printed as JSON.

example:
  python -m analysis calibrate --data survey.csv --ids psu --weights w \\
      --method rake --totals totals.json --out calibrated.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_and_design_arguments(parser, calibration=False)
    c = parser.add_argument_group("calibration")
    c.add_argument("--method", required=True, choices=CALIBRATION_CHOICES,
                   help="poststratify | rake | linear | raking | logit")
    c.add_argument("--totals", required=True, metavar="TOTALS.json",
                   help="population totals (see above)")
    c.add_argument("--bounds", metavar="LO,HI", default=None,
                   help="bounds on the g-weights (linear, raking, logit)")
    c.add_argument("--trim", metavar="LO,HI", default=None,
                   help="trim the g-weights to [LO, HI], spreading the excess")
    c.add_argument("--maxit", type=int, default=None, metavar="N",
                   help="iteration limit (default 50 for calibrate, 1000 passes for rake)")
    c.add_argument("--epsilon", type=float, default=None, metavar="E",
                   help="convergence tolerance (default 1e-7 for calibrate, 1e-12 for rake)")
    parser.add_argument("--out", required=True, metavar="OUT.csv",
                        help="where to write the data with the calibrated_weight column")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ..calibration import build_model
    data = read_data(args)
    totals = read_totals(args.totals)
    design = design_from_args(args, data)
    cal = design.calibrate(
        totals, args.method,
        bounds=parse_pair(args.bounds, "--bounds"),
        trim=parse_pair(args.trim, "--trim"),
        maxit=args.maxit, epsilon=args.epsilon,
    )
    model = build_model(design._calibration_frame(totals), totals)
    _write_with_weights(args.data, args.out, cal.weights)
    return cal.calibration.to_dict(model)


def _write_with_weights(src: str, dst: str, weights) -> None:
    """Copy the CSV file, appending a calibrated_weight column (values round-trip exactly)."""
    import csv

    from ..errors import DataError

    try:
        with open(src, encoding="utf-8-sig", newline="") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except OSError as exc:
        raise DataError(f"cannot read {src}: {exc.strerror}") from None
    header, body = rows[0], rows[1:]
    if len(body) != len(weights):
        raise DataError(f"{src}: {len(body)} data rows but {len(weights)} weights")
    name = "calibrated_weight"
    if name in header:
        raise DataError(f"{src} already has a column {name!r}")
    try:
        with open(dst, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow([*header, name])
            for r, wt in zip(body, weights.tolist(), strict=True):
                w.writerow([*r, repr(float(wt))])
    except OSError as exc:
        raise DataError(f"cannot write {dst}: {exc.strerror}") from None
