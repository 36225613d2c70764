"""Annual reports (issue 10 item 3): the workbook read back against the stored runs, the PDF
printed to PNG pages and read, regeneration, storage, the pages and their refusals.

The figures are compared with what is stored — the scorecard rows as ``scorecards.run_rows``
reads them (suppressed cells blank), the scorecard rows in the database, the weighting run's
diagnostics, the sampling plan — never with the report data dict alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from surveyapp.extensions import db as _db
from surveyapp.models import (
    AnnualReport,
    AnnualReportFile,
    AuditEvent,
    Campaign,
    Job,
    SamplingPlan,
    ScorecardRow,
    ScorecardRun,
    User,
)
from surveyapp.reporting.annual_html import render_html
from surveyapp.reporting.annual_xlsx import render_xlsx
from surveyapp.services import demo, reports, response_rates, scorecards
from surveyapp.services.scorecards import Options

STATUS_VI = {"reliable": "Tin cậy", "flagged": "Cần thận trọng khi sử dụng",
             "suppressed": "Không công bố"}
SHEETS_VI = ("Bìa", "Phương pháp", "Bảng điểm", "Xếp hạng")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(app, db):
    """The demo (campaign, plan, weighting run, scorecard run 1) and its analyst."""
    with app.app_context():
        demo.load_demo()
        campaign = _db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.CAMPAIGN_TITLE))
        run = scorecards.list_runs(campaign)[-1]
        analyst = _db.session.scalar(sa.select(User).where(User.login == "phantich"))
        yield campaign, run, analyst


def _generate(campaign, run, actor, locale="vi") -> AnnualReport:
    job = reports.request_report(actor, campaign, run.id, locale)  # inline runner in tests
    job = _db.session.get(Job, job.id)
    assert job.status == "done", job.error
    return _db.session.get(AnnualReport, job.result["report_id"])


def _file(report, fmt) -> bytes:
    return _db.session.scalar(sa.select(AnnualReportFile.content).where(
        AnnualReportFile.report_id == report.id, AnnualReportFile.format == fmt))


def _sheet_rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))


def test_the_workbook_read_back_has_every_figure_of_the_stored_runs(world):
    campaign, run, analyst = world
    report = _generate(campaign, run, analyst)
    blob = _file(report, "xlsx")
    assert hashlib.sha256(blob).hexdigest() == next(
        f.sha256 for f in report.files if f.format == "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(blob))
    for name in SHEETS_VI:
        assert name in wb.sheetnames
    read = scorecards.run_rows(run)
    by_key = {(r["agency_code"], r["node"]): r for r in read}
    # the database rows themselves agree with run_rows for every unsuppressed figure
    for row in _db.session.scalars(sa.select(ScorecardRow).where(ScorecardRow.run_id == run.id)):
        if row.status != "suppressed":
            assert by_key[(row.agency_code, row.node)]["estimate"] == row.estimate
    nodes = []
    for r in read:
        if r["level"] != "item" and r["node"] not in [n[0] for n in nodes]:
            nodes.append((r["node"], r["label"]))

    # -- the scorecard sheet: every agency and the city, every node: estimate, CI, n, flag
    rows = _sheet_rows(wb["Bảng điểm"])
    head = next(i for i, r in enumerate(rows) if r[0] == "Mã cơ quan")
    groups = rows[head - 1]
    for k, (node, label) in enumerate(nodes):
        assert groups[2 + 5 * k] == label
        assert rows[head][2 + 5 * k:7 + 5 * k] == ["Ước lượng", "Cận dưới KTC", "Cận trên KTC",
                                                   "n", "Độ tin cậy"]
    body = [r for r in rows[head + 1:] if r[1]]
    agencies = {r["agency_code"] for r in read}
    assert len(body) == len(agencies)              # every agency, then the city total
    seen = set()
    for line in body:
        code = line[0] or None
        seen.add(code)
        assert line[1] == by_key[(code, nodes[0][0])]["agency_name"]
        for k, (node, _label) in enumerate(nodes):
            want = by_key[(code, node)]
            got = line[2 + 5 * k:7 + 5 * k]
            assert _close(got[0], want["estimate"]) and _close(got[1], want["ci_low"]) \
                and _close(got[2], want["ci_high"]), (code, node)
            assert got[3] == want["n"] and got[4] == STATUS_VI[want["status"]]
        rank = by_key[(code, nodes[-1][0])]
        tail = line[2 + 5 * len(nodes):6 + 5 * len(nodes)]
        if rank["rank_median"] is None:
            assert tail == [None] * 4
        else:
            assert tail == [rank["rank_median"], rank["rank_low"], rank["rank_high"],
                            rank["band"] + 1]
    assert seen == agencies
    # estimates carry the number format; the first column stays text
    ws = wb["Bảng điểm"]
    assert ws.cell(head + 2, 3).number_format == "0.000"

    # -- one sheet per dimension, with its items (headed by the questions' wording)
    from surveyapp.models import QuestionnaireVersion
    from surveyapp.questionnaires import Questionnaire

    document = _db.session.get(QuestionnaireVersion, campaign.questionnaire_version_id).document
    question_of = {q.label["vi"]: q.name for q in Questionnaire.from_dict(document).questions()
                   if q.label}
    index_nodes = {r["node"]: r for r in read}
    for node, label in nodes:
        if index_nodes[node]["level"] != "dimension":
            continue
        sheet = next(s for s in wb.sheetnames if s == label[:31])
        rows = _sheet_rows(wb[sheet])
        assert rows[0][0] == label
        header = rows[2]
        items = header[12::3]
        item_nodes = [question_of[label] for label in items]
        assert items and len(item_nodes) == len(items)
        for line in rows[3:3 + len(agencies)]:
            code = line[0] or None
            want = by_key[(code, node)]
            for j, key in enumerate(("estimate", "se", "ci_low", "ci_high")):
                assert _close(line[2 + j], want[key]), (code, node, key)
            assert line[6] == want["n"] and _close(line[7], want["n_effective"])
            assert line[8] == STATUS_VI[want["status"]]
            for k, item in enumerate(item_nodes):
                w = by_key[(code, item)]
                assert [_close(line[12 + 3 * k + j], w[key]) for j, key in
                        enumerate(("estimate", "ci_low", "ci_high"))] == [True] * 3

    # -- the rankings: every ranked agency with its rank interval, band and estimate
    rank_node = nodes[-1][0]
    ranked = sorted((r for r in read if r["node"] == rank_node and r["rank_median"] is not None),
                    key=lambda r: (r["rank_median"], r["agency_name"]))
    rows = _sheet_rows(wb["Xếp hạng"])
    head = next(i for i, r in enumerate(rows) if r[0] == "Hạng (trung vị)")
    got = [r for r in rows[head + 1:] if r[5]]
    assert len(got) == len(ranked) > 1
    for line, want in zip(got, ranked, strict=True):
        assert line[:6] == [want["rank_median"], want["rank_low"], want["rank_high"],
                            want["band"] + 1, want["agency_code"], want["agency_name"]]
        assert _close(line[6], want["estimate"]) and _close(line[8], want["ci_low"]) \
            and _close(line[9], want["ci_high"])
        assert _close(line[12], want["ci_high"] - want["estimate"])

    # -- the methodology: the plan, the response rates, the weighting run, the index
    plan = _db.session.get(SamplingPlan, run.weight_run.plan_id)
    pairs = {r[0]: r[1] for r in _sheet_rows(wb["Phương pháp"]) if r[0]}
    assert pairs["Cỡ mẫu"] == plan.n and pairs["Số đơn vị trong dàn mẫu"] == plan.frame_rows
    assert pairs["Mã băm khung mẫu (SHA-256)"] == plan.frame_sha256
    assert pairs["Phiên bản phương pháp"] == run.method_version
    assert pairs["Mã băm dữ liệu đầu vào (SHA-256)"] == run.weight_run.input_sha256
    rows = _sheet_rows(wb["Phương pháp"])
    allocation = {r["stratum"]: (r["N_h"], r["n_h"]) for r in plan.allocation}
    for r in rows:
        if r[0] in allocation and r[1] is not None and r[2] is not None and r[3] is None:
            assert (r[1], r[2]) == allocation.pop(r[0])
    assert allocation == {}
    survey = next(r for r in response_rates.rate_rows(campaign, "approved") if
                  r["dimension"] == "survey")
    line = next(r for r in rows if r[0] == "Toàn cuộc khảo sát")
    assert line[1:9] == [survey[k] for k in ("n", "I", "P", "R", "NC", "O", "U", "NE")]
    assert _close(line[9], survey["rr1"]) and _close(line[9], line[2] / line[1])
    stages = run.weight_run.diagnostics["stages"]
    final = next(r for r in rows if r[0] == "Trọng số cuối cùng")
    assert final[1] == stages["final"]["n"] and _close(final[2], stages["final"]["sum"])
    assert _close(final[6], stages["final"]["deff_weighting"])
    # the index definition: one line per item of the run, with its scoring rule
    head = next(i for i, r in enumerate(rows) if r[0] == "Lĩnh vực")
    items = [r for r in rows[head + 1:] if r[0]]
    assert len(items) == sum(1 for r in read if r["level"] == "item" and r["agency_code"] is None)
    assert all(r[3] == "Tỷ lệ trả lời 4, 5" for r in items)

    # -- the cover: the city's overall index
    cover = {r[0]: r[1] for r in _sheet_rows(wb["Bìa"]) if r[0]}
    total = by_key[(None, rank_node)]
    assert _close(cover[f"Toàn Thành phố: {nodes[-1][1]}"], total["estimate"])
    assert cover["Phiên bản phương pháp"] == run.method_version

    # -- native charts: one per dimension sheet and the rankings, with the CI as error bars
    charts = [n for n in zipfile.ZipFile(io.BytesIO(blob)).namelist()
              if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    dims = sum(1 for n, _l in nodes if index_nodes[n]["level"] == "dimension")
    trend = "Xu hướng" in wb.sheetnames
    assert len(charts) == dims + 1 + trend
    xmls = [zipfile.ZipFile(io.BytesIO(blob)).read(c).decode() for c in charts]
    ranking = [x for x in xmls if "Xếp hạng" in x]
    assert len(ranking) == 1 and "<c:errBars>" in ranking[0] \
        and 'c:errValType val="cust"' in ranking[0]
    assert sum("<c:errBars>" in x for x in xmls) == dims + 1

    # -- the trend: the city totals of the organisation's earlier campaigns (their newest run
    # with the same index) and this run, oldest first
    earlier = _db.session.execute(
        sa.select(ScorecardRun, Campaign).join(Campaign, Campaign.id == ScorecardRun.campaign_id)
        .where(Campaign.organisation_id == campaign.organisation_id,
               Campaign.year < campaign.year, ScorecardRun.index_key == run.index_key)
        .order_by(Campaign.year, ScorecardRun.number.desc())).all()
    newest = {}
    for other, c in earlier:
        newest.setdefault(c.id, other)
    expected = [*newest.values(), run]
    assert trend == (len(expected) > 1)
    if trend:
        rows = _sheet_rows(wb["Xu hướng"])
        lines = [r for r in rows[3:] if r[0] is not None]
        assert [r[0] for r in lines] == [o.campaign.year for o in expected]
        for line, other in zip(lines, expected, strict=True):
            city = {r["node"]: r for r in scorecards.run_rows(other) if r["agency_code"] is None}
            assert line[1] == other.number
            for k, (node, _label) in enumerate(nodes):
                assert _close(line[2 + k], (city.get(node) or {}).get("estimate"))


def test_suppressed_cells_are_blank_in_the_workbook_and_the_page(world):
    campaign, run, analyst = world
    strict = scorecards.compute_scorecard(None, run.weight_run, Options("sipas", min_n=1000))
    report = _generate(campaign, strict, analyst)
    wb = openpyxl.load_workbook(io.BytesIO(_file(report, "xlsx")))
    hidden = [r for r in strict.rows if r.agency_code is not None and r.status == "suppressed"]
    assert hidden
    values = {c for ws in wb for row in ws.iter_rows(values_only=True) for c in row
              if isinstance(c, float)}
    for r in hidden:
        assert r.estimate not in values and r.ci_low not in values
    rows = _sheet_rows(wb["Bảng điểm"])
    line = next(x for x in rows if x[0] == hidden[0].agency_code)
    assert line[2:5] == [None, None, None] and line[6] == "Không công bố"
    # the reason in words, in the report's language, on the dimension sheets
    notes = {c for name in wb.sheetnames[3:] for row in wb[name].iter_rows(values_only=True)
             for c in row if isinstance(c, str)}
    assert "ít hơn 1000 người trả lời" in notes and "n<1000" not in notes
    html = _file(report, "html").decode()

    def vi(x):
        return f"{x:.3f}".replace(".", ",")

    assert html.count('<span class="supp"') >= len(hidden)
    for r in hidden:  # neither the figure nor its interval is printed (3 decimals, as shown)
        assert f"[{vi(r.ci_low)}; {vi(r.ci_high)}]" not in html
        assert f">{vi(r.estimate)}</span>" not in html


def test_generating_again_gives_the_same_figures_and_a_new_version(world):
    campaign, run, analyst = world
    first = _generate(campaign, run, analyst)
    second = _generate(campaign, run, analyst)
    assert (first.number, second.number) == (1, 2)
    assert first.data_sha256 == second.data_sha256
    digests = [{f.format: f.sha256 for f in r.files} for r in (first, second)]
    assert digests[0]["xlsx"] == digests[1]["xlsx"] and digests[0]["html"] == digests[1]["html"]
    assert set(digests[0]) == {"xlsx", "html", "pdf"}
    assert _file(first, "pdf").startswith(b"%PDF")
    assert first.scorecard_run_id == run.id and first.created_by_id == analyst.id
    assert first.locale == "vi" and first.job_id is not None
    event = _db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.object_type == "annual_report", AuditEvent.object_id == str(first.id)))
    assert event is not None and event.after["files"]["xlsx"] == digests[0]["xlsx"]


def test_the_renderers_need_only_the_dict(world, tmp_path):
    campaign, run, _analyst = world
    data = json.loads(json.dumps(reports.build_report_data(run)))  # plain JSON types only
    assert reports.build_report_data(run) == data                   # deterministic
    (tmp_path / "data.json").write_text(json.dumps(data), encoding="utf-8")
    # another process, with no app, no application context and no database: the same files
    script = (
        "import json, sys, pathlib\n"
        "from surveyapp.reporting.annual_html import render_html\n"
        "from surveyapp.reporting.annual_xlsx import render_xlsx\n"
        "d = json.loads(pathlib.Path(sys.argv[1], 'data.json').read_text('utf-8'))\n"
        "pathlib.Path(sys.argv[1], 'r.xlsx').write_bytes(render_xlsx(d))\n"
        "pathlib.Path(sys.argv[1], 'r.html').write_text(render_html(d), 'utf-8')\n"
        "assert 'flask_sqlalchemy' not in sys.modules and 'surveyapp.extensions' not in "
        "sys.modules, sorted(m for m in sys.modules if m.startswith(('flask', 'surveyapp')))\n")
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=300,
                   cwd=str(ROOT))
    assert (tmp_path / "r.xlsx").read_bytes() == render_xlsx(data)
    assert (tmp_path / "r.html").read_text("utf-8") == render_html(data)
    english = dict(data, locale="en")
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(english)))
    assert wb.sheetnames[:3] == ["Cover", "Methodology", "Scorecard"]
    assert "Annual survey report" in render_html(english)


@pytest.mark.browser
def test_the_pdf_prints_to_png_pages_with_the_expected_headings(world, tmp_path):
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.fail("poppler-utils (pdftoppm, pdftotext) is required; .ci/run installs it")
    campaign, run, analyst = world
    report = _generate(campaign, run, analyst)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_file(report, "pdf"))
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 4
    for png in pages:
        head = png.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        assert height > width > 200          # A4 portrait
    texts = []
    for k in range(1, len(pages) + 1):
        out = subprocess.run(["pdftotext", "-f", str(k), "-l", str(k), "-layout", str(pdf), "-"],
                             check=True, capture_output=True, timeout=60).stdout.decode()
        texts.append(out)
    read = scorecards.run_rows(run)
    dims = []
    for r in read:
        if r["level"] == "dimension" and r["label"] not in dims:
            dims.append(r["label"])
    headings = ["Báo cáo kết quả khảo sát năm 2024", "1. Phương pháp", "2. Toàn Thành phố",
                "3. Bảng điểm theo cơ quan"] + [f"{4 + k}. {d}" for k, d in enumerate(dims)] + \
        [f"{4 + len(dims)}. Xếp hạng: Chỉ số chung"]

    def page_of(heading):
        return next((k for k, t in enumerate(texts) if heading in " ".join(t.split())), None)

    found = [page_of(h) for h in headings]
    assert None not in found, list(zip(headings, found, strict=True))
    assert found == sorted(found) and found[0] == 0    # in order, the cover first
    # each part after the methodology starts a page of its own
    assert len(set(found[2:])) == len(found[2:])
    total = next(r for r in read if r["agency_code"] is None and r["level"] == "overall")
    assert f"{total['estimate']:.3f}".replace(".", ",") in texts[0]


def test_the_reports_page_generates_lists_and_downloads(world, client, auth):
    campaign, run, _analyst = world
    auth.login("phantich", "demo-analyst-2024")
    base = f"/campaigns/{campaign.id}/reports/"
    page = client.get(base)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Tạo báo cáo" in html and 'data-testid="no-reports"' in html
    done = client.post(base, data={"scorecard_run": run.id}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and 'data-testid="report-1"' in html
    report = _db.session.scalar(sa.select(AnnualReport).where(
        AnnualReport.campaign_id == campaign.id))
    xlsx = client.get(f"{base}{report.id}/xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in xlsx.headers["Content-Disposition"]
    assert xlsx.data == _file(report, "xlsx")
    pdf = client.get(f"{base}{report.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    view = client.get(f"{base}{report.id}/html")
    assert view.status_code == 200 and "inline" in view.headers["Content-Disposition"]
    assert "default-src 'none'" in view.headers["Content-Security-Policy"]
    assert "<script" not in view.get_data(as_text=True)
    # a format the report does not have: a clear message, no error
    other = client.get(f"{base}{report.id}/docx", follow_redirects=True)
    assert other.status_code == 200 and "Báo cáo này không có tệp như vậy." in \
        other.get_data(as_text=True)
    # the campaign page links here
    assert f'href="{base}"' in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)


def test_a_scorecard_run_of_another_campaign_is_refused_and_nothing_stored(world, client, auth,
                                                                            app):
    campaign, _run, _analyst = world
    other = Campaign(organisation_id=campaign.organisation_id, title="Khác", year=2024)
    _db.session.add(other)
    _db.session.commit()
    foreign = ScorecardRun(campaign_id=other.id, number=1, index_key="sipas",
                           method_version="sipas-top2/v1", confidence_level=0.95, min_n=5,
                           rule="cv", seed=1, status="done")
    _db.session.add(foreign)
    _db.session.commit()
    auth.login("phantich", "demo-analyst-2024")
    refused = client.post(f"/campaigns/{campaign.id}/reports/",
                          data={"scorecard_run": foreign.id})
    assert refused.status_code == 400 and "Not a valid choice" not in refused.get_data(
        as_text=True)
    assert "Lựa chọn không hợp lệ" in refused.get_data(as_text=True) or \
        "Hãy chọn một lần tính bảng điểm" in refused.get_data(as_text=True)
    with pytest.raises(reports.ReportFailed, match="Hãy chọn một lần tính bảng điểm"):
        reports.request_report(None, campaign, foreign.id)
    assert _db.session.scalar(sa.select(sa.func.count(AnnualReport.id))) == 0
    assert _db.session.scalar(sa.select(sa.func.count(Job.id)).where(
        Job.kind == "annual_report")) == 0


def test_a_pdf_that_cannot_be_printed_fails_the_job_and_stores_nothing(world, monkeypatch):
    campaign, run, analyst = world
    from surveyapp.reporting import annual_pdf

    monkeypatch.setattr(annual_pdf, "CHROMIUM", "/nonexistent/chromium")
    job = reports.request_report(analyst, campaign, run.id)
    job = _db.session.get(Job, job.id)
    assert job.status == "failed" and job.error.startswith("Không in được PDF:")
    assert "Traceback" not in job.error
    assert _db.session.scalar(sa.select(sa.func.count(AnnualReport.id))) == 0
    assert _db.session.scalar(sa.select(sa.func.count(AnnualReportFile.id))) == 0


def test_supervisors_and_the_office_get_no_raw_report(world, client, auth, app):
    campaign, run, analyst = world
    report = _generate(campaign, run, analyst)
    auth.login("giamsat", "demo-supervisor-2024")
    assert client.get(f"/campaigns/{campaign.id}/reports/").status_code == 403
    assert client.get(f"/campaigns/{campaign.id}/reports/{report.id}/xlsx").status_code == 403
