"""Respondent confidentiality (Decision 104/2024, Art. 3.4): who sees identifying data, key
rotation, and the purge after a campaign closes.

Identifying data are the API's ``respondent`` object (``InterviewRespondent.data``) and the
frame's label columns of a sampled case (``SamplingCase.data``); both are encrypted at rest
(surveyapp/crypto.py). Answers and interviews never hold them, so purging them leaves every
answer, weight and estimate as it was. The purge also deletes the campaign's keyed hashes of
contact data (``RespondentKey``, the duplicate-respondent flag of quality control), which
are derived from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import delete, func, or_, select

from ..crypto import keyring, rotate_token
from ..extensions import db
from ..models import (
    AuditEvent,
    Campaign,
    Interview,
    InterviewConflict,
    InterviewRespondent,
    InterviewVersion,
    RespondentKey,
    SamplingCase,
    SamplingPlan,
)
from ..models._types import as_utc, utcnow
from ..models.codes import AuditAction, CampaignStatus
from . import audit

# Campaign statuses after fieldwork: identifying data may be purged once retention passed.
CLOSED_STATUSES = (CampaignStatus.CLOSED, CampaignStatus.ANALYSED, CampaignStatus.SUBMITTED)
# (table, column) of every encrypted column: what `rotate-key` re-encrypts.
ENCRYPTED_COLUMNS = (("interview_respondent", "data"), ("sampling_case", "data"))
_BATCH = 500


# ---- reading (for the pages that may show them) --------------------------------------------

def respondent_data(interview: Interview) -> dict | None:
    """The current version's identifying data (decrypted), or None when there are none.

    Callers check the policy's ``respondent.view`` first; this function does not."""
    row = db.session.scalar(select(InterviewRespondent).where(
        InterviewRespondent.version_id == interview.current.id))
    return dict(row.data) if row is not None else None


def has_respondent(interview: Interview) -> bool:
    return db.session.scalar(select(InterviewRespondent.id).where(
        InterviewRespondent.version_id == interview.current.id).limit(1)) is not None


# ---- key rotation --------------------------------------------------------------------------

def rotate_keys() -> dict[str, int]:
    """Re-encrypt every encrypted value with the current (first) key; counts per table.

    Works on the stored tokens (no JSON round trip), batch by batch, one commit per batch; a
    row no configured key opens stops the run with RespondentKeyError (nothing half-written
    in that batch)."""
    ring = keyring()
    counts: dict[str, int] = {}
    for table_name, column in ENCRYPTED_COLUMNS:
        t = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.Text))
        last, n = 0, 0
        while True:
            rows = db.session.execute(select(t.c.id, t.c[column]).where(t.c.id > last)
                                      .order_by(t.c.id).limit(_BATCH)).all()
            if not rows:
                break
            for row_id, token in rows:
                if token is not None:
                    db.session.execute(t.update().where(t.c.id == row_id)
                                       .values({column: rotate_token(token, ring)}))
                    n += 1
            last = rows[-1][0]
            db.session.commit()
        counts[table_name] = n
    return counts


# ---- purge ---------------------------------------------------------------------------------

@dataclass
class PurgeResult:
    campaign_id: int
    title: str
    closed_at: datetime | None
    due_at: datetime | None
    respondents: int = 0  # identifying rows of interviews (and kept conflicts) deleted
    contact_hashes: int = 0  # keyed hashes of contact data (duplicate flags of QC) deleted
    case_labels: int = 0  # sampled cases whose label columns were emptied
    purged: bool = False  # False in a dry run or when not yet due
    reason: str = ""  # why nothing was done ("fielding", "retention", "nothing")


def closed_at(campaign: Campaign) -> datetime | None:
    """When the campaign last left fieldwork (its audit event), else its last update."""
    if campaign.status not in {s.value for s in CLOSED_STATUSES}:
        return None
    when = db.session.scalar(
        select(AuditEvent.created_at).where(
            AuditEvent.object_type == Campaign.__tablename__,
            AuditEvent.object_id == str(campaign.id),
            AuditEvent.action == AuditAction.STATE.value)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(1))
    return as_utc(when or campaign.updated_at)


def _respondent_ids(campaign_id: int) -> list[int]:
    by_version = select(InterviewVersion.id).join(Interview).where(
        Interview.campaign_id == campaign_id)
    by_conflict = select(InterviewConflict.id).join(Interview).where(
        Interview.campaign_id == campaign_id)
    return list(db.session.scalars(select(InterviewRespondent.id).where(or_(
        InterviewRespondent.version_id.in_(by_version),
        InterviewRespondent.conflict_id.in_(by_conflict)))))


def _labelled_cases(campaign_id: int) -> list[SamplingCase]:
    cases = db.session.scalars(select(SamplingCase).join(SamplingPlan).where(
        SamplingPlan.campaign_id == campaign_id))
    return [c for c in cases if c.data]


def purge_campaign(actor, campaign: Campaign, *, dry_run: bool = False,
                   now: datetime | None = None, retention_days: int | None = None
                   ) -> PurgeResult:
    """Delete the campaign's identifying data if it is closed and the retention has passed.

    Interviews, versions and answers stay; one audit event with the counts is written (in the
    same transaction) when anything was purged."""
    now = now or utcnow()
    days = current_app.config["RESPONDENT_RETENTION_DAYS"] if retention_days is None \
        else retention_days
    closed = closed_at(campaign)
    due = closed + timedelta(days=days) if closed is not None else None
    result = PurgeResult(campaign.id, campaign.title, closed, due)
    respondent_ids = _respondent_ids(campaign.id)
    cases = _labelled_cases(campaign.id)
    result.respondents, result.case_labels = len(respondent_ids), len(cases)
    result.contact_hashes = db.session.scalar(select(func.count()).select_from(RespondentKey)
                                              .where(RespondentKey.campaign_id == campaign.id))
    if closed is None:
        result.reason = "fielding"
        return result
    if due > now:
        result.reason = "retention"
        return result
    if not respondent_ids and not cases and not result.contact_hashes:
        result.reason = "nothing"
        return result
    if dry_run:
        return result
    if respondent_ids:
        db.session.execute(delete(InterviewRespondent).where(
            InterviewRespondent.id.in_(respondent_ids)))
    db.session.execute(delete(RespondentKey).where(RespondentKey.campaign_id == campaign.id))
    for case in cases:
        case.data = {}
    audit.record(actor, AuditAction.DELETE, campaign, organisation_id=campaign.organisation_id,
                 after={"purged": "identifying data", "respondents": result.respondents,
                        "case_labels": result.case_labels,
                        "contact_hashes": result.contact_hashes, "retention_days": days},
                 summary=f"{campaign.title}: identifying data purged")
    db.session.commit()
    result.purged = True
    return result


def purge(actor, campaign_id: int | None = None, *, dry_run: bool = False,
          now: datetime | None = None) -> list[PurgeResult]:
    """Purge every closed campaign whose retention has passed (or only ``campaign_id``)."""
    query = select(Campaign).order_by(Campaign.id)
    if campaign_id is not None:
        query = query.where(Campaign.id == campaign_id)
    else:
        query = query.where(Campaign.status.in_([s.value for s in CLOSED_STATUSES]))
    return [purge_campaign(actor, c, dry_run=dry_run, now=now) for c in db.session.scalars(query)]
