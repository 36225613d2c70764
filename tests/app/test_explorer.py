"""The analysts' explorer and key-driver analysis (issue 10 items 1–2), on the demo.

Expected figures are computed here from the interviews read directly (current approved
versions, the cases' strata, the run's unit weights), with ``analysis`` called plainly —
independently of the extract, the explorer's frame and its column cleaning. The key-driver
model is also checked against R's ``svyglm`` and the cross-tab's test against R's
``svychisq`` on the same data (one Rscript; skipped without R, required in CI).
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from openpyxl import load_workbook
from scorecard_data import SIPAS_FACTORS as SIPAS
from scorecard_data import demo_campaign

from analysis import SurveyDesign, estimate
from analysis.glm import glm
from analysis.indices import compute_index, sipas_index
from analysis.reliability import figure_status, scorecard
from analysis.svytests import chisq
from surveyapp.services import demo, explorer, key_drivers, weighting
from surveyapp.services.explorer import ExplorerFailed, Query

CHANNELS = ["truc_tiep", "truc_tuyen_toan_trinh", "truc_tuyen_mot_phan", "buu_chinh"]


@pytest.fixture()
def world(app, db):
    with app.test_request_context():
        demo.load_demo()
        yield demo_campaign()


def _independent(campaign, run):
    """Answers, agency, strata and final weights read straight from the interviews."""
    from surveyapp.services.interviews import approved_interviews

    w = weighting.analysis_weights(run)
    versions = sorted((v for v in approved_interviews(campaign) if v.interview_id in w),
                      key=lambda v: v.interview_id)
    rows = []
    for v in versions:
        case = v.interview.assignment.case
        rows.append({"answers": v.answers, "agency": v.answers["co_quan"],
                     "stratum": case.stratum, "psu": case.psu or f"id{v.interview_id}",
                     "weight": w[v.interview_id]})
    return rows


def _design(rows, columns):
    data = {"stratum": np.array([r["stratum"] for r in rows], dtype=object),
            "psu": np.array([r["psu"] for r in rows], dtype=object),
            "weight": np.array([r["weight"] for r in rows], dtype=float),
            "agency": np.array([r["agency"] for r in rows], dtype=object)}
    data.update(columns)
    return SurveyDesign.create(data=data, ids="psu", strata="stratum", weights="weight",
                               nest=True)


def _likert(rows, name):
    """A Likert answer as a number, na/dk/unanswered as NaN."""
    return np.array([float(r["answers"][name]) if str(r["answers"].get(name, "")).isdigit()
                     else math.nan for r in rows])


def _by(rows_out, domain):
    return next(r for r in rows_out if r["domain"] == domain)


def test_means_and_shares_by_agency_equal_analysis(world):
    campaign, run = world
    rows = _independent(campaign, run)
    channel = np.array([str(CHANNELS.index(r["answers"]["kenh"]) + 1) for r in rows],
                       dtype=object)
    design = _design(rows, {"overall": _likert(rows, "hai_long_chung"), "channel": channel})
    query = Query(("q:hai_long_chung", "q:kenh"), "agency", min_n=5, rule="cv")
    mean_s, share_s = explorer.explore(campaign, run, query, with_trend=False)
    assert mean_s.statistic == "mean" and share_s.statistic == "proportion"
    want = estimate(design, mean="overall", by="agency")
    for e in want:
        got = _by(mean_s.rows, dict(e.domain)["agency"])
        flag = figure_status(e.value, e.se, e.ci_low, e.ci_high, e.n, e.df, share=False,
                             rule="cv", min_n=5)
        assert got["n"] == e.n
        if flag.estimate is None:
            assert got["estimate"] is None and got["status"] == "suppressed"
        else:
            assert got["estimate"] == pytest.approx(e.value, rel=1e-12)
            assert got["se"] == pytest.approx(e.se, rel=1e-10)
            assert (got["ci_low"], got["ci_high"]) == pytest.approx((e.ci_low, e.ci_high))
    total = estimate(design, mean="overall")[0]
    assert _by(mean_s.rows, None)["estimate"] == pytest.approx(total.value, rel=1e-12)
    # shares of the channel: Korn-Graubard intervals, as analysis gives them
    shares = estimate(design, proportion="channel", by="agency", ci_method="beta")
    for e in shares:
        got = next(r for r in share_s.rows if r["domain"] == dict(e.domain)["agency"]
                   and r["category"] == e.category)
        assert got["category_label"]  # the choice list's label, not the code
        if got["estimate"] is not None:
            assert got["estimate"] == pytest.approx(e.value, rel=1e-12)
            assert got["se"] == pytest.approx(e.se, rel=1e-10)
    assert share_s.chart is not None and share_s.chart["kind"] == "bar"
    assert mean_s.chart is not None and mean_s.chart["kind"] == "dot"


def _sipas_scores(rows):
    """Per respondent and SIPAS factor: the share of the valid items answered 4 or 5."""
    out = {}
    for factor, items in SIPAS.items():
        values = []
        for r in rows:
            valid = [r["answers"][i] for i in items if str(r["answers"].get(i, "")).isdigit()]
            values.append(sum(v in ("4", "5") for v in valid) / len(valid) if valid
                          else math.nan)
        out[factor] = np.array(values)
    return out


def test_index_nodes_equal_compute_index_and_tiny_cells_are_suppressed(world):
    campaign, run = world
    rows = _independent(campaign, run)
    columns = {i: np.array([r["answers"].get(i) for r in rows], dtype=object)
               for items in SIPAS.values() for i in items}
    design = _design(rows, columns)
    result = compute_index(sipas_index(SIPAS), None, design, by="agency", include_total=True)
    sizes = sorted(r.n for r in result.rows if r.node == "SIPAS" and r.domain is not None)
    min_n = sizes[0] + 1  # the smallest agency falls below the minimum
    query = Query(("ix:sipas:SIPAS", "ix:sipas:cong_chuc"), "agency", min_n=min_n, rule="cv")
    overall, civil = explorer.explore(campaign, run, query, with_trend=False)
    flags = {(None if f.domain is None else f.domain["agency"], f.node): f
             for f in scorecard(result, rule="cv", min_n=min_n)}
    suppressed = 0
    for section, node in ((overall, "SIPAS"), (civil, "cong_chuc")):
        for r in result.rows:
            if r.node != node:
                continue
            code = None if r.domain is None else r.domain_dict["agency"]
            got = _by(section.rows, code)
            assert got["n"] == r.n
            if r.n < min_n:
                suppressed += 1
                assert got["status"] == "suppressed" and got["reason"] == f"n<{min_n}"
                assert got["estimate"] is None and got["se"] is None and got["ci_low"] is None
            elif flags[(code, node)].estimate is not None:
                assert got["estimate"] == pytest.approx(r.estimate, rel=1e-12)
                assert got["se"] == pytest.approx(r.se, rel=1e-10)
    assert suppressed >= 2
    # the suppressed agency is not drawn
    drawn = {p["title"] for p in overall.chart["points"]}
    hidden = [r["domain_label"] for r in overall.rows if r["status"] == "suppressed"]
    assert hidden and not drawn & set(hidden)
    # a trend across the two demo years (2023 and 2024)
    with_trend = explorer.explore(campaign, run, Query(("ix:sipas:SIPAS",), "", rule="cv"))
    years = [y["year"] for y in with_trend[0].trend["years"]]
    assert years == [demo.PREVIOUS_YEAR, campaign.year]


def test_crosstab_test_equals_chisq_and_cells_are_row_shares(world):
    campaign, run = world
    rows = _independent(campaign, run)
    channel = np.array([str(CHANNELS.index(r["answers"]["kenh"]) + 1) for r in rows],
                       dtype=object)
    design = _design(rows, {"channel": channel,
                            "sex": np.array([r["answers"]["gioi_tinh"] for r in rows],
                                            dtype=object)})
    xt = explorer.crosstab(campaign, run, "q:kenh", "q:gioi_tinh", min_n=3, rule="cv")
    want = chisq(design, "channel", "sex")
    assert xt.test["p_value"] == pytest.approx(want.p_value, rel=1e-10)
    assert xt.test["statistic"] == pytest.approx(want.statistic, rel=1e-10)
    assert xt.test["ndf"] == pytest.approx(want.ndf, rel=1e-10)
    # each row's shown shares come from the within-row proportions
    for v, _label, n in xt.row_labels:
        shown = [c for (r, _c), c in xt.cells.items() if r == v]
        assert shown and all(c["n"] == n for c in shown)
    values = [c["estimate"] for (r, _c), c in xt.cells.items() if r is None]
    assert sum(values) == pytest.approx(1.0)
    with pytest.raises(ExplorerFailed):
        explorer.crosstab(campaign, run, "q:kenh", "q:kenh")


def test_key_drivers_equal_svyglm_on_hand_computed_scores(world):
    campaign, run = world
    rows = _independent(campaign, run)
    scores = _sipas_scores(rows)
    columns = {f"x_{k}": v for k, v in scores.items()}
    columns["y"] = _likert(rows, "hai_long_chung")
    design = _design(rows, columns)
    page = key_drivers.analyse(campaign, run, key_drivers.DriverQuery("sipas",
                                                                      "hai_long_chung"))
    fit = glm("y ~ " + " + ".join(f"x_{k}" for k in SIPAS), design)
    by = {r["driver"]: r for r in page.rows}
    assert set(by) == set(SIPAS)
    for k, factor in enumerate(SIPAS, start=1):
        assert by[factor]["coefficient"] == pytest.approx(fit.coef[k], rel=1e-9)
        assert by[factor]["se"] == pytest.approx(fit.se[k], rel=1e-9)
        assert by[factor]["p_value"] == pytest.approx(fit.p_value[k], rel=1e-8)
    assert page.result.n == fit.n
    effects = [r["standardized"] for r in page.rows]
    assert effects == sorted(effects, reverse=True)
    assert page.chart["kind"] == "coef" and len(page.chart["points"]) == len(SIPAS)
    with pytest.raises(ExplorerFailed):
        key_drivers.analyse(campaign, run, key_drivers.DriverQuery("sipas", "nope"))


@pytest.mark.r
def test_key_drivers_and_rao_scott_match_r(world, tmp_path):
    from analysis_part2._rutil import arr, run_r

    campaign, run = world
    rows = _independent(campaign, run)
    scores = _sipas_scores(rows)
    path = tmp_path / "demo.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["stratum", "psu", "weight", "y", "channel", "sex", *SIPAS])
        y = _likert(rows, "hai_long_chung")
        for i, r in enumerate(rows):
            writer.writerow([r["stratum"], r["psu"], repr(float(r["weight"])),
                             "NA" if math.isnan(y[i]) else repr(float(y[i])),
                             r["answers"]["kenh"], r["answers"]["gioi_tinh"],
                             *("NA" if math.isnan(scores[k][i]) else repr(float(scores[k][i]))
                               for k in SIPAS)])
    out = run_r(f"""
D <- read.csv("{path}")
des <- svydesign(id = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = D)
fit <- svyglm(y ~ {" + ".join(SIPAS)}, des)
OUT$coef <- unname(coef(fit)[-1])
OUT$se <- unname(SE(fit)[-1])
OUT$df <- S(fit$df.residual)
t <- svychisq(~channel + sex, des)
OUT$p <- S(unname(t$p.value))
OUT$F <- S(unname(t$statistic))
""")
    page = key_drivers.analyse(campaign, run, key_drivers.DriverQuery("sipas",
                                                                      "hai_long_chung"))
    by = {r["driver"]: r for r in page.rows}
    np.testing.assert_allclose([by[k]["coefficient"] for k in SIPAS], arr(out["coef"]),
                               rtol=1e-8)
    np.testing.assert_allclose([by[k]["se"] for k in SIPAS], arr(out["se"]), rtol=1e-7)
    assert page.result.df_residual == out["df"]
    xt = explorer.crosstab(campaign, run, "q:kenh", "q:gioi_tinh", min_n=3)
    assert xt.test["p_value"] == pytest.approx(out["p"], rel=1e-6)
    assert xt.test["statistic"] == pytest.approx(out["F"], rel=1e-6)


def test_bad_queries_are_refused_in_vietnamese(world):
    campaign, run = world
    for query, words in (
            (Query(()), "Hãy chọn ít nhất một chỉ tiêu"),
            (Query(("q:nope",)), "Chỉ tiêu không có"),
            (Query(("q:kenh",), "nope"), "Cách phân tổ không có"),
            (Query(("q:kenh",), statistic="mean"), "không áp dụng"),
            (Query(("q:kenh",), min_n=1), "Cỡ ô tối thiểu"),
            (Query(("q:kenh",), rule="nope"), "Quy tắc")):
        with pytest.raises(ExplorerFailed) as info:
            explorer.explore(campaign, run, query, with_trend=False)
        assert words in info.value.message, info.value.message


def _login(client):
    r = client.post("/login", data={"login": "phantich", "password": "demo-analyst-2024"})
    assert r.status_code == 302


def test_pages_downloads_and_bad_parameters(world, client):
    campaign, run = world
    _login(client)
    base = f"/campaigns/{campaign.id}/explore"
    page = client.get(f"{base}/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in body and 'data-testid="dot-plot"' in body
    assert 'data-testid="trend-lines"' in body  # 2023 and 2024
    assert client.get(f"/campaigns/{campaign.id}").get_data(as_text=True).count(
        'data-testid="explorer-link"') == 1
    query = "indicator=q:hai_long_chung&indicator=ix:sipas:SIPAS&by=agency&min_n=5&rule=cv"
    for bad, words in ((f"{base}/?indicator=nope", "không phải là lựa chọn hợp lệ"),
                       (f"{base}/?indicator=q:kenh&min_n=abc", "cỡ ô tối thiểu"),
                       (f"{base}/?indicator=q:kenh&min_n=1", "Cỡ ô tối thiểu"),
                       (f"{base}/?indicator=q:kenh&confidence_level=7", "0.5"),
                       (f"{base}/?indicator=q:kenh&run=abc", "Lựa chọn không hợp lệ"),
                       (f"{base}/?indicator=q:kenh&statistic=mean", "không áp dụng"),
                       (f"{base}/export?{query}&fmt=pdf", "Không tải được"),
                       (f"{base}/crosstab?rows=q:kenh&cols=q:kenh", "hai biến khác nhau"),
                       (f"{base}/crosstab?rows=zz&cols=q:kenh", "Lựa chọn không hợp lệ"),
                       (f"{base}/drivers?outcome=nope", "Lựa chọn không hợp lệ"),
                       (f"{base}/drivers?confidence_level=abc", "mức tin cậy")):
        r = client.get(bad)
        text = r.get_data(as_text=True)
        assert r.status_code == 400, bad
        assert words.lower() in text.lower(), (bad, words)
    # downloads read back: the same rows as the service, suppressed cells blank
    q = Query(("q:hai_long_chung", "ix:sipas:SIPAS"), "agency", min_n=5, rule="cv")
    want = [r for s in explorer.explore(campaign, run, q, with_trend=False) for r in s.rows]
    got = client.get(f"{base}/export?{query}&fmt=csv")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    lines = list(csv.DictReader(io.StringIO(got.get_data().decode("utf-8-sig"))))
    assert len(lines) == len(want)
    for line, row in zip(lines, want, strict=True):
        assert line["indicator"] == row["indicator"] and line["domain_label"] == \
            row["domain_label"]
        if row["estimate"] is None:
            assert line["estimate"] == "" and line["se"] == ""
        else:
            assert float(line["estimate"]) == pytest.approx(row["estimate"], rel=1e-12)
    xlsx = client.get(f"{base}/export?{query}&fmt=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    table = list(sheet.iter_rows(values_only=True))
    assert list(table[0]) == list(explorer.EXPORT_COLUMNS) and len(table) == len(want) + 1
    est = table[0].index("estimate")
    for line, row in zip(table[1:], want, strict=True):
        if row["estimate"] is None:
            assert line[est] is None
        else:
            assert line[est] == pytest.approx(row["estimate"], rel=1e-14)
    # cross-tab and drivers: pages and downloads
    xt = client.get(f"{base}/crosstab")
    assert xt.status_code == 200 and 'data-testid="rao-scott"' in xt.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"{base}/crosstab/export?fmt=csv").get_data().decode("utf-8-sig"))))
    assert rows and all(r["p_value"] == rows[0]["p_value"] for r in rows)
    kd = client.get(f"{base}/drivers")
    text = kd.get_data(as_text=True)
    assert kd.status_code == 200 and 'data-testid="coefficient-plot"' in text
    assert "không phải là quan hệ nhân quả" in text
    sheet = load_workbook(io.BytesIO(client.get(
        f"{base}/drivers/export?fmt=xlsx").get_data())).active
    header = [c.value for c in sheet[1]]
    assert header == list(key_drivers.EXPORT_COLUMNS) and sheet.max_row == 1 + len(SIPAS)


def test_supervisors_and_the_office_cannot_explore(world, client):
    campaign, _run = world
    for login, password in (("giamsat", "demo-supervisor-2024"),
                            ("dieutravien", "demo-interviewer-2024"),
                            ("vpubnd", "demo-reviewer-2024")):
        client.post("/logout")
        assert client.post("/login", data={"login": login, "password": password}) \
            .status_code == 302
        for path in ("", "export?fmt=csv", "crosstab", "drivers", "drivers/export"):
            assert client.get(f"/campaigns/{campaign.id}/explore/{path}").status_code == 403


def test_frames_are_cached_until_the_approved_interviews_change(world, app):
    from surveyapp.services import accounts, interviews

    campaign, run = world
    first = explorer.load_frame(campaign, run)
    again = explorer.load_frame(campaign, run)
    # the same extract's arrays, but each request has its own dict of columns
    assert again.data is not first.data and again.data["weight"] is first.data["weight"]
    again.numbers("hai_long_chung")
    assert "num:hai_long_chung" not in explorer.load_frame(campaign, run).data
    waiting = interviews.review_queue(campaign)[0]
    interviews.review_interview(accounts.get_user_by_login("giamsat"), waiting, "approve", "")
    after = explorer.load_frame(campaign, run)
    assert after.data["weight"] is not first.data["weight"]
    app.config["EXPLORER_CACHE_SIZE"] = 0
    try:
        assert explorer.load_frame(campaign, run).data["weight"] is not after.data["weight"]
    finally:
        app.config.pop("EXPLORER_CACHE_SIZE")


def test_a_custom_index_is_explored_like_the_built_in_ones(world):
    from surveyapp.services import custom_indices
    from surveyapp.services.custom_indices import DimensionInput, ItemInput

    campaign, run = world
    chosen = {"tc_hai_long": ("1", "1", "mean"), "kq_hai_long": ("1", "3", "top:2"),
              "cc_hai_long": ("2", "1", "mean")}
    items = [ItemInput(q.name, *chosen.get(q.name, ("", "1", "mean")))
             for q in custom_indices.editor_questions(campaign)]
    version, _created = custom_indices.save_version(
        None, campaign, None, "Chỉ số riêng",
        [DimensionInput("Tiếp cận và kết quả", "2"), DimensionInput("Công chức", "1")], items)
    key = f"custom:{version.id}"
    definition = custom_indices.build_definition(version, explorer.definition_of(campaign))
    cat = explorer.catalogue(campaign)
    assert cat.index(key) is not None and "Chỉ số riêng" in cat.index(key).label
    indicator = f"ix:{key}:{definition.name}"
    assert cat.indicator(indicator) is not None
    rows = _independent(campaign, run)
    design = _design(rows, {n: np.array([r["answers"].get(n) for r in rows], dtype=object)
                            for n in chosen})
    result = compute_index(definition, None, design, by="agency", include_total=True)
    (section,) = explorer.explore(campaign, run, Query((indicator,), "agency", min_n=3,
                                                       rule="cv"), with_trend=False)
    compared = 0
    for r in result.rows:
        if r.node != definition.name:
            continue
        got = _by(section.rows, None if r.domain is None else r.domain_dict["agency"])
        assert got["n"] == r.n
        if got["estimate"] is not None:
            assert got["estimate"] == pytest.approx(r.estimate, rel=1e-12)
            compared += 1
    assert compared >= 2
    # its two dimensions can be the drivers of the key-driver model
    assert key in dict(key_drivers.choices(campaign)["schemes"])
