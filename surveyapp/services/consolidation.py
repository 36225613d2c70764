"""The UBND office's consolidated view of the accepted packages of a year (issue 11).

Everything here is read from the frozen snapshots of accepted (or published) versions —
never from an organisation's interviews or runs. ``consolidate`` gives, per agency, each
organisation's headline index with its CI side by side, and, for every indicator (index,
method version and node) that two or more organisations measured, one table of agencies ×
the package versions and surveys that measured it (an organisation may bring two: two
surveys or two years; each column is named by organisation, year, version and survey).
``export_xlsx`` writes the office's yearly or quarterly report (Decision 104/2024 Art. 12):
the packages, the side-by-side table and the shared indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import PackageTransition, PackageVersion, SubmissionPackage
from ..models._types import as_utc
from ..models.codes import PACKAGE_STATUS_LABELS, PackageStatus
from ..reporting import tabular
from .deadlines import CITY_TZ
from .submissions import newest_per_package

ACCEPTED = (PackageStatus.ACCEPTED.value, PackageStatus.PUBLISHED.value)
PERIODS = ("year", "q1", "q2", "q3", "q4")
LEVEL_ORDER = {"overall": 0, "dimension": 1, "item": 2}


def accepted_versions(year: int) -> list[PackageVersion]:
    """The newest accepted (or published) version of each package of ``year``."""
    versions = db.session.scalars(
        select(PackageVersion).join(SubmissionPackage)
        .where(SubmissionPackage.year == year, PackageVersion.status.in_(ACCEPTED))
        .order_by(SubmissionPackage.organisation_id, PackageVersion.number.desc()))
    out = newest_per_package(list(versions))
    out.sort(key=lambda v: v.package.organisation.name)
    return out


def _cell(row: dict) -> dict:
    return {k: row.get(k) for k in ("estimate", "ci_low", "ci_high", "n", "status", "reason")}


def _source_label(organisation: str, year, number, survey_title: str) -> str:
    """Who measured it, in which year, version and survey: a column's readable name."""
    return " — ".join([organisation, str(year), _("version %(n)s", n=number), survey_title])


def _unique(labels: list[str]) -> list[str]:
    """The labels, a repeated one numbered (#2, #3, …) so that each names one column."""
    taken: set[str] = set()
    out = []
    for label in labels:
        candidate, k = label, 1
        while candidate in taken:
            k += 1
            candidate = f"{label} #{k}"
        taken.add(candidate)
        out.append(candidate)
    return out


@dataclass
class Column:
    """One organisation's headline index of one survey of one package version. ``key``
    (version id and survey key) identifies it; ``header`` is its unique readable name."""

    key: str
    version: PackageVersion
    organisation: str
    survey_title: str
    index_label: str
    node: str
    node_label: str
    confidence_level: float | None
    year: int | None = None
    header: str = ""


def _columns(versions: list[PackageVersion]) -> list[Column]:
    cols = []
    for v in versions:
        package = v.snapshot["package"]
        for s in v.snapshot.get("surveys", []):
            report = s.get("report") or {}
            run = s.get("scorecard_run") or {}
            cols.append(Column(
                key=f"{v.id}:{s['key']}", version=v,
                organisation=package["organisation"]["name"],
                survey_title=s["campaign"]["title"],
                index_label=(report.get("scorecard_run") or {}).get("index_label")
                or run.get("index_key", ""),
                node=report.get("rank_node") or "", node_label=report.get("rank_label") or "",
                confidence_level=run.get("confidence_level"), year=package.get("year")))
    headers = _unique([" — ".join([_source_label(c.organisation, c.year, c.version.number,
                                                 c.survey_title), c.node_label])
                       for c in cols])
    for c, header in zip(cols, headers, strict=True):
        c.header = header
    return cols


def _agency_rows(versions: list[PackageVersion], cols: list[Column]) -> list[dict]:
    by_col = {c.key: c for c in cols}
    agencies: dict[str, dict] = {}
    for v in versions:
        for code, agency in v.snapshot.get("agencies", {}).items():
            entry = agencies.setdefault(code, {"code": code, "name": agency["name"],
                                               "cells": {}})
            for r in agency.get("results", []):
                col = by_col.get(f"{v.id}:{r.get('survey')}")
                if col is not None and r.get("node") == col.node:
                    entry["cells"][col.key] = _cell(r)
    return sorted(agencies.values(), key=lambda a: (a["name"], a["code"]))


def _shared_indicators(versions: list[PackageVersion]) -> list[dict]:
    """Indicators (index key, method version, node) measured by two organisations or more.
    Each group's ``sources`` are the (package version, survey) pairs that measured it — an
    organisation may bring several (two surveys, two years) — and each agency's ``cells``
    are keyed by the source's ``key``."""
    groups: dict[tuple, dict] = {}
    for v in versions:
        package = v.snapshot["package"]
        org = package["organisation"]
        titles = {s.get("key"): (s.get("campaign") or {}).get("title", "")
                  for s in v.snapshot.get("surveys", [])}
        for code, agency in v.snapshot.get("agencies", {}).items():
            for r in agency.get("results", []):
                key = (r.get("index_key"), r.get("method_version"), r.get("node"))
                g = groups.setdefault(key, {
                    "index_key": key[0], "method_version": key[1], "node": key[2],
                    "label": r.get("label") or key[2], "level": r.get("level"),
                    "organisations": {}, "sources": {}, "agencies": {}})
                g["organisations"][org["id"]] = org["name"]
                source = f"{v.id}:{r.get('survey')}"
                g["sources"].setdefault(source, {
                    "key": source, "organisation": org["name"], "year": package.get("year"),
                    "version": v.number, "survey_title": titles.get(r.get("survey"), "")})
                a = g["agencies"].setdefault(code, {"code": code, "name": agency["name"],
                                                    "cells": {}})
                a["cells"][source] = _cell(r)
    shared = []
    for g in groups.values():
        if len(g["organisations"]) < 2:
            continue
        g["organisations"] = sorted(g["organisations"].items(), key=lambda o: o[1])
        sources = sorted(g["sources"].values(), key=lambda o: (
            o["organisation"], o["year"] or 0, o["version"], o["survey_title"], o["key"]))
        labels = _unique([_source_label(o["organisation"], o["year"], o["version"],
                                        o["survey_title"]) for o in sources])
        for o, label in zip(sources, labels, strict=True):
            o["label"] = label
        g["sources"] = sources
        g["agencies"] = sorted(g["agencies"].values(), key=lambda a: (a["name"], a["code"]))
        shared.append(g)
    shared.sort(key=lambda g: (g["index_key"] or "", LEVEL_ORDER.get(g["level"], 3),
                               g["label"]))
    return shared


def consolidate(year: int, versions: list[PackageVersion] | None = None) -> dict:
    """What the consolidated page shows (``versions``: the accepted ones of the year)."""
    versions = accepted_versions(year) if versions is None else versions
    cols = _columns(versions)
    return {"year": year, "versions": versions, "columns": cols,
            "agencies": _agency_rows(versions, cols), "shared": _shared_indicators(versions)}


def years() -> list[int]:
    """Years with a submitted (or later) package, newest first."""
    return list(db.session.scalars(
        select(SubmissionPackage.year).join(PackageVersion)
        .where(PackageVersion.digest.is_not(None))
        .distinct().order_by(SubmissionPackage.year.desc())))


# ---- the office's reports (XLSX) -------------------------------------------------------------

def _quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return (datetime.combine(start, time.min, CITY_TZ), datetime.combine(end, time.min, CITY_TZ))


def _steps_in(start: datetime, end: datetime) -> list[PackageTransition]:
    return list(db.session.scalars(
        select(PackageTransition).where(
            PackageTransition.to_status.in_([PackageStatus.SUBMITTED.value,
                                             PackageStatus.RETURNED.value,
                                             PackageStatus.ACCEPTED.value,
                                             PackageStatus.PUBLISHED.value]),
            PackageTransition.created_at >= start, PackageTransition.created_at < end)
        .order_by(PackageTransition.created_at, PackageTransition.id)))


def _fmt(x) -> float | str:
    return "" if x is None else x


def _ci(cell: dict | None) -> tuple:
    if not cell:
        return "", "", "", ""
    return (_fmt(cell.get("estimate")), _fmt(cell.get("ci_low")), _fmt(cell.get("ci_high")),
            cell.get("n") if cell.get("n") is not None else "")


def export_xlsx(year: int, period: str = "year") -> bytes:
    """The office's report as XLSX. ``period="year"``: the accepted packages of survey year
    ``year``. ``"q1"``–``"q4"``: the packages submitted, returned, accepted or published in
    that quarter of calendar year ``year`` (any survey year), and the accepted ones among
    them side by side."""
    if period not in PERIODS:
        raise ValidationFailed(_("Unknown period: choose the year or a quarter."))
    if not 2000 <= year <= 2100:
        raise ValidationFailed(_("The year must be from 2000 to 2100."))
    h_org, h_year, h_version = _("Organisation"), _("Survey year"), _("Version")
    h_status, h_step, h_when = _("Status"), _("Step"), _("Date")
    h_digest = _("SHA-256 digest")
    if period == "year":
        versions = accepted_versions(year)
        list_headers = [h_org, h_year, h_version, h_status, h_digest]
        listing = [{h_org: v.package.organisation.name, h_year: v.package.year,
                    h_version: v.number, h_status: str(PACKAGE_STATUS_LABELS[
                        PackageStatus(v.status)]), h_digest: v.digest} for v in versions]
        title = _("Packages %(year)d", year=year)
    else:
        steps = _steps_in(*_quarter_bounds(year, int(period[1])))
        list_headers = [h_when, h_org, h_year, h_version, h_step, h_digest]
        listing = []
        chosen: dict[int, PackageVersion] = {}
        for s in steps:
            v = s.version
            listing.append({h_when: as_utc(s.created_at).astimezone(CITY_TZ).strftime(
                "%d/%m/%Y %H:%M"), h_org: v.package.organisation.name, h_year: v.package.year,
                h_version: v.number, h_step: str(PACKAGE_STATUS_LABELS[
                    PackageStatus(s.to_status)]), h_digest: v.digest or ""})
            if v.status in ACCEPTED:
                chosen[v.id] = v
        versions = sorted(chosen.values(), key=lambda v: (v.package.year,
                                                          v.package.organisation.name))
        title = _("Quarter %(q)s of %(year)d", q=period[1], year=year)
    data = consolidate(year, versions)
    h_agency, h_code = _("Agency"), _("Code")
    side_headers = [h_code, h_agency]
    lower, upper = _("lower bound"), _("upper bound")
    for c in data["columns"]:
        side_headers += [c.header, f"{c.header}: {lower}", f"{c.header}: {upper}",
                         f"{c.header}: n"]
    side_rows = []
    for a in data["agencies"]:
        row = {h_code: a["code"], h_agency: a["name"]}
        for c in data["columns"]:
            est, lo, hi, n = _ci(a["cells"].get(c.key))
            row.update({c.header: est, f"{c.header}: {lower}": lo,
                        f"{c.header}: {upper}": hi, f"{c.header}: n": n})
        side_rows.append(row)
    h_indicator, h_index, h_survey = _("Indicator"), _("Index"), _("Survey")
    h_estimate = _("Estimate")
    shared_headers = [h_index, h_indicator, h_code, h_agency, h_org, h_year, h_version,
                      h_survey, h_estimate, lower, upper, "n"]
    shared_rows = []
    for g in data["shared"]:
        for a in g["agencies"]:
            for o in g["sources"]:
                est, lo, hi, n = _ci(a["cells"].get(o["key"]))
                shared_rows.append({h_index: f"{g['index_key']} ({g['method_version']})",
                                    h_indicator: g["label"], h_code: a["code"],
                                    h_agency: a["name"], h_org: o["organisation"],
                                    h_year: o["year"], h_version: o["version"],
                                    h_survey: o["survey_title"], h_estimate: est,
                                    lower: lo, upper: hi, "n": n})
    return tabular.to_workbook([(title, list_headers, listing),
                                (_("By agency"), side_headers, side_rows),
                                (_("Shared indicators"), shared_headers, shared_rows)])
