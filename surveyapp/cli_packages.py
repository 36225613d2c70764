"""`flask --app wsgi packages …`: submission packages (issue 11)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

packages_cli = AppGroup("packages", help="Submission packages: check their tamper evidence.")


@packages_cli.command("verify")
@click.argument("version_id", type=int)
def verify(version_id: int):
    """Check package version VERSION_ID: its stored snapshot against the SHA-256 digest (and
    the part digests) taken on submission. Exit 0 when intact; otherwise exit 1 and print
    each part that differs. Parts in which a recomputation from today's data differs (a name
    edited, a later run, data changed after submission) are printed as information: they
    do not make an intact package fail."""
    from .extensions import db
    from .models import PackageVersion
    from .services import submissions

    version = db.session.get(PackageVersion, version_id)
    if version is None:
        raise click.ClickException(f"no package version {version_id}")
    result = submissions.verify(version)
    for d in result.altered:
        click.echo(f"differs [{d.against}] {d}", err=True)
    for d in result.since_submission:
        click.echo(f"changed since submission (information) [{d.against}] {d}", err=True)
    if not result.ok:
        raise SystemExit(1)
    click.echo(f"package version {version_id}: intact (sha256 {version.digest})")
