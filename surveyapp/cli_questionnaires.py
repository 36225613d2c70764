"""`flask --app wsgi questionnaire …`: XLSForm in and out, through the same service as the pages.

    flask --app wsgi questionnaire import-xlsform FILE.xlsx --survey CAMPAIGN_ID
    flask --app wsgi questionnaire export-xlsform --version VERSION_ID --out FILE.xlsx

Both print a JSON summary ``{"questionnaire_id", "version_id", "questions", "choices",
"warnings": [...]}``. A file that cannot be imported exits with status 1, one problem per
line on stderr (sheet, row, column), and stores nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

questionnaire_cli = AppGroup("questionnaire", help="Questionnaires: XLSForm import and export.")


def _echo_json(data: dict) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


@questionnaire_cli.command("import-xlsform")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--survey", "campaign_id", type=int, required=True,
              help="Id of the survey campaign whose questionnaire gets a new draft version.")
def import_xlsform(file: Path, campaign_id: int):
    """Import an XLSForm workbook as a new draft version of a campaign's questionnaire."""
    from .errors import DomainError, ValidationFailed
    from .extensions import db
    from .models import Campaign
    from .services import questionnaires

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"no survey campaign {campaign_id}")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        result = questionnaires.import_xlsform(None, campaign, data, file.name)
    except ValidationFailed as exc:
        db.session.rollback()
        click.echo(exc.message, err=True)
        for line in exc.errors:
            click.echo(line, err=True)
        sys.exit(1)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    _echo_json(result.to_dict())


@questionnaire_cli.command("export-xlsform")
@click.option("--version", "version_id", type=int, required=True,
              help="Id of the questionnaire version to export.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .xlsx file to write.")
def export_xlsform(version_id: int, out: Path):
    """Write a questionnaire version as an XLSForm workbook."""
    from .extensions import db
    from .models import QuestionnaireVersion
    from .services import questionnaires

    version = db.session.get(QuestionnaireVersion, version_id)
    if version is None:
        raise click.ClickException(f"no questionnaire version {version_id}")
    data = questionnaires.export_xlsform(version)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
    n_questions, n_choices = questionnaires.counts(questionnaires.definition(version))
    _echo_json({"questionnaire_id": version.questionnaire_id, "version_id": version.id,
                "questions": n_questions, "choices": n_choices, "warnings": []})
