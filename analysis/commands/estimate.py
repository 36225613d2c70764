"""``estimate``: means, totals, proportions and ratios with SE and CI, overall or by domain.

Output: a JSON list, one object per (estimand, variable, category, domain)::

    {"estimand": "mean"|"total"|"proportion"|"ratio"|"quantile", "variable": ...,
     "category": ... or null, "quantile": null or p, "domain": {"G1": "value", ...} or null,
     "estimate": ..., "se": ..., "ci_low": ..., "ci_high": ..., "deff": ... (with --deff), "n": ...}

NaN and infinities are written as null.
"""

from __future__ import annotations

import argparse
from typing import Any

from .design_options import (
    add_data_and_design_arguments,
    design_from_args,
    level_type,
    read_data,
)

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
--quantile V1,V2:0.25,0.5 adds svyquantile rows (one per variable and probability,
"quantile": p; --qrule and --interval-type as R's qrule and interval.type).

Replicate designs: --type JK1|JKn|BRR|Fay|bootstrap converts the design (as.svrepdesign);
with --repweights REGEX the matching columns are full replicate weights (svrepdesign).
--calibrate-method with --totals calibrates the weights first (calibrated SEs as R).

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_and_design_arguments(parser)
    e = parser.add_argument_group("estimands (each a comma-separated list)")
    e.add_argument("--mean", metavar="V1,V2", default=None, help="means (svymean)")
    e.add_argument("--total", metavar="V1,V2", default=None, help="totals (svytotal)")
    e.add_argument("--proportion", metavar="V1,V2", default=None,
                   help="proportion of every category of each variable")
    e.add_argument("--ratio", metavar="NUM/DEN[,NUM2/DEN2]", default=None,
                   help="ratios of totals (svyratio)")
    e.add_argument("--quantile", metavar="V1,V2:P1,P2", default=None,
                   help="quantiles (svyquantile) of the variables at the probabilities")
    e.add_argument("--qrule", default="math",
                   choices=("math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5",
                            "hf6", "hf7", "hf8", "hf9"),
                   help="quantile rule (R's qrule; default math)")
    e.add_argument("--interval-type", default="mean",
                   choices=("mean", "beta", "xlogit", "asin", "score", "quantile"),
                   help="quantile interval (R's interval.type; default mean = Woodruff; "
                        "score: linearisation designs; quantile: replicate designs)")
    o = parser.add_argument_group("output")
    o.add_argument("--by", metavar="G1[,G2]", default=None,
                   help="domain variables; several are crossed (svyby)")
    o.add_argument("--level", type=level_type, default=0.95, metavar="0.95",
                   help="confidence level (default 0.95)")
    o.add_argument("--deff", action="store_true",
                   help="add design effects against SRS without replacement (deff=TRUE)")
    o.add_argument("--ci-method", choices=("wald", "logit", "beta"), default="wald",
                   help="interval for --proportion rows: wald (default), logit or beta "
                        "(svyciprop); other estimands always use wald")


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from ..errors import DataError
    from ..estimators import estimate

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
        q_vars, q_probs = _quantile_spec(args.quantile)
    except argparse.ArgumentTypeError as exc:
        raise DataError(str(exc)) from None
    if not (means or totals or props or ratios or q_vars):
        raise DataError("nothing to estimate: give --mean, --total, --proportion, --ratio "
                        "or --quantile")
    data = read_data(args, means + totals + props + by + q_vars + [c for r in ratios for c in r])
    design = design_from_args(args, data)
    records: list[dict[str, Any]] = []
    if means or totals or props or ratios:
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
        records = table.to_records(deff=args.deff)
    if q_vars:
        from ..quantile_estimates import quantile

        qt = quantile(q_vars, design, q_probs, by=by or None, qrule=args.qrule,
                      interval_type=args.interval_type, confidence_level=args.level)
        records += qt.to_records(deff=args.deff)
    return records


def _quantile_spec(text: str | None) -> tuple[list[str], list[float]]:
    if text is None:
        return [], []
    names, sep, probs = text.rpartition(":")
    if not sep or not names.strip() or not probs.strip():
        raise argparse.ArgumentTypeError(
            f"--quantile: expected V1,V2:P1,P2 (variables, a colon, probabilities), got {text!r}"
        )
    values = []
    for p in probs.split(","):
        try:
            v = float(p)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--quantile: not a probability: {p.strip()!r}") \
                from None
        if not 0 <= v <= 1:
            raise argparse.ArgumentTypeError(f"--quantile: probability {p.strip()} not in [0, 1]")
        values.append(v)
    return _comma_list(names), values
