"""Helpers for browser tests (import them: ``from browser_harness import login, …``)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("SURVEYAPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


def login(page, base_url: str, user: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_menu(page) -> None:
    """On a phone the menu is collapsed behind the toggler."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.locator("#main-nav.show").wait_for()


# The shared chart macro (templates/_macros/charts.html) gives each <svg class="chart"> an
# inline style attribute, which the app's CSP (style-src 'self') blocks and Chromium reports
# (the stylesheet lays the chart out the same). Until the macro drops it: tolerated only as
# many times as there are such charts on the page, nothing else.
CHART_CSP = "Applying inline style violates the following Content Security Policy directive"


def errors_besides_chart_styles(page) -> list[str]:
    """The page's console errors, less one blocked inline style per chart carrying one."""
    styled = page.locator("svg.chart[style]").count()
    chart = [e for e in page.console_errors if CHART_CSP in e]
    assert len(chart) <= styled, chart
    return [e for e in page.console_errors if CHART_CSP not in e]
