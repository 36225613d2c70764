"""`flask --app wsgi responses import FILE --survey ID [--mapping M.json]` (issue 8)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from .errors import DomainError

responses_cli = AppGroup("responses", help="Responses: bulk import from CSV/XLSX.")


@responses_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--survey", "campaign_id", type=int, required=True,
              help="Id of the campaign (survey) whose frozen questionnaire the rows answer.")
@click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False),
              help='JSON file {"column in file": "question name", ...}.')
@click.option("--approve", is_flag=True,
              help="Store the interviews approved instead of waiting for review.")
def import_command(file, campaign_id, mapping_path, approve):
    """Import responses from a CSV (UTF-8) or XLSX file: all rows or none.

    Prints a JSON summary; on failure exits 1 and prints the report (row, column, message)
    as JSON."""
    from .services import response_import

    try:
        data = Path(file).read_bytes()
        mapping = (response_import.parse_mapping(Path(mapping_path).read_bytes())
                   if mapping_path else {})
    except OSError as exc:
        raise click.ClickException(f"{exc.filename}: {exc.strerror}") from None
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    try:
        campaign = response_import.campaign_for_cli(campaign_id)
        summary = response_import.import_responses(None, campaign, Path(file).name, data,
                                                   mapping, approve=approve)
    except response_import.ImportFailed as exc:
        click.echo(json.dumps({"ok": False, "error": exc.message, "problems": exc.total,
                               "report": [p.to_dict() for p in exc.report]},
                              ensure_ascii=False, indent=1))
        sys.exit(1)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps({"ok": True, **summary}, ensure_ascii=False))
