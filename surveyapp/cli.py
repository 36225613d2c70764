"""Command-line commands (`flask --app wsgi …`); each calls the same services as the views."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .errors import DomainError
from .models.codes import OrgTypeCode, Role, TokenScope

tokens_cli = AppGroup("tokens", help="Create, list and revoke API tokens.")
users_cli = AppGroup("users", help="Manage user accounts.")
jobs_cli = AppGroup("jobs", help="Background jobs.")
orgs_cli = AppGroup("orgs", help="Manage organisations.")


def init_app(app: Flask) -> None:
    app.cli.add_command(tokens_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(orgs_cli)
    app.cli.add_command(demo_command)
    from .cli_questionnaires import questionnaire_cli

    app.cli.add_command(questionnaire_cli)
    from .cli_respondents import respondents_cli

    app.cli.add_command(respondents_cli)
    from .cli_responses import responses_cli

    app.cli.add_command(responses_cli)
    from .cli_packages import packages_cli

    app.cli.add_command(packages_cli)
    from .cli_exports import exports_cli

    app.cli.add_command(exports_cli)


def _fail(exc: DomainError):
    raise click.ClickException(exc.message)


@tokens_cli.command("create")
@click.option("--user", "login", help="Login of the token's owner.")
@click.option("--org", "org_id", type=int, help="Organisation id owning the token.")
@click.option("--scope", "scopes", multiple=True, default=[TokenScope.CAMPAIGNS_READ.value],
              show_default=True, type=click.Choice([s.value for s in TokenScope]),
              help="A scope; repeat for several.")
@click.option("--name", default="CLI token", show_default=True, help="What the token is for.")
@click.option("--days", type=int, default=None, help="Days until it expires (default: never).")
def tokens_create(login, org_id, scopes, name, days):
    """Create an API token and print only the raw token (it is stored hashed)."""
    from .extensions import db
    from .models import Organisation
    from .services import accounts, tokens

    try:
        user = accounts.get_user_by_login(login) if login else None
        org = db.session.get(Organisation, org_id) if org_id else None
        if org_id and org is None:
            raise click.ClickException(f"no organisation {org_id}")
        _token, raw = tokens.create_token(None, name, list(scopes), user=user, organisation=org,
                                          valid_days=days)
    except DomainError as exc:
        _fail(exc)
    click.echo(raw)


@tokens_cli.command("list")
@click.option("--user", "login", help="Only this user's tokens.")
def tokens_list(login):
    """List tokens: id, prefix, owner, scopes, expiry, last use, revoked."""
    from sqlalchemy import select

    from .extensions import db
    from .models import ApiToken, User

    query = select(ApiToken).order_by(ApiToken.id)
    if login:
        query = query.join(User, ApiToken.user_id == User.id).where(User.login == login.lower())
    for t in db.session.scalars(query):
        owner = t.user.login if t.user else f"org:{t.organisation_id}"
        click.echo("\t".join([str(t.id), t.prefix, owner, t.scopes,
                              t.expires_at.isoformat() if t.expires_at else "-",
                              t.last_used_at.isoformat() if t.last_used_at else "-",
                              "revoked" if t.revoked_at else "active"]))


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id):
    """Revoke a token by id."""
    from .extensions import db
    from .models import ApiToken
    from .services import tokens

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"no token {token_id}")
    try:
        tokens.revoke_token(None, token)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"revoked {token_id}")


@orgs_cli.command("create")
@click.argument("name")
@click.option("--type", "type_code", type=click.Choice([t.value for t in OrgTypeCode]),
              required=True, help="Organisation type.")
@click.option("--short-name", default="", help="Short name.")
def orgs_create(name, type_code, short_name):
    """Create an organisation and print its id (e.g. before the first administrator)."""
    from sqlalchemy import select

    from .extensions import db
    from .models import OrganisationType
    from .services import organisations

    org_type = db.session.scalar(select(OrganisationType).where(OrganisationType.code == type_code))
    try:
        org = organisations.create_organisation(None, name, short_name, org_type.id)
    except DomainError as exc:
        _fail(exc)
    click.echo(org.id)


@users_cli.command("create")
@click.argument("login")
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--org", "org_id", type=int, required=True, help="Organisation id.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.password_option(help="Initial password (at least 10 characters).")
def users_create(login, full_name, org_id, role, password):
    """Create a user with a role (e.g. the first system administrator)."""
    from .extensions import db
    from .models import Organisation
    from .services import accounts

    org = db.session.get(Organisation, org_id)
    if org is None:
        raise click.ClickException(f"no organisation {org_id}")
    try:
        user = accounts.create_user(None, org, login, full_name, password, Role(role))
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created {user.login}")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def jobs_worker(burst):
    """Run an RQ worker for this app's queue (needs REDIS_URL)."""
    from rq import SimpleWorker

    runner = current_app.extensions["surveyapp.jobs"]
    if runner.name != "rq":
        raise click.ClickException("set REDIS_URL (or JOB_RUNNER=rq) to use RQ workers")
    # SimpleWorker runs jobs in this process, inside the app context (no fork).
    worker = SimpleWorker([runner.queue], connection=runner.connection)
    worker.work(burst=burst)


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo (idempotent): organisations, registry 2024 + July-2025 successions,
    procedures, a survey campaign, and one user per role; prints the credentials."""
    from .services import demo

    result = demo.load_demo()
    click.echo("Demo data ready." if result.created else "Demo data already present; checked.")
    click.echo("Users (login / password / role @ organisation):")
    for login, password, role, org in result.credentials:
        click.echo(f"  {login:<14} {password:<22} {role:<16} {org}")
