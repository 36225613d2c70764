"""Geometry of the inline SVG charts: dot plots of agencies with intervals, bar charts with
error bars, trend lines across years.

Pure functions (no Flask, no database): plain numbers in, a plain dict of coordinates out;
``templates/_macros/charts.html`` draws each dict as it is (templates only display). The
same geometry serves the app's pages, the printable annual report and its PDF.

Readable on a phone: every chart is drawn in a narrow ``viewBox`` (``WIDTH`` units) that the
macro scales to the width of its container, and rows put their label *above* the bar or
interval instead of beside it, so the plotting area keeps the whole width on a small screen.

Common keys of every geometry: ``kind`` (``"dot"``, ``"bar"``, ``"trend"``), ``width``,
``height``, ``left``/``right`` (x of the plotting area), ``top``/``bottom`` (its y),
``ticks`` (``{"x" or "y", "value"}``), ``decimals`` (for the tick labels) and ``legend``
(``{"label", "color"}``, empty when one series). Values are rounded to 0.1 unit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

WIDTH = 400
PAD = 12
ROW = 34          # one labelled row: the label (13 units) and its mark below it
LABEL_CHARS = 58  # longer labels are shortened with "…" (the full text is the SVG title)
PALETTE = ("#0d6efd", "#d63384", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d",
           "#dc3545")


def nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], int]:
    """Round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 × 10^k) and the decimals
    their labels need."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("chart limits must be finite")
    if hi < lo:
        lo, hi = hi, lo
    if hi - lo < 1e-12:
        pad = abs(lo) * 0.05 or 0.5
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw - 1e-12)
    first = math.floor(lo / step + 1e-9) * step
    ticks = []
    k = 0
    while True:
        value = first + k * step
        ticks.append(round(value, 12))
        if value >= hi - 1e-9 * step:
            break
        k += 1
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if step * 10 ** decimals % 1 > 1e-9:  # 2.5 × 10^k needs one decimal more
        decimals += 1
    return ticks, decimals


def _scale(lo: float, hi: float, a: float, b: float):
    def at(v: float) -> float:
        return round(a + (v - lo) / (hi - lo) * (b - a), 1)
    return at


def _short(label: str) -> str:
    label = "" if label is None else str(label)
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"


def _finite(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def _limits(values: Iterable[float], domain: Sequence[float] | None,
            include: float | None = None) -> tuple[float, float]:
    if domain is not None:
        return float(domain[0]), float(domain[1])
    vals = [float(v) for v in values if _finite(v)]
    if include is not None:
        vals.append(include)
    return min(vals), max(vals)


def _horizontal_axis(lo: float, hi: float):
    ticks, decimals = nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    x = _scale(lo, hi, PAD, WIDTH - PAD)
    return x, [{"x": x(t), "value": t} for t in ticks], decimals


def dot_plot(items: Iterable[Mapping], *, label_key: str = "label",
             domain: Sequence[float] | None = None) -> dict | None:
    """A dot plot: one row per item, its estimate as a dot and its interval as a line.

    ``items``: mappings with ``label_key``, ``estimate``, ``ci_low``, ``ci_high`` and
    optionally ``band`` (0-based); items without an estimate or interval (suppressed cells)
    are left out. Sorted from the highest estimate. ``domain`` fixes the axis (so the parts
    of a long list drawn as several charts share one scale). ``None`` when nothing is shown.
    """
    shown = sorted((r for r in items if _finite(r.get("estimate")) and _finite(r.get("ci_low"))
                    and _finite(r.get("ci_high"))), key=lambda r: -r["estimate"])
    if not shown:
        return None
    lo, hi = _limits([v for r in shown for v in (r["ci_low"], r["ci_high"])], domain)
    top = 30
    x, ticks, decimals = _horizontal_axis(lo, hi)
    points = []
    for i, r in enumerate(shown):
        y = top + i * ROW
        band = r.get("band")
        points.append({"label": _short(r[label_key]), "title": str(r[label_key]),
                       "y_label": y + 12, "y": y + 24, "x": x(r["estimate"]),
                       "x_low": x(r["ci_low"]), "x_high": x(r["ci_high"]),
                       "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                       "band": band,
                       "color": PALETTE[0] if band is None else PALETTE[int(band) % len(PALETTE)]})
    bottom = top + len(shown) * ROW
    return {"kind": "dot", "width": WIDTH, "height": bottom + 8, "left": PAD,
            "right": WIDTH - PAD, "top": top, "bottom": bottom, "axis_y": top - 12,
            "ticks": ticks, "decimals": decimals, "points": points, "legend": []}


def bar_chart(items: Iterable[Mapping], *, label_key: str = "label",
              series_key: str | None = None, domain: Sequence[float] | None = None,
              series_labels: Mapping[str, str] | None = None) -> dict | None:
    """Horizontal bars with error bars: one row per label, one bar per series in the row.

    ``items``: mappings with ``label_key``, ``value`` and optionally ``ci_low``/``ci_high``
    (the error bar) and, with ``series_key``, the series the bar belongs to (e.g. the
    columns of a cross-tab); rows and series keep their first-seen order. Items without a
    value are left out. The axis includes 0 unless ``domain`` is given.
    """
    kept = [r for r in items if _finite(r.get("value"))]
    if not kept:
        return None
    rows: list[str] = []
    series: list[str] = []
    for r in kept:
        if str(r[label_key]) not in rows:
            rows.append(str(r[label_key]))
        s = str(r[series_key]) if series_key else ""
        if s not in series:
            series.append(s)
    ends = [r["value"] for r in kept] + [r[k] for r in kept for k in ("ci_low", "ci_high")
                                         if _finite(r.get(k))]
    lo, hi = _limits(ends, domain, include=None if domain is not None else 0.0)
    top = 30
    x, ticks, decimals = _horizontal_axis(lo, hi)
    base = x(min(max(0.0, ticks[0]["value"]), ticks[-1]["value"]))
    bar = 16 if len(series) == 1 else 12
    row_height = 16 + bar * len(series) + 4
    bars = []
    labels = []
    for i, label in enumerate(rows):
        y0 = top + i * row_height
        labels.append({"label": _short(label), "title": label, "y": y0 + 12})
        for r in kept:
            if str(r[label_key]) != label:
                continue
            j = series.index(str(r[series_key]) if series_key else "")
            xv = x(r["value"])
            y = y0 + 16 + j * bar
            has_ci = _finite(r.get("ci_low")) and _finite(r.get("ci_high"))
            bars.append({"x": min(base, xv), "y": y, "w": round(abs(xv - base), 1),
                         "h": bar - 2, "y_mid": round(y + (bar - 2) / 2, 1),
                         "value": r["value"], "x_value": xv,
                         "x_low": x(r["ci_low"]) if has_ci else None,
                         "x_high": x(r["ci_high"]) if has_ci else None,
                         "ci_low": r.get("ci_low") if has_ci else None,
                         "ci_high": r.get("ci_high") if has_ci else None,
                         "label": label, "series": series[j],
                         "color": PALETTE[j % len(PALETTE)]})
    bottom = top + len(rows) * row_height
    names = series_labels or {}
    legend = ([] if len(series) == 1 else
              [{"label": names.get(s, s), "color": PALETTE[j % len(PALETTE)],
                "x": PAD, "y": bottom + 18 + j * 18} for j, s in enumerate(series)])
    height = bottom + 8 + (18 * len(legend) + 10 if legend else 0)
    return {"kind": "bar", "width": WIDTH, "height": height, "left": PAD, "right": WIDTH - PAD,
            "top": top, "bottom": bottom, "axis_y": top - 12, "base": base, "ticks": ticks,
            "decimals": decimals, "labels": labels, "bars": bars, "legend": legend}


def trend_lines(series: Iterable[Mapping], *, domain: Sequence[float] | None = None,
                height: int = 240) -> dict | None:
    """Lines across years: ``series`` are mappings ``{"label", "points": [{"year", "value",
    "ci_low", "ci_high"}]}``; each point's interval is drawn as an error bar. Years form
    the x axis (every year of any series, in order); a year a series lacks is a gap.
    """
    series = [dict(s) for s in series]
    for s in series:
        s["points"] = [p for p in s.get("points", ()) if _finite(p.get("value"))]
    series = [s for s in series if s["points"]]
    if not series:
        return None
    years = sorted({int(p["year"]) for s in series for p in s["points"]})
    ends = [v for s in series for p in s["points"]
            for v in (p["value"], p.get("ci_low"), p.get("ci_high")) if _finite(v)]
    lo, hi = _limits(ends, domain)
    ticks, decimals = nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    left, right, top = 44, WIDTH - PAD, 14
    bottom = height - 30
    y = _scale(lo, hi, bottom, top)
    step = (right - left - 24) / max(1, len(years) - 1)
    x_of = {yr: round(left + 12 + k * step, 1) if len(years) > 1 else (left + right) / 2
            for k, yr in enumerate(years)}
    lines = []
    for j, s in enumerate(series):
        by_year = {int(p["year"]): p for p in s["points"]}
        pts = []
        for yr in years:
            p = by_year.get(yr)
            if p is None:
                continue
            has_ci = _finite(p.get("ci_low")) and _finite(p.get("ci_high"))
            pts.append({"year": yr, "x": x_of[yr], "y": y(p["value"]), "value": p["value"],
                        "y_low": y(p["ci_low"]) if has_ci else None,
                        "y_high": y(p["ci_high"]) if has_ci else None})
        # consecutive years are joined; a missing year breaks the line
        segments, run = [], [pts[0]]
        for a, b in zip(pts, pts[1:], strict=False):
            if years.index(b["year"]) == years.index(a["year"]) + 1:
                run.append(b)
            else:
                segments.append(run)
                run = [b]
        segments.append(run)
        lines.append({"label": str(s["label"]), "color": PALETTE[j % len(PALETTE)],
                      "points": pts,
                      "paths": [" ".join(f"{p['x']},{p['y']}" for p in seg)
                                for seg in segments if len(seg) > 1]})
    legend = ([] if len(lines) == 1 else
              [{"label": line["label"], "color": line["color"], "x": PAD,
                "y": height + 4 + k * 18} for k, line in enumerate(lines)])
    total = height + (18 * len(legend) + 6 if legend else 0)
    return {"kind": "trend", "width": WIDTH, "height": total, "left": left, "right": right,
            "top": top, "bottom": bottom,
            "ticks": [{"y": y(t), "value": t} for t in ticks], "decimals": decimals,
            "years": [{"x": x_of[yr], "year": yr} for yr in years], "lines": lines,
            "legend": legend}


UNCLEAR = PALETTE[6]  # an effect whose interval includes zero


def coefficient_plot(items: Iterable[Mapping], *, label_key: str = "label") -> dict | None:
    """Regression effects with their intervals, largest first, on an axis through zero
    (the line of "no association"): a :func:`dot_plot` whose geometry also has ``zero_x``;
    an effect whose interval includes zero is drawn grey (``UNCLEAR``), and each point has
    ``clear`` (its interval excludes zero).

    ``items``: mappings with ``label_key``, ``estimate``, ``ci_low`` and ``ci_high``.
    """
    items = [r for r in items if _finite(r.get("estimate")) and _finite(r.get("ci_low"))
             and _finite(r.get("ci_high"))]
    if not items:
        return None
    lo = min(0.0, *(r["ci_low"] for r in items))
    hi = max(0.0, *(r["ci_high"] for r in items))
    g = dot_plot(items, label_key=label_key, domain=(lo, hi))
    x, _ticks, _decimals = _horizontal_axis(lo, hi)  # the same scale dot_plot drew
    points = []
    for p in g["points"]:
        clear = p["ci_low"] > 0 or p["ci_high"] < 0
        points.append({**p, "clear": clear, "color": p["color"] if clear else UNCLEAR})
    return {**g, "kind": "coef", "zero_x": x(0.0), "points": points}
