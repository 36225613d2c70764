"""``chisq``: Rao-Scott test of association for a two-way table (R's ``svychisq``).

Output: one JSON object ``{"statistic", "ndf", "ddf", "p_value", "method"}`` for
``--statistic F`` (the default), ``{"statistic", "df", "p_value", "method"}`` for
``--statistic Chisq``. NaN and infinities are written as null.
"""

from __future__ import annotations

import argparse
from typing import Any

from .design_options import add_data_and_design_arguments, design_from_args, read_data

NAME = "chisq"
HELP = "design-based chi-square test for a two-way table (svychisq, Rao-Scott)"
DESCRIPTION = """\
Test the independence of two categorical variables with the Rao-Scott correction of
Pearson's X^2 for the survey design (the numbers of R's svychisq).

--statistic F (default) is the second-order correction: X^2 / tr(Delta) against an F
distribution with d0 and d0 * (PSUs - strata) degrees of freedom. --statistic Chisq is
the first-order correction: R reports Pearson's X^2 of the weighted table and the
p-value of X^2 / mean(eigenvalues of Delta) against chi-square on (r-1)(c-1) df.

Both variables are categorical (numbers are categories too); rows where either is
missing are left out, keeping the design.

example:
  python -m analysis chisq --data api.csv --strata stype --weights pw --fpc fpc \\
      --vars sch.wide,stype
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_and_design_arguments(parser)
    t = parser.add_argument_group("test")
    t.add_argument("--vars", required=True, metavar="A,B",
                   help="the two variables of the table (rows, columns)")
    t.add_argument("--statistic", choices=("F", "Chisq"), default="F",
                   help="F (default, second-order Rao-Scott) or Chisq (first-order)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ..errors import DataError
    from ..svytests import chisq

    names = [p.strip() for p in args.vars.split(",")]
    if len(names) != 2 or not all(names):
        raise DataError(f"--vars: expected two column names A,B; got {args.vars!r}")
    data = read_data(args, names)
    design = design_from_args(args, data)
    return chisq(design, names[0], names[1], statistic=args.statistic).to_dict()
