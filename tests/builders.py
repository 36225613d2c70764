"""Plain builder functions for test data (as CTFd's gen_*); call inside an app context."""

from __future__ import annotations

import hashlib

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from surveyapp.auth.passwords import hash_password
from surveyapp.extensions import db
from surveyapp.models import (
    AdminUnit,
    Agency,
    ApiToken,
    Campaign,
    Job,
    Membership,
    Organisation,
    OrganisationType,
    Procedure,
    SamplingPlan,
    User,
)
from surveyapp.models.codes import CampaignStatus, JobStatus, OrgTypeCode, Role
from surveyapp.services.tokens import create_token

PASSWORD = "password-123"


def app_config(database_url: str, **extra) -> dict:
    """The factory mapping used by the tests (inline jobs, CSRF off unless a test turns it on)."""
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret",
            "JOB_RUNNER": "inline", "WTF_CSRF_ENABLED": False,
            # Cheap argon2 for tests only (hundreds of sign-ins); production keeps the defaults.
            "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, **extra}
_HASH: dict[str, str] = {}  # hash the shared password once


def password_hash(password: str = PASSWORD) -> str:
    if password not in _HASH:
        _HASH[password] = hash_password(password)
    return _HASH[password]


def org_type(code: OrgTypeCode = OrgTypeCode.FRONT_CITY) -> OrganisationType:
    return db.session.scalar(select(OrganisationType).where(OrganisationType.code == code))


def make_org(name: str = "Ủy ban MTTQ thử nghiệm", code: OrgTypeCode = OrgTypeCode.FRONT_CITY,
             ) -> Organisation:
    org = Organisation(name=name, short_name=name[:20], type=org_type(code))
    db.session.add(org)
    db.session.commit()
    return org


def make_user(login: str, org: Organisation | None = None, *roles: Role,
              full_name: str | None = None) -> User:
    user = User(login=login, full_name=full_name or f"Người dùng {login}",
                password_hash=password_hash())
    db.session.add(user)
    for role in roles:
        db.session.add(Membership(user=user, organisation_id=org.id, role=role.value))
    db.session.commit()
    return user


def make_unit(code: str = "760", name: str = "Quận 1", level: str = "district",
              valid_from: date = date(2021, 1, 1), valid_to: date | None = None) -> AdminUnit:
    unit = AdminUnit(code=code, name=name, level=level, valid_from=valid_from, valid_to=valid_to)
    db.session.add(unit)
    db.session.commit()
    return unit


def make_agency(code: str = "SO-TP", name: str = "Sở Tư pháp", kind: str = "department",
                valid_from: date = date(2021, 1, 1)) -> Agency:
    agency = Agency(code=code, name=name, kind=kind, valid_from=valid_from)
    db.session.add(agency)
    db.session.commit()
    return agency


def make_procedure(code: str = "2.000488", name: str = "Cấp Phiếu lý lịch tư pháp",
                   agencies: list[Agency] | None = None) -> Procedure:
    procedure = Procedure(code=code, name=name, field="Lý lịch tư pháp",
                          agencies=agencies or [])
    db.session.add(procedure)
    db.session.commit()
    return procedure


def make_campaign(org: Organisation, title: str = "Khảo sát sự hài lòng năm 2024",
                  year: int = 2024, status: CampaignStatus = CampaignStatus.DRAFT,
                  agencies: list[Agency] | None = None) -> Campaign:
    campaign = Campaign(organisation_id=org.id, title=title, year=year, status=status.value,
                        fieldwork_start=date(year, 9, 1), fieldwork_end=date(year, 10, 31),
                        agencies=agencies or [])
    db.session.add(campaign)
    db.session.commit()
    return campaign


def make_job(owner: User, kind: str = "registry_import",
             status: JobStatus = JobStatus.DONE) -> Job:
    job = Job(kind=kind, owner_id=owner.id, status=status.value, progress=100, params={},
              result={"rows": 0})
    db.session.add(job)
    db.session.commit()
    return job


def make_sampling_plan(campaign: Campaign, title: str = "Mẫu hồ sơ năm 2024",
                       version: int | None = None) -> SamplingPlan:
    """An empty draft sampling plan of ``campaign`` (tests upload frames through the service)."""
    from sqlalchemy import func

    if version is None:
        version = (db.session.scalar(select(func.max(SamplingPlan.version)).where(
            SamplingPlan.campaign_id == campaign.id)) or 0) + 1
    plan = SamplingPlan(campaign_id=campaign.id, title=title, version=version,
                        label_columns=[], allocation_params={}, reserve=0)
    db.session.add(plan)
    db.session.commit()
    return plan


def make_questionnaire_version(campaign: Campaign, status: str = "draft"):
    """A new version of ``campaign``'s questionnaire: a section "s1" with the single-choice
    question "channel" on the choice list "channel" (codes "desk", "online")."""
    from surveyapp.models import Questionnaire, QuestionnaireVersion
    from surveyapp.models._types import utcnow
    from surveyapp.questionnaires import Choice, ChoiceList, Group, Question
    from surveyapp.questionnaires import Questionnaire as Definition
    from surveyapp.services.questionnaires import digest_of

    q = db.session.scalar(select(Questionnaire).where(Questionnaire.campaign_id == campaign.id))
    if q is None:
        q = Questionnaire(organisation_id=campaign.organisation_id, campaign_id=campaign.id,
                          title=campaign.title)
        db.session.add(q)
        db.session.flush()
    document = Definition(
        name="mau", title={"vi": "Bảng hỏi thử", "en": "Test questionnaire"},
        children=[Group("s1", {"vi": "Phần 1", "en": "Part 1"}, children=[
            Question("channel", "select_one", {"vi": "Kênh nộp hồ sơ", "en": "Channel"},
                     list_name="channel")])],
        choice_lists=[ChoiceList("channel", [Choice("desk", {"vi": "Tại bộ phận một cửa"}),
                                             Choice("online", {"vi": "Trực tuyến"})])],
    ).to_dict()
    version = QuestionnaireVersion(
        questionnaire_id=q.id, number=len(q.versions) + 1, status=status, document=document,
        digest=digest_of(document), source="blank",
        frozen_at=utcnow() if status == "frozen" else None)
    db.session.add(version)
    db.session.commit()
    return version


# The roles a person can hold in a surveying organisation (the office reviewer sits apart).
ORG_ROLES = (Role.ORG_ADMIN, Role.ANALYST, Role.SUPERVISOR, Role.INTERVIEWER)


@dataclass
class World:
    """Two surveying organisations (own = A, foreign = B), the UBND office, a user per role.

    Holds ids and logins only, so it stays usable outside the app context that built it.
    """

    org_a: int
    org_b: int
    office: int
    logins: dict[str, str] = field(default_factory=dict)  # role value -> login (roles in A)
    objects: dict[str, dict[str, int]] = field(default_factory=dict)  # context -> key -> id


def make_world() -> World:
    org_a = make_org("Ủy ban MTTQ Việt Nam TP. Hồ Chí Minh (thử)")
    org_b = make_org("Hội Liên hiệp Phụ nữ (thử)", OrgTypeCode.SOCIO_POLITICAL)
    office = make_org("Văn phòng UBND Thành phố (thử)", OrgTypeCode.UBND_OFFICE)
    world = World(org_a.id, org_b.id, office.id)
    users = {"system_admin": make_user("sysadmin", org_a, Role.SYSTEM_ADMIN)}
    for role in ORG_ROLES:
        users[role.value] = make_user(f"a.{role.value}", org_a, role)
    users["office_reviewer"] = make_user("office", office, Role.OFFICE_REVIEWER)
    world.logins = {role: user.login for role, user in users.items()}
    b_admin = make_user("b.org_admin", org_b, Role.ORG_ADMIN)
    agency = make_agency()
    make_procedure(agencies=[agency])
    own = {"campaign": make_campaign(org_a, agencies=[agency]),
           "org": org_a,
           "membership": db.session.scalar(select(Membership).where(
               Membership.user_id == users["interviewer"].id)),
           "token": create_token(None, "A", ["campaigns:read"], user=users["interviewer"])[0],
           "job": make_job(users["interviewer"])}
    own["sampling_plan"] = make_sampling_plan(own["campaign"])
    foreign = {"campaign": make_campaign(org_b, title="Khảo sát của tổ chức khác",
                                         agencies=[agency]),
               "org": org_b,
               "membership": db.session.scalar(select(Membership).where(
                   Membership.user_id == b_admin.id)),
               "token": create_token(None, "B", ["campaigns:read"], user=b_admin)[0],
               "job": make_job(b_admin)}
    foreign["sampling_plan"] = make_sampling_plan(foreign["campaign"])
    own["questionnaire_version"] = make_questionnaire_version(own["campaign"])
    foreign["questionnaire_version"] = make_questionnaire_version(foreign["campaign"])
    # Field collection (issue 7): an assignment of a case and a submitted interview.
    own["assignment"], own["interview"] = make_field_objects(
        own["sampling_plan"], own["questionnaire_version"], users["interviewer"], "a1")
    foreign["assignment"], foreign["interview"] = make_field_objects(
        foreign["sampling_plan"], foreign["questionnaire_version"], b_admin, "b1")
    # Weighting (issue 9): a stored run of each campaign.
    own["weight_run"] = make_weight_run(own["campaign"], own["sampling_plan"])
    foreign["weight_run"] = make_weight_run(foreign["campaign"], foreign["sampling_plan"])
    own["scorecard_run"] = make_scorecard_run(own["weight_run"])
    foreign["scorecard_run"] = make_scorecard_run(foreign["weight_run"])
    # Annual reports (issue 10): a stored version of each campaign's report.
    own["annual_report"] = make_annual_report(own["scorecard_run"])
    foreign["annual_report"] = make_annual_report(foreign["scorecard_run"])
    own["custom_index"] = make_custom_index(own["campaign"])  # custom indices (issue 9)
    foreign["custom_index"] = make_custom_index(foreign["campaign"])
    # Submission packages (issue 11): a submitted (frozen) version of each organisation, and a
    # notification for the own interviewer and for the foreign administrator.
    own["package_version"] = make_submitted_package(own["campaign"], own["scorecard_run"])
    foreign["package_version"] = make_submitted_package(foreign["campaign"],
                                                        foreign["scorecard_run"])
    own["notification"] = make_notification(users["interviewer"], own["package_version"])
    foreign["notification"] = make_notification(b_admin, foreign["package_version"])
    world.objects = {context: {key: obj.id for key, obj in objs.items()}
                     for context, objs in (("own", own), ("foreign", foreign))}
    for context, objs in (("own", own), ("foreign", foreign)):
        world.objects[context]["interview_uuid"] = objs["interview"].uuid
    return world


def make_weight_run(campaign, plan: SamplingPlan):
    """A stored weighting run (no unit weights) of ``campaign``, as a page target."""
    from surveyapp.models import WeightRun

    run = WeightRun(campaign_id=campaign.id, number=1, spec={"classes": "stratum",
                                                              "method": "none"},
                    plan_id=plan.id, plan_version=plan.version, input_rows=0,
                    input_sha256="0" * 64, diagnostics={}, status="done")
    db.session.add(run)
    db.session.commit()
    return run


def make_scorecard_run(weight_run):
    """A stored scorecard run (no rows) of ``weight_run``'s campaign, as a page target."""
    from surveyapp.models import ScorecardRun

    run = ScorecardRun(campaign_id=weight_run.campaign_id, number=1, weight_run_id=weight_run.id,
                       index_key="sipas", method_version="sipas-top2/v1", confidence_level=0.95,
                       min_n=10, rule="auto", seed=1, status="done")
    db.session.add(run)
    db.session.commit()
    return run


def make_custom_index(campaign):
    """A stored custom index of ``campaign``'s organisation with one version (one dimension
    of one item), as a page target."""
    from surveyapp.models import CustomIndex, CustomIndexVersion

    index = CustomIndex(organisation_id=campaign.organisation_id)
    db.session.add(index)
    db.session.flush()
    db.session.add(CustomIndexVersion(index_id=index.id, number=1, name="Chỉ số thử", tree={
        "format": 1, "dimensions": [{"id": "dim#1", "label": "Nhóm 1", "weight": 1.0, "items": [
            {"question": "q1", "label": "Câu 1", "weight": 1.0, "scoring": "mean", "lo": 1.0,
             "hi": 5.0, "codes": ["1", "2", "3", "4", "5"]}]}]}))
    db.session.commit()
    return index


def make_annual_report(scorecard_run):
    """A stored annual report version (one small HTML file) of the run's campaign."""
    from surveyapp.models import AnnualReport, AnnualReportFile

    page = b"<!doctype html><title>report</title>"
    report = AnnualReport(campaign_id=scorecard_run.campaign_id, number=1,
                          scorecard_run_id=scorecard_run.id, locale="vi", data_sha256="0" * 64)
    report.files = [AnnualReportFile(format="html", sha256=hashlib.sha256(page).hexdigest(),
                                     size=len(page), content=page)]
    db.session.add(report)
    db.session.commit()
    return report


def make_field_objects(plan: SamplingPlan, version, interviewer: User, tag: str):
    """A case of ``plan`` assigned to ``interviewer`` and its submitted interview."""
    from surveyapp.models import Assignment, Interview, InterviewVersion, SamplingCase

    case = SamplingCase(plan_id=plan.id, position=0, unit_id=f"HS-{tag}", data={}, pik=0.5,
                        weight=2.0)
    db.session.add(case)
    db.session.flush()
    assignment = Assignment(campaign_id=plan.campaign_id, case_id=case.id,
                            interviewer_id=interviewer.id, status="submitted", comment="")
    db.session.add(assignment)
    db.session.flush()
    interview = Interview(uuid=f"00000000-0000-4000-8000-0000000000{tag}",
                          campaign_id=plan.campaign_id, assignment_id=assignment.id,
                          interviewer_id=interviewer.id, version=1, receipt="0" * 64,
                          disposition="refusal", status="submitted")
    db.session.add(interview)
    db.session.flush()
    db.session.add(InterviewVersion(interview_id=interview.id, number=1,
                                    questionnaire_version_id=version.id, disposition="refusal",
                                    answers={}, calculated={}, paradata={},
                                    content_sha256="0" * 64))
    db.session.commit()
    return assignment, interview


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))


def make_submitted_package(campaign, scorecard_run):
    """A package of ``campaign``'s organisation and year, submitted (frozen) with the run."""
    from surveyapp.services import package_workflow, submissions

    version = submissions.create_package(None, campaign.organisation, campaign.year,
                                         f"Gói kết quả {campaign.year}")
    submissions.add_survey(None, version, campaign.id, scorecard_run.id)
    for status in ("internal_review", "approved", "submitted"):
        package_workflow.transition(None, version, status)
    return version


def make_notification(user: User, version):
    from surveyapp.models import Notification

    n = Notification(user_id=user.id, kind="package.submitted", package_version_id=version.id,
                     params={"title": version.title, "number": version.number})
    db.session.add(n)
    db.session.commit()
    return n
