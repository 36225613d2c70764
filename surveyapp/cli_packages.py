"""`flask --app wsgi packages …`: submission packages (issue 11)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

packages_cli = AppGroup("packages", help="Submission packages: check their tamper evidence.")


@packages_cli.command("verify")
@click.argument("version_id", type=int)
def verify(version_id: int):
    """Check package version VERSION_ID: its stored snapshot against the SHA-256 digest taken
    on submission and against a recomputation from the stored runs. Exit 0 when intact;
    otherwise exit 1 and print each part that differs."""
    from .extensions import db
    from .models import PackageVersion
    from .services import submissions

    version = db.session.get(PackageVersion, version_id)
    if version is None:
        raise click.ClickException(f"no package version {version_id}")
    result = submissions.verify(version)
    if result.ok:
        click.echo(f"package version {version_id}: intact (sha256 {version.digest})")
        return
    for d in result.differences:
        click.echo(f"differs [{d.against}] {d}", err=True)
    raise SystemExit(1)
