"""Suppression everywhere (issue 9): a constructed agency with fewer respondents than the
run's minimum n is blank — estimate and interval, with the reason — on the run page, in the
CSV and XLSX exports and in the API document, and takes no part in ranks or comparisons;
the other agencies are shown."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from scorecard_data import demo_campaign, vi_number

from surveyapp.extensions import db as _db
from surveyapp.services import demo, scorecards, weighting
from surveyapp.services.scorecards import Options

KEEP = 3  # respondents left to the tiny agency
MIN_N = 5


@pytest.fixture()
def tiny(app, db):
    """The demo with all but three respondents of its smallest agency moved to another
    agency, and a scorecard run with a minimum cell of five."""
    from surveyapp.services.interviews import approved_interviews

    with app.test_request_context():
        demo.load_demo()
        campaign, wrun = demo_campaign()
        w = weighting.analysis_weights(wrun)
        by_agency: dict[str, list] = {}
        for v in approved_interviews(campaign):
            if v.interview_id in w:
                by_agency.setdefault(v.answers["co_quan"], []).append(v)
        sizes = sorted(by_agency, key=lambda c: len(by_agency[c]))
        small, large = sizes[0], sizes[-1]
        for v in sorted(by_agency[small], key=lambda v: v.interview_id)[KEEP:]:
            v.answers = {**v.answers, "co_quan": large}
        _db.session.flush()
        run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=MIN_N, rule="cv"))
        _db.session.commit()
        yield campaign, run, small


def test_the_tiny_cell_is_blank_in_the_service_rows_and_kept_in_the_database(tiny):
    _campaign, run, small = tiny
    mine = [r for r in run.rows if r.agency_code == small]
    assert mine and all(r.n <= KEEP for r in mine)
    assert all(r.status == "suppressed" and r.reason == f"n<{MIN_N}" for r in mine)
    assert any(r.estimate is not None for r in mine)  # kept for verification only
    others = [r for r in run.rows if r.agency_code not in (small, None) and r.node == "SIPAS"]
    assert others and all(r.status != "suppressed" for r in others)
    for row in scorecards.run_rows(run):
        if row["agency_code"] == small:
            assert row["estimate"] is None and row["se"] is None and row["ci_low"] is None \
                and row["ci_high"] is None and row["unweighted"] is None
            assert row["reason_text"] == f"ít hơn {MIN_N} người trả lời"
            assert row["rank_median"] is None and row["band"] is None
    assert small not in {c.agency_code for c in run.comparisons}
    assert {c.agency_code for c in run.comparisons if c.kind == "city"} == \
        {r.agency_code for r in others}


def test_the_tiny_cell_is_blank_on_the_page_with_its_reason(tiny, client, auth):
    campaign, run, small = tiny
    auth.login("phantich", "demo-analyst-2024")
    html = client.get(f"/campaigns/{campaign.id}/scorecards/{run.id}").get_data(as_text=True)
    row = html.split(f'data-testid="agency-{small}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="suppressed"' in row and "—" in row
    assert f"Không hiển thị: ít hơn {MIN_N} người trả lời" in row
    assert 'data-testid="cell-' not in row  # no figure of any node
    for r in run.rows:
        if r.agency_code == small and r.estimate is not None:
            assert vi_number(r.estimate) not in row
            assert vi_number(r.ci_low) not in row
    comparison = html.split(f'data-testid="comparison-{small}"', 1)[1].split("</tr>", 1)[0]
    assert "chênh lệch" not in comparison and "—" in comparison
    shown = next(r for r in run.rows if r.node == "SIPAS" and r.agency_code not in (small, None))
    assert vi_number(shown.estimate) in html  # the others are shown
    plot = html.split('data-testid="dot-plot"', 1)[1].split("</svg>", 1)[0]
    name = next(r.agency_name for r in run.rows if r.agency_code == small)
    assert name not in plot


def test_the_tiny_cell_is_blank_in_the_csv_and_xlsx(tiny):
    _campaign, run, small = tiny
    rows = list(csv.DictReader(io.StringIO(scorecards.export_run(run, "csv").decode(
        "utf-8-sig"))))
    mine = [r for r in rows if r["agency_code"] == small]
    assert mine and len(rows) == len(run.rows)
    for r in mine:
        assert r["estimate"] == r["se"] == r["ci_low"] == r["ci_high"] == r["unweighted"] == ""
        assert r["reason"] == f"n<{MIN_N}" and r["reason_text"].startswith("ít hơn")
        assert r["vs_city_difference"] == r["vs_previous_difference"] == ""
    assert any(r["estimate"] != "" for r in rows if r["agency_code"] not in ("", small))
    book = load_workbook(io.BytesIO(scorecards.export_run(run, "xlsx")), read_only=True)
    cells = [list(r) for r in book.active.iter_rows(values_only=True)]
    header = cells[0]
    sheet = [dict(zip(header, r, strict=True)) for r in cells[1:]]
    mine = [d for d in sheet if d["agency_code"] == small]
    assert len(mine) == len([r for r in run.rows if r.agency_code == small])
    for d in mine:
        for key in ("estimate", "se", "ci_low", "ci_high", "unweighted", "vs_city_difference"):
            assert d[key] in (None, ""), key
        assert d["status"] == "suppressed" and d["reason"] == f"n<{MIN_N}"


def test_the_tiny_cell_is_blank_in_the_api_document(tiny):
    _campaign, run, small = tiny
    doc = scorecards.api_document(run)
    json.dumps(doc)  # JSON-serialisable as it is
    meta = doc["run"]
    assert meta["id"] == run.id and meta["min_n"] == MIN_N and meta["rule"] == "cv"
    assert meta["confidence_level"] == 0.95
    assert meta["weighting_run"] == {"id": run.weight_run_id, "number": run.weight_run.number}
    assert meta["index"]["key"] == "sipas" and meta["index"]["method_version"] == "sipas-top2/v1"
    assert meta["comparison_adjust"] == "holm"
    assert doc["rows"] == scorecards.run_rows(run)
    mine = [r for r in doc["rows"] if r["agency_code"] == small]
    assert mine and all(r["estimate"] is None and r["ci_low"] is None and r["ci_high"] is None
                        and r["se"] is None and r["status"] == "suppressed" for r in mine)
    assert small not in {c["agency_code"] for c in doc["comparisons"]}
    assert any(r["estimate"] is not None for r in doc["rows"] if r["agency_code"] != small)
