"""What the dashboard shows a person."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..auth.policy import Principal
from ..extensions import db
from ..models import Campaign, Job, Membership, User
from . import campaigns


@dataclass(frozen=True)
class Summary:
    memberships: list[Membership]
    campaigns: list[Campaign]
    jobs: list[Job]


def summary(p: Principal, user: User) -> Summary:
    memberships = list(user.memberships) if getattr(user, "id", None) else []
    jobs = list(db.session.scalars(select(Job).where(Job.owner_id == p.user_id)
                                   .order_by(Job.id.desc()).limit(5))) if p.user_id else []
    return Summary(memberships, campaigns.list_campaigns(p)[:10], jobs)
