"""The annual report in a browser: generated with a live progress bar, listed, read on a phone
and on a desktop (screenshots), its inline SVG charts drawn, no console error."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from browser_harness import login, screenshot


def _campaign_id(live_server) -> int:
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.demo import CAMPAIGN_TITLE

    with live_server.app.app_context():
        campaign_id = db.session.scalar(sa.select(Campaign.id).where(
            Campaign.title == CAMPAIGN_TITLE))
        db.session.remove()
    return campaign_id


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_annual_report_is_generated_listed_and_read(request, live_server, device):
    page = request.getfixturevalue(f"{device}_page")
    base = live_server.url
    campaign_id = _campaign_id(live_server)
    login(page, base, "phantich", "demo-analyst-2024")
    page.goto(f"{base}/campaigns/{campaign_id}")
    page.click("[data-testid=reports-link]")
    page.wait_for_url(f"{base}/campaigns/{campaign_id}/reports/")
    before = page.locator("[data-testid=reports] tbody tr").count()
    page.click("[data-testid=report-generate]")
    # the page shows the job's progress bar, then reloads itself with the new version
    page.locator("progress[data-role=bar]").first.wait_for(state="attached", timeout=30_000)
    page.locator("[data-testid=reports] tbody tr").nth(before).wait_for(timeout=180_000)
    rows = page.locator("[data-testid=reports] tbody tr")
    assert rows.count() == before + 1
    number = before + 1
    for fmt in ("xlsx", "pdf", "html"):
        assert page.locator(f"[data-testid=report-{number}-{fmt}]").count() == 1
    screenshot(page, f"reports-{device}-list")
    page.click(f"[data-testid=report-{number}-html]")
    page.wait_for_load_state()
    assert "Báo cáo kết quả khảo sát năm 2024" in page.locator("h1").inner_text()
    for part in ("report-methodology", "report-scorecard", "report-rankings"):
        assert page.locator(f"[data-testid={part}]").is_visible()
    plots = page.locator("svg[data-testid=dot-plot]")
    assert plots.count() >= 2 and page.locator("svg[data-testid=bar-chart]").count() == 1
    # the charts fit the screen (they scale to their container) and draw their marks
    width = page.evaluate("window.innerWidth")
    box = plots.first.bounding_box()
    assert box["width"] <= width and box["height"] > 50
    assert plots.first.locator("circle").count() >= 2
    screenshot(page, f"reports-{device}-report")
    assert page.console_errors == []
