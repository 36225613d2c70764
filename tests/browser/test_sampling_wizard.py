"""The sampling-plan wizard end to end in Chromium, on the demo data: upload a frame, choose
the design, see the calculator, draw, verify, lock, download the sample and work lists."""

from __future__ import annotations

import io

from browser_harness import login, screenshot
from openpyxl import load_workbook

from surveyapp.services.demo import CAMPAIGN_TITLE, demo_frame_csv


def _xlsx(download):
    with open(download.path(), "rb") as fh:
        return load_workbook(io.BytesIO(fh.read()), read_only=True)


def test_analyst_draws_and_locks_a_sample(live_server, desktop_page, tmp_path):
    page = desktop_page
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before draw and lock
    login(page, base, "phantich", "demo-analyst-2024")

    page.goto(f"{base}/campaigns/")
    page.get_by_text(CAMPAIGN_TITLE).first.click()
    page.click("[data-testid=sampling-link]")
    # The demo's locked plan is listed; start a new one.
    assert "Mẫu người dân có hồ sơ đã giải quyết năm 2024" in page.inner_text(
        "[data-testid=plan-list]")
    page.fill("input[name=title]", "Mẫu thử nghiệm trên trình duyệt")
    page.click("input[type=submit]")
    page.wait_for_url("**/frame")

    # 1. Frame: first a file that is not UTF-8 (refused, in Vietnamese), then the real one.
    bad = tmp_path / "ho_so_ansi.csv"
    bad.write_bytes("Mã hồ sơ,Cơ quan\n1,Sở Tư pháp\n".encode("cp1258", errors="replace"))
    page.set_input_files("input[name=file]", str(bad))
    page.click("input[type=submit]")
    assert "không phải văn bản UTF-8" in page.inner_text("main")
    frame = tmp_path / "ho-so-2024.csv"
    frame.write_bytes(demo_frame_csv())
    page.set_input_files("input[name=file]", str(frame))
    page.click("input[type=submit]")
    page.wait_for_url("**/design")
    assert "600" in page.inner_text("main")

    # 2. Columns and design.
    page.select_option("select[name=id_column]", "Mã hồ sơ")
    page.select_option("select[name=stratum_column]", "Cơ quan giải quyết")
    page.check("input[name=label_columns][value='Người nộp']")
    page.check("input[name=label_columns][value='Địa chỉ']")
    page.select_option("select[name=method]", "systematic")
    page.fill("input[name=n]", "5000")  # more than the frame: refused with a message
    page.select_option("select[name=allocation_method]", "proportional")
    page.fill("input[name=reserve]", "2")
    page.fill("input[name=seed]", "20241010")
    page.click("[data-testid=design-form] input[type=submit]")
    assert "lớn hơn khung mẫu" in page.inner_text("main")
    page.fill("input[name=n]", "60")
    page.click("[data-testid=design-form] input[type=submit]")
    page.wait_for_url("**/preview")
    screenshot(page, "sampling-design-saved")

    # 3. Calculator: margin of error per agency, then with a target.
    table = page.inner_text("[data-testid=calculator]")
    assert "Sở Tư pháp" in table and "UBND Phường Bến Nghé" in table and "±" in table
    page.fill("input[name=response_rate]", "0.8")
    page.fill("input[name=target_moe]", "0.1")
    page.click("[data-testid=calculator-form] button[type=submit]")
    assert "Cần cho mục tiêu" in page.inner_text("[data-testid=calculator]")
    screenshot(page, "sampling-calculator")

    # 4. Draw, then verify.
    page.click("[data-testid=draw]")
    page.wait_for_selector("[data-testid=draw-summary]")
    assert "Đã chọn mẫu: 60 đơn vị và 10 dự phòng (hạt giống 20241010)." in page.inner_text("main")
    assert page.locator("[data-testid=cases] tbody tr").count() == 70
    page.click("[data-testid=verify]")
    assert "Kiểm chứng: CÓ." in page.inner_text("main")

    # 5. Lock.
    page.click("[data-testid=lock]")
    page.wait_for_selector("text=Đã khóa kế hoạch.")
    assert page.inner_text("[data-testid=plan-status]") == "Đã khóa"
    assert page.locator("[data-testid=lock]").count() == 0
    screenshot(page, "sampling-locked")

    # Downloads: the sample and the per-interviewer work lists.
    with page.expect_download() as info:
        page.click("[data-testid=download-sample]")
    sample = _xlsx(info.value)
    rows = list(sample["Mẫu"].iter_rows(values_only=True))
    # the analyst gets unit ids, never the frame's names and addresses (Decision 104, Art. 3.4)
    assert rows[0][0] == "Mã (Mã hồ sơ)" and len(rows) == 71
    assert "Người nộp" not in rows[0] and "Địa chỉ" not in rows[0]
    with page.expect_download() as info:
        page.click("[data-testid=download-worklists]")
    lists = _xlsx(info.value)
    assert lists.sheetnames == ["Phạm Thị Hồng", "Dự phòng"]  # the demo's one interviewer
    assert len(list(lists["Phạm Thị Hồng"].iter_rows(values_only=True))) == 4 + 60
    assert page.console_errors == []


def test_supervisor_sees_the_demo_plan_on_a_phone_and_gets_work_lists(live_server, phone_page):
    page = phone_page
    base = live_server.url
    login(page, base, "giamsat", "demo-supervisor-2024")
    page.goto(f"{base}/campaigns/")
    page.get_by_text(CAMPAIGN_TITLE).first.click()
    page.click("[data-testid=sampling-link]")
    page.get_by_text("Mẫu người dân có hồ sơ đã giải quyết năm 2024").first.click()
    assert page.inner_text("[data-testid=plan-status]") == "Đã khóa"
    assert page.locator("[data-testid=lock], [data-testid=new-version]").count() == 0
    with page.expect_download() as info:
        page.click("[data-testid=download-worklists]")
    lists = _xlsx(info.value)
    assert lists.sheetnames[-1] == "Dự phòng"
    # the supervisor prepares the field work: the work lists say whom to find
    assert "Người nộp" in list(lists[lists.sheetnames[0]].iter_rows(values_only=True))[3]
    screenshot(page, "sampling-supervisor-phone")
    assert page.console_errors == []
