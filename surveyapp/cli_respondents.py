"""`flask --app wsgi respondents …`: key rotation and the purge of identifying data.

    flask --app wsgi respondents new-key
    flask --app wsgi respondents rotate-key
    flask --app wsgi respondents purge [--campaign ID] [--dry-run]

``rotate-key`` re-encrypts every stored value with the first key of RESPONDENT_KEYS (see
docs/app.md, "Respondent confidentiality"); ``purge`` deletes the identifying data of closed
campaigns whose retention (RESPONDENT_RETENTION_DAYS) has passed, one audit event per
campaign, and prints one tab-separated line per campaign. Errors are one line, exit 1.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

respondents_cli = AppGroup("respondents", help="Respondents' identifying data: keys, purge.")


@respondents_cli.command("new-key")
def new_key_command():
    """Print a new key (put it first in RESPONDENT_KEYS, then run rotate-key)."""
    from .crypto import new_key

    click.echo(new_key())


@respondents_cli.command("rotate-key")
def rotate_key_command():
    """Re-encrypt all identifying data with the current (first) key."""
    from .crypto import RespondentKeyError
    from .extensions import db
    from .services import respondents

    try:
        counts = respondents.rotate_keys()
    except RespondentKeyError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    for table, n in counts.items():
        click.echo(f"{table}\t{n} re-encrypted")


@respondents_cli.command("purge")
@click.option("--campaign", "campaign_id", type=int, default=None,
              help="Only this campaign (default: every closed campaign past its retention).")
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
def purge_command(campaign_id, dry_run):
    """Delete identifying data of closed campaigns past retention (answers stay)."""
    from .crypto import RespondentKeyError
    from .extensions import db
    from .models import Campaign
    from .services import respondents

    if campaign_id is not None and db.session.get(Campaign, campaign_id) is None:
        raise click.ClickException(f"no survey campaign {campaign_id}")
    try:
        results = respondents.purge(None, campaign_id, dry_run=dry_run)
    except RespondentKeyError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    for r in results:
        if r.purged:
            state = "purged"
        elif dry_run and not r.reason:
            state = "would purge"
        else:
            state = {"fielding": "not closed", "nothing": "nothing to purge",
                     "retention": f"kept until {r.due_at:%Y-%m-%d}" if r.due_at else "kept"
                     }.get(r.reason, r.reason)
        click.echo(f"{r.campaign_id}\t{state}\trespondents={r.respondents}"
                   f"\tcase_labels={r.case_labels}\tcontact_hashes={r.contact_hashes}")
    if not results:
        click.echo("no closed campaign")
