"""``glm``: survey-weighted generalised linear model with design-based SEs (``svyglm``).

Output: a JSON list, one object per coefficient ``{"term", "estimate", "se", "t",
"p_value"}`` (terms named as R names them), then ``{"term": null, "df_residual",
"dispersion"}``. NaN and infinities (an aliased coefficient) are written as null.
"""

from __future__ import annotations

import argparse
from typing import Any

from .design_options import add_data_and_design_arguments, design_from_args, read_data

NAME = "glm"
HELP = "survey-weighted regression: gaussian, binomial, quasibinomial (svyglm)"
DESCRIPTION = """\
Fit a generalised linear model with the sampling weights and design-based
(linearisation) standard errors: the numbers of R's svyglm.

The formula is R's: terms joined by +, factor(x) for categories, I(...) for
arithmetic (I(x^2)), a:b and a*b for interactions, -1 or +0 to drop the intercept.
Text columns are categorical (reference level: the first in code-point order), so
terms are named as in R: (Intercept), x1, factor(x2)B, stypeH. A binomial response
may be 0/1 numbers or a two-level text column (the first level is failure).

t statistics and p-values use the residual degrees of freedom
degf(design) + 1 - number of coefficients, for every family (summary.svyglm). Rows
with a missing model variable are left out, keeping the design.

example:
  python -m analysis glm --data api.csv --strata stype --weights pw --fpc fpc \\
      --formula "sch.wide ~ ell + stype" --family quasibinomial
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_and_design_arguments(parser)
    m = parser.add_argument_group("model")
    m.add_argument("--formula", required=True, metavar='"y ~ x1 + factor(x2)"',
                   help="R model formula")
    m.add_argument("--family", choices=("gaussian", "binomial", "quasibinomial"),
                   default="gaussian", help="gaussian (default), binomial or quasibinomial")


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from ..glm import glm
    data = read_data(args)
    design = design_from_args(args, data)
    return glm(args.formula, design, family=args.family).to_records()
