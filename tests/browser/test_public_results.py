"""The public results pages on a phone and on a desktop, with no sign-in (issue 11): the demo's
2023 round published as a package, its page (agencies with intervals, the dot plot, the
digest), an agency's dimension scores, the check against the digest; no console errors."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from browser_harness import errors_besides_chart_styles as _errors
from browser_harness import screenshot

STEPS = ["draft", "internal_review", "approved", "submitted", "received", "accepted",
         "published"]


@pytest.fixture(scope="module")
def published_2023(live_server):
    """The city Front's 2023 package (not the 2024 one that the workflow test drives)."""
    from surveyapp.extensions import db
    from surveyapp.models import Campaign, PackageVersion, SubmissionPackage
    from surveyapp.services import demo, package_workflow, scorecards, submissions

    with live_server.app.test_request_context():
        campaign = db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.PREVIOUS_TITLE))
        version = db.session.scalar(sa.select(PackageVersion).join(SubmissionPackage).where(
            SubmissionPackage.year == 2023))
        if version is None:
            version = submissions.create_package(None, campaign.organisation, 2023,
                                                 "Kết quả khảo sát năm 2023")
            submissions.add_survey(None, version, campaign.id,
                                   scorecards.list_runs(campaign)[0].id)
        for step in STEPS[STEPS.index(version.status) + 1:]:
            package_workflow.transition(None, version, step)
        return version.id, version.digest, campaign.organisation.name


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_public_results_read_well_without_signing_in(request, live_server, published_2023,
                                                        device):
    page = request.getfixturevalue(f"{device}_page")
    version_id, digest, organisation = published_2023
    base = live_server.url
    page.goto(f"{base}/results/")
    page.click("text=Năm 2023")
    page.wait_for_selector(f"[data-testid=published-package-{version_id}]")
    assert organisation in page.inner_text("main")
    assert page.locator(f"[data-testid=published-package-{version_id}] "
                        "[data-testid=digest]").inner_text() == digest
    assert page.locator("[data-testid=public-dot-plot] [data-role=point]").count() >= 2
    # The chart and the tables fit the screen: nothing wider than the page.
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    chart = page.locator("[data-testid=public-dot-plot]").first.bounding_box()
    assert chart["width"] <= width
    screenshot(page, f"public-year-{device}")
    assert _errors(page) == []

    page.locator("[data-testid=published-agencies] a").first.click()
    page.wait_for_selector("[data-testid=dimension-scores]")
    assert page.locator("[data-testid=agency-bar-chart] [data-role=bar]").count() >= 2
    screenshot(page, f"public-agency-{device}")
    assert _errors(page) == []

    page.goto(f"{base}/results/packages/{version_id}/check")
    assert page.locator("[data-testid=check-ok]").count() == 1
    assert page.locator("[data-testid=recomputed-digest]").inner_text() == digest
    # ... and the canonical snapshot it links to hashes to the digest
    body = page.request.get(f"{base}/api/v1/published/packages/{version_id}/snapshot").body()
    assert hashlib.sha256(body).hexdigest() == digest
    screenshot(page, f"public-check-{device}")
    assert _errors(page) == []
