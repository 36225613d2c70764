"""``ttest``: design-based t-test for the difference of two domain means (``svyttest``).

Output: one JSON object ``{"estimate", "se", "t", "df", "p_value", "ci_low",
"ci_high"}``; ``estimate`` is the mean of the second group minus that of the first
(groups in code-point order, numbers numerically). NaN and infinities are null.
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

NAME = "ttest"
HELP = "design-based t-test for the difference of two group means (svyttest)"
DESCRIPTION = """\
Compare the means of a numeric variable in two groups with a design-based t-test
(the numbers of R's svyttest(V ~ G)): the difference of the domain means, its
linearisation standard error, and Student's t with the regression's residual degrees
of freedom (PSUs - strata - 1). The grouping variable must have exactly two values.

Rows with a missing value or group are left out, keeping the design.

example:
  python -m analysis ttest --data api.csv --strata stype --weights pw --fpc fpc \\
      --var api00 --by comp.imp
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_and_design_arguments(parser)
    t = parser.add_argument_group("test")
    t.add_argument("--var", required=True, metavar="V", help="numeric variable")
    t.add_argument("--by", required=True, metavar="G",
                   help="grouping variable with exactly two values")
    t.add_argument("--level", type=level_type, default=0.95, metavar="0.95",
                   help="confidence level of the interval (default 0.95)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ..svytests import ttest

    data = read_data(args, (args.var, args.by))
    design = design_from_args(args, data)
    return ttest(design, args.var, args.by, confidence_level=args.level).to_dict()
