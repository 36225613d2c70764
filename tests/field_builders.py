"""Builders for field-collection tests (issue 7): a fielding campaign with a frozen
questionnaire that has skip logic, a locked sample with reserves, people and assignments.

Plain functions, called inside an app context; shared by tests/app and tests/browser.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass, field

import sqlalchemy as sa
from builders import make_campaign, make_org, make_user
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Assignment,
    Questionnaire,
    QuestionnaireVersion,
    SamplingCase,
    SamplingPlan,
)
from surveyapp.models._types import utcnow
from surveyapp.models.codes import CampaignStatus, Role
from surveyapp.questionnaires import Choice, ChoiceList, Group, Question
from surveyapp.questionnaires import Questionnaire as Definition
from surveyapp.services.questionnaires import digest_of


def skip_logic_document() -> dict:
    """Two sections; "channel" is asked only of those who visited; "age" in 18..100."""
    return Definition(
        name="field_test", title={"vi": "Phiếu khảo sát thử", "en": "Test survey"},
        children=[
            Group("s1", {"vi": "Phần 1: Lần đến gần nhất", "en": "Part 1"}, children=[
                Question("visited", "select_one", {"vi": "Ông/bà đã đến bộ phận một cửa chưa?",
                                                   "en": "Did you visit the one-stop desk?"},
                         list_name="yesno", required=True),
                Question("channel", "select_one", {"vi": "Kênh nộp hồ sơ", "en": "Channel"},
                         list_name="channel", required=True, relevant="${visited} = 'yes'"),
            ]),
            Group("s2", {"vi": "Phần 2: Thông tin chung", "en": "Part 2"}, children=[
                Question("age", "integer", {"vi": "Tuổi", "en": "Age"}, required=True,
                         minimum=18, maximum=100, allow_dk=True),
                Question("note_text", "text", {"vi": "Ý kiến khác", "en": "Other comments"}),
            ]),
        ],
        choice_lists=[
            ChoiceList("yesno", [Choice("yes", {"vi": "Có", "en": "Yes"}),
                                 Choice("no", {"vi": "Không", "en": "No"})]),
            ChoiceList("channel", [Choice("desk", {"vi": "Tại bộ phận một cửa", "en": "Desk"}),
                                   Choice("online", {"vi": "Trực tuyến", "en": "Online"})]),
        ],
    ).to_dict()


@dataclass
class FieldWorld:
    """Ids and logins of a fielding campaign ready for interviews."""

    org: int
    campaign: int
    version: int
    plan: int
    interviewer: str
    interviewer_id: int
    other_interviewer: str
    other_interviewer_id: int
    supervisor: str
    supervisor_id: int
    cases: list[int] = field(default_factory=list)  # selected cases, in order
    reserves: list[int] = field(default_factory=list)
    assignments: list[int] = field(default_factory=list)  # one per selected case, interviewer
    foreign_interviewer: str = ""
    walk_in_campaign: int | None = None
    walk_in_version: int | None = None


def frozen_version(campaign, document: dict | None = None) -> QuestionnaireVersion:
    document = document or skip_logic_document()
    q = db.session.scalar(select(Questionnaire).where(Questionnaire.campaign_id == campaign.id))
    if q is None:
        q = Questionnaire(organisation_id=campaign.organisation_id, campaign_id=campaign.id,
                          title=campaign.title)
        db.session.add(q)
        db.session.flush()
    version = QuestionnaireVersion(questionnaire_id=q.id, number=len(q.versions) + 1,
                                   status="frozen", document=document,
                                   digest=digest_of(document), source="blank",
                                   frozen_at=utcnow())
    db.session.add(version)
    db.session.flush()
    campaign.questionnaire_version_id = version.id
    db.session.commit()
    return version


def locked_plan(campaign, n: int, reserves_per_stratum: int = 1,
                strata: tuple[str, ...] = ("A",)) -> SamplingPlan:
    """A locked plan with ``n`` selected cases per stratum (SRS weight 10) and reserves."""
    plan = SamplingPlan(campaign_id=campaign.id, title="Mẫu khóa", version=1, status="locked",
                        label_columns=["name"], allocation_params={}, reserve=reserves_per_stratum,
                        locked_at=utcnow())
    db.session.add(plan)
    db.session.flush()
    position = 0
    for stratum in strata:
        for i in range(n + reserves_per_stratum):
            reserve = i >= n
            db.session.add(SamplingCase(
                plan_id=plan.id, position=position, unit_id=f"{stratum}-{i + 1:04d}",
                data={"name": f"Hồ sơ {stratum}-{i + 1}", "address": f"{i + 1} Lê Lợi"},
                stratum=stratum, pik=0.1, weight=10.0,
                reserve_rank=(i - n + 1) if reserve else None,
                status="reserve" if reserve else "selected"))
            position += 1
    db.session.commit()
    return plan


def make_field_world(n_cases: int = 4, prefix: str = "f") -> FieldWorld:
    org = make_org(f"Ủy ban MTTQ phường thử ({prefix})")
    other_org = make_org(f"Hội Nông dân thử ({prefix})")
    interviewer = make_user(f"{prefix}.dtv1", org, Role.INTERVIEWER, full_name="Nguyễn Văn An")
    other = make_user(f"{prefix}.dtv2", org, Role.INTERVIEWER, full_name="Trần Thị Bình")
    supervisor = make_user(f"{prefix}.gsv", org, Role.SUPERVISOR, full_name="Lê Văn Cường")
    foreign = make_user(f"{prefix}.dtv_b", other_org, Role.INTERVIEWER)
    campaign = make_campaign(org, title="Khảo sát hài lòng (thực địa)",
                             status=CampaignStatus.FIELDING)
    version = frozen_version(campaign)
    plan = locked_plan(campaign, n_cases)
    cases = [c for c in plan.cases if c.status == "selected"]
    world = FieldWorld(org.id, campaign.id, version.id, plan.id, interviewer.login,
                       interviewer.id, other.login, other.id, supervisor.login, supervisor.id,
                       [c.id for c in cases],
                       [c.id for c in plan.cases if c.status == "reserve"],
                       foreign_interviewer=foreign.login)
    for case in cases:
        a = Assignment(campaign_id=campaign.id, case_id=case.id, interviewer_id=interviewer.id,
                       supervisor_id=supervisor.id, status="assigned", comment="")
        db.session.add(a)
        db.session.flush()
        world.assignments.append(a.id)
    walk_in = make_campaign(org, title="Khảo sát tại quầy (không chọn mẫu)",
                            status=CampaignStatus.FIELDING)
    world.walk_in_campaign = walk_in.id
    world.walk_in_version = frozen_version(walk_in).id
    db.session.commit()
    return world


def payload(world: FieldWorld, assignment_index: int | None = 0, **changes) -> dict:
    """A valid complete interview for the world's first assignment (or a walk-in)."""
    data = {
        "uuid": str(uuid_module.uuid4()),
        "assignment_id": world.assignments[assignment_index]
        if assignment_index is not None else None,
        "questionnaire_version_id": world.version if assignment_index is not None
        else world.walk_in_version,
        "started_at": "2024-09-02T08:30:00+07:00",
        "finished_at": "2024-09-02T08:45:10+07:00",
        "disposition": "complete",
        "answers": {"visited": "yes", "channel": "desk", "age": 42},
        "respondent": {"name": "Phạm Thị Dung", "phone": "0909123456"},
        "paradata": {"user_agent": "pytest", "edits": 3, "duration_s": 910},
    }
    data.update(changes)
    return data


def delete_committed_world(world: FieldWorld) -> None:
    """Remove everything the test committed (database-level cascades do the rest)."""
    org_ids = list(db.session.scalars(sa.text(
        "SELECT organisation_id FROM membership WHERE user_id IN "
        "(SELECT id FROM \"user\" WHERE login LIKE :p)"),
        {"p": world.interviewer.split(".")[0] + ".%"}))
    with db.engine.begin() as conn:
        user_ids = [r[0] for r in conn.execute(sa.text(
            "SELECT id FROM \"user\" WHERE login LIKE :p"),
            {"p": world.interviewer.split(".")[0] + ".%"})]
        conn.execute(sa.text("DELETE FROM audit_event WHERE organisation_id = ANY(:o) "
                             "OR actor_id = ANY(:u)"), {"o": org_ids, "u": user_ids})
        conn.execute(sa.text("DELETE FROM campaign WHERE organisation_id = ANY(:o)"),
                     {"o": org_ids})
        conn.execute(sa.text("DELETE FROM api_token WHERE user_id = ANY(:u)"), {"u": user_ids})
        conn.execute(sa.text("DELETE FROM membership WHERE user_id = ANY(:u)"), {"u": user_ids})
        conn.execute(sa.text("DELETE FROM \"user\" WHERE id = ANY(:u)"), {"u": user_ids})
        conn.execute(sa.text("DELETE FROM organisation WHERE id = ANY(:o)"), {"o": org_ids})
    db.session.remove()


def committed_field_world(app, n_cases: int = 2):
    """A field world committed through the app's own engine (not the tests' rolled-back
    connection), with an interviewer's API token: yields (world, raw token), then deletes
    what was committed. For tests of real commits and concurrency (PostgreSQL)."""
    from surveyapp.models import User
    from surveyapp.services.tokens import create_token

    prefix = f"c{uuid_module.uuid4().hex[:6]}"
    with app.app_context():
        world = make_field_world(n_cases=n_cases, prefix=prefix)
        user = db.session.scalar(select(User).where(User.login == world.interviewer))
        raw = create_token(None, "máy tính bảng", ["interviews:write"], user=user)[1]
        db.session.remove()
    yield world, raw
    with app.app_context():
        delete_committed_world(world)


def field_principal(user_id: int | None):
    """The principal of a user (all their memberships), as a signed-in request has it."""
    from surveyapp.auth.policy import principal_for_user
    from surveyapp.models import User

    return None if user_id is None else principal_for_user(db.session.get(User, user_id))
