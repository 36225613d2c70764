"""Command line of the analysis library: ``python -m analysis <command> [options]``.

Prints JSON on stdout. On an error it prints one line on stderr and exits with 1
(2 for usage errors), with nothing on stdout and never a traceback. Warnings (the
conditions R's survey package warns about) go to stderr as ``warning: ...`` lines.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from typing import Any

from .commands import load

PROG = "python -m analysis"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Design-based survey analysis with the numbers of R's survey package.",
        epilog="Run '%(prog)s <command> --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", parser_class=_Parser)
    for name, mod in load().items():
        p = sub.add_parser(name, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_command=mod)
    return parser


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj


def _dump(result: Any) -> str:
    """JSON text: a list one element per line; NaN and infinities as null."""
    encode = json.JSONEncoder(allow_nan=False).encode
    if isinstance(result, list):
        if not result:
            return "[]\n"
        try:
            lines = [encode(r) for r in result]
        except ValueError:  # a non-finite number somewhere
            lines = [encode(_json_safe(r)) for r in result]
        return "[\n" + ",\n".join(lines) + "\n]\n"
    return json.dumps(_json_safe(result), allow_nan=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_command", None) is None:
        parser.print_help(sys.stderr)
        return 2
    from .errors import AnalysisError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = args._command.run(args)
            text = _dump(result)
        except AnalysisError as exc:
            _warn(caught)
            sys.stderr.write(f"error: {exc}\n")
            return 1
        except MemoryError:
            sys.stderr.write("error: out of memory\n")
            return 1
        except Exception as exc:  # the contract: one line, never a traceback
            sys.stderr.write(f"error: internal error ({type(exc).__name__}: {exc})\n")
            return 1
    _warn(caught)
    sys.stdout.write(text)
    return 0


def _warn(caught) -> None:
    for w in caught:
        sys.stderr.write(f"warning: {w.message}\n")


if __name__ == "__main__":
    sys.exit(main())
