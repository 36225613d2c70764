"""Shared helpers of the analysis tests: where ../shared lives."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """The project's shared folder: $SURVEYAPP_SHARED, else the sibling of the repo root."""
    env = os.environ.get("SURVEYAPP_SHARED")
    return Path(env) if env else REPO.parent / "shared"


REFERENCE = shared_dir() / "reference"
