"""surveyapp: the Flask application (sociological surveys of public administrative services).

``create_app`` reads as a table of contents: each step is a small function or a module's
``init_app``. It only wires; the schema is built by ``flask db upgrade``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from . import config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _template_folder() -> str:
    """The top-level templates/ folder (kept beside the package in a checkout)."""
    for candidate in (PROJECT_ROOT / "templates", Path.cwd() / "templates"):
        if candidate.is_dir():
            return str(candidate)
    return str(PROJECT_ROOT / "templates")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; ``test_config`` overrides everything else."""
    app = Flask(__name__, instance_relative_config=True, template_folder=_template_folder())
    config.load_config(app, test_config)
    register_extensions(app)
    register_security(app)
    register_i18n(app)
    register_converters(app)
    register_blueprints(app)
    register_field_blueprints(app)
    register_errorhandlers(app)
    register_jobs(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from . import (
        db_pool,
        models,  # noqa: F401  (every table registered before Alembic looks)
    )
    from .auth import loaders
    from .extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    db_pool.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    loaders.init_app(app)


def register_security(app: Flask) -> None:
    from . import security

    security.init_app(app)


def register_i18n(app: Flask) -> None:
    from . import i18n

    i18n.init_app(app)


def register_converters(app: Flask) -> None:
    from .views import converters

    converters.init_app(app)


def register_blueprints(app: Flask) -> None:
    from .views import (
        api,
        audit,
        auth,
        campaigns,
        jobs,
        main,
        orgs,
        questionnaires,
        registry,
        tokens,
    )

    for module in (auth, main, orgs, registry, campaigns, questionnaires, tokens, audit, jobs,
                   api):
        app.register_blueprint(module.bp)
    from .views import sampling_plans

    app.register_blueprint(sampling_plans.bp)


def register_field_blueprints(app: Flask) -> None:
    """Field collection (issue 7): the submission API and the field pages."""
    from .views import field, field_api

    app.register_blueprint(field_api.bp)
    app.register_blueprint(field.bp)
    from .views import exports

    app.register_blueprint(exports.bp)  # issue 8: extracts for statisticians
    from .views import response_import

    app.register_blueprint(response_import.bp)  # issue 8: bulk import of responses
    from .views import quality

    app.register_blueprint(quality.bp)  # issue 8: response rates, QC flags, back-checks
    from .views import respondents

    app.register_blueprint(respondents.bp)  # issue 8: respondents' identifying data, purge
    from .views import weighting

    app.register_blueprint(weighting.bp)  # issue 9: weighting runs
    from .views import scorecards

    app.register_blueprint(scorecards.bp)  # issue 9: scorecard runs
    from .views import public

    app.register_blueprint(public.bp)  # issue 11: the public results pages
    from .views import reports

    app.register_blueprint(reports.bp)  # issue 10: annual reports (XLSX, HTML, PDF)
    from .views import explorer

    app.register_blueprint(explorer.bp)  # issue 10: explorer, cross-tabs, key drivers
    from .views import notifications, office, packages

    app.register_blueprint(packages.bp)  # issue 11: submission packages and their workflow
    app.register_blueprint(office.bp)  # issue 11: the UBND office's consolidated view
    app.register_blueprint(notifications.bp)  # issue 11: in-app notifications
    from .views import indices

    app.register_blueprint(indices.bp)  # issue 9: custom indices and band tables


def register_errorhandlers(app: Flask) -> None:
    from .views import errors

    errors.init_app(app)


def register_jobs(app: Flask) -> None:
    from . import jobs

    jobs.init_app(app)


def register_commands(app: Flask) -> None:
    from . import cli

    cli.init_app(app)
