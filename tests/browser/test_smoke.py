"""Each demo role signs in on a phone and on a desktop, uses its menu, switches language."""

from __future__ import annotations

import pytest
from browser_harness import login, open_menu, screenshot

from surveyapp.services.demo import USERS

ROLES = [(login_name, password, role) for login_name, _n, password, role, _o in USERS
         if login_name != "phunu.admin"]


@pytest.mark.parametrize("device", ["phone", "desktop"])
@pytest.mark.parametrize("user,password,role", ROLES, ids=[r[2].value for r in ROLES])
def test_role_signs_in_browses_and_switches_language(request, live_server, device, user,
                                                     password, role):
    page = request.getfixturevalue(f"{device}_page")
    base = live_server.url
    page.goto(f"{base}/login")
    assert page.locator("h1").inner_text() == "Đăng nhập"
    login(page, base, user, password)
    assert "Xin chào" in page.locator("h1").inner_text()
    open_menu(page)
    links = page.locator("#main-nav .nav-link")
    menu = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert "/" in menu and "/campaigns/" in menu
    assert ("/audit/" in menu) == (role.value in ("system_admin", "org_admin"))
    screenshot(page, f"{role.value}-{device}-dashboard")
    for href in menu[1:]:
        response = page.goto(base + href)
        assert response.status == 200, href
    page.goto(f"{base}/campaigns/")
    # Switch to English and back.
    open_menu(page)
    page.click("[data-testid=lang-en]")
    page.wait_for_load_state()
    assert "Survey campaigns" in page.locator("h1").inner_text()
    screenshot(page, f"{role.value}-{device}-campaigns-en")
    open_menu(page)
    page.click("[data-testid=lang-vi]")
    assert "Các cuộc khảo sát" in page.locator("h1").inner_text()
    open_menu(page)
    page.click("[data-testid=logout]")
    page.wait_for_url(f"{base}/login")
    assert page.console_errors == []


def test_import_shows_live_progress_and_the_result(live_server, phone_page, tmp_path):
    page = phone_page
    base = live_server.url
    login(page, base, "admin", "demo-admin-2024")
    csv_file = tmp_path / "thu_tuc.csv"
    csv_file.write_text("code,name,field,agency_codes\n"
                        "1.004227,Cấp giấy phép lái xe,Đường bộ,SO-TP\n", encoding="utf-8")
    page.goto(f"{base}/registry/import")
    page.select_option("select[name=kind]", "procedures")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/jobs/*")
    page.locator("[data-role=done]:not(.d-none)").wait_for()
    assert "Hoàn thành" in page.locator("[data-role=status]").inner_text()
    screenshot(page, "import-job-phone")
    page.goto(f"{base}/registry/procedures")
    assert "Cấp giấy phép lái xe" in page.content()
    assert page.console_errors == []


def test_a_bad_file_shows_the_problems_on_the_job_page(live_server, desktop_page, tmp_path):
    page = desktop_page
    base = live_server.url
    login(page, base, "admin", "demo-admin-2024")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent_code,valid_from,valid_to\n"
                   "1,Quận Mới,quan,79,2021-01-01,\n", encoding="utf-8")
    page.goto(f"{base}/registry/import")
    page.set_input_files("input[name=file]", str(bad))
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/jobs/*")
    error = page.locator("[data-role=error]:not(.d-none)")
    error.wait_for()
    assert "Dòng 2, cột “level”" in error.inner_text()
    assert page.console_errors == []
