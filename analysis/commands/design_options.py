"""The design options shared by every subcommand that declares a survey design.

They mean exactly what ``survey::svydesign``'s arguments mean::

    --ids A[+B]       cluster ids per stage (R: ids = ~A + B); "1" or absent: none
    --strata S        first-stage strata
    --weights W       sampling weights        (exclusive with --probs)
    --probs P         selection probabilities (weights = 1/P)
    --fpc F1[+F2]     population sizes per stage, or sampling fractions when all <= 1
    --nest            cluster ids are unique only within strata
    --lonely-psu ...  single-PSU strata: fail | remove | certainty | adjust | average
"""

from __future__ import annotations

import argparse
from typing import Any

LONELY_CHOICES = ("fail", "remove", "certainty", "adjust", "average")


def add_design_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the svydesign options to a subcommand's parser."""
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


def _plus_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split("+")]
    if any(not p for p in parts):
        raise ValueError(f"empty name in {text!r}")
    return parts


def design_from_args(args: argparse.Namespace, data: Any):
    """Build the :class:`~analysis.design.SurveyDesign` the options describe."""
    from ..design import SurveyDesign
    from ..errors import DesignError

    try:
        ids = _plus_list(args.ids)
        probs = _plus_list(args.probs)
        fpc = _plus_list(args.fpc)
    except ValueError as exc:
        raise DesignError(str(exc)) from None
    if ids == ["1"]:
        ids = None
    return SurveyDesign.create(
        data,
        ids=ids,
        strata=args.strata,
        weights=args.weights,
        probs=probs,
        fpc=fpc,
        nest=args.nest,
        lonely_psu=args.lonely_psu,
    )
