"""On the demo, the city Front's submission package goes from draft to published, driven in
Chromium as each role: the analyst prepares it, the head approves and submits it, the office
returns it with a comment, the analyst amends it, and the office receives, accepts and
publishes the amendment; the digest checks out and the office's consolidated view shows it."""

from __future__ import annotations

import re

from browser_harness import login, screenshot

from surveyapp.services.demo import PACKAGE_TITLE

ANALYST = ("phantich", "demo-analyst-2024")
HEAD = ("mttq.admin", "demo-orgadmin-2024")
OFFICE = ("vpubnd", "demo-reviewer-2024")


def _sign_in(page, base, who):
    page.goto(f"{base}/login")
    if page.locator("[data-testid=logout]").count():
        page.click("[data-testid=logout]")
        page.wait_for_url(f"{base}/login")
    login(page, base, *who)


def _step(page, target, comment=None):
    form = page.locator(f"[data-testid=step-{target}]")
    if comment is not None:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator(f"[data-testid=do-{target}]").click()
    page.wait_for_load_state()
    errors = page.locator(".alert-danger")
    assert errors.count() == 0, errors.all_inner_texts()


def _status(page) -> str:
    return page.locator("[data-testid=package-status]").inner_text()


def test_a_package_goes_from_draft_to_published(live_server, desktop_page):
    page, base = desktop_page, live_server.url

    # The analyst: the demo's draft, findings for an agency, then internal review.
    _sign_in(page, base, ANALYST)
    page.goto(f"{base}/packages/")
    page.get_by_role("link", name=PACKAGE_TITLE).click()
    assert _status(page) == "Bản nháp"
    url = page.url
    screenshot(page, "package-1-draft-analyst")
    page.click("text=Nhận định theo cơ quan")
    first = page.locator("fieldset").first
    first.locator("textarea").nth(0).fill("Công chức tiếp đón niềm nở, hướng dẫn rõ ràng.")
    first.locator("textarea").nth(1).fill("Bổ sung ghế chờ tại bộ phận một cửa.")
    page.locator("input[type=submit]").click()
    page.wait_for_url(url)
    assert "Bổ sung ghế chờ" in page.content()
    _step(page, "internal_review")
    assert _status(page) == "Rà soát nội bộ"

    # The head: told by the bell, approves and submits (the version is frozen).
    _sign_in(page, base, HEAD)
    assert page.locator("[data-testid=unread-count]").inner_text() == "1"
    page.click("[data-testid=notifications-bell]")
    assert "rà soát nội bộ" in page.locator("[data-testid=notifications]").inner_text()
    screenshot(page, "package-2-head-notifications")
    page.locator("[data-testid=notifications] button").first.click()
    page.wait_for_url(url)
    assert page.locator("[data-testid=step-draft]").count() == 1  # may send it back
    _step(page, "approved")
    _step(page, "submitted")
    assert _status(page) == "Đã gửi Văn phòng UBND"
    digest1 = page.locator("[data-testid=package-digest]").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", digest1)
    assert page.locator("[data-testid=edit-package]").count() == 0
    screenshot(page, "package-3-submitted-head")

    # The office: receives it, returns it with a comment.
    _sign_in(page, base, OFFICE)
    page.goto(url)
    assert page.locator("[data-testid=step-received]").count() == 1
    _step(page, "received")
    _step(page, "returned", "Đề nghị bổ sung kiến nghị về thời gian chờ.")
    assert _status(page) == "Trả lại kèm ý kiến"
    assert "Đề nghị bổ sung kiến nghị" in page.locator("[data-testid=history]").inner_text()
    screenshot(page, "package-4-returned-office")

    # The analyst amends: version 2, pointing to version 1, and sends it on.
    _sign_in(page, base, ANALYST)
    page.goto(url)
    page.click("[data-testid=amend]")
    page.wait_for_load_state()
    assert "phiên bản 2" in page.content() and page.locator("[data-testid=replaces]").count()
    url2 = page.url
    page.click("[data-testid=edit-package]")
    page.fill("textarea[name=recommendations]", "Bố trí thêm quầy tiếp nhận vào giờ cao điểm; "
              "rút ngắn thời gian chờ xuống dưới 15 phút.")
    page.click("input[type=submit][value='Lưu']")
    page.goto(url2)
    _step(page, "internal_review")
    _sign_in(page, base, HEAD)
    page.goto(url2)
    _step(page, "approved")
    _step(page, "submitted")
    digest2 = page.locator("[data-testid=package-digest]").inner_text()
    assert digest2 != digest1

    # The office: receives, accepts, publishes; the check and the consolidation.
    _sign_in(page, base, OFFICE)
    page.goto(url2)
    _step(page, "received")
    _step(page, "accepted", "Đạt yêu cầu.")
    _step(page, "published")
    assert _status(page) == "Đã công bố"
    screenshot(page, "package-5-published-office")
    page.click("[data-testid=verify-link]")
    assert page.locator("[data-testid=verify-ok]").count() == 1
    assert page.locator("[data-testid=digest]").inner_text() == digest2
    screenshot(page, "package-6-verify-office")
    page.goto(f"{base}/office/?year=2024")
    assert "Ủy ban MTTQ Việt Nam TP. Hồ Chí Minh" in page.locator(
        "[data-testid=accepted-packages]").inner_text()
    assert page.locator("[data-testid=side-by-side] tbody tr").count() > 0
    screenshot(page, "package-7-consolidated-office")
    # Anyone, signed in or not, finds it on the public results page with the same digest.
    version2 = re.search(r"/packages/(\d+)", url2).group(1)
    page.context.clear_cookies()
    page.goto(f"{base}/results/")
    page.click("text=Năm 2024")
    block = page.locator(f"[data-testid=published-package-{version2}]")
    block.wait_for()
    assert "Ủy ban MTTQ Việt Nam TP. Hồ Chí Minh" in block.inner_text()
    assert block.locator("[data-testid=digest]").inner_text() == digest2
    screenshot(page, "package-8-public-page")
    _sign_in(page, base, OFFICE)
    # The first version stays readable, returned, with its own digest.
    page.goto(url)
    assert _status(page) == "Trả lại kèm ý kiến"
    assert page.locator("[data-testid=package-digest]").inner_text() == digest1
    assert page.console_errors == []
