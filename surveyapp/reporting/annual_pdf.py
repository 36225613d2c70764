"""The annual report's PDF: the printable HTML printed by headless Chromium.

Chromium (Debian's ``/usr/bin/chromium``, the browser the tests already use) prints the page
with its print stylesheet, so the PDF has the same content and the same inline SVG charts as
the HTML. It runs as a separate process on a temporary copy of the page, with its own
throw-away profile (several reports may print at once), and never reaches the network.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("SURVEYAPP_CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 300  # seconds; a 300-agency report prints in a few seconds


class PdfFailed(RuntimeError):
    """Chromium could not print the report (the message says why, in one line)."""


def render_pdf(html: str, *, chromium: str | None = None) -> bytes:
    """The PDF bytes of the report page ``html`` (A4, the page's print stylesheet)."""
    binary = chromium or CHROMIUM
    if not Path(binary).exists():
        raise PdfFailed(f"Chromium not found at {binary}")
    with tempfile.TemporaryDirectory(prefix="surveyapp-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [binary, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                   "--disable-background-networking", "--no-pdf-header-footer",
                   # an untagged PDF: tagging a 300-agency report takes Chromium twice as
                   # long and makes the file four times larger (measured: bench_reports.py)
                   "--disable-pdf-tagging",
                   f"--user-data-dir={Path(tmp) / 'profile'}",
                   f"--print-to-pdf={out}", page.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False,
                                  env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired:
            raise PdfFailed(f"Chromium did not finish printing within {TIMEOUT} s") from None
        if not out.exists() or out.stat().st_size == 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise PdfFailed("Chromium did not print the report"
                            + (f": {detail[-1]}" if detail else ""))
        return out.read_bytes()
