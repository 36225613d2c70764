"""``estimate``: means, totals, proportions and ratios with SE and CI, overall or by domain.

Output: a JSON list, one object per (estimand, variable, category, domain)::

    {"estimand": "mean"|"total"|"proportion"|"ratio", "variable": ..., "category": ... or
     null, "quantile": null, "domain": {"G1": "value", ...} or null, "estimate": ...,
     "se": ..., "ci_low": ..., "ci_high": ..., "deff": ... (with --deff), "n": ...}

NaN and infinities are written as null.
"""

from __future__ import annotations

import argparse
from typing import Any

from .design_options import add_design_arguments, design_from_args

NAME = "estimate"
HELP = "design-based means, totals, proportions and ratios (svymean/svytotal/svyratio/svyby)"
DESCRIPTION = """\
Estimate population means, totals, category proportions and ratios from survey data,
with standard errors by Taylor linearisation (the numbers of R's survey package).

Columns are numeric when every non-empty value parses as a number, otherwise
categorical (categories in code-point order); empty fields are missing and are
excluded item by item, keeping the design (R's na.rm=TRUE). A categorical variable
given to --mean or --total yields one row per category. Domains (--by) are
subpopulations of the full design, never subsets of the data.

Confidence intervals are estimate ± t(df)·se with the design's degrees of freedom;
--ci-method logit|beta gives proportions svyciprop's logit or Korn-Graubard interval.

example:
  python -m analysis estimate --data survey.csv --ids psu --strata stratum \\
      --weights w --mean q1,q2 --proportion satisfied --by agency --deff
"""


def _comma_list(text: str | None) -> list[str]:
    if text is None:
        return []
    parts = [p.strip() for p in text.split(",")]
    if any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"empty name in {text!r}")
    return parts


def _level(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="FILE.csv",
                        help="comma-separated file with a header row")
    add_design_arguments(parser)
    e = parser.add_argument_group("estimands (each a comma-separated list)")
    e.add_argument("--mean", metavar="V1,V2", default=None, help="means (svymean)")
    e.add_argument("--total", metavar="V1,V2", default=None, help="totals (svytotal)")
    e.add_argument("--proportion", metavar="V1,V2", default=None,
                   help="proportion of every category of each variable")
    e.add_argument("--ratio", metavar="NUM/DEN[,NUM2/DEN2]", default=None,
                   help="ratios of totals (svyratio)")
    o = parser.add_argument_group("output")
    o.add_argument("--by", metavar="G1[,G2]", default=None,
                   help="domain variables; several are crossed (svyby)")
    o.add_argument("--level", type=_level, default=0.95, metavar="0.95",
                   help="confidence level (default 0.95)")
    o.add_argument("--deff", action="store_true",
                   help="add design effects against SRS without replacement (deff=TRUE)")
    o.add_argument("--ci-method", choices=("wald", "logit", "beta"), default="wald",
                   help="interval for --proportion rows: wald (default), logit or beta "
                        "(svyciprop); other estimands always use wald")


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from ..errors import DataError
    from ..estimators import estimate
    from ..io import read_csv

    try:
        means = _comma_list(args.mean)
        totals = _comma_list(args.total)
        props = _comma_list(args.proportion)
        by = _comma_list(args.by)
        ratios = []
        for r in _comma_list(args.ratio):
            parts = r.split("/")
            if len(parts) != 2 or not all(p.strip() for p in parts):
                raise DataError(f"--ratio: expected NUM/DEN, got {r!r}")
            ratios.append((parts[0].strip(), parts[1].strip()))
    except argparse.ArgumentTypeError as exc:
        raise DataError(str(exc)) from None
    if not (means or totals or props or ratios):
        raise DataError("nothing to estimate: give --mean, --total, --proportion or --ratio")
    data = read_csv(args.data)
    for name in means + totals + props + by + [c for r in ratios for c in r]:
        if name not in data:
            raise DataError(f"unknown column {name!r} in {args.data}")
    design = design_from_args(args, data)
    table = estimate(
        design,
        mean=means,
        total=totals,
        proportion=props,
        ratio=ratios,
        by=by or None,
        confidence_level=args.level,
        ci_method=args.ci_method,
        deff=args.deff,
    )
    return table.to_records(deff=args.deff)
