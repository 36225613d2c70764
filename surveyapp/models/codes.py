"""Every code list of the app in one place: roles, statuses, kinds (stored as strings)."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    SYSTEM_ADMIN = "system_admin"
    ORG_ADMIN = "org_admin"
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    INTERVIEWER = "interviewer"
    OFFICE_REVIEWER = "office_reviewer"


ROLE_LABELS = {
    Role.SYSTEM_ADMIN: _l("System administrator"),
    Role.ORG_ADMIN: _l("Organisation administrator"),
    Role.ANALYST: _l("Analyst"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.INTERVIEWER: _l("Interviewer"),
    Role.OFFICE_REVIEWER: _l("UBND office reviewer"),
}


class OrgTypeCode(enum.StrEnum):
    """Seeded organisation types; more can be added as rows of organisation_type."""

    FRONT_CITY = "front_city"
    FRONT_DISTRICT = "front_district"
    SOCIO_POLITICAL = "socio_political"
    PROFESSIONAL = "professional"
    OTHER = "other"
    UBND_OFFICE = "ubnd_office"


class UnitLevel(enum.StrEnum):
    """Levels of the administrative-unit hierarchy (the district level ended 1 July 2025)."""

    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


UNIT_LEVEL_LABELS = {
    UnitLevel.PROVINCE: _l("Province / city"),
    UnitLevel.DISTRICT: _l("District"),
    UnitLevel.COMMUNE: _l("Ward / commune"),
}


class AgencyKind(enum.StrEnum):
    DEPARTMENT = "department"
    DISTRICT_UBND = "district_ubnd"
    COMMUNE_UBND = "commune_ubnd"
    OTHER = "other"


AGENCY_KIND_LABELS = {
    AgencyKind.DEPARTMENT: _l("Department / board"),
    AgencyKind.DISTRICT_UBND: _l("District People's Committee"),
    AgencyKind.COMMUNE_UBND: _l("Ward / commune People's Committee"),
    AgencyKind.OTHER: _l("Other agency"),
}


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    FIELDING = "fielding"
    CLOSED = "closed"
    ANALYSED = "analysed"
    SUBMITTED = "submitted"


CAMPAIGN_STATUS_LABELS = {
    CampaignStatus.DRAFT: _l("Draft"),
    CampaignStatus.FIELDING: _l("Fielding"),
    CampaignStatus.CLOSED: _l("Closed"),
    CampaignStatus.ANALYSED: _l("Analysed"),
    CampaignStatus.SUBMITTED: _l("Submitted"),
}

# The workflow: which status may follow which (anything else is refused by the service).
CAMPAIGN_TRANSITIONS: dict[CampaignStatus, tuple[CampaignStatus, ...]] = {
    CampaignStatus.DRAFT: (CampaignStatus.FIELDING,),
    CampaignStatus.FIELDING: (CampaignStatus.CLOSED,),
    CampaignStatus.CLOSED: (CampaignStatus.FIELDING, CampaignStatus.ANALYSED),
    CampaignStatus.ANALYSED: (CampaignStatus.CLOSED, CampaignStatus.SUBMITTED),
    CampaignStatus.SUBMITTED: (),
}


class QuestionnaireVersionStatus(enum.StrEnum):
    DRAFT = "draft"
    FROZEN = "frozen"


QUESTIONNAIRE_VERSION_STATUS_LABELS = {
    QuestionnaireVersionStatus.DRAFT: _l("Draft"),
    QuestionnaireVersionStatus.FROZEN: _l("Frozen"),
}


class SamplingPlanStatus(enum.StrEnum):
    """A sampling plan: a draft, drawn (sample stored, still changeable), locked (final)."""

    DRAFT = "draft"
    DRAWN = "drawn"
    LOCKED = "locked"


SAMPLING_PLAN_STATUS_LABELS = {
    SamplingPlanStatus.DRAFT: _l("Draft"),
    SamplingPlanStatus.DRAWN: _l("Drawn"),
    SamplingPlanStatus.LOCKED: _l("Locked"),
}


class CaseStatus(enum.StrEnum):
    """A case of a drawn sample: to be interviewed, or a reserve kept for substitution."""

    SELECTED = "selected"
    RESERVE = "reserve"


CASE_STATUS_LABELS = {
    CaseStatus.SELECTED: _l("In the sample"),
    CaseStatus.RESERVE: _l("Reserve"),
}


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_STATUS_LABELS = {
    JobStatus.QUEUED: _l("Queued"),
    JobStatus.RUNNING: _l("Running"),
    JobStatus.DONE: _l("Done"),
    JobStatus.FAILED: _l("Failed"),
}


class TokenScope(enum.StrEnum):
    """What an API token may do; a later issue adds its own scope here."""

    CAMPAIGNS_READ = "campaigns:read"
    REGISTRY_READ = "registry:read"
    INTERVIEWS_WRITE = "interviews:write"
    RESULTS_READ = "results:read"
    JOBS_READ = "jobs:read"
    SCORECARDS_READ = "scorecards:read"  # issue 11: a campaign's scorecard runs


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    STATE = "state"
    LOGIN = "login"
    IMPORT = "import"
    EXPORT = "export"  # row-level data left the system (the analysis extract)


class Disposition(enum.StrEnum):
    """AAPOR Standard Definitions final disposition of a case (stored as these strings)."""

    COMPLETE = "complete"  # 1.1
    PARTIAL = "partial"  # 1.2
    REFUSAL = "refusal"  # 2.1
    NON_CONTACT = "non_contact"  # 2.2
    OTHER_NON_INTERVIEW = "other_non_interview"  # 2.3
    UNKNOWN_ELIGIBILITY = "unknown_eligibility"  # 3
    NOT_ELIGIBLE = "not_eligible"  # 4


DISPOSITION_LABELS = {
    Disposition.COMPLETE: _l("Complete interview"),
    Disposition.PARTIAL: _l("Partial interview"),
    Disposition.REFUSAL: _l("Refusal"),
    Disposition.NON_CONTACT: _l("Non-contact"),
    Disposition.OTHER_NON_INTERVIEW: _l("Other non-interview"),
    Disposition.UNKNOWN_ELIGIBILITY: _l("Unknown eligibility"),
    Disposition.NOT_ELIGIBLE: _l("Not eligible"),
}
# Dispositions after which a reserve case may replace the unit (non-response of an eligible or
# possibly eligible unit); a completed or partial interview is never replaced.
REPLACEABLE_DISPOSITIONS = (Disposition.REFUSAL, Disposition.NON_CONTACT,
                            Disposition.OTHER_NON_INTERVIEW, Disposition.UNKNOWN_ELIGIBILITY)


class AssignmentStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    REPLACED = "replaced"  # a non-response replaced by a reserve case


ASSIGNMENT_STATUS_LABELS = {
    AssignmentStatus.ASSIGNED: _l("To do"),
    AssignmentStatus.SUBMITTED: _l("Submitted"),
    AssignmentStatus.RETURNED: _l("Returned for correction"),
    AssignmentStatus.APPROVED: _l("Approved"),
    AssignmentStatus.REJECTED: _l("Rejected"),
    AssignmentStatus.REPLACED: _l("Replaced by a reserve"),
}


class ReviewStatus(enum.StrEnum):
    """An interview's place in the supervisor's review loop (the API's ``status``)."""

    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    CONFLICT = "conflict"


REVIEW_STATUS_LABELS = {
    ReviewStatus.SUBMITTED: _l("Waiting for review"),
    ReviewStatus.RETURNED: _l("Returned for correction"),
    ReviewStatus.APPROVED: _l("Approved"),
    ReviewStatus.REJECTED: _l("Rejected"),
    ReviewStatus.CONFLICT: _l("Conflicting submission"),
}


class ConflictStatus(enum.StrEnum):
    OPEN = "open"
    KEPT_STORED = "kept_stored"  # the stored version stays; the other payload stays on file
    ACCEPTED = "accepted"  # the other payload became a new version


class BackCheckOutcome(enum.StrEnum):
    """What re-contacting a respondent of a completed interview found (issue 8)."""

    CONFIRMED = "confirmed"  # the interview took place as recorded
    NOT_CONFIRMED = "not_confirmed"  # the respondent denies it, or the answers differ
    UNREACHABLE = "unreachable"  # could not reach the respondent


BACK_CHECK_OUTCOME_LABELS = {
    BackCheckOutcome.CONFIRMED: _l("Confirmed"),
    BackCheckOutcome.NOT_CONFIRMED: _l("Not confirmed"),
    BackCheckOutcome.UNREACHABLE: _l("Could not reach"),
}

# Automatic quality-control flags of an interview (surveyapp/quality/flags.py), in display order.
QC_FLAG_LABELS = {
    "too_short": _l("Too short"),
    "straight_lining": _l("Straight-lining"),
    "duplicate": _l("Duplicate respondent"),
    "inconsistent": _l("Out of range or inconsistent"),
}


class PackageStatus(enum.StrEnum):
    """A submission package version's place in the workflow (issue 11)."""

    DRAFT = "draft"
    INTERNAL_REVIEW = "internal_review"
    APPROVED = "approved"  # by the organisation's head
    SUBMITTED = "submitted"  # frozen: snapshot and digest stored
    RECEIVED = "received"  # at the office
    RETURNED = "returned"  # with the office's comments; an amendment may follow
    ACCEPTED = "accepted"
    PUBLISHED = "published"


PACKAGE_STATUS_LABELS = {
    PackageStatus.DRAFT: _l("Draft"),
    PackageStatus.INTERNAL_REVIEW: _l("Internal review"),
    PackageStatus.APPROVED: _l("Approved by the head"),
    PackageStatus.SUBMITTED: _l("Submitted"),
    PackageStatus.RECEIVED: _l("Received by the office"),
    PackageStatus.RETURNED: _l("Returned with comments"),
    PackageStatus.ACCEPTED: _l("Accepted"),
    PackageStatus.PUBLISHED: _l("Published"),
}

# The workflow: which status may follow which (who may do each is in auth/policy.py).
PACKAGE_TRANSITIONS: dict[PackageStatus, tuple[PackageStatus, ...]] = {
    PackageStatus.DRAFT: (PackageStatus.INTERNAL_REVIEW,),
    PackageStatus.INTERNAL_REVIEW: (PackageStatus.DRAFT, PackageStatus.APPROVED),
    PackageStatus.APPROVED: (PackageStatus.DRAFT, PackageStatus.SUBMITTED),
    PackageStatus.SUBMITTED: (PackageStatus.RECEIVED,),
    PackageStatus.RECEIVED: (PackageStatus.RETURNED, PackageStatus.ACCEPTED),
    PackageStatus.RETURNED: (),
    PackageStatus.ACCEPTED: (PackageStatus.PUBLISHED,),
    PackageStatus.PUBLISHED: (),
}
# From submission on, a version's snapshot is frozen and the office may read it.
PACKAGE_FROZEN = (PackageStatus.SUBMITTED, PackageStatus.RECEIVED, PackageStatus.RETURNED,
                  PackageStatus.ACCEPTED, PackageStatus.PUBLISHED)
# A new version (amendment) may replace a version in these statuses.
PACKAGE_AMENDABLE = (PackageStatus.RETURNED, PackageStatus.PUBLISHED)

# Calibration methods of a weighting run and reliability rules of a scorecard run (the forms'
# choices, and the labels the annual report prints).
WEIGHT_METHOD_LABELS = {
    "none": _l("No calibration"),
    "poststratify": _l("Post-stratification"),
    "rake": _l("Raking"),
    "linear": _l("Linear calibration (GREG)"),
}
SCORECARD_RULE_LABELS = {
    "auto": _l("Automatic (NCHS for shares, CV otherwise)"),
    "nchs": _l("NCHS rule for proportions"),
    "cv": _l("Coefficient of variation"),
}
