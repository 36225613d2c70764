"""Submission packages (issue 11): an organisation's yearly results for the UBND office.

A package is one (organisation, year); its content is in numbered versions. A draft version
lists analysed surveys (a campaign of that year with the scorecard run chosen for it) and
the organisation's findings and recommendations (phản biện xã hội), overall and per agency.
From submission on a version is frozen (``package_snapshot.freeze``); a later change is an
amendment: a new version that names the one it replaces. The workflow's steps are in
``package_workflow``. The read functions at the end (``published_versions``, ``snapshot``,
``canonical_bytes``, ``verify``, ``superseded_by``, ``version_chain``) are the contract the
public pages and the API use (see docs/app.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..auth.policy import Principal, package_visibility
from ..canonical import canonicalize
from ..errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    Campaign,
    Organisation,
    PackageAgency,
    PackageFinding,
    PackageSurvey,
    PackageVersion,
    ScorecardRow,
    ScorecardRun,
    SubmissionPackage,
    User,
)
from ..models.codes import PACKAGE_AMENDABLE, AuditAction, PackageStatus
from . import audit, package_snapshot, package_workflow
from .package_snapshot import Difference, Verification  # noqa: F401  (the contract's types)

TEXT_MAX = 20_000


class PackageFailed(ValidationFailed):
    """The package could not be changed as asked (the message says why); nothing stored."""


# ---- creating and editing ------------------------------------------------------------------

def _check_text(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > TEXT_MAX:
        message = _("At most %(n)d characters.", n=TEXT_MAX)
        raise PackageFailed(message, fields={field: message})
    return value


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not 3 <= len(title) <= 200:
        message = _("The title must have 3 to 200 characters.")
        raise PackageFailed(message, fields={"title": message})
    return title


def create_package(actor: User | None, org: Organisation, year: int, title: str) -> PackageVersion:
    """Start the (organisation, year) package with its first, draft version (commits once)."""
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        message = _("The year must be from 2000 to 2100.")
        raise PackageFailed(message, fields={"year": message})
    title = _check_title(title)
    if db.session.scalar(select(SubmissionPackage.id).where(
            SubmissionPackage.organisation_id == org.id, SubmissionPackage.year == year)):
        message = _("This organisation already has a package for %(year)d.", year=year)
        raise Conflict(message, fields={"year": message})
    package = SubmissionPackage(organisation_id=org.id, year=year,
                                created_by_id=getattr(actor, "id", None))
    version = PackageVersion(package=package, number=1, status=PackageStatus.DRAFT.value,
                             title=title, created_by_id=getattr(actor, "id", None))
    db.session.add_all([package, version])
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("This organisation already has a package for %(year)d.",
                         year=year)) from None
    package_workflow.record_creation(actor, version)
    audit.record(actor, AuditAction.CREATE, version, organisation_id=org.id,
                 after={"package": package.id, "year": year, "version": 1, "title": title},
                 summary=f"package {year} v1: {title}")
    db.session.commit()
    return version


def require_draft(version: PackageVersion) -> None:
    if version.status != PackageStatus.DRAFT.value:
        raise InvalidTransition(_("Only a draft version can be changed; start an amendment "
                                  "for a new version."))


def update_texts(actor: User | None, version: PackageVersion, title: str, findings: str,
                 recommendations: str) -> PackageVersion:
    """The draft's title and its overall findings and recommendations (commits once)."""
    require_draft(version)
    before = {"title": version.title, "findings": version.findings,
              "recommendations": version.recommendations}
    version.title = _check_title(title)
    version.findings = _check_text(findings, "findings")
    version.recommendations = _check_text(recommendations, "recommendations")
    audit.record(actor, AuditAction.UPDATE, version, before=before,
                 after={"title": version.title, "findings": version.findings,
                        "recommendations": version.recommendations},
                 organisation_id=version.package.organisation_id,
                 summary=f"package {version.package.year} v{version.number}")
    db.session.commit()
    return version


def _scorecard_runs(campaign: Campaign) -> list[ScorecardRun]:
    return list(db.session.scalars(select(ScorecardRun).where(
        ScorecardRun.campaign_id == campaign.id).order_by(ScorecardRun.number.desc())))


def survey_choices(version: PackageVersion) -> list[dict]:
    """The organisation's campaigns of the package's year that have a scorecard run, each
    with its runs (newest first) and whether the version already includes it."""
    package = version.package
    included = {s.campaign_id: s.scorecard_run_id for s in version.surveys}
    campaigns = db.session.scalars(select(Campaign).where(
        Campaign.organisation_id == package.organisation_id, Campaign.year == package.year)
        .order_by(Campaign.title))
    out = []
    for c in campaigns:
        runs = _scorecard_runs(c)
        if runs:
            out.append({"campaign": c, "runs": runs, "included_run": included.get(c.id)})
    return out


def add_survey(actor: User | None, version: PackageVersion, campaign_id: int | None,
               scorecard_run_id: int | None) -> PackageSurvey:
    """Include a campaign of the package's organisation and year with one of its scorecard
    runs (replacing the run chosen before for that campaign). Commits once."""
    require_draft(version)
    package = version.package
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else None
    if campaign is None or campaign.organisation_id != package.organisation_id \
            or campaign.year != package.year:
        message = _("Choose a survey of this organisation and year.")
        raise PackageFailed(message, fields={"campaign_id": message})
    run = db.session.get(ScorecardRun, scorecard_run_id) if scorecard_run_id else None
    if run is None or run.campaign_id != campaign.id:
        message = _("Choose one of this survey's scorecard runs.")
        raise PackageFailed(message, fields={"scorecard_run_id": message})
    entry = next((s for s in version.surveys if s.campaign_id == campaign.id), None)
    if entry is None:
        position = max((s.position for s in version.surveys), default=-1) + 1
        entry = PackageSurvey(version=version, position=position, campaign_id=campaign.id,
                              scorecard_run_id=run.id)
        db.session.add(entry)
    else:
        entry.scorecard_run_id = run.id
    audit.record(actor, AuditAction.UPDATE, version, organisation_id=package.organisation_id,
                 after={"campaign": campaign.id, "scorecard_run": run.id,
                        "scorecard_run_number": run.number},
                 summary=f"package {package.year} v{version.number}: survey {campaign.id}")
    db.session.commit()
    return entry


def remove_survey(actor: User | None, version: PackageVersion, campaign_id: int | None) -> None:
    """Leave a survey out of the draft (commits once)."""
    require_draft(version)
    entry = next((s for s in version.surveys if s.campaign_id == campaign_id), None)
    if entry is None:
        raise NotFound(_("This survey is not in the package."))
    version.surveys.remove(entry)
    audit.record(actor, AuditAction.UPDATE, version,
                 organisation_id=version.package.organisation_id,
                 before={"campaign": campaign_id, "scorecard_run": entry.scorecard_run_id},
                 summary=f"package {version.package.year} v{version.number}: survey removed")
    db.session.commit()


def agencies_of(version: PackageVersion) -> list[tuple[str, str]]:
    """(code, name) of the agencies the version's scorecard runs report, by name."""
    run_ids = [s.scorecard_run_id for s in version.surveys]
    if not run_ids:
        return []
    rows = db.session.execute(select(ScorecardRow.agency_code, func.max(ScorecardRow.agency_name))
                              .where(ScorecardRow.run_id.in_(run_ids),
                                     ScorecardRow.agency_code.is_not(None))
                              .group_by(ScorecardRow.agency_code))
    return sorted(((code, name) for code, name in rows), key=lambda r: (r[1], r[0]))


@dataclass(frozen=True)
class AgencyText:
    code: str
    findings: str = ""
    recommendations: str = ""


def set_agency_findings(actor: User | None, version: PackageVersion,
                        texts: list[AgencyText]) -> None:
    """The findings and recommendations to each agency of the draft (an agency left blank
    has none). Only agencies the surveys report are accepted. Commits once."""
    require_draft(version)
    names = dict(agencies_of(version))
    existing = {f.agency_code: f for f in version.agency_findings}
    changed = {}
    for t in texts:
        if t.code not in names:
            raise PackageFailed(_("Unknown agency %(code)s for this package.", code=t.code))
        findings = _check_text(t.findings, f"findings_{t.code}")
        recommendations = _check_text(t.recommendations, f"recommendations_{t.code}")
        row = existing.get(t.code)
        if not findings and not recommendations:
            if row is not None:
                version.agency_findings.remove(row)
                changed[t.code] = None
            continue
        if row is None:
            row = PackageFinding(version=version, agency_code=t.code, agency_name=names[t.code])
            db.session.add(row)
        if (row.findings, row.recommendations) != (findings, recommendations):
            changed[t.code] = {"findings": findings, "recommendations": recommendations}
        row.findings, row.recommendations = findings, recommendations
    if changed:
        audit.record(actor, AuditAction.UPDATE, version,
                     organisation_id=version.package.organisation_id,
                     after={"agency_findings": changed},
                     summary=f"package {version.package.year} v{version.number}: findings")
    db.session.commit()


def amend(actor: User | None, version: PackageVersion) -> PackageVersion:
    """A new draft version replacing ``version`` (returned or published), with its surveys
    and texts copied; the replaced version stays as it was. Commits once."""
    package = version.package
    if version.status not in {s.value for s in PACKAGE_AMENDABLE}:
        raise InvalidTransition(_("Only a returned or published version can be amended."))
    if latest_version(package).id != version.id:
        raise InvalidTransition(_("A newer version of this package already exists."))
    new = PackageVersion(package=package, number=version.number + 1,
                         status=PackageStatus.DRAFT.value, title=version.title,
                         findings=version.findings, recommendations=version.recommendations,
                         replaces_id=version.id, created_by_id=getattr(actor, "id", None))
    db.session.add(new)
    for s in version.surveys:
        db.session.add(PackageSurvey(version=new, position=s.position, campaign_id=s.campaign_id,
                                     scorecard_run_id=s.scorecard_run_id))
    for f in version.agency_findings:
        db.session.add(PackageFinding(version=new, agency_code=f.agency_code,
                                      agency_name=f.agency_name, findings=f.findings,
                                      recommendations=f.recommendations))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("Another amendment of this version was started at the same time."))\
            from None
    package_workflow.record_creation(actor, new)
    audit.record(actor, AuditAction.CREATE, new, organisation_id=package.organisation_id,
                 after={"package": package.id, "version": new.number, "replaces": version.id},
                 summary=f"package {package.year} v{new.number} amends v{version.number}")
    db.session.commit()
    return new


# ---- reading (pages) ---------------------------------------------------------------------------

def get_version(version_id: int) -> PackageVersion | None:
    return db.session.get(PackageVersion, version_id)


def latest_version(package: SubmissionPackage) -> PackageVersion:
    return package.versions[-1]


def list_versions(p: Principal) -> list[PackageVersion]:
    """The versions the principal may read: newest year first, then organisation, version."""
    query = (select(PackageVersion).join(SubmissionPackage).join(Organisation)
             .where(package_visibility(p))
             .order_by(SubmissionPackage.year.desc(), Organisation.name,
                       PackageVersion.number.desc()))
    return list(db.session.scalars(query))


# ---- the contract for the public pages and the API ---------------------------------------------

def published_versions(year: int | None = None, organisation_id: int | None = None,
                       agency_code: str | None = None, *,
                       current_only: bool = True) -> list[PackageVersion]:
    """Published versions (newest year first, then organisation name, newest version first);
    ``current_only``: only the newest published version of each package."""
    query = (select(PackageVersion).join(SubmissionPackage).join(Organisation)
             .where(PackageVersion.status == PackageStatus.PUBLISHED.value)
             .order_by(SubmissionPackage.year.desc(), Organisation.name,
                       PackageVersion.number.desc()))
    if year is not None:
        query = query.where(SubmissionPackage.year == year)
    if organisation_id is not None:
        query = query.where(SubmissionPackage.organisation_id == organisation_id)
    if agency_code is not None:
        query = query.where(PackageVersion.id.in_(
            select(PackageAgency.version_id).where(PackageAgency.agency_code == agency_code)))
    versions = list(db.session.scalars(query))
    return newest_per_package(versions) if current_only else versions


def newest_per_package(versions: list[PackageVersion]) -> list[PackageVersion]:
    """The first version of each package in ``versions`` (ordered newest first), in order."""
    seen: set[int] = set()
    out = []
    for v in versions:
        if v.package_id not in seen:
            seen.add(v.package_id)
            out.append(v)
    return out


def published_years() -> list[int]:
    """Years with a published version, newest first."""
    return list(db.session.scalars(
        select(SubmissionPackage.year).join(PackageVersion)
        .where(PackageVersion.status == PackageStatus.PUBLISHED.value)
        .distinct().order_by(SubmissionPackage.year.desc())))


def snapshot(version: PackageVersion) -> dict:
    """The frozen snapshot of a submitted (or later) version; for a version not yet
    submitted, the preview built now from its content (not stored)."""
    if version.snapshot is not None:
        return version.snapshot
    return package_snapshot.build_snapshot(version)


def canonical_bytes(version: PackageVersion) -> bytes:
    """The RFC 8785 bytes of the stored snapshot (their SHA-256 is ``version.digest``)."""
    if version.snapshot is None:
        raise InvalidTransition(_("This version is not submitted yet: it has no snapshot."))
    return canonicalize(version.snapshot)


def verify(version: PackageVersion) -> Verification:
    """Check the stored snapshot against its digest and against a recomputation."""
    return package_snapshot.verify(version)


def version_chain(version: PackageVersion) -> list[PackageVersion]:
    """Every version of the package, oldest first (each stays readable)."""
    return list(version.package.versions)


def superseded_by(version: PackageVersion) -> PackageVersion | None:
    """The newer published version of the same package, if there is one."""
    if version.status != PackageStatus.PUBLISHED.value:
        return None
    return next((v for v in version.package.versions if v.number > version.number
                 and v.status == PackageStatus.PUBLISHED.value), None)


def detail_page(version: PackageVersion, today) -> dict:
    """What a version's page shows (the template only displays it)."""
    from . import consolidation, deadlines

    frozen = version.snapshot is not None
    headline = consolidation.consolidate(version.package.year, [version]) if frozen else None
    names = dict(agencies_of(version)) if not frozen else {}
    texts = ({code: a for code, a in version.snapshot.get("agencies", {}).items()
              if a.get("findings") or a.get("recommendations")} if frozen else
             {f.agency_code: {"name": f.agency_name, "findings": f.findings,
                              "recommendations": f.recommendations}
              for f in version.agency_findings if f.agency_code in names})
    return {"version": version, "package": version.package, "frozen": frozen,
            "chain": version_chain(version), "superseded_by": superseded_by(version),
            "amended_by": next((v for v in version.package.versions
                                if v.replaces_id == version.id), None),
            "deadline": deadlines.deadline_state(version, today),
            "steps": package_workflow.next_steps(version),
            "headline": headline, "agency_texts": texts,
            "survey_keys": {s.campaign_id: package_snapshot.survey_key(s.campaign_id)
                            for s in version.surveys}}


def survey_report(version: PackageVersion, campaign_id: int) -> dict:
    """The frozen annual-report data of one survey of a submitted version."""
    if version.snapshot is None:
        raise InvalidTransition(_("This version is not submitted yet: its reports are made "
                                  "from the snapshot frozen on submission."))
    key = package_snapshot.survey_key(campaign_id)
    survey = next((s for s in version.snapshot.get("surveys", []) if s.get("key") == key), None)
    if survey is None or not survey.get("report"):
        raise NotFound(_("This survey is not in the package."))
    return survey["report"]
