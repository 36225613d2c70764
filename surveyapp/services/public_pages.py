"""What the public results pages show (issue 11), from :mod:`published` and the charts'
geometry: plain dicts, so the templates only display.

A package block (one published version) is the same on the year page and on the version's
own page: for each survey, the agencies' figures on the index's ranked node (the overall
index) with intervals and a dot plot, and a short methodology.
"""

from __future__ import annotations

import hashlib

from ..models import PackageVersion
from ..reporting import charts
from . import published, submissions

LEVELS = ("dimension", "overall")


def _report(survey: dict) -> dict:
    return survey.get("report") or {}


def _survey_rows(results: list[dict], key: str) -> list[dict]:
    return [r for r in results if r.get("survey") == key]


def _method(survey: dict) -> dict:
    """A survey's methodology in the few figures a reader needs (from its frozen report)."""
    report = _report(survey)
    sizes = report.get("sizes") or {}
    rates = (report.get("response_rates") or {}).get("survey") or {}
    weighting = report.get("weighting") or {}
    design = report.get("design") or {}
    index = report.get("index") or {}
    run = survey.get("scorecard_run") or report.get("scorecard_run") or {}
    return {"key": survey.get("key"), "campaign": survey.get("campaign") or {},
            "index_label": index.get("label") or run.get("index_key"),
            "method_version": run.get("method_version"),
            "dimensions": [d.get("label") for d in index.get("dimensions") or []],
            "design": design.get("method_label") or design.get("method"),
            "allocation": design.get("allocation_label"),
            "strata": len(design.get("strata") or []),
            "sample_size": sizes.get("sample_size"), "respondents": sizes.get("respondents"),
            "agencies": sizes.get("agencies"), "rr": rates.get("rr3", rates.get("rr1")),
            "weighting": weighting.get("method_label") or weighting.get("method"),
            "confidence_level": run.get("confidence_level"), "min_n": run.get("min_n"),
            "rule": run.get("rule"), "rank_label": report.get("rank_label")}


def _survey_block(snapshot: dict, survey: dict) -> dict:
    """One survey of a package: the agencies on the ranked node, their chart, the method."""
    key = survey.get("key")
    report = _report(survey)
    rank_node = report.get("rank_node")
    rows = []
    for code, agency in sorted(snapshot.get("agencies", {}).items(),
                               key=lambda kv: (kv[1].get("name", ""), kv[0])):
        row = next((r for r in _survey_rows(agency.get("results", []), key)
                    if r.get("node") == rank_node), None)
        if row is not None:
            rows.append({**row, "code": code, "name": agency.get("name", code)})
    rows.sort(key=lambda r: (r.get("rank_median") is None, r.get("rank_median") or 0,
                             r["name"]))
    city = next((r for r in _survey_rows(snapshot.get("city", {}).get("results", []), key)
                 if r.get("node") == rank_node), None)
    return {"key": key, "method": _method(survey), "rank_label": report.get("rank_label"),
            "rows": rows, "city": city,
            "suppressed": any(r.get("status") == "suppressed" for r in rows),
            "plot": charts.dot_plot(rows, label_key="name")}


def package_block(version: PackageVersion) -> dict:
    """A published version as the pages show it."""
    snap = version.snapshot
    return {"summary": published.summary(version), "published_at": version.published_at,
            "surveys": [_survey_block(snap, s) for s in snap.get("surveys", [])],
            "findings": snap.get("findings", {})}


def index_page() -> dict:
    return {"years": published.years()}


def year_page(year: int) -> dict | None:
    """A year: each organisation's current package block, the agencies, earlier versions."""
    document = published.year_document(year)
    if document is None:
        return None
    current = submissions.published_versions(year=year)
    return {"year": year, "packages": [package_block(v) for v in current],
            "agencies": document["agencies"], "superseded": document["superseded"],
            "years": [y["year"] for y in published.years()]}


def agency_page(year: int, code: str) -> dict | None:
    """One agency in a year: per organisation and survey, its dimension scores with their
    intervals (table and bar chart), and the organisation's findings and recommendations."""
    document = published.agency_document(year, code)
    if document is None:
        return None
    reports = []
    for entry in document["reports"]:
        surveys = []
        for method in entry["methodology"]:
            rows = [r for r in _survey_rows(entry["results"], method["key"])
                    if r.get("level") in LEVELS]
            bars = [{"label": r.get("label"), "value": r.get("estimate"),
                     "ci_low": r.get("ci_low"), "ci_high": r.get("ci_high")} for r in rows]
            surveys.append({"key": method["key"],
                            "method": _method({"key": method["key"], "campaign":
                                               method["campaign"], "scorecard_run":
                                               method["scorecard_run"], "report": method}),
                            "rows": rows, "chart": charts.bar_chart(bars),
                            "suppressed": any(r.get("status") == "suppressed" for r in rows)})
        reports.append({"summary": {k: v for k, v in entry.items()
                                    if k not in ("results", "methodology")},
                        "surveys": surveys})
    return {"year": year, "agency": document["agency"], "reports": reports}


def version_page(version: PackageVersion) -> dict:
    """A published version on its own: its block, its findings, the versions around it."""
    chain = [published.summary(v) for v in submissions.version_chain(version)
             if v.status == "published"]
    return {"block": package_block(version), "chain": chain,
            "agencies": published.package_results(version)["agencies"]}


def check_page(version: PackageVersion) -> dict:
    """The version's digest checked now: the SHA-256 of the stored snapshot's canonical bytes
    against the digest recorded at submission, and the snapshot against a recomputation."""
    body = published.canonical_snapshot(version)
    result = submissions.verify(version)
    return {"summary": published.summary(version),
            "recomputed": hashlib.sha256(body).hexdigest(), "size": len(body),
            "ok": result.ok, "differences": [str(d) for d in result.differences]}
