"""The migrations build exactly the schema the models describe, and can be undone."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from builders import app_config
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Membership, OrganisationType
from surveyapp.models.codes import OrgTypeCode


def test_migrated_database_matches_the_models(app):
    # `app` ran the real migrations on an empty database (SQLite or TEST_DATABASE_URL).
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": True})
        assert compare_metadata(context, db.metadata) == []


def test_migration_seeds_every_organisation_type(app, db):
    with app.app_context():
        codes = set(db.session.scalars(select(OrganisationType.code)))
    assert codes == {code.value for code in OrgTypeCode}


def test_downgrade_to_empty_and_upgrade_again(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        upgrade()
        assert "campaign" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_the_database_enforces_foreign_keys(app, db):
    # On SQLite only with PRAGMA foreign_keys=ON, set on every connection by extensions.py.
    with app.app_context():
        db.session.add(Membership(user_id=999_999, organisation_id=999_999, role="analyst"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
