"""`flask --app wsgi exports purge [--dry-run]`: delete export files past their retention.

Export jobs write row-level data into EXPORT_DIR; each file is deleted EXPORT_RETENTION_HOURS
after it was written (default 72), before every new export job and by this command (run it
from cron where exports are rare). Prints one deleted file name per line, then a count.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

exports_cli = AppGroup("exports", help="Exports for analysis: files kept on disk.")


@exports_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list the files that would be deleted.")
def purge_command(dry_run: bool):
    """Delete export files older than EXPORT_RETENTION_HOURS."""
    from .services.exports import purge_exports

    names = purge_exports(dry_run=dry_run)
    for name in names:
        click.echo(name)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {len(names)} export file(s)")
