"""All models, one module per area; importing this package registers every table."""

from .audit import AuditEvent
from .campaigns import Campaign, campaign_agency, campaign_procedure
from .field import (
    Assignment,
    Interview,
    InterviewConflict,
    InterviewRespondent,
    InterviewVersion,
)
from .index_definitions import BandTable, CustomIndex, CustomIndexVersion
from .jobs import Job
from .notifications import Notification
from .organisations import Organisation, OrganisationType
from .quality import BackCheck, BackCheckDraw, RespondentKey
from .questionnaires import Questionnaire, QuestionnaireVersion
from .registry import (
    AdminUnit,
    AdminUnitSuccession,
    Agency,
    AgencySuccession,
    Procedure,
    procedure_agency,
)
from .reports import AnnualReport, AnnualReportFile
from .sampling_plans import SamplingCase, SamplingPlan
from .scorecards import ScorecardComparison, ScorecardRow, ScorecardRun
from .submissions import (
    PackageAgency,
    PackageFinding,
    PackageSurvey,
    PackageTransition,
    PackageVersion,
    SubmissionDeadline,
    SubmissionPackage,
)
from .users import ApiToken, Membership, User
from .weighting import UnitWeight, WeightRun

__all__ = [
    "AdminUnit", "AdminUnitSuccession", "Agency", "AgencySuccession", "ApiToken", "AuditEvent",
    "Campaign", "Job", "Membership", "Organisation", "OrganisationType", "Procedure", "User",
    "Questionnaire", "QuestionnaireVersion",
    "SamplingCase", "SamplingPlan",
    "Assignment", "Interview", "InterviewConflict", "InterviewRespondent", "InterviewVersion",
    "campaign_agency", "campaign_procedure", "procedure_agency",
    "BackCheck", "BackCheckDraw", "RespondentKey",
    "UnitWeight", "WeightRun",
    "ScorecardRow", "ScorecardRun",
    "BandTable", "CustomIndex", "CustomIndexVersion", "ScorecardComparison",
    "AnnualReport", "AnnualReportFile",
    "Notification", "PackageAgency", "PackageFinding", "PackageSurvey", "PackageTransition",
    "PackageVersion", "SubmissionDeadline", "SubmissionPackage",
]
