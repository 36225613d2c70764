"""Numbering a campaign's runs (weighting, scorecards, annual reports): 1, 2, … per campaign.

The number is the campaign's highest plus one; the database's unique (campaign, number)
key, not this read, is what keeps two runs stored at the same moment apart: the second
one's flush or commit fails, nothing of it is kept, and its caller gets a 409 asking to
compute it again.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict
from ..extensions import db


def next_number(model, campaign_id: int) -> int:
    """The number the campaign's next run of ``model`` gets."""
    return (db.session.scalar(select(func.max(model.number))
                              .where(model.campaign_id == campaign_id)) or 0) + 1


def stage(run, number_taken: Callable[[], Conflict]) -> None:
    """Add the run and flush it (its id for its rows); another run with its number: 409."""
    db.session.add(run)
    _or_conflict(db.session.flush, number_taken)


def commit(number_taken: Callable[[], Conflict]) -> None:
    """Commit the staged run (a run stored meanwhile with its number: 409, nothing kept)."""
    _or_conflict(db.session.commit, number_taken)


def _or_conflict(step, number_taken) -> None:
    try:
        step()
    except IntegrityError:
        db.session.rollback()
        raise number_taken() from None
