"""The chart geometry (surveyapp.reporting.charts) and the macros that draw it."""

import xml.etree.ElementTree as ET

import pytest

from surveyapp.reporting import charts

SVG = "{http://www.w3.org/2000/svg}"


def _axis(g):
    """The linear map implied by the first and last tick (independent of the module)."""
    (a, b) = g["ticks"][0], g["ticks"][-1]
    key = "x" if "x" in a else "y"
    slope = (b[key] - a[key]) / (b["value"] - a["value"])
    return lambda v: a[key] + (v - a["value"]) * slope


@pytest.mark.parametrize("lo,hi,expected", [
    (0.0, 1.0, [0.0, 0.25, 0.5, 0.75, 1.0]),
    (0.61, 0.93, [0.6, 0.7, 0.8, 0.9, 1.0]),
    (3.2, 3.2, [3.0, 3.1, 3.2, 3.3, 3.4]),
    (12, 87, [0, 20, 40, 60, 80, 100]),
])
def test_nice_ticks_cover_the_range_with_round_steps(lo, hi, expected):
    ticks, decimals = charts.nice_ticks(lo, hi)
    assert ticks == pytest.approx(expected)
    assert ticks[0] <= lo and ticks[-1] >= hi
    assert decimals == max(len(f"{t:.10g}".partition(".")[2]) for t in ticks)


def test_dot_plot_sorts_places_and_leaves_out_suppressed_items():
    items = [{"name": "B", "estimate": 0.70, "ci_low": 0.62, "ci_high": 0.78, "band": 1},
             {"name": "A", "estimate": 0.85, "ci_low": 0.80, "ci_high": 0.90, "band": 0},
             {"name": "C (suppressed)", "estimate": None, "ci_low": None, "ci_high": None},
             {"name": "D", "estimate": 0.55, "ci_low": 0.41, "ci_high": 0.69, "band": 1}]
    g = charts.dot_plot(items, label_key="name")
    assert [p["label"] for p in g["points"]] == ["A", "B", "D"]
    x = _axis(g)
    for p, src in zip(g["points"], [items[1], items[0], items[3]], strict=True):
        assert p["x"] == pytest.approx(x(src["estimate"]), abs=0.11)
        assert p["x_low"] == pytest.approx(x(src["ci_low"]), abs=0.11)
        assert p["x_high"] == pytest.approx(x(src["ci_high"]), abs=0.11)
        assert g["left"] <= p["x_low"] <= p["x"] <= p["x_high"] <= g["right"]
    ys = [p["y"] for p in g["points"]]
    assert ys == sorted(ys) and len(set(ys)) == 3 and g["height"] > ys[-1]
    # bands keep their colour; one band, one colour
    assert g["points"][1]["color"] == g["points"][2]["color"] != g["points"][0]["color"]
    assert charts.dot_plot([items[2]]) is None


def test_dot_plot_parts_share_one_axis_with_a_fixed_domain():
    items = [{"label": str(k), "estimate": k / 10, "ci_low": k / 10 - 0.05,
              "ci_high": k / 10 + 0.05} for k in range(1, 9)]
    first = charts.dot_plot(items[:4], domain=(0.0, 1.0))
    second = charts.dot_plot(items[4:], domain=(0.0, 1.0))
    assert first["ticks"] == second["ticks"]
    assert _axis(first)(0.5) == pytest.approx(_axis(second)(0.5))


def test_long_labels_are_shortened_and_kept_whole_in_the_title():
    name = "Ủy ban nhân dân phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh — bộ phận một cửa"
    g = charts.dot_plot([{"label": name, "estimate": 1, "ci_low": 0, "ci_high": 2}])
    p = g["points"][0]
    assert p["title"] == name and p["label"].endswith("…") and len(p["label"]) <= 58


def test_bar_chart_starts_at_zero_and_places_error_bars():
    items = [{"label": "Online", "value": 0.42, "ci_low": 0.35, "ci_high": 0.49},
             {"label": "Counter", "value": 0.80, "ci_low": 0.74, "ci_high": 0.86},
             {"label": "Post", "value": None}]
    g = charts.bar_chart(items)
    x = _axis(g)
    assert g["ticks"][0]["value"] == 0 and g["base"] == pytest.approx(x(0), abs=0.11)
    assert [lab["label"] for lab in g["labels"]] == ["Online", "Counter"]
    for b, src in zip(g["bars"], items, strict=False):
        assert b["x"] == g["base"]
        assert b["x"] + b["w"] == pytest.approx(x(src["value"]), abs=0.21)
        assert b["x_low"] == pytest.approx(x(src["ci_low"]), abs=0.11)
        assert b["x_high"] == pytest.approx(x(src["ci_high"]), abs=0.11)
    assert g["legend"] == []


def test_bar_chart_negative_values_and_series():
    items = [{"label": "Q1", "series": "2024", "value": -0.2},
             {"label": "Q1", "series": "2025", "value": 0.3, "ci_low": 0.1, "ci_high": 0.5},
             {"label": "Q2", "series": "2024", "value": 0.1}]
    g = charts.bar_chart(items, series_key="series", series_labels={"2024": "Năm 2024"})
    x = _axis(g)
    neg = g["bars"][0]
    assert neg["x"] == pytest.approx(x(-0.2), abs=0.11) and neg["x"] + neg["w"] == \
        pytest.approx(g["base"], abs=0.21)
    assert g["bars"][1]["y"] > g["bars"][0]["y"]            # second series below the first
    assert g["bars"][2]["y"] > g["bars"][1]["y"]            # next row
    assert g["bars"][1]["x_low"] is not None and g["bars"][2]["x_low"] is None
    assert [item["label"] for item in g["legend"]] == ["Năm 2024", "2025"]
    assert g["bars"][0]["color"] == g["bars"][2]["color"] != g["bars"][1]["color"]


def test_trend_lines_join_consecutive_years_and_break_at_a_gap():
    series = [{"label": "A", "points": [{"year": 2022, "value": 3.1, "ci_low": 2.9,
                                         "ci_high": 3.3},
                                        {"year": 2023, "value": 3.4},
                                        {"year": 2025, "value": 3.6}]},
              {"label": "B", "points": [{"year": 2024, "value": 2.8}]},
              {"label": "empty", "points": [{"year": 2024, "value": None}]}]
    g = charts.trend_lines(series)
    assert [yr["year"] for yr in g["years"]] == [2022, 2023, 2024, 2025]
    xs = [yr["x"] for yr in g["years"]]
    steps = [b - a for a, b in zip(xs, xs[1:])]
    assert min(steps) > 0 and max(steps) - min(steps) < 0.2   # evenly spaced years
    a, b = g["lines"]
    assert len(a["paths"]) == 1 and a["paths"][0].count(",") == 2   # 2022–2023 only
    assert b["paths"] == [] and len(b["points"]) == 1
    y = _axis(g)
    assert a["points"][0]["y"] == pytest.approx(y(3.1), abs=0.11)
    assert a["points"][0]["y_low"] == pytest.approx(y(2.9), abs=0.11)   # higher value, smaller y
    assert a["points"][0]["y_high"] < a["points"][0]["y"] < a["points"][0]["y_low"]
    assert a["points"][1]["y_low"] is None
    assert [item["label"] for item in g["legend"]] == ["A", "B"]
    assert charts.trend_lines([series[2]]) is None


def test_macros_draw_valid_svg_scaled_to_the_container(app):
    g_dot = charts.dot_plot([{"label": "A & B", "estimate": 0.5, "ci_low": 0.4, "ci_high": 0.6},
                             {"label": "C", "estimate": 0.3, "ci_low": 0.2, "ci_high": 0.4}])
    g_bar = charts.bar_chart([{"label": "x", "value": 2, "ci_low": 1, "ci_high": 3}])
    g_trend = charts.trend_lines([{"label": "s", "points": [{"year": 2024, "value": 1},
                                                            {"year": 2025, "value": 2}]}])
    with app.test_request_context():
        macros = app.jinja_env.get_template("_macros/charts.html").module
        for g, draw, marks in ((g_dot, macros.dot_plot, "circle"),
                               (g_bar, macros.bar_chart, "rect"),
                               (g_trend, macros.trend_lines, "circle")):
            svg = ET.fromstring(str(draw(g, "Biểu đồ <thử>")))
            assert svg.get("viewBox") == f"0 0 {g['width']} {g['height']}"
            # sized by the stylesheet (svg.chart): the CSP forbids inline style attributes
            assert svg.get("style") is None and "chart" in svg.get("class").split()
            assert svg.get("aria-label") == "Biểu đồ <thử>"
            assert len(svg.findall(f".//{SVG}{marks}")) == {"dot": 2, "bar": 1, "trend": 2}[
                g["kind"]]
        texts = [t.text for t in ET.fromstring(str(macros.dot_plot(g_dot, "d"))).iter(
            f"{SVG}text")]
        assert "A & B" in texts and "0,5" in texts   # Vietnamese decimal comma on the axis


def test_coefficient_plot_spans_zero_and_draws_its_line(app):
    # all effects positive: the axis is stretched to include 0, the line of no association
    items = [{"label": "a", "estimate": 0.10, "ci_low": 0.05, "ci_high": 0.15},
             {"label": "b", "estimate": 0.40, "ci_low": 0.30, "ci_high": 0.50},
             {"label": "c", "estimate": None, "ci_low": None, "ci_high": None}]
    g = charts.coefficient_plot(items)
    assert g["kind"] == "coef" and [p["label"] for p in g["points"]] == ["b", "a"]
    x = _axis(g)
    assert g["ticks"][0]["value"] <= 0 and g["zero_x"] == pytest.approx(x(0.0), abs=0.06)
    assert g["points"][1]["x_low"] == pytest.approx(x(0.05), abs=0.06)
    assert charts.coefficient_plot([items[2]]) is None
    with app.test_request_context():
        macros = app.jinja_env.get_template("_macros/charts.html").module
        svg = ET.fromstring(str(macros.coefficient_plot(g, "hệ số")))
    (zero,) = [e for e in svg.iter(f"{SVG}g") if e.get("data-role") == "zero"]
    marks = zero.findall(f"{SVG}line")
    assert len(marks) == 2 and {float(m.get("x1")) for m in marks} == {g["zero_x"]}
    assert len(svg.findall(f".//{SVG}circle")) == 2
    # an interval across zero is grey, one clear of it keeps the colour
    mixed = charts.coefficient_plot([{"label": "u", "estimate": 0.1, "ci_low": -0.1,
                                      "ci_high": 0.3}, items[1]])
    assert [(p["label"], p["clear"]) for p in mixed["points"]] == [("b", True), ("u", False)]
    assert mixed["points"][1]["color"] == charts.UNCLEAR != mixed["points"][0]["color"]
