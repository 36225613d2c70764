"""The demo: a living system in one command (`flask --app wsgi demo`), idempotent.

Survey year 2024 on the structure Decision 104/2024 was written for (districts, Thủ Đức
city, wards), the July-2025 succession records into the two-tier structure (wards and
communes directly under the merged city), the organisations that survey, realistic HCMC
agencies and procedures, one survey campaign and a user for each role.

Codes are illustrative (statistics-office-style unit codes, portal-style agency codes);
they are demo data, not an authoritative list. Later issues add their own step to
``DEMO_STEPS`` (a questionnaire, a sample, interviews); every step must be idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy import update as sa_update

from ..extensions import db
from ..importers.tabular import Table
from ..models import Campaign, Organisation, OrganisationType, User
from ..models.codes import CampaignStatus, OrgTypeCode, Role
from . import accounts, campaigns, organisations, registry

OLD_FROM, OLD_TO, NEW_FROM = date(2021, 1, 1), date(2025, 6, 30), date(2025, 7, 1)
DEPT_MERGE = date(2025, 3, 1)

CITY_FRONT = "Ủy ban MTTQ Việt Nam TP. Hồ Chí Minh"
Q1_FRONT = "Ủy ban MTTQ Việt Nam Quận 1"
TD_FRONT = "Ủy ban MTTQ Việt Nam TP. Thủ Đức"
WOMEN = "Hội Liên hiệp Phụ nữ TP. Hồ Chí Minh"
OFFICE = "Văn phòng UBND Thành phố Hồ Chí Minh"
CAMPAIGN_TITLE = ("Khảo sát sự hài lòng của người dân đối với sự phục vụ của cơ quan hành chính "
                  "nhà nước năm 2024")

# (code, name, level, parent, valid_from, valid_to)
UNITS = [
    ("79", "Thành phố Hồ Chí Minh", "province", "", date(1976, 7, 2), OLD_TO),
    ("760", "Quận 1", "district", "79", OLD_FROM, OLD_TO),
    ("761", "Quận 12", "district", "79", OLD_FROM, OLD_TO),
    ("764", "Quận Gò Vấp", "district", "79", OLD_FROM, OLD_TO),
    ("769", "Thành phố Thủ Đức", "district", "79", OLD_FROM, OLD_TO),
    ("770", "Quận 3", "district", "79", OLD_FROM, OLD_TO),
    ("784", "Huyện Hóc Môn", "district", "79", OLD_FROM, OLD_TO),
    ("26734", "Phường Tân Định", "commune", "760", OLD_FROM, OLD_TO),
    ("26737", "Phường Đa Kao", "commune", "760", OLD_FROM, OLD_TO),
    ("26740", "Phường Bến Nghé", "commune", "760", OLD_FROM, OLD_TO),
    ("26743", "Phường Bến Thành", "commune", "760", OLD_FROM, OLD_TO),
    ("26758", "Phường Phạm Ngũ Lão", "commune", "760", OLD_FROM, OLD_TO),
    ("26800", "Phường Hiệp Bình Chánh", "commune", "769", OLD_FROM, OLD_TO),
    ("26803", "Phường Hiệp Bình Phước", "commune", "769", OLD_FROM, OLD_TO),
    ("26806", "Phường Linh Đông", "commune", "769", OLD_FROM, OLD_TO),
    ("26884", "Phường 10 (Gò Vấp)", "commune", "764", OLD_FROM, OLD_TO),
    ("27577", "Xã Bà Điểm", "commune", "784", OLD_FROM, OLD_TO),
    # After 1 July 2025: the merged city, wards and communes directly under it.
    ("79", "Thành phố Hồ Chí Minh (sau sáp nhập)", "province", "", NEW_FROM, None),
    ("26734", "Phường Tân Định", "commune", "79", NEW_FROM, None),
    ("26740", "Phường Sài Gòn", "commune", "79", NEW_FROM, None),
    ("26743", "Phường Bến Thành", "commune", "79", NEW_FROM, None),
    ("26800", "Phường Hiệp Bình", "commune", "79", NEW_FROM, None),
    ("26884", "Phường An Nhơn", "commune", "79", NEW_FROM, None),
    ("27577", "Xã Bà Điểm", "commune", "79", NEW_FROM, None),
]

# (old code, new code, share of the old unit, effective date)
UNIT_SUCCESSIONS = [
    ("26734", "26734", 1.0), ("26737", "26734", 0.4), ("26737", "26740", 0.6),
    ("26740", "26740", 1.0), ("26743", "26743", 1.0), ("26758", "26743", 1.0),
    ("26800", "26800", 1.0), ("26803", "26800", 1.0), ("26806", "26800", 0.5),
    ("26884", "26884", 1.0), ("27577", "27577", 1.0),
    # The district level is abolished: its population goes to the new wards.
    ("760", "26740", 0.5), ("760", "26734", 0.2), ("760", "26743", 0.3),
    ("769", "26800", 1.0), ("764", "26884", 1.0), ("784", "27577", 1.0),
    ("79", "79", 1.0),
]

# (code, portal code, name, kind, unit code, valid_from, valid_to)
AGENCIES = [
    ("SO-TP", "H29.20", "Sở Tư pháp", "department", "79", OLD_FROM, None),
    ("SO-XD", "H29.18", "Sở Xây dựng", "department", "79", OLD_FROM, None),
    ("SO-KHDT", "H29.10", "Sở Kế hoạch và Đầu tư", "department", "79", OLD_FROM,
     date(2025, 2, 28)),
    ("SO-TC", "H29.12", "Sở Tài chính", "department", "79", OLD_FROM, date(2025, 2, 28)),
    ("SO-TC", "H29.12", "Sở Tài chính", "department", "79", DEPT_MERGE, None),
    ("SO-TNMT", "H29.16", "Sở Tài nguyên và Môi trường", "department", "79", OLD_FROM,
     date(2025, 2, 28)),
    ("SO-NNMT", "H29.16", "Sở Nông nghiệp và Môi trường", "department", "79", DEPT_MERGE, None),
    ("SO-LDTBXH", "H29.09", "Sở Lao động - Thương binh và Xã hội", "department", "79", OLD_FROM,
     date(2025, 2, 28)),
    ("SO-NV", "H29.08", "Sở Nội vụ", "department", "79", OLD_FROM, None),
    ("UBND-Q1", "H29.26", "UBND Quận 1", "district_ubnd", "760", OLD_FROM, OLD_TO),
    ("UBND-TD", "H29.48", "UBND Thành phố Thủ Đức", "district_ubnd", "769", OLD_FROM, OLD_TO),
    ("UBND-GV", "H29.32", "UBND Quận Gò Vấp", "district_ubnd", "764", OLD_FROM, OLD_TO),
    ("UBND-HM", "H29.44", "UBND Huyện Hóc Môn", "district_ubnd", "784", OLD_FROM, OLD_TO),
    ("UBND-P-BN", "H29.26.01", "UBND Phường Bến Nghé", "commune_ubnd", "26740", OLD_FROM, OLD_TO),
    ("UBND-P-BT", "H29.26.02", "UBND Phường Bến Thành", "commune_ubnd", "26743", OLD_FROM, OLD_TO),
    ("UBND-P-HBC", "H29.48.05", "UBND Phường Hiệp Bình Chánh", "commune_ubnd", "26800", OLD_FROM,
     OLD_TO),
    ("UBND-P-SG", "H29.101", "UBND Phường Sài Gòn", "commune_ubnd", "26740", NEW_FROM, None),
    ("UBND-P-BT2", "H29.102", "UBND Phường Bến Thành", "commune_ubnd", "26743", NEW_FROM, None),
    ("UBND-P-HB", "H29.131", "UBND Phường Hiệp Bình", "commune_ubnd", "26800", NEW_FROM, None),
]

AGENCY_SUCCESSIONS = [
    ("SO-KHDT", "SO-TC", 1.0, DEPT_MERGE), ("SO-TC", "SO-TC", 1.0, DEPT_MERGE),
    ("SO-TNMT", "SO-NNMT", 1.0, DEPT_MERGE), ("SO-LDTBXH", "SO-NV", 1.0, DEPT_MERGE),
    ("UBND-P-BN", "UBND-P-SG", 1.0, NEW_FROM), ("UBND-P-BT", "UBND-P-BT2", 1.0, NEW_FROM),
    ("UBND-P-HBC", "UBND-P-HB", 1.0, NEW_FROM),
    ("UBND-Q1", "UBND-P-SG", 0.5, NEW_FROM), ("UBND-Q1", "UBND-P-BT2", 0.5, NEW_FROM),
    ("UBND-TD", "UBND-P-HB", 1.0, NEW_FROM),
]

# (code, name, field, agency codes)
PROCEDURES = [
    ("1.001193", "Đăng ký khai sinh", "Hộ tịch", "UBND-P-BN;UBND-P-BT;UBND-P-HBC"),
    ("1.000894", "Đăng ký kết hôn", "Hộ tịch", "UBND-P-BN;UBND-P-BT;UBND-P-HBC"),
    ("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực",
     "UBND-P-BN;UBND-P-BT;UBND-P-HBC"),
    ("2.000488", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "Lý lịch tư pháp", "SO-TP"),
    ("1.009974", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "Hoạt động xây dựng",
     "UBND-Q1;UBND-TD;UBND-GV;UBND-HM"),
    ("1.010007", "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
     "Hoạt động xây dựng", "SO-XD"),
    ("2.001610", "Đăng ký thành lập doanh nghiệp tư nhân",
     "Thành lập và hoạt động doanh nghiệp", "SO-KHDT"),
    ("2.000575", "Đăng ký thành lập hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh",
     "UBND-Q1;UBND-TD;UBND-GV;UBND-HM"),
]

ORGANISATIONS = [
    (CITY_FRONT, "MTTQ TP.HCM", OrgTypeCode.FRONT_CITY, None),
    (Q1_FRONT, "MTTQ Quận 1", OrgTypeCode.FRONT_DISTRICT, CITY_FRONT),
    (TD_FRONT, "MTTQ TP. Thủ Đức", OrgTypeCode.FRONT_DISTRICT, CITY_FRONT),
    (WOMEN, "Hội LHPN TP.HCM", OrgTypeCode.SOCIO_POLITICAL, None),
    (OFFICE, "VP UBND TP", OrgTypeCode.UBND_OFFICE, None),
]

# (login, full name, password, role, organisation)
USERS = [
    ("admin", "Quản trị hệ thống", "demo-admin-2024", Role.SYSTEM_ADMIN, CITY_FRONT),
    ("mttq.admin", "Nguyễn Thị Lan", "demo-orgadmin-2024", Role.ORG_ADMIN, CITY_FRONT),
    ("phantich", "Trần Văn Minh", "demo-analyst-2024", Role.ANALYST, CITY_FRONT),
    ("giamsat", "Lê Hoàng Nam", "demo-supervisor-2024", Role.SUPERVISOR, CITY_FRONT),
    ("dieutravien", "Phạm Thị Hồng", "demo-interviewer-2024", Role.INTERVIEWER, CITY_FRONT),
    ("vpubnd", "Võ Quốc Bảo", "demo-reviewer-2024", Role.OFFICE_REVIEWER, OFFICE),
    ("phunu.admin", "Đặng Thu Hà", "demo-women-2024", Role.ORG_ADMIN, WOMEN),
]
# One person in several organisations: the analyst also works for the Quận 1 committee.
EXTRA_ROLES = [("phantich", Role.ANALYST, Q1_FRONT), ("giamsat", Role.SUPERVISOR, TD_FRONT)]


@dataclass
class DemoResult:
    created: bool = False
    credentials: list[tuple[str, str, str, str]] = field(default_factory=list)


def _table(headers: list[str], rows: list[tuple]) -> Table:
    return Table(headers, [dict(zip(headers, row, strict=True), _line=i)
                           for i, row in enumerate(rows, start=2)])


def load_registry(result: DemoResult) -> None:
    """Units, successions, agencies and procedures, through the registry import service."""
    parts = [
        ("units", [(c, n, lv, p, vf, vt or "") for c, n, lv, p, vf, vt in UNITS]),
        ("unit_successions", [(o, n, s, NEW_FROM) for o, n, s in UNIT_SUCCESSIONS]),
        ("agencies", [(c, pc, n, k, u, vf, vt or "") for c, pc, n, k, u, vf, vt in AGENCIES]),
        ("agency_successions", AGENCY_SUCCESSIONS),
        ("procedures", PROCEDURES),
    ]
    for kind, rows in parts:
        counts = registry.apply_import(None, kind, _table(registry.COLUMNS[kind], rows))
        db.session.commit()
        result.created = result.created or counts["created"] > 0


def load_organisations(result: DemoResult) -> None:
    types = {t.code: t for t in db.session.scalars(select(OrganisationType))}
    for name, short, type_code, parent in ORGANISATIONS:
        if db.session.scalar(select(Organisation).where(Organisation.name == name)) is None:
            parent_org = _org(parent) if parent else None
            organisations.create_organisation(None, name, short, types[type_code].id,
                                              parent_org.id if parent_org else None)
            result.created = True


def _org(name: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def load_users(result: DemoResult) -> None:
    for login, full_name, password, role, org_name in USERS:
        if db.session.scalar(select(User).where(User.login == login)) is None:
            accounts.create_user(None, _org(org_name), login, full_name, password, role)
            result.created = True
        result.credentials.append((login, password, role.value, org_name))
    for login, role, org_name in EXTRA_ROLES:
        user = accounts.get_user_by_login(login)
        org = _org(org_name)
        if not any(m.organisation_id == org.id and m.role == role for m in user.memberships):
            accounts.add_membership(None, org, login, role)
            result.created = True


def load_campaign(result: DemoResult) -> None:
    org = _org(CITY_FRONT)
    if db.session.scalar(select(Campaign).where(Campaign.title == CAMPAIGN_TITLE,
                                                Campaign.organisation_id == org.id)):
        return
    agency_ids = [a for a, _name in campaigns.agency_choices(2024)]
    procedure_ids = [p for p, _name in campaigns.procedure_choices()]
    campaign = campaigns.create_campaign(None, org, campaigns.CampaignData(
        title=CAMPAIGN_TITLE, year=2024, fieldwork_start=date(2024, 9, 3),
        fieldwork_end=date(2024, 10, 31),
        description=("Điều tra xã hội học theo Quyết định 104/2024/QĐ-UBND: người dân đã thực "
                     "hiện thủ tục hành chính tại các sở, UBND quận, huyện, TP. Thủ Đức và "
                     "UBND phường, xã, thị trấn."),
        agency_ids=agency_ids, procedure_ids=procedure_ids))
    campaigns.transition_campaign(None, campaign, CampaignStatus.FIELDING.value)
    result.created = True


def load_questionnaire(result: DemoResult) -> None:
    """The demo campaign asks the standard questionnaire: version 1 from the template, frozen
    and in use (the campaign is fielding). Skipped once the campaign has a questionnaire."""
    from . import questionnaires

    campaign = db.session.scalar(select(Campaign).where(
        Campaign.title == CAMPAIGN_TITLE, Campaign.organisation_id == _org(CITY_FRONT).id))
    if campaign is None or questionnaires.questionnaire_of(campaign) is not None:
        return
    version = questionnaires.create_from_template(None, campaign)
    if campaign.status == CampaignStatus.FIELDING and campaign.questionnaire_version_id is None:
        questionnaires.freeze_version(None, version)  # fielding: it becomes the version in use
    result.created = True


# ---- the sample (issue 5): dossiers settled in 2024 by five agencies -------------------

SAMPLING_PLAN_TITLE = "Mẫu người dân có hồ sơ đã giải quyết năm 2024"
# (agency, dossiers in the frame, procedure, ward of the applicants)
FRAME_AGENCIES = [
    ("Sở Tư pháp", 180, "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam"),
    ("Sở Xây dựng", 60, "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II"),
    ("UBND Quận 1", 150, "Đăng ký thành lập hộ kinh doanh"),
    ("UBND Thành phố Thủ Đức", 130, "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ"),
    ("UBND Phường Bến Nghé", 80, "Đăng ký khai sinh"),
]
FRAME_WARDS = ["Phường Tân Định", "Phường Đa Kao", "Phường Bến Nghé", "Phường Bến Thành",
               "Phường Phạm Ngũ Lão", "Phường Hiệp Bình Chánh", "Phường Linh Đông",
               "Phường 10 (Gò Vấp)", "Xã Bà Điểm"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Ngọc", "Minh", "Thanh", "Đức", "Thu", "Quốc", "Hoài"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Linh",
         "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Yến"]
STREETS = ["Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Pasteur", "Điện Biên Phủ", "Võ Văn Ngân",
           "Kha Vạn Cân", "Quang Trung", "Phan Văn Hớn"]
FRAME_COLUMNS = ["Mã hồ sơ", "Cơ quan giải quyết", "Thủ tục", "Người nộp", "Điện thoại",
                 "Địa chỉ", "Ngày trả kết quả"]


def demo_frame_csv(year: int = 2024) -> bytes:
    """The demo frame as UTF-8 CSV: one row per dossier settled in ``year`` (invented people)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FRAME_COLUMNS)
    k = 0
    for a, (agency, count, procedure) in enumerate(FRAME_AGENCIES):
        for i in range(count):
            k += 1
            name = (f"{FAMILY[(k * 7) % len(FAMILY)]} {MIDDLE[(k * 3) % len(MIDDLE)]} "
                    f"{GIVEN[(k * 5) % len(GIVEN)]}")
            ward = FRAME_WARDS[(k * 11) % len(FRAME_WARDS)]
            day = date(year, 1, 2).toordinal() + (k * 37) % 360
            writer.writerow([f"{year}-{a + 1:02d}-{i + 1:05d}", agency, procedure, name,
                             f"09{(k * 7919) % 100_000_000:08d}",
                             f"{(k * 13) % 250 + 1} {STREETS[k % len(STREETS)]}, {ward}",
                             date.fromordinal(day).strftime("%d/%m/%Y")])
    return buffer.getvalue().encode("utf-8")


def load_sampling_plan(result: DemoResult) -> None:
    """A locked sampling plan for the demo campaign: agencies as strata, power allocation,
    simple random sampling of dossiers with 3 reserves per agency. Skipped once present."""
    from . import sampling_plans

    campaign = db.session.scalar(select(Campaign).where(
        Campaign.title == CAMPAIGN_TITLE, Campaign.organisation_id == _org(CITY_FRONT).id))
    if campaign is None or sampling_plans.list_plans(campaign):
        return
    _locked_plan(campaign, SAMPLING_PLAN_TITLE, 2024, 20240903)
    result.created = True


def _locked_plan(campaign: Campaign, title: str, year: int, seed: int) -> None:
    """The demo design on ``year``'s frame, drawn with ``seed`` and locked."""
    from . import sampling_plans

    plan = sampling_plans.create_plan(None, campaign, title)
    sampling_plans.upload_frame(None, plan, f"ho-so-da-giai-quyet-{year}.csv",
                                demo_frame_csv(year))
    sampling_plans.set_design(None, plan, sampling_plans.DesignData(
        id_column="Mã hồ sơ", label_columns=["Người nộp", "Điện thoại", "Địa chỉ", "Thủ tục"],
        stratum_column="Cơ quan giải quyết", size_column=None, psu_column=None, method="srs",
        psu_method=None, n_per_psu=None, allocation_method="power", power_exponent=0.5,
        minimum=8, maximum=None, n=80, reserve=3, seed=seed))
    sampling_plans.draw_sample(None, plan)
    sampling_plans.lock_plan(None, plan)


def load_field_work(result: DemoResult) -> None:
    """The demo sample assigned, interviewed and reviewed (see demo_field)."""
    from .demo_field import load_field_work as load

    load(result, CAMPAIGN_TITLE, _org(CITY_FRONT).id)


def load_weights(result: DemoResult) -> None:
    """A weighting run of the demo interviews: classes by agency, raking to the frame's
    dossiers per agency and to age group (see weighting.demo_spec). Skipped once one exists."""
    from .weighting import load_demo_weights

    campaign = db.session.scalar(select(Campaign).where(
        Campaign.title == CAMPAIGN_TITLE, Campaign.organisation_id == _org(CITY_FRONT).id))
    if campaign is not None and load_demo_weights(campaign) is not None:
        result.created = True


def load_scorecard(result: DemoResult) -> None:
    """A SIPAS scorecard run of the demo's weighting run (CV rule, cells of at least 5
    respondents; see scorecards.load_demo_scorecard). Skipped once one exists."""
    from .scorecards import load_demo_scorecard

    campaign = db.session.scalar(select(Campaign).where(
        Campaign.title == CAMPAIGN_TITLE, Campaign.organisation_id == _org(CITY_FRONT).id))
    if campaign is not None and load_demo_scorecard(campaign) is not None:
        result.created = True


# ---- the same survey a year earlier (issue 10): trends across years ------------------------

PREVIOUS_YEAR = 2023
PREVIOUS_TITLE = ("Khảo sát sự hài lòng của người dân đối với sự phục vụ của cơ quan hành chính "
                  "nhà nước năm 2023")
# Citizens were a little less satisfied in 2023 (the 2024 moods are demo_field.AGENCY_MOOD).
PREVIOUS_MOOD = (4.0, 3.5, 3.8, 3.4, 4.2)


def load_previous_year(result: DemoResult) -> None:
    """The 2023 round of the same survey by the same organisation: the standard
    questionnaire, the same design on 2023's dossiers, field work with its own answers and
    dates, a weighting run; then closed. The explorer draws trend lines across the two
    years. Skipped once the campaign exists."""
    from . import questionnaires
    from .demo_field import load_field_work as field_work
    from .weighting import load_demo_weights

    org = _org(CITY_FRONT)
    if db.session.scalar(select(Campaign).where(Campaign.title == PREVIOUS_TITLE,
                                                Campaign.organisation_id == org.id)):
        return
    campaign = campaigns.create_campaign(None, org, campaigns.CampaignData(
        title=PREVIOUS_TITLE, year=PREVIOUS_YEAR, fieldwork_start=date(2023, 9, 5),
        fieldwork_end=date(2023, 10, 31),
        description="Vòng khảo sát năm 2023, cùng phiếu hỏi và cùng thiết kế mẫu.",
        agency_ids=[a for a, _name in campaigns.agency_choices(PREVIOUS_YEAR)],
        procedure_ids=[p for p, _name in campaigns.procedure_choices()]))
    campaigns.transition_campaign(None, campaign, CampaignStatus.FIELDING.value)
    version = questionnaires.create_from_template(None, campaign)
    if campaign.questionnaire_version_id is None:
        questionnaires.freeze_version(None, version)
    _locked_plan(campaign, "Mẫu người dân có hồ sơ đã giải quyết năm 2023", PREVIOUS_YEAR,
                 20230905)
    field_work(result, PREVIOUS_TITLE, org.id, seed=20230906, moods=PREVIOUS_MOOD,
               year=PREVIOUS_YEAR)
    load_demo_weights(campaign)
    campaigns.transition_campaign(None, campaign, CampaignStatus.CLOSED.value)
    result.created = True


def load_previous_scorecard(result: DemoResult) -> None:
    """The 2023 round's SIPAS scorecard run (as the 2024 one; see
    scorecards.load_demo_scorecard). It runs before the 2024 scorecard, which is then
    compared with it agency by agency (issue 9). Skipped once the 2023 round has one."""
    from .scorecards import load_demo_scorecard

    campaign = db.session.scalar(select(Campaign).where(
        Campaign.title == PREVIOUS_TITLE, Campaign.organisation_id == _org(CITY_FRONT).id))
    if campaign is not None and load_demo_scorecard(campaign) is not None:
        result.created = True


PACKAGE_TITLE = "Kết quả khảo sát sự hài lòng năm 2024 của Ủy ban MTTQ Việt Nam TP. Hồ Chí Minh"


def load_package(result: DemoResult) -> None:
    """A draft submission package (issue 11) of the city Front for 2024 with the demo survey
    and its scorecard run, ready to go through the workflow. Skipped once one exists."""
    from ..models import ScorecardRun, SubmissionPackage
    from . import submissions

    org = _org(CITY_FRONT)
    campaign = db.session.scalar(select(Campaign).where(
        Campaign.title == CAMPAIGN_TITLE, Campaign.organisation_id == org.id))
    if campaign is None or db.session.scalar(select(SubmissionPackage.id).where(
            SubmissionPackage.organisation_id == org.id,
            SubmissionPackage.year == campaign.year)):
        return
    run = db.session.scalar(select(ScorecardRun).where(ScorecardRun.campaign_id == campaign.id)
                            .order_by(ScorecardRun.number.desc()))
    if run is None:
        return
    version = submissions.create_package(None, org, campaign.year, PACKAGE_TITLE)
    submissions.add_survey(None, version, campaign.id, run.id)
    submissions.update_texts(None, version, PACKAGE_TITLE,
                             "Người dân đánh giá cao thái độ của công chức; thời gian chờ tại "
                             "bộ phận một cửa còn dài.",
                             "Bố trí thêm quầy tiếp nhận vào giờ cao điểm; niêm yết đầy đủ "
                             "phí, lệ phí.")
    result.created = True


PREVIOUS_PACKAGE_TITLE = ("Kết quả khảo sát sự hài lòng năm 2023 của Ủy ban MTTQ Việt Nam "
                          "TP. Hồ Chí Minh")
# Who takes each step of the 2023 package: the analyst prepares it, the head approves and
# submits it, the office receives, accepts and publishes it.
PREVIOUS_PACKAGE_STEPS = [("internal_review", "phantich"), ("approved", "mttq.admin"),
                          ("submitted", "mttq.admin"), ("received", "vpubnd"),
                          ("accepted", "vpubnd"), ("published", "vpubnd")]


def load_published_previous_year(result: DemoResult) -> None:
    """The 2023 round's package, taken the whole way to published by the demo's people, so
    that a new installation's public results page and published API show a real package
    (the 2024 one stays a draft to walk through). Its notifications are history: read.
    Skipped once the city Front has a 2023 package."""
    from ..models import Notification, ScorecardRun, SubmissionPackage
    from . import package_workflow, submissions

    org = _org(CITY_FRONT)
    campaign = db.session.scalar(select(Campaign).where(
        Campaign.title == PREVIOUS_TITLE, Campaign.organisation_id == org.id))
    if campaign is None or db.session.scalar(select(SubmissionPackage.id).where(
            SubmissionPackage.organisation_id == org.id,
            SubmissionPackage.year == PREVIOUS_YEAR)):
        return
    run = db.session.scalar(select(ScorecardRun).where(ScorecardRun.campaign_id == campaign.id)
                            .order_by(ScorecardRun.number.desc()))
    if run is None:
        return
    analyst = accounts.get_user_by_login("phantich")
    version = submissions.create_package(analyst, org, PREVIOUS_YEAR, PREVIOUS_PACKAGE_TITLE)
    submissions.add_survey(analyst, version, campaign.id, run.id)
    submissions.update_texts(analyst, version, PREVIOUS_PACKAGE_TITLE,
                             "Người dân hài lòng nhất với thái độ phục vụ của công chức; "
                             "việc niêm yết thủ tục và thời gian giải quyết hồ sơ còn chưa "
                             "đạt kỳ vọng ở một số cơ quan.",
                             "Công khai đầy đủ thủ tục, phí, lệ phí tại bộ phận một cửa; "
                             "nhắn tin báo trước khi hồ sơ đến hạn trả kết quả.")
    for target, login in PREVIOUS_PACKAGE_STEPS:
        package_workflow.transition(accounts.get_user_by_login(login), version, target)
    db.session.execute(sa_update(Notification)
                       .where(Notification.package_version_id == version.id)
                       .values(read_at=version.published_at))
    db.session.commit()
    result.created = True


# Later issues append their own idempotent steps (questionnaire, sample, interviews).
DEMO_STEPS: list[Callable[[DemoResult], None]] = [
    load_registry, load_organisations, load_users, load_campaign, load_questionnaire,
    load_sampling_plan, load_field_work, load_weights, load_previous_year,
    load_previous_scorecard, load_scorecard, load_package, load_published_previous_year,
]


def load_demo() -> DemoResult:
    """Run every demo step; running it again changes nothing."""
    result = DemoResult()
    for step in DEMO_STEPS:
        step(result)
    return result
