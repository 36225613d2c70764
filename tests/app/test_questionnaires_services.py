"""Questionnaire services: versions, edits, validation, freezing when fieldwork starts."""

from __future__ import annotations

import builders
import pytest
from questionnaire_samples import sample_definition, xlsx_bytes
from sqlalchemy import select

from surveyapp.errors import InvalidTransition, NotFound, ValidationFailed
from surveyapp.models import AuditEvent, Questionnaire, QuestionnaireVersion
from surveyapp.models.codes import CampaignStatus, Role
from surveyapp.models.questionnaires import FrozenVersionChanged
from surveyapp.questionnaires import check_answers
from surveyapp.services import campaigns
from surveyapp.services import questionnaires as service


@pytest.fixture
def setup(app, db):
    with app.app_context():
        org = builders.make_org()
        user = builders.make_user("phantich", org, Role.ANALYST)
        agency = builders.make_agency()
        campaign = builders.make_campaign(org, agencies=[agency])
        yield db, user, campaign


def events(db, object_type="questionnaire_version") -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == object_type)
                                   .order_by(AuditEvent.id)))


def imported(user, campaign):
    return service.import_xlsform(user, campaign, xlsx_bytes(), "mau.xlsx").version


def test_import_creates_the_questionnaire_and_a_draft_version_with_its_digest(setup):
    db, user, campaign = setup
    result = service.import_xlsform(user, campaign, xlsx_bytes(), "mau.xlsx")
    assert (result.questions, result.choices, result.warnings) == (5, 7, [])
    version = db.session.get(QuestionnaireVersion, result.version_id)
    assert (version.number, version.status, version.source) == (1, "draft", "xlsform")
    assert version.document == sample_definition().to_dict()
    assert version.digest == service.digest_of(sample_definition().to_dict())
    assert len(version.digest) == 64
    q = db.session.get(Questionnaire, result.questionnaire_id)
    assert (q.campaign_id, q.organisation_id) == (campaign.id, campaign.organisation_id)
    assert [e.action for e in events(db)] == ["import"]
    assert events(db, "questionnaire")[0].action == "create"


def test_edits_change_a_draft_in_place_each_with_one_audit_event(setup):
    db, user, campaign = setup
    version = imported(user, campaign)
    digest = version.digest
    edited = service.add_section(user, version,
                                 service.SectionData("s_extra", "Phần thêm", "Extra"))
    edited = service.add_question(user, edited, "s_extra", service.QuestionData(
        name="age", type="integer", label_vi="Tuổi", label_en="Age", required=True,
        minimum=18, maximum=100, constraint=". >= 18",
        constraint_message_vi="Phải từ 18 tuổi", metadata={"profile": True}))
    edited = service.update_question(user, edited, "age", service.QuestionData(
        name="age_years", type="integer", label_vi="Tuổi (năm)", minimum=18, maximum=100))
    edited = service.move_item(user, edited, "s_extra", -1)
    edited = service.add_choice_list(user, edited, "yesno")
    edited = service.add_choice(user, edited, "yesno", service.ChoiceData("1", "Có", "Yes",
                                                                         {"tt01_points": 2}))
    edited = service.add_choice(user, edited, "yesno", service.ChoiceData("0", "Không", "No"))
    edited = service.move_choice(user, edited, "yesno", "0", -1)
    edited = service.update_choice(user, edited, "yesno", "1", service.ChoiceData("2", "Có ạ"))
    edited = service.rename_choice_list(user, edited, "channel", "kenh")
    edited = service.delete_item(user, edited, "thanks")
    assert edited.id == version.id and edited.number == 1 and edited.status == "draft"
    d = service.definition(edited)
    assert [g.name for g in d.children] == ["s_service", "s_extra", "s_overall"]
    age = d.find("age_years")
    assert (age.label, age.minimum, age.required) == ({"vi": "Tuổi (năm)"}, 18, False)
    assert [(c.code, c.label) for c in d.choice_list("yesno").choices] == [
        ("0", {"vi": "Không", "en": "No"}), ("2", {"vi": "Có ạ"})]
    assert d.find("channel").list_name == "kenh"
    assert d.find("thanks") is None
    assert edited.digest == service.digest_of(edited.document) != digest
    assert len(events(db)) == 1 + 11


def test_bad_edits_are_refused_with_messages_and_change_nothing(setup):
    db, user, campaign = setup
    version = imported(user, campaign)
    before = (version.digest, len(events(db)))
    with pytest.raises(ValidationFailed) as exc:
        service.add_question(user, version, "s_service", service.QuestionData(
            name="channel", type="text", label_vi="Trùng tên"))
    assert "channel" in exc.value.fields["name"]
    with pytest.raises(ValidationFailed) as exc:
        service.add_question(user, version, None, service.QuestionData(
            name="x", type="text", label_vi="X", relevant="${channel} = = 'a'"))
    assert "vị trí" in exc.value.fields["relevant"]
    for code in ("na", "dk", "co dau cach"):
        with pytest.raises(ValidationFailed) as exc:
            service.add_choice(user, version, "channel", service.ChoiceData(code, "X"))
        assert exc.value.fields["code"]
    with pytest.raises(ValidationFailed):
        service.add_question(user, version, None, service.QuestionData(name="y", type="matrix"))
    with pytest.raises(ValidationFailed) as exc:
        service.delete_choice_list(user, version, "likert5")
    assert "online_quality" in exc.value.message
    with pytest.raises(NotFound):
        service.update_question(user, version, "khong_co", service.QuestionData("z", "text"))
    with pytest.raises(NotFound):
        service.add_choice(user, version, "khong_co", service.ChoiceData("1", "Một"))
    db.session.refresh(version)
    assert (version.digest, len(events(db))) == before


def test_a_draft_with_errors_cannot_be_frozen(setup):
    db, user, campaign = setup
    version = service.create_blank(user, campaign)  # an empty section: no questions at all
    with pytest.raises(ValidationFailed) as exc:
        service.freeze_version(user, version)
    assert any("không có câu hỏi" in line for line in exc.value.errors)
    assert version.status == "draft"


def test_fielding_freezes_the_version_in_use_and_edits_then_make_a_new_draft(setup):
    db, user, campaign = setup
    v1 = imported(user, campaign)
    campaigns.transition_campaign(user, campaign, CampaignStatus.FIELDING.value)
    assert campaign.questionnaire_version_id == v1.id
    assert (v1.status, v1.frozen_by_id) == ("frozen", user.id) and v1.frozen_at is not None
    frozen_document, frozen_digest = v1.document, v1.digest

    edited = service.update_question(user, v1, "contacts", service.QuestionData(
        name="contacts", type="integer", label_vi="Số lần liên hệ", minimum=1, maximum=5))
    assert (edited.number, edited.status, edited.based_on_id) == (2, "draft", v1.id)
    db.session.expire_all()
    v1 = db.session.get(QuestionnaireVersion, v1.id)
    assert (v1.document, v1.digest, v1.status) == (frozen_document, frozen_digest, "frozen")
    assert campaign.questionnaire_version_id == v1.id  # still fielding version 1

    # Publishing the new draft switches the version in use; version 1 stays as it was.
    service.freeze_version(user, edited)
    assert campaign.questionnaire_version_id == edited.id
    assert db.session.get(QuestionnaireVersion, v1.id).digest == frozen_digest


def test_a_campaign_with_an_invalid_draft_does_not_start_fieldwork(setup):
    db, user, campaign = setup
    service.create_blank(user, campaign)
    with pytest.raises(InvalidTransition) as exc:
        campaigns.transition_campaign(user, campaign, CampaignStatus.FIELDING.value)
    assert "không có câu hỏi" in exc.value.message
    db.session.rollback()
    db.session.refresh(campaign)
    assert (campaign.status, campaign.questionnaire_version_id) == ("draft", None)


def test_resumed_fieldwork_keeps_the_version_in_use(setup):
    db, user, campaign = setup
    v1 = imported(user, campaign)
    campaigns.transition_campaign(user, campaign, "fielding")
    campaigns.transition_campaign(user, campaign, "closed")
    v2 = service.copy_version(user, v1)
    campaigns.transition_campaign(user, campaign, "fielding")
    assert campaign.questionnaire_version_id == v1.id and v2.status == "draft"


def test_a_response_stays_tied_to_its_version(setup):
    """Stand-in for issue 7's interview: it records questionnaire_version_id and its answers.
    After the questionnaire changes, the version it points at is exactly what it answered."""
    db, user, campaign = setup
    v1 = imported(user, campaign)
    campaigns.transition_campaign(user, campaign, "fielding")
    response = {"questionnaire_version_id": campaign.questionnaire_version_id,
                "digest": v1.digest,
                "answers": {"channel": "online", "online_quality": "4", "contacts": 3}}
    # The questionnaire changes: "contacts" gets a tighter range; the change is published.
    v2 = service.update_question(user, v1, "contacts", service.QuestionData(
        name="contacts", type="integer", label_vi="Số lần liên hệ", minimum=1, maximum=2))
    service.freeze_version(user, v2)
    db.session.expire_all()
    answered = db.session.get(QuestionnaireVersion, response["questionnaire_version_id"])
    assert answered.number == 1 and answered.digest == response["digest"]
    assert service.digest_of(answered.document) == response["digest"]
    assert check_answers(service.definition(answered), response["answers"]) == {}
    assert "contacts" in check_answers(service.definition(v2), response["answers"])


def test_the_database_layer_refuses_to_change_or_delete_a_frozen_version(setup):
    db, user, campaign = setup
    version = imported(user, campaign)
    service.freeze_version(user, version)
    version.document = {**version.document, "name": "doi_ten"}
    with pytest.raises(FrozenVersionChanged):
        db.session.flush()
    db.session.rollback()
    version = db.session.get(QuestionnaireVersion, version.id)
    db.session.delete(version)
    with pytest.raises(FrozenVersionChanged):
        db.session.flush()
    db.session.rollback()


def test_copy_within_the_organisation_only(setup):
    db, user, campaign = setup
    source = imported(user, campaign)
    other = builders.make_campaign(campaign.organisation, title="Khảo sát năm 2025", year=2025)
    copied = service.copy_version(user, source, other)
    assert copied.document == source.document and copied.based_on_id == source.id
    assert copied.questionnaire.campaign_id == other.id and copied.number == 1
    foreign = builders.make_campaign(builders.make_org("Tổ chức khác"), title="Khác")
    with pytest.raises(NotFound):
        service.copy_version(user, source, foreign)


def test_export_reads_back_to_the_same_document(setup):
    from surveyapp.questionnaires import read_xlsform

    db, user, campaign = setup
    version = imported(user, campaign)
    definition, warnings = read_xlsform(service.export_xlsform(version))
    assert definition.to_dict() == version.document and warnings == []
    assert service.export_filename(version) == "mau_v1.xlsx"


def test_the_compiled_version_is_cached_by_digest_and_checks_answers(setup):
    from surveyapp.questionnaires import QuestionnaireInvalid

    db, user, campaign = setup
    version = imported(user, campaign)
    first = service.compiled(version)
    assert service.compiled(version) is first
    refused = check_answers(first, {"channel": "desk", "online_quality": "4"})
    assert set(refused) == {"online_quality"} and refused["online_quality"].code == "not_relevant"
    assert check_answers(first, {"channel": "online", "online_quality": "na",
                                 "contacts": 3}) == {}
    with pytest.raises(QuestionnaireInvalid):
        service.compiled(service.create_blank(user, campaign))


def test_a_question_moves_to_another_section(setup):
    db, user, campaign = setup
    version = imported(user, campaign)
    data = service.QuestionData(name="contacts", type="integer", label_vi="Số lần liên hệ")
    edited = service.update_question(user, version, "contacts", data, section="s_overall")
    d = service.definition(edited)
    assert [q.name for q in d.find("s_overall").children] == ["overall", "thanks", "contacts"]
    assert service.parent_of(d, "contacts") == "s_overall"
    edited = service.update_question(user, edited, "contacts", data, section="")
    assert service.definition(edited).children[-1].name == "contacts"
    with pytest.raises(NotFound):
        service.update_question(user, edited, "contacts", data, section="khong_co")
