"""Suite-wide test conventions.

Tests that need an external tool carry a marker: ``r`` (Rscript with the survey and
sampling packages), ``browser`` (Debian's chromium at /usr/bin/chromium).  On a developer's
machine without the tool they are skipped with the reason; CI installs the tools and sets
``SURVEYAPP_REQUIRE_R=1`` / ``SURVEYAPP_REQUIRE_BROWSER=1``, so there a missing tool fails
the run instead of hiding behind a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("SURVEYAPP_CHROMIUM", "/usr/bin/chromium"))


def _r_available() -> bool:
    return shutil.which("Rscript") is not None


def _chromium_available() -> bool:
    return CHROMIUM.exists()


_TOOLS = {
    "r": (_r_available, "SURVEYAPP_REQUIRE_R", "Rscript (r-base-core, r-cran-survey) not installed"),
    "browser": (_chromium_available, "SURVEYAPP_REQUIRE_BROWSER", f"{CHROMIUM} not installed"),
}


def pytest_collection_modifyitems(config, items):
    for marker, (available, require_env, reason) in _TOOLS.items():
        if available() or os.environ.get(require_env) == "1":
            continue
        skip = pytest.mark.skip(reason=f"{reason}; CI installs it and sets {require_env}=1")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)
