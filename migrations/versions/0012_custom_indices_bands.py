"""index definitions as data: custom_index and its versions, band_table (the Circular 01 table
shipped as a row), and what a scorecard run used: custom index version, band table and its copy,
each row's grade and maximum

Reviewed by hand. A custom_index_version is never changed (unique index_id + number); a
scorecard run names the version it used. band_table rows without an organisation ship with the
app: this migration inserts the default table of Circular 01/2018/TT-VPCP Art. 15 (written for
the nine indicators, maximum 18, applied scaled to the maximum of the indicators measured).

Revision ID: 0012_custom_indices_bands
Revises: 0011_submission_packages
Create Date: 2026-12-04 07:10:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0012_custom_indices_bands'
down_revision = '0011_submission_packages'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

CIRCULAR01_NAME = "Thông tư 01/2018/TT-VPCP, Điều 15"
CIRCULAR01_SPEC = {
    "name": CIRCULAR01_NAME,
    "bands": [{"label": "Xuất sắc", "lower": 15}, {"label": "Tốt", "lower": 12},
              {"label": "Khá", "lower": 9}, {"label": "Trung bình", "lower": 6},
              {"label": "Yếu", "lower": None}],
    "reference_max": 18,
    "scale_to_measured": True,
}


def upgrade():
    op.create_table('custom_index',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_custom_index_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_custom_index_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_index'))
    )
    with op.batch_alter_table('custom_index', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_index_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('custom_index_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('index_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('tree', JSON, nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_custom_index_version_number_positive')),
    sa.ForeignKeyConstraint(['index_id'], ['custom_index.id'], name=op.f('fk_custom_index_version_index_id_custom_index'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_version.id'], name=op.f('fk_custom_index_version_questionnaire_version_id_questionnaire_version'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_custom_index_version_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_index_version')),
    sa.UniqueConstraint('index_id', 'number', name=op.f('uq_custom_index_version_index_id_number'))
    )
    with op.batch_alter_table('custom_index_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_index_version_index_id'), ['index_id'], unique=False)

    band_table = op.create_table('band_table',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('spec', JSON, nullable=False),
    sa.Column('default_for', sa.String(length=16), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_band_table_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_band_table_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_band_table')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_band_table_organisation_id_name'))
    )
    with op.batch_alter_table('band_table', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_band_table_organisation_id'), ['organisation_id'], unique=False)
    op.bulk_insert(band_table, [{
        "organisation_id": None, "name": CIRCULAR01_NAME, "spec": CIRCULAR01_SPEC,
        "default_for": "tt01", "created_by_id": None, "created_at": datetime.now(UTC)}])

    with op.batch_alter_table('scorecard_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('custom_index_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('band_table_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('bands', JSON, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_scorecard_run_custom_index_version_id_custom_index_version'), 'custom_index_version', ['custom_index_version_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_scorecard_run_band_table_id_band_table'), 'band_table', ['band_table_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('scorecard_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grade', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('maximum', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('scorecard_row', schema=None) as batch_op:
        batch_op.drop_column('maximum')
        batch_op.drop_column('grade')

    with op.batch_alter_table('scorecard_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_scorecard_run_band_table_id_band_table'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_scorecard_run_custom_index_version_id_custom_index_version'), type_='foreignkey')
        batch_op.drop_column('bands')
        batch_op.drop_column('band_table_id')
        batch_op.drop_column('custom_index_version_id')

    with op.batch_alter_table('band_table', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_band_table_organisation_id'))
    op.drop_table('band_table')
    with op.batch_alter_table('custom_index_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_index_version_index_id'))
    op.drop_table('custom_index_version')
    with op.batch_alter_table('custom_index', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_index_organisation_id'))
    op.drop_table('custom_index')
