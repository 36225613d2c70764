"""The frozen form of a submission package version and its tamper evidence (issue 11).

``build_snapshot`` turns a version into one JSON document (format ``surveyapp.package/1``):
the package's identity, each survey with its scorecard run and the annual report's data
(``reports.build_report_data``: methodology, scorecard, rankings — what the XLSX and
printable report are rendered from), the results per agency and for the city, and the
organisation's findings and recommendations. ``freeze`` stores it on submission with the
SHA-256 of its RFC 8785 canonical bytes and the same digest per part; ``verify`` checks a
stored snapshot against both — that alone decides whether it is intact — and, as information
only, compares it with a recomputation from today's data, naming each part that differs
(``package``, ``surveys/c12``, ``agencies/SO-TP``, …).
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..canonical import NotCanonicalisable, canonicalize, digest
from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..models import PackageAgency, PackageTransition, PackageVersion
from ..models._types import as_utc, utcnow
from ..models.codes import PackageStatus

FORMAT = "surveyapp.package/1"
LOCALE = "vi"  # a snapshot is one document: its labels are in the city's language


class SnapshotFailed(ValidationFailed):
    """The snapshot could not be built (the message says why); nothing was frozen."""


def _iso(value) -> str | None:
    value = as_utc(value)
    return value.isoformat(timespec="seconds") if value is not None else None


def _last_transition(version: PackageVersion, status: PackageStatus) -> PackageTransition | None:
    return db.session.scalar(select(PackageTransition).where(
        PackageTransition.version_id == version.id,
        PackageTransition.to_status == status.value).order_by(PackageTransition.id.desc()))


def _package_part(version: PackageVersion) -> dict:
    package = version.package
    org = package.organisation
    replaces = version.replaces
    submitted = _last_transition(version, PackageStatus.SUBMITTED)
    approved = _last_transition(version, PackageStatus.APPROVED)
    return {
        "package_id": package.id, "version_id": version.id, "version": version.number,
        "year": package.year, "title": version.title,
        "organisation": {"id": org.id, "name": org.name, "short_name": org.short_name},
        "replaces": None if replaces is None else {
            "version_id": replaces.id, "version": replaces.number, "digest": replaces.digest},
        "submitted_at": _iso(submitted.created_at) if submitted else None,
        "submitted_by": submitted.actor_label if submitted else None,
        "approved_by": approved.actor_label if approved else None,
    }


def survey_key(campaign_id: int) -> str:
    return f"c{campaign_id}"


def _survey_part(entry) -> dict:
    from .reports import build_report_data

    run = entry.scorecard_run
    campaign = entry.campaign
    try:
        report = build_report_data(run, locale=LOCALE)
    except DomainError as exc:
        raise SnapshotFailed(_("The report of “%(title)s” could not be built: %(detail)s",
                               title=campaign.title, detail=exc.message)) from None
    weight_run = run.weight_run
    return {
        "key": survey_key(campaign.id),
        "campaign": {"id": campaign.id, "title": campaign.title, "year": campaign.year,
                     "fieldwork_start": campaign.fieldwork_start.isoformat()
                     if campaign.fieldwork_start else None,
                     "fieldwork_end": campaign.fieldwork_end.isoformat()
                     if campaign.fieldwork_end else None},
        "scorecard_run": {"id": run.id, "number": run.number, "index_key": run.index_key,
                          "method_version": run.method_version,
                          "confidence_level": run.confidence_level, "min_n": run.min_n,
                          "rule": run.rule, "seed": run.seed,
                          "weight_run_id": weight_run.id if weight_run else None,
                          "weight_run_number": weight_run.number if weight_run else None},
        "report": report,
    }


def _results(survey: dict, cells: dict) -> list[dict]:
    run = survey["scorecard_run"]
    return [{**row, "survey": survey["key"], "index_key": run["index_key"],
             "method_version": run["method_version"]} for row in cells.values()]


def build_snapshot(version: PackageVersion) -> dict:
    """The whole version as one JSON-safe document (see the module docstring)."""
    if not version.surveys:
        raise SnapshotFailed(_("Add at least one analysed survey to the package."))
    with force_locale(LOCALE):
        surveys = [_survey_part(entry) for entry in version.surveys]
    agencies: dict[str, dict] = {}
    city: list[dict] = []
    for survey in surveys:
        report = survey["report"]
        for agency in report.get("scorecard") or []:
            entry = agencies.setdefault(agency["code"], {
                "code": agency["code"], "name": agency["name"], "results": [],
                "findings": "", "recommendations": ""})
            entry["results"].extend(_results(survey, agency["cells"]))
        if report.get("total"):
            city.extend(_results(survey, report["total"]["cells"]))
    for f in version.agency_findings:
        if f.agency_code in agencies:
            agencies[f.agency_code]["findings"] = f.findings
            agencies[f.agency_code]["recommendations"] = f.recommendations
    return {
        "format": FORMAT,
        "package": _package_part(version),
        "surveys": surveys,
        "agencies": dict(sorted(agencies.items())),
        "city": {"results": city},
        "findings": {"overall": version.findings, "recommendations": version.recommendations},
    }


def parts(snapshot: dict) -> dict[str, object]:
    """The snapshot cut into named parts: each top-level key, except that surveys and
    agencies are one part each per survey and per agency."""
    out: dict[str, object] = {}
    for key, value in snapshot.items():
        if key == "surveys" and isinstance(value, list):
            for i, survey in enumerate(value):
                name = survey.get("key") if isinstance(survey, dict) else None
                out[f"surveys/{name or i}"] = survey
        elif key == "agencies" and isinstance(value, dict):
            for code, agency in value.items():
                out[f"agencies/{code}"] = agency
        else:
            out[key] = value
    return out


def part_digests(snapshot: dict) -> dict[str, str]:
    return {name: digest(value) for name, value in parts(snapshot).items()}


def freeze(version: PackageVersion) -> None:
    """Build and store the snapshot, its digest, the part digests and the agency index
    (in the caller's unit of work; the caller commits)."""
    snap = build_snapshot(version)
    try:
        canonical = canonicalize(snap)
    except NotCanonicalisable as exc:
        raise SnapshotFailed(_("The package contains a value JSON cannot hold: %(detail)s",
                               detail=str(exc))) from None
    version.snapshot = snap
    version.digest = hashlib.sha256(canonical).hexdigest()
    version.part_digests = part_digests(snap)
    version.frozen_at = utcnow()
    for code, agency in snap["agencies"].items():
        db.session.add(PackageAgency(version_id=version.id, agency_code=code,
                                     agency_name=agency["name"]))


class Difference(NamedTuple):
    """One part of a snapshot that does not match (``against``: digest | recomputation)."""

    part: str
    against: str
    detail: str

    def __str__(self) -> str:
        return f"{self.part}: {self.detail}"


class Verification(NamedTuple):
    """``ok``: the stored snapshot is intact — its canonical SHA-256 is the digest stored at
    submission and each part's SHA-256 the part digest stored then. ``differences``: first
    the parts that break this (``against="digest"``: ``altered``), then, as information only,
    the parts in which a recomputation from today's data differs from the stored snapshot
    (``against="recomputation"``: ``since_submission``). The recomputation reads live rows —
    organisation and campaign names, people's names, interviews, the newest runs of earlier
    campaigns — so a harmless edit after submission shows there; it never makes ``ok`` false."""

    ok: bool
    differences: list[Difference]

    @property
    def altered(self) -> list[Difference]:
        return [d for d in self.differences if d.against == "digest"]

    @property
    def since_submission(self) -> list[Difference]:
        return [d for d in self.differences if d.against == "recomputation"]


def _compare(stored: dict[str, str], current: dict[str, str], against: str,
             detail: str) -> list[Difference]:
    out = []
    for name in sorted(set(stored) | set(current)):
        if name not in current:
            out.append(Difference(name, against, _("missing from the stored snapshot")
                                  if against == "digest" else _("missing from the recomputation")))
        elif name not in stored:
            out.append(Difference(name, against, _("not in the snapshot as submitted")
                                  if against == "digest" else _("not in the stored snapshot")))
        elif stored[name] != current[name]:
            out.append(Difference(name, against, detail))
    return out


def verify(version: PackageVersion) -> Verification:
    """Is the stored snapshot intact? (1) Its canonical SHA-256 against the stored digest,
    and each part's SHA-256 against the part digests stored at submission: only this
    decides ``ok`` (the parts that differ are named; ``snapshot`` when only the whole
    digest does). (2) As information, the stored snapshot against a recomputation from the
    version's runs and texts as they are now, part by part (see ``Verification``)."""
    if version.snapshot is None or version.digest is None:
        return Verification(False, [Difference("snapshot", "digest",
                                               _("this version has not been submitted"))])
    differences: list[Difference] = []
    stored = version.snapshot
    try:
        current_parts = part_digests(stored)
        intact = digest(stored) == version.digest
    except (NotCanonicalisable, AttributeError, TypeError):
        current_parts, intact = {}, False
    named = _compare(version.part_digests, current_parts, "digest",
                     _("differs from the digest stored at submission")) \
        if version.part_digests else []
    differences.extend(named)
    if not intact and not named:
        differences.append(Difference("snapshot", "digest",
                                      _("its SHA-256 differs from the stored digest")))
    ok = not differences
    try:
        again = part_digests(build_snapshot(version))
    except DomainError as exc:
        differences.append(Difference("snapshot", "recomputation",
                                      _("could not be recomputed: %(detail)s",
                                        detail=exc.message)))
    else:
        differences.extend(_compare(current_parts, again, "recomputation",
                                    _("differs from a recomputation from today's data")))
    return Verification(ok, differences)
