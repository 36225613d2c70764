"""Paths and helpers shared by the sampling tests (a uniquely named module, imported directly)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def shared_dir() -> Path:
    """../shared beside the repository root, or $SURVEYAPP_SHARED."""
    env = os.environ.get("SURVEYAPP_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared"


SHARED = shared_dir()
REFERENCE = SHARED / "reference"
MU284_CSV = REFERENCE / "data" / "sampling_MU284.csv"


def reference_case(name: str) -> dict:
    return json.loads((REFERENCE / "expected" / f"{name}.json").read_text(encoding="utf-8"))
