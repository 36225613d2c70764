"""Subcommands of ``python -m analysis``: a registry another module can add to.

A subcommand is a module of this package exposing ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> object`` (the JSON-ready result that
``__main__`` prints). List the module in :data:`MODULES` to register it. Design options
are shared by every command that needs a design: see :mod:`analysis.commands.design_options`.
Modules must keep their top-level imports light (argparse only); the statistics are
imported inside ``run``, so ``--help`` and start-up stay fast.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: subcommand modules, in the order ``--help`` lists them
MODULES: tuple[str, ...] = ("estimate", "calibrate", "chisq", "ttest", "glm")


def load() -> dict[str, ModuleType]:
    """The registered subcommands by name."""
    commands = {}
    for name in MODULES:
        mod = importlib.import_module(f"{__name__}.{name}")
        commands[mod.NAME] = mod
    return commands
