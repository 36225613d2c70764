"""The data explorer, cross-tabs and key drivers in Chromium, on a phone and a desktop: the
analyst opens them from the campaign page, the charts render as SVG (no CDN, no console
error), and screenshots are kept in test-output/screenshots/ to be looked at."""

from __future__ import annotations

import pytest
from browser_harness import SCREENSHOTS, login, screenshot

from surveyapp.services.demo import CAMPAIGN_TITLE


def _chart_shot(page, selector: str, name: str) -> None:
    """The chart alone, to look at it at the device's size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).first.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _campaign_page(page, base):
    page.goto(f"{base}/campaigns/")
    page.get_by_role("link", name=CAMPAIGN_TITLE).first.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_explorer_pages_render_their_charts(request, live_server, device):
    page = request.getfixturevalue(f"{device}_page")
    base = live_server.url
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    login(page, base, "phantich", "demo-analyst-2024")
    _campaign_page(page, base)
    page.click("[data-testid=explorer-link]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Khám phá dữ liệu")
    # the default view: the SIPAS index by agency with the rules of the demo's scorecard
    # run (CV, cells of 5), a dot plot of the agencies and the trend across the two years
    assert page.locator("svg[data-testid=dot-plot] [data-role=point]").count() >= 3
    assert page.locator("svg[data-testid=trend-lines] [data-role=series]").count() >= 2
    screenshot(page, f"explorer-{device}-default")
    _chart_shot(page, "svg[data-testid=dot-plot]", f"explorer-{device}-dot-plot")
    _chart_shot(page, "svg[data-testid=trend-lines]", f"explorer-{device}-trend")
    # several indicators with the CV rule: bars with error bars for the shares of a choice
    explore = page.url.split("?")[0]
    page.goto(f"{explore}?indicator=q:hai_long_chung&indicator=q:kenh&by=agency&rule=cv"
              "&min_n=5")
    assert page.locator("svg[data-testid=bar-chart] [data-role=bar]").count() >= 1
    assert page.locator("svg[data-testid=dot-plot]").count() == 1
    screenshot(page, f"explorer-{device}-questions")
    _chart_shot(page, "svg[data-testid=bar-chart]", f"explorer-{device}-bars")
    page.click("[data-testid=tab-crosstab]")
    page.wait_for_load_state()
    assert "Kiểm định độc lập Rao–Scott" in page.locator("[data-testid=rao-scott]").inner_text()
    assert page.locator("svg[data-testid=bar-chart]").count() == 1
    screenshot(page, f"explorer-{device}-crosstab")
    _chart_shot(page, "svg[data-testid=bar-chart]", f"explorer-{device}-crosstab-bars")
    page.click("[data-testid=tab-drivers]")
    page.wait_for_load_state()
    plot = page.locator("svg[data-testid=coefficient-plot]")
    assert plot.count() == 1 and plot.locator("[data-role=zero]").count() == 1
    assert plot.locator("[data-role=point]").count() == 5
    assert "không phải là quan hệ nhân quả" in page.locator(
        "[data-testid=drivers-explanation]").inner_text()
    screenshot(page, f"drivers-{device}")
    _chart_shot(page, "svg[data-testid=coefficient-plot]", f"drivers-{device}-plot")
    # the charts fit the phone's width (no sideways scrolling of the page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1
    assert page.console_errors == []
    assert all(u.startswith(base) for u in requests), [u for u in requests
                                                       if not u.startswith(base)]
