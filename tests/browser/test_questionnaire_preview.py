"""The demo questionnaire previewed on a phone: skip logic hides and shows questions live, a
constraint message appears and goes, sections are pages (issue 6, the app side)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"


def _sign_in(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _demo_version_id(live_server) -> int:
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.demo import CAMPAIGN_TITLE

    with live_server.app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.title == CAMPAIGN_TITLE))
        assert campaign.questionnaire_version_id is not None  # the demo fields the template
        return campaign.questionnaire_version_id


def test_preview_applies_skip_logic_and_constraints_live_on_a_phone(live_server, phone_page):
    page = phone_page
    base = live_server.url
    version_id = _demo_version_id(live_server)
    _sign_in(page, base, "dieutravien", "demo-interviewer-2024")
    # The way an interviewer gets there: the campaign, its questionnaire, the version.
    page.goto(f"{base}/campaigns/")
    page.locator("main a.list-group-item").first.click()
    page.click("[data-testid=questionnaire-link]")
    page.click("[data-testid=version-1]")
    page.click("[data-testid=preview-link]")
    page.wait_for_url(f"{base}/questionnaires/versions/{version_id}/preview")
    assert page.viewport_size["width"] == 390
    assert "Trang 1/" in page.locator("[data-testid=progress]").inner_text()

    # Page 1: a future submission date breaks its constraint; a past one is accepted.
    page.fill("input[name=co_quan]", "SO-TP")
    page.fill("input[name=thu_tuc]", "2.000488")
    page.check("input[name=kenh][value=truc_tuyen_toan_trinh]")
    page.fill("input[name=ngay_nop_ho_so]", "2099-01-01")
    message = page.locator("[data-testid=msg-ngay_nop_ho_so]")
    assert message.inner_text().strip() != ""
    _shot(page, "questionnaire-preview-constraint-phone")
    page.fill("input[name=ngay_nop_ho_so]", "2024-09-10")
    assert message.inner_text().strip() == ""
    # Next is refused while a required answer is missing.
    page.click("[data-testid=next]")
    assert page.locator("[data-testid=msg-ngay_nhan_ket_qua]").inner_text().strip() != ""
    assert "Trang 1/" in page.locator("[data-testid=progress]").inner_text()
    page.fill("input[name=ngay_nhan_ket_qua]", "2024-09-20")
    page.click("[data-testid=next]")
    assert "Trang 2/" in page.locator("[data-testid=progress]").inner_text()

    # Page 2, fully online: the one-stop-desk items are skipped, the portal item is asked.
    desk_item = page.locator("[data-testid=q-tc_nd_cho_ngoi]")
    portal_item = page.locator("[data-testid=q-tc_nd_cong_dvc]")
    assert desk_item.is_hidden() and portal_item.is_visible()
    # Skip logic on the same page: "other" opens the free-text question.
    other = page.locator("[data-testid=q-tc_mong_doi_khac]")
    assert other.is_hidden()
    page.check("input[name=tc_mong_doi][value=khac]")
    assert other.is_visible()
    _shot(page, "questionnaire-preview-skip-logic-phone")

    # Back to page 1, in person at the desk: now the desk items are asked instead.
    page.click("[data-testid=prev]")
    page.check("input[name=kenh][value=truc_tiep]")
    page.click("[data-testid=next]")
    assert desk_item.is_visible() and portal_item.is_hidden()
    assert page.console_errors == []
