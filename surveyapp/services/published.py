"""Published results (issue 11): what the public pages, the API and the open-data export read.

Everything comes from the frozen snapshots of *published* package versions
(``submissions.published_versions``): suppressed cells are already blank there (estimate,
SE and interval null, with the reason), so nothing here can show a figure that the
scorecard withheld. A published version stays readable when an amendment is published
after it; it is then "superseded" and the newer one is "current".

The open-data export of a year holds every published version's snapshot as it was frozen,
with its digest: ``sha256(RFC 8785 canonical JSON of "snapshot") == "digest"`` for each, so
anyone can check what the office published against what the organisation submitted.
"""

from __future__ import annotations

from ..canonical import canonicalize
from ..models import PackageVersion
from ..models._types import as_utc
from ..reporting import tabular
from . import submissions

OPEN_DATA_FORMAT = "surveyapp.open-data/1"
ROW_FIELDS = ("agency_code", "agency_name", "node", "label", "level", "estimate", "se",
              "ci_low", "ci_high", "unweighted", "n", "n_effective", "status", "reason",
              "band", "rank_median", "rank_low", "rank_high")
METHOD_PARTS = ("design", "sizes", "response_rates", "weighting", "index")


def _iso(value) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def _is_published(version: PackageVersion | None) -> bool:
    return version is not None and version.status == "published"


def published_version(version_id: int) -> PackageVersion | None:
    """A published version by id (None for any other status: unpublished ones are private)."""
    version = submissions.get_version(version_id)
    return version if _is_published(version) else None


def summary(version: PackageVersion) -> dict:
    """A published version in a few fields: who published what, when, and its digest."""
    package = version.package
    org = package.organisation
    newer = submissions.superseded_by(version)
    replaces = version.replaces
    return {"version_id": version.id, "package_id": package.id, "version": version.number,
            "year": package.year, "title": version.title,
            "organisation": {"id": org.id, "name": org.name, "short_name": org.short_name},
            "digest": version.digest, "published_at": _iso(version.published_at),
            "submitted_at": _iso(version.frozen_at),
            "replaces": None if replaces is None else {
                "version_id": replaces.id, "version": replaces.number,
                "digest": replaces.digest},
            "superseded_by": None if newer is None else newer.id,
            "current": newer is None}


def years() -> list[dict]:
    """Years with published results, newest first, with their number of packages."""
    out = []
    for year in submissions.published_years():
        current = submissions.published_versions(year=year)
        every = submissions.published_versions(year=year, current_only=False)
        out.append({"year": year, "packages": len(current), "versions": len(every),
                    "organisations": [v.package.organisation.name for v in current]})
    return out


def _agencies(versions: list[PackageVersion]) -> list[dict]:
    found: dict[str, dict] = {}
    for v in versions:
        for code, agency in v.snapshot.get("agencies", {}).items():
            entry = found.setdefault(code, {"code": code, "name": agency.get("name", code),
                                            "organisations": []})
            entry["organisations"].append(v.package.organisation_id)
    return sorted(found.values(), key=lambda a: (a["name"], a["code"]))


def year_document(year: int) -> dict | None:
    """A year: the current published version of each organisation's package, the earlier
    published versions they supersede, and the agencies reported on. None: nothing published."""
    versions = submissions.published_versions(year=year, current_only=False)
    if not versions:
        return None
    current = [v for v in versions if submissions.superseded_by(v) is None]
    return {"year": year, "packages": [summary(v) for v in current],
            "superseded": [summary(v) for v in versions if v not in current],
            "agencies": _agencies(current)}


def _methodology(survey: dict) -> dict:
    report = survey.get("report") or {}
    return {"key": survey.get("key"), "campaign": survey.get("campaign"),
            "scorecard_run": survey.get("scorecard_run"),
            **{part: report.get(part) for part in METHOD_PARTS}}


def package_results(version: PackageVersion) -> dict:
    """A published version's results: the city totals, each agency's figures with the
    organisation's findings and recommendations, and each survey's methodology."""
    snap = version.snapshot
    return {**summary(version),
            "findings": snap.get("findings", {}),
            "city": snap.get("city", {}).get("results", []),
            "agencies": [{"code": code, "name": a.get("name", code),
                          "results": a.get("results", []),
                          "findings": a.get("findings", ""),
                          "recommendations": a.get("recommendations", "")}
                         for code, a in sorted(snap.get("agencies", {}).items(),
                                               key=lambda kv: (kv[1].get("name", ""), kv[0]))],
            "methodology": [_methodology(s) for s in snap.get("surveys", [])]}


def organisation_document(year: int, organisation_id: int) -> dict | None:
    """The organisation's current published package of ``year`` with its results."""
    versions = submissions.published_versions(year=year, organisation_id=organisation_id)
    return package_results(versions[0]) if versions else None


def _plausible_code(code: str) -> bool:
    # What an agency code of the registry can be (a NUL would even upset PostgreSQL).
    return 0 < len(code) <= 64 and code.isprintable()


def agency_document(year: int, code: str) -> dict | None:
    """One agency in ``year``: each organisation's figures for it (current versions)."""
    if not _plausible_code(code):
        return None
    versions = submissions.published_versions(year=year, agency_code=code)
    entries = []
    name = None
    for v in versions:
        agency = v.snapshot.get("agencies", {}).get(code)
        if agency is None:
            continue
        name = name or agency.get("name", code)
        entries.append({**summary(v), "results": agency.get("results", []),
                        "findings": agency.get("findings", ""),
                        "recommendations": agency.get("recommendations", ""),
                        "methodology": [_methodology(s) for s in v.snapshot.get("surveys",
                                                                                 [])]})
    if not entries:
        return None
    return {"year": year, "agency": {"code": code, "name": name}, "reports": entries}


def package_document(version: PackageVersion) -> dict:
    """A published version with its digest and its frozen snapshot (as stored)."""
    return {**summary(version), "snapshot": version.snapshot}


def canonical_snapshot(version: PackageVersion) -> bytes:
    """The RFC 8785 bytes whose SHA-256 is the version's digest."""
    return submissions.canonical_bytes(version)


# ---- the open-data export ----------------------------------------------------------------------

def open_data_json(year: int) -> bytes | None:
    """Every published version of ``year`` (superseded ones too) with its digest and
    snapshot, as RFC 8785 canonical JSON (the same bytes for the same publications)."""
    versions = submissions.published_versions(year=year, current_only=False)
    if not versions:
        return None
    return canonicalize({
        "format": OPEN_DATA_FORMAT, "year": year,
        "how_to_check": "For each package, the SHA-256 of the RFC 8785 canonical JSON of "
                        "its snapshot is its digest.",
        "packages": [{**summary(v), "snapshot": v.snapshot} for v in versions]})


CSV_COLUMNS = ["year", "organisation_id", "organisation", "version_id", "version", "current",
               "digest", "survey", "campaign", "index_key", "method_version", *ROW_FIELDS]


def open_data_rows(year: int) -> list[dict]:
    """One row per published version, survey, agency (or the city total) and index node."""
    rows = []
    for v in submissions.published_versions(year=year, current_only=False):
        s = summary(v)
        snap = v.snapshot
        titles = {x.get("key"): (x.get("campaign") or {}).get("title", "")
                  for x in snap.get("surveys", [])}
        results = list(snap.get("city", {}).get("results", []))
        for _code, agency in sorted(snap.get("agencies", {}).items()):
            results += agency.get("results", [])
        for r in results:
            rows.append({"year": s["year"], "organisation_id": s["organisation"]["id"],
                         "organisation": s["organisation"]["name"],
                         "version_id": s["version_id"], "version": s["version"],
                         "current": "yes" if s["current"] else "no", "digest": s["digest"],
                         "survey": r.get("survey"), "campaign": titles.get(r.get("survey"), ""),
                         "index_key": r.get("index_key"),
                         "method_version": r.get("method_version"),
                         **{k: r.get(k) for k in ROW_FIELDS}})
    return rows


def open_data_csv(year: int) -> bytes | None:
    """The year's figures as CSV (UTF-8 with BOM); suppressed cells are blank."""
    rows = open_data_rows(year)
    return tabular.to_csv(CSV_COLUMNS, rows) if rows else None
