"""Survey campaigns: create, edit, list, and move through the status workflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.policy import Principal, campaign_visibility
from ..errors import InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..models import Agency, Campaign, Organisation, Procedure, User
from ..models.codes import CAMPAIGN_STATUS_LABELS, CAMPAIGN_TRANSITIONS, AuditAction, CampaignStatus
from . import audit, questionnaires


@dataclass(frozen=True)
class CampaignData:
    """What a form (or the demo) gives to create or edit a campaign."""

    title: str
    year: int
    fieldwork_start: date | None
    fieldwork_end: date | None
    description: str
    agency_ids: list[int]
    procedure_ids: list[int]


def list_campaigns(p: Principal) -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).where(campaign_visibility(p))
                                   .order_by(Campaign.year.desc(), Campaign.title)))


def _check(data: CampaignData) -> None:
    if data.fieldwork_start and data.fieldwork_end and data.fieldwork_end < data.fieldwork_start:
        message = _("The fieldwork cannot end before it starts.")
        raise ValidationFailed(message, fields={"fieldwork_end": message})


def _load(model, ids: list[int], field: str) -> list:
    found = list(db.session.scalars(select(model).where(model.id.in_(ids)))) if ids else []
    if len(found) != len(set(ids)):
        message = _("Some selected items no longer exist.")
        raise NotFound(message, fields={field: message})
    return found


def create_campaign(actor: User | None, organisation: Organisation, data: CampaignData) -> Campaign:
    _check(data)
    campaign = Campaign(organisation_id=organisation.id, title=data.title.strip(), year=data.year,
                        fieldwork_start=data.fieldwork_start, fieldwork_end=data.fieldwork_end,
                        description=data.description.strip(),
                        status=CampaignStatus.DRAFT.value,
                        created_by_id=actor.id if actor else None)
    campaign.agencies = _load(Agency, data.agency_ids, "agencies")
    campaign.procedures = _load(Procedure, data.procedure_ids, "procedures")
    db.session.add(campaign)
    db.session.flush()
    audit.record(actor, AuditAction.CREATE, campaign, after=_snapshot(campaign),
                 organisation_id=organisation.id, summary=campaign.title)
    db.session.commit()
    return campaign


def _snapshot(campaign: Campaign) -> dict:
    values = audit.snapshot(campaign)
    values["agency_ids"] = sorted(a.id for a in campaign.agencies)
    values["procedure_ids"] = sorted(p.id for p in campaign.procedures)
    return values


def update_campaign(actor: User | None, campaign: Campaign, data: CampaignData) -> Campaign:
    """Edit a campaign; its targets are fixed once fieldwork has started."""
    _check(data)
    before = _snapshot(campaign)
    targets_changed = (sorted(data.agency_ids) != before["agency_ids"]
                       or sorted(data.procedure_ids) != before["procedure_ids"])
    if campaign.status != CampaignStatus.DRAFT and targets_changed:
        raise ValidationFailed(_("Target agencies and procedures can only change while the "
                                 "campaign is a draft."))
    campaign.title = data.title.strip()
    campaign.year = data.year
    campaign.fieldwork_start = data.fieldwork_start
    campaign.fieldwork_end = data.fieldwork_end
    campaign.description = data.description.strip()
    if targets_changed:
        campaign.agencies = _load(Agency, data.agency_ids, "agencies")
        campaign.procedures = _load(Procedure, data.procedure_ids, "procedures")
    db.session.flush()
    audit.record(actor, AuditAction.UPDATE, campaign, before=before, after=_snapshot(campaign),
                 organisation_id=campaign.organisation_id, summary=campaign.title)
    db.session.commit()
    return campaign


def allowed_transitions(campaign: Campaign) -> tuple[CampaignStatus, ...]:
    return CAMPAIGN_TRANSITIONS[CampaignStatus(campaign.status)]


def transition_campaign(actor: User | None, campaign: Campaign, target: str) -> Campaign:
    """Move a campaign to the next status, if the workflow allows it."""
    try:
        target_status = CampaignStatus(target)
    except ValueError:
        raise InvalidTransition(_("Unknown status.")) from None
    current = CampaignStatus(campaign.status)
    if target_status not in CAMPAIGN_TRANSITIONS[current]:
        raise InvalidTransition(_("A campaign cannot go from “%(current)s” to “%(target)s”.",
                                  current=CAMPAIGN_STATUS_LABELS[current],
                                  target=CAMPAIGN_STATUS_LABELS[target_status]))
    if target_status == CampaignStatus.FIELDING and not campaign.agencies:
        raise InvalidTransition(_("Choose at least one target agency before fieldwork starts."))
    if target_status == CampaignStatus.FIELDING:
        # The questionnaire version in use is frozen now (same transaction, same commit).
        questionnaires.prepare_fielding(actor, campaign)
    campaign.status = target_status.value
    db.session.flush()
    audit.record(actor, AuditAction.STATE, campaign, before={"status": current.value},
                 after={"status": target_status.value},
                 organisation_id=campaign.organisation_id, summary=campaign.title)
    db.session.commit()
    return campaign


def agency_choices(year: int | None = None) -> list[tuple[int, str]]:
    query = select(Agency).order_by(Agency.kind, Agency.name)
    if year is not None:
        day = date(year, 12, 31)
        start = date(year, 1, 1)
        query = query.where(Agency.valid_from <= day,
                            (Agency.valid_to.is_(None)) | (Agency.valid_to >= start))
    return [(a.id, a.name) for a in db.session.scalars(query)]


def procedure_choices() -> list[tuple[int, str]]:
    return [(p.id, f"{p.code} — {p.name}")
            for p in db.session.scalars(select(Procedure).order_by(Procedure.code))]
