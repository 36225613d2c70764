"""The annual report as one printable HTML page, from the report data dict only.

Its own Jinja environment (no Flask: the renderer also runs on frozen submission
snapshots) over the app's ``templates/`` folder: ``reports/annual.html`` with the shared
chart macros; the language and number format come from the data's ``locale``, with the
app's catalogue. The chart geometry is computed here (``charts``), the template displays it.
Self-contained: the CSS is inline and the charts are inline SVG, so the file opens anywhere
and prints (or becomes the PDF) as it is.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import charts
from .locale import format_number, translations

ROWS_PER_CHART = 25  # a dot plot longer than this is split so that each part fits a page


def _template_folder() -> Path:
    for candidate in (Path(__file__).resolve().parents[2] / "templates",
                      Path.cwd() / "templates"):
        if (candidate / "reports").is_dir():
            return candidate
    raise RuntimeError("the templates/ folder was not found")


@lru_cache(maxsize=4)
def _environment(locale: str) -> Environment:
    env = Environment(loader=FileSystemLoader(str(_template_folder())),
                      autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"],
                      trim_blocks=False, lstrip_blocks=False)
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(locale), newstyle=True)
    env.filters["number"] = lambda value, decimals=None: format_number(value, decimals, locale)
    return env


def _chunks(items: list, size: int) -> list[list]:
    return [items[k:k + size] for k in range(0, len(items), size)] or [[]]


def _dot_plots(rows: list[dict]) -> list[dict]:
    """The agencies' dot plot of one node, in parts of ``ROWS_PER_CHART`` on one axis."""
    shown = sorted((r for r in rows if r.get("estimate") is not None
                    and r.get("ci_low") is not None and r.get("ci_high") is not None),
                   key=lambda r: -r["estimate"])
    if not shown:
        return []
    domain = (min(r["ci_low"] for r in shown), max(r["ci_high"] for r in shown))
    return [g for part in _chunks(shown, ROWS_PER_CHART)
            if (g := charts.dot_plot(part, label_key="agency_name", domain=domain))]


def figures(data: dict) -> dict:
    """The charts of the report: per node the agencies' dot plot (in parts), the city total's
    bars with error bars, and the trend across years when there are several."""
    nodes = data["nodes"]
    by_node = {n["node"]: _dot_plots([a["cells"].get(n["node"]) or {}
                                      for a in data["scorecard"]]) for n in nodes}
    total = (data.get("total") or {}).get("cells") or {}
    city = charts.bar_chart([{"label": n["label"], "value": (total.get(n["node"]) or {})
                              .get("estimate"),
                              "ci_low": (total.get(n["node"]) or {}).get("ci_low"),
                              "ci_high": (total.get(n["node"]) or {}).get("ci_high")}
                             for n in nodes])
    trend = None
    if len(data["trend"]) > 1:
        trend = charts.trend_lines([
            {"label": n["label"],
             "points": [{"year": t["year"], "value": t["nodes"][k]["estimate"],
                         "ci_low": t["nodes"][k]["ci_low"], "ci_high": t["nodes"][k]["ci_high"]}
                        for t in data["trend"]]} for k, n in enumerate(nodes)])
    return {"dots": by_node, "city": city, "trend": trend}


def render_html(data: dict) -> str:
    """The report page's HTML for the report data ``data`` (see services/reports.py)."""
    locale = data.get("locale", "vi")
    template = _environment(locale).get_template("reports/annual.html")
    dims = {d["node"]: d for d in data["index"]["dimensions"]}
    return template.render(d=data, fig=figures(data), dims=dims, locale=locale,
                           level=f"{data['scorecard_run']['confidence_level'] * 100:g} %")
