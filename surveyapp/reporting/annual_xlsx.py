"""The annual report as an XLSX workbook (xlsxwriter), from the report data dict only.

Sheets: the cover; the methodology (sample design and sizes, response rates, weighting,
index definition and versions); the scorecard (every agency, each dimension and the overall
index with CI, n and the reliability flag, rank interval and band; then the city total); one
sheet per dimension with its items; the rankings; the comparisons and the trend when the
data has them. Native Excel charts (bars with the CI as error bars, lines across years).

Figures are written as numbers with number formats (Excel shows them with the reader's
decimal separator); suppressed cells stay blank with the reason beside them. The workbook's
creation time is the scorecard run's, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import xlsxwriter

from .locale import gettext

ESTIMATE = "0.000"
COUNT = "#,##0"
DECIMAL = "#,##0.0"
RATE = "0.0%"
CHART_ROW = 18   # px of chart height per agency
MAX_CHART = 4000  # px: a chart taller than this is no longer readable anyway



def _why(cell: dict) -> str:
    """Why a figure is flagged or not shown, in the report's language (the stored reason
    codes such as "n<5; caution" only where no words were given)."""
    return cell.get("reason_text") or cell.get("reason") or ""

def _sheet_name(label: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique (case-insensitive)."""
    base = re.sub(r"[\[\]:*?/\\]", " ", label).strip()[:31] or "Sheet"
    name, k = base, 2
    while name.lower() in taken:
        suffix = f" ({k})"
        name, k = base[:31 - len(suffix)] + suffix, k + 1
    taken.add(name.lower())
    return name


class _Book:
    """The workbook with its formats and the report's language."""

    def __init__(self, data: dict):
        self.data = data
        self._ = gettext(data.get("locale", "vi"))
        self.buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buffer, {"in_memory": True,
                                                    "strings_to_numbers": False,
                                                    "strings_to_formulas": False,
                                                    "strings_to_urls": False})
        created = data["scorecard_run"].get("created_at")
        moment = datetime.fromisoformat(created).replace(tzinfo=None) if created else None
        _ = self._
        self.wb.set_properties({
            "title": _("Annual survey report %(year)s", year=data["year"]),
            "subject": data["campaign"]["title"], "author": data["organisation"]["name"],
            "company": data["organisation"]["name"],
            **({"created": moment} if moment else {})})
        fmt = self.wb.add_format
        self.f = {
            "title": fmt({"bold": True, "font_size": 16}),
            "h2": fmt({"bold": True, "font_size": 12, "font_color": "#0B3D91"}),
            "head": fmt({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True,
                         "valign": "top"}),
            "label": fmt({"bold": True}),
            "text": fmt({"text_wrap": True, "valign": "top"}),
            "est": fmt({"num_format": ESTIMATE}),
            "est_flag": fmt({"num_format": ESTIMATE, "bg_color": "#FFF3CD"}),
            "count": fmt({"num_format": COUNT}),
            "dec": fmt({"num_format": DECIMAL}),
            "rate": fmt({"num_format": RATE}),
            "muted": fmt({"font_color": "#6C757D", "italic": True}),
            "total": fmt({"bold": True, "top": 1}),
            "total_est": fmt({"bold": True, "top": 1, "num_format": ESTIMATE}),
        }
        self.taken: set[str] = set()

    def sheet(self, label: str):
        ws = self.wb.add_worksheet(_sheet_name(label, self.taken))
        ws.hide_gridlines(2)
        return ws

    def status(self, code: str | None) -> str:
        _ = self._
        return {"reliable": _("Reliable"), "flagged": _("Interpret with caution"),
                "suppressed": _("Suppressed")}.get(code or "", code or "")

    def close(self) -> bytes:
        self.wb.close()
        return self.buffer.getvalue()


def _write_pairs(ws, row: int, pairs, f) -> int:
    for label, value, style in pairs:
        ws.write_string(row, 0, label, f["label"])
        if value is None:
            ws.write_blank(row, 1, None)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(row, 1, value, f[style] if style else None)
        else:
            ws.write_string(row, 1, str(value), f["text"])
        row += 1
    return row


def _write_table(ws, row: int, headers: list[str], rows: list[list], styles: list, f) -> int:
    """A header row and its data; ``styles`` per column (a format key or None for text)."""
    for c, h in enumerate(headers):
        ws.write_string(row, c, h, f["head"])
    row += 1
    for values in rows:
        for c, v in enumerate(values):
            if v is None or v == "":
                ws.write_blank(row, c, None)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(row, c, v, f[styles[c]] if styles[c] else None)
            else:
                ws.write_string(row, c, str(v))
        row += 1
    return row


def _cover(b: _Book) -> None:
    d, _, f = b.data, b._, b.f
    ws = b.sheet(_("Cover"))
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 80)
    ws.write_string(0, 0, _("Annual survey report %(year)s", year=d["year"]), f["title"])
    ws.write_string(1, 0, d["campaign"]["title"], f["h2"])
    run = d["scorecard_run"]
    total = d.get("total") or {}
    overall = (total.get("cells") or {}).get(d.get("rank_node") or "", {})
    rr = (d.get("response_rates") or {}).get("survey") or {}
    row = _write_pairs(ws, 3, [
        (_("Organisation"), d["organisation"]["name"], None),
        (_("Survey year"), d["year"], None),
        (_("Field work"), " – ".join(x for x in (d["campaign"]["fieldwork_start"],
                                                   d["campaign"]["fieldwork_end"]) if x), None),
        (_("Index"), run["index_label"], None),
        (_("Method version"), run["method_version"], None),
        (_("Scorecard run"), run["number"], None),
        (_("Computed on"), (run["created_at"] or "")[:10], None),
        (_("Weighting run"), (d.get("weighting") or {}).get("number"), None),
        (_("Confidence level"), run["confidence_level"], "rate"),
        (_("Agencies"), d["sizes"]["agencies"], "count"),
        (_("Respondents"), d["sizes"]["respondents"], "count"),
        (_("Response rate (AAPOR RR1)"), rr.get("rr1"), "rate"),
        ("%s: %s" % (_("City total"), d.get("rank_label") or ""), overall.get("estimate"),
         "est"),
        (_("Confidence interval"), None if overall.get("ci_low") is None else
         f"{overall['ci_low']:.3f} – {overall['ci_high']:.3f}", None),
    ], f)
    row += 1
    ws.write_string(row, 0, _("Contents"), f["h2"])
    for k, name in enumerate(b.contents, start=row + 1):
        ws.write_string(k, 0, name)


def _methodology(b: _Book) -> None:
    d, _, f = b.data, b._, b.f
    ws = b.sheet(_("Methodology"))
    ws.set_column(0, 0, 40)
    ws.set_column(1, 12, 14)
    ws.write_string(0, 0, _("Methodology"), f["title"])
    row = 2
    design = d.get("design")
    ws.write_string(row, 0, _("Sample design"), f["h2"])
    row += 1
    if design:
        row = _write_pairs(ws, row, [
            (_("Sampling plan"), f"{design['title']} (v{design['plan_version']})", None),
            (_("Selection method"), design["method_label"], None),
            (_("Stratification column"), design["stratum_column"], None),
            (_("Allocation across strata"), design["allocation_label"], None),
            (_("Units in the frame"), design["frame_rows"], "count"),
            (_("Sample size"), design["n"], "count"),
            (_("Reserves per stratum"), design["reserve"], "count"),
            (_("Random seed"), None if design["seed"] is None else str(design["seed"]), None),
            (_("Frame digest (SHA-256)"), design["frame_sha256"], None),
        ], f)
        row += 1
        row = _write_table(ws, row, [_("Stratum"), _("Units in the frame"), _("Sample size")],
                           [[s["stratum"], s["N_h"], s["n_h"]] for s in design["strata"]],
                           [None, "count", "count"], f)
    else:
        ws.write_string(row, 0, _("No sampling plan."), f["muted"])
        row += 1
    row += 1
    ws.write_string(row, 0, _("Sizes"), f["h2"])
    sizes = d["sizes"]
    row = _write_pairs(ws, row + 1, [
        (_("Cases of the sample"), sizes["cases"], "count"),
        (_("Respondents"), sizes["respondents"], "count"),
        (_("Agencies"), sizes["agencies"], "count"),
        (_("Agencies ranked"), sizes["agencies_ranked"], "count"),
        (_("Agencies suppressed"), sizes["agencies_suppressed"], "count"),
    ], f) + 1
    rates = d["response_rates"]
    ws.write_string(row, 0, _("Response rates (AAPOR, approved interviews)"), f["h2"])
    row += 1
    rate_cols = ["n", "I", "P", "R", "NC", "O", "U", "NE", "rr1", "rr3", "coop1", "ref1"]
    headers = [_("Group"), _("Cases"), "I", "P", "R", "NC", "O", "U", "NE", "RR1", "RR3",
               "COOP1", "REF1"]
    styles = [None] + ["count"] * 8 + ["rate"] * 4
    table = [[_("Whole survey")] + [rates["survey"].get(k) for k in rate_cols]]
    table += [[g["group"]] + [g.get(k) for k in rate_cols] for g in rates["by_stratum"]]
    row = _write_table(ws, row, headers, table, styles, f) + 1
    w = d.get("weighting")
    ws.write_string(row, 0, _("Weighting"), f["h2"])
    row += 1
    if w:
        row = _write_pairs(ws, row, [
            (_("Weighting run"), w["number"], None),
            (_("Non-response classes"), w["classes"], None),
            (_("Calibration"), w["method_label"], None),
            (_("Converged"), _("Yes") if w["converged"] else _("No"), None),
            (_("Input rows"), w["input_rows"], "count"),
            (_("Input digest (SHA-256)"), w["input_sha256"], None),
        ], f) + 1
        row = _write_table(
            ws, row, [_("Weights"), "n", _("Sum"), _("Min"), _("Max"), _("CV"),
                      _("Design effect due to weighting"), _("Effective n")],
            [[s["label"], s["n"], s["sum"], s["min"], s["max"], s["cv"], s["deff_weighting"],
              s["n_effective"]] for s in w["stages"]],
            [None, "count", "dec", "dec", "dec", "est", "est", "dec"], f) + 1
        cal = w.get("calibration")
        if cal and cal.get("totals"):
            row = _write_table(ws, row, [_("Population totals"), _("Target"), _("Achieved")],
                               [[t["name"], t["target"], t["achieved"]] for t in cal["totals"]],
                               [None, "dec", "dec"], f) + 1
    index = d["index"]
    ws.write_string(row, 0, _("Index definition"), f["h2"])
    row = _write_pairs(ws, row + 1, [
        (_("Index"), index["label"], None),
        (_("Method version"), index["method_version"], None),
        (_("Overall index"), index.get("overall_label"), None),
        (_("Report format"), d["schema"], None),
        (_("Reliability rule"), d["scorecard_run"]["rule_label"], None),
        (_("Minimum cell size"), d["scorecard_run"]["min_n"], "count"),
        (_("Seed of the rank simulation"), str(d["scorecard_run"]["seed"]), None),
    ], f) + 1
    table = [[dim["label"], dim.get("combine_label"), item["label"], item["rule"]]
             for dim in index["dimensions"] for item in dim["items"]]
    if table:
        ws.set_column(2, 2, 60)
        ws.set_column(3, 3, 30)
        _write_table(ws, row, [_("Dimension"), _("Combined by"), _("Item"), _("Scoring")],
                     table, [None] * 4, f)


def _cell_values(cell: dict | None) -> list:
    if not cell:
        return [None] * 5
    return [cell["estimate"], cell["ci_low"], cell["ci_high"], cell["n"], cell["status"]]


def _scorecard(b: _Book) -> None:
    d, _, f = b.data, b._, b.f
    ws = b.sheet(_("Scorecard"))
    nodes = d["nodes"]
    ws.write_string(0, 0, _("Scorecard by agency"), f["title"])
    level = format(d["scorecard_run"]["confidence_level"], ".0%")
    ws.write_string(1, 0, _("Estimates with their %(level)s confidence intervals; suppressed "
                            "cells are blank.", level=level), f["muted"])
    head = 3
    ws.write_string(head + 1, 0, _("Agency code"), f["head"])
    ws.write_string(head + 1, 1, _("Agency"), f["head"])
    ws.write_string(head, 0, "", f["head"])
    ws.write_string(head, 1, "", f["head"])
    sub = [_("Estimate"), _("CI lower"), _("CI upper"), "n", _("Reliability")]
    for k, node in enumerate(nodes):
        c0 = 2 + 5 * k
        ws.merge_range(head, c0, head, c0 + 4, node["label"], f["head"])
        for j, s in enumerate(sub):
            ws.write_string(head + 1, c0 + j, s, f["head"])
    c_rank = 2 + 5 * len(nodes)
    ws.merge_range(head, c_rank, head, c_rank + 3,
                   _("Rank: %(node)s", node=d.get("rank_label") or ""), f["head"])
    for j, s in enumerate([_("Rank (median)"), _("Rank from"), _("Rank to"), _("Band")]):
        ws.write_string(head + 1, c_rank + j, s, f["head"])
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 36)
    ws.set_column(2, c_rank + 3, 11)
    row = head + 2
    for a in [*d["scorecard"], *([d["total"]] if d.get("total") else [])]:
        is_total = a["code"] is None
        ws.write_string(row, 0, a["code"] or "", f["total"] if is_total else None)
        ws.write_string(row, 1, a["name"], f["total"] if is_total else None)
        for k, node in enumerate(nodes):
            cell = a["cells"].get(node["node"])
            est, lo, hi, n, status = _cell_values(cell)
            c0 = 2 + 5 * k
            style = f["total_est"] if is_total else f["est_flag"] if status == "flagged" \
                else f["est"]
            for j, v in enumerate((est, lo, hi)):
                if v is None:
                    ws.write_blank(row, c0 + j, None)
                else:
                    ws.write_number(row, c0 + j, v, style)
            if n is None:
                ws.write_blank(row, c0 + 3, None)
            else:
                ws.write_number(row, c0 + 3, n, f["count"])
            label = b.status(status)
            if status in ("flagged", "suppressed") and cell.get("reason"):
                ws.write_string(row, c0 + 4, label)
                ws.write_comment(row, c0 + 4, _why(cell))
            else:
                ws.write_string(row, c0 + 4, label)
        rank = a.get("rank")
        if rank and rank.get("rank_median") is not None:
            ws.write_number(row, c_rank, rank["rank_median"], f["count"])
            ws.write_number(row, c_rank + 1, rank["rank_low"], f["count"])
            ws.write_number(row, c_rank + 2, rank["rank_high"], f["count"])
            if rank.get("band") is not None:
                ws.write_number(row, c_rank + 3, rank["band"] + 1, f["count"])
        row += 1
    ws.freeze_panes(head + 2, 2)
    ws.autofilter(head + 1, 0, row - 1, c_rank + 3)
    if any(cell.get("status") == "suppressed" for a in d["scorecard"]
           for cell in a["cells"].values()):
        ws.write_string(row + 1, 0, _("Suppressed: too few respondents or an unreliable "
                                      "estimate; the figure is not shown."), f["muted"])


def _bar_with_ci(b: _Book, ws, name: str, first: int, last: int, col_label: int,
                 col_est: int, col_plus: int, col_minus: int, title: str):
    """A horizontal bar chart of the rows ``first..last`` with custom error bars."""
    n = last - first + 1
    chart = b.wb.add_chart({"type": "bar"})
    ref = f"'{name}'"
    chart.add_series({
        "name": title,
        "categories": [name, first, col_label, last, col_label],
        "values": [name, first, col_est, last, col_est],
        "fill": {"color": "#4472C4"},
        "y_error_bars": {"type": "custom",
                         "plus_values": f"={ref}!${_col(col_plus)}${first + 1}:"
                                        f"${_col(col_plus)}${last + 1}",
                         "minus_values": f"={ref}!${_col(col_minus)}${first + 1}:"
                                         f"${_col(col_minus)}${last + 1}",
                         "line": {"color": "#212529"}},
    })
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True, "num_font": {"size": 8}})
    chart.set_x_axis({"num_format": ESTIMATE, "major_gridlines": {"visible": True,
                                                                    "line": {"color": "#DDDDDD"}}})
    chart.set_size({"width": 720, "height": min(MAX_CHART, 90 + CHART_ROW * n)})
    return chart


def _col(c: int) -> str:
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def _dimension(b: _Book, dim_node: dict, items: list[dict]) -> None:
    d, _, f = b.data, b._, b.f
    ws = b.sheet(dim_node["label"])
    name = ws.get_name()
    ws.write_string(0, 0, dim_node["label"], f["title"])
    headers = [_("Agency code"), _("Agency"), _("Estimate"), _("SE"), _("CI lower"),
               _("CI upper"), "n", _("Effective n"), _("Reliability"), _("Note"),
               _("CI +"), _("CI −")]
    for it in items:
        headers += [it["label"], _("CI lower"), _("CI upper")]
    head = 2
    for c, h in enumerate(headers):
        ws.write_string(head, c, h, f["head"])
    ws.set_row(head, 60)
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 8, 11)
    ws.set_column(9, 9, 24)
    ws.set_column(10, len(headers), 11)
    row = head + 1
    first = row
    for a in [*d["scorecard"], *([d["total"]] if d.get("total") else [])]:
        cell = a["cells"].get(dim_node["node"]) or {}
        ws.write_string(row, 0, a["code"] or "")
        ws.write_string(row, 1, a["name"], f["total"] if a["code"] is None else None)
        values = [cell.get("estimate"), cell.get("se"), cell.get("ci_low"), cell.get("ci_high"),
                  cell.get("n"), cell.get("n_effective")]
        for j, (v, style) in enumerate(zip(values, ["est", "est", "est", "est", "count", "dec"],
                                           strict=True)):
            if v is None:
                ws.write_blank(row, 2 + j, None)
            else:
                ws.write_number(row, 2 + j, v, f[style])
        ws.write_string(row, 8, b.status(cell.get("status")))
        ws.write_string(row, 9, _why(cell))
        if cell.get("estimate") is not None and cell.get("ci_high") is not None:
            ws.write_number(row, 10, cell["ci_high"] - cell["estimate"], f["est"])
            ws.write_number(row, 11, cell["estimate"] - cell["ci_low"], f["est"])
        for k, it in enumerate(items):
            ic = a["cells"].get(it["node"]) or {}
            for j, key in enumerate(("estimate", "ci_low", "ci_high")):
                v = ic.get(key)
                if v is None:
                    ws.write_blank(row, 12 + 3 * k + j, None)
                else:
                    ws.write_number(row, 12 + 3 * k + j, v, f["est"])
        row += 1
    last = row - 1
    ws.freeze_panes(head + 1, 2)
    if last >= first:
        chart = _bar_with_ci(b, ws, name, first, last, 1, 2, 10, 11,
                             _("%(node)s: estimates and confidence intervals",
                               node=dim_node["label"]))
        ws.insert_chart(row + 2, 1, chart)


def _rankings(b: _Book) -> None:
    d, _, f = b.data, b._, b.f
    ws = b.sheet(_("Rankings"))
    name = ws.get_name()
    ws.write_string(0, 0, _("Rankings: %(node)s", node=d.get("rank_label") or ""), f["title"])
    ws.write_string(1, 0, _("Ranks come from simulating the estimates with their joint "
                            "design-based covariance; agencies whose intervals overlap or whose "
                            "difference is not significant are in the same band."), f["muted"])
    headers = [_("Rank (median)"), _("Rank from"), _("Rank to"), _("Band"), _("Agency code"),
               _("Agency"), _("Estimate"), _("SE"), _("CI lower"), _("CI upper"), "n",
               _("Reliability"), _("CI +"), _("CI −")]
    rows = [[r["rank_median"], r["rank_low"], r["rank_high"],
             None if r["band"] is None else r["band"] + 1, r["agency_code"], r["agency_name"],
             r["estimate"], r["se"], r["ci_low"], r["ci_high"], r["n"], b.status(r["status"]),
             r["ci_high"] - r["estimate"], r["estimate"] - r["ci_low"]]
            for r in d["rankings"]]
    head = 3
    _write_table(ws, head, headers, rows,
                 ["count", "count", "count", "count", None, None, "est", "est", "est", "est",
                  "count", None, "est", "est"], f)
    ws.set_column(0, 4, 10)
    ws.set_column(5, 5, 36)
    ws.set_column(6, 13, 11)
    ws.freeze_panes(head + 1, 0)
    if rows:
        first, last = head + 1, head + len(rows)
        chart = _bar_with_ci(b, ws, name, first, last, 5, 6, 12, 13,
                             _("%(node)s: estimates and confidence intervals",
                               node=d.get("rank_label") or ""))
        ws.insert_chart(last + 3, 5, chart)


def _comparisons(b: _Book) -> None:
    d, _, f = b.data, b._, b.f
    ws = b.sheet(_("Comparisons"))
    ws.write_string(0, 0, _("Comparisons"), f["title"])
    kinds = {"city": _("With the city total"), "previous": _("With the previous year")}
    directions = {"above": _("Above"), "below": _("Below"),
                  "not different": _("Not different")}
    _write_table(ws, 2, [_("Compared"), _("Agency code"), _("Agency"), _("Node"),
                         _("Reference"), _("Difference"), _("SE"), _("p-value"),
                         _("Adjusted p-value"), _("Result")],
                 [[kinds.get(c["kind"], c["kind"]), c["agency_code"], c["agency_name"],
                   c["label"], c["reference"], c["difference"], c["se"], c["p_value"],
                   c["p_adjusted"], directions.get(c["direction"], c["direction"])]
                  for c in d["comparisons"]],
                 [None, None, None, None, "est", "est", "est", "est", "est", None], f)
    ws.set_column(0, 0, 22)
    ws.set_column(2, 3, 30)
    ws.set_column(4, 9, 12)


def _trend(b: _Book) -> None:
    d, _, f = b.data, b._, b.f
    ws = b.sheet(_("Trend"))
    name = ws.get_name()
    ws.write_string(0, 0, _("City total across years"), f["title"])
    nodes = d["nodes"]
    headers = [_("Year"), _("Scorecard run")] + [n["label"] for n in nodes]
    rows = [[t["year"], t["scorecard_run_number"]] +
            [x["estimate"] for x in t["nodes"]] for t in d["trend"]]
    _write_table(ws, 2, headers, rows, [None, None] + ["est"] * len(nodes), f)
    ws.set_column(0, 1, 12)
    ws.set_column(2, 2 + len(nodes), 16)
    chart = b.wb.add_chart({"type": "line"})
    first, last = 3, 2 + len(rows)
    for k, _n in enumerate(nodes):
        chart.add_series({"name": [name, 2, 2 + k], "categories": [name, first, 0, last, 0],
                          "values": [name, first, 2 + k, last, 2 + k],
                          "marker": {"type": "circle"}})
    chart.set_title({"name": _("City total across years"), "name_font": {"size": 11}})
    chart.set_y_axis({"num_format": ESTIMATE})
    chart.set_legend({"position": "bottom"})
    ws.insert_chart(last + 3, 0, chart, {"x_scale": 1.4, "y_scale": 1.2})


def render_xlsx(data: dict) -> bytes:
    """The workbook's bytes for the report data ``data`` (see services/reports.py)."""
    b = _Book(data)
    _ = b._
    dims = [n for n in data["nodes"] if n["level"] == "dimension"]
    items_of = {dim["node"]: dim["items"] for dim in data["index"]["dimensions"]}
    b.contents = ([_("Cover"), _("Methodology"), _("Scorecard")] + [n["label"] for n in dims]
                  + [_("Rankings")] + ([_("Comparisons")] if data["comparisons"] else [])
                  + ([_("Trend")] if len(data["trend"]) > 1 else []))
    _cover(b)
    _methodology(b)
    _scorecard(b)
    for dim in dims:
        _dimension(b, dim, items_of.get(dim["node"], []))
    _rankings(b)
    if data["comparisons"]:
        _comparisons(b)
    if len(data["trend"]) > 1:
        _trend(b)
    return b.close()
