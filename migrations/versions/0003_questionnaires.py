"""questionnaires: versioned questionnaire documents and the campaign's version in use

Reviewed by hand. ``questionnaire`` (one per campaign, or kept for reuse within an
organisation) and ``questionnaire_version`` (one JSON document per version — JSONB on
PostgreSQL — with its SHA-256 digest, draft/frozen). ``campaign.questionnaire_version_id``
records the version in use while fielding; the foreign key closes a cycle (campaign ->
version -> questionnaire -> campaign), so it is added after both tables exist. On SQLite
the column is added with a native ``ALTER TABLE … ADD COLUMN … REFERENCES`` (no table
rebuild: rebuilding ``campaign`` would fire the ON DELETE CASCADE of its link tables).

Revision ID: 0003_questionnaires
Revises: 0002_sampling_plans
Create Date: 2026-12-03 20:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003_questionnaires'
down_revision = '0002_sampling_plans'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
FK_NAME = 'fk_campaign_questionnaire_version_id_questionnaire_version'


def upgrade():
    op.create_table('questionnaire',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_questionnaire_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_questionnaire_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_questionnaire_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire')),
    sa.UniqueConstraint('campaign_id', name=op.f('uq_questionnaire_campaign_id'))
    )
    with op.batch_alter_table('questionnaire', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('questionnaire_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('document', JSON, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('frozen_by_id', sa.Integer(), nullable=True),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('number >= 1', name=op.f('ck_questionnaire_version_number_positive')),
    sa.CheckConstraint("status IN ('draft', 'frozen')", name=op.f('ck_questionnaire_version_status_known')),
    sa.CheckConstraint("status = 'draft' OR frozen_at IS NOT NULL", name=op.f('ck_questionnaire_version_frozen_has_time')),
    sa.ForeignKeyConstraint(['based_on_id'], ['questionnaire_version.id'], name=op.f('fk_questionnaire_version_based_on_id_questionnaire_version'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_questionnaire_version_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['frozen_by_id'], ['user.id'], name=op.f('fk_questionnaire_version_frozen_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaire.id'], name=op.f('fk_questionnaire_version_questionnaire_id_questionnaire'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_version')),
    sa.UniqueConstraint('questionnaire_id', 'number', name=op.f('uq_questionnaire_version_questionnaire_id_number'))
    )
    with op.batch_alter_table('questionnaire_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_version_questionnaire_id'), ['questionnaire_id'], unique=False)

    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE campaign ADD COLUMN questionnaire_version_id INTEGER '
                   f'CONSTRAINT {FK_NAME} REFERENCES questionnaire_version (id)')
    else:
        op.add_column('campaign', sa.Column('questionnaire_version_id', sa.Integer(),
                                            nullable=True))
        op.create_foreign_key(FK_NAME, 'campaign', 'questionnaire_version',
                              ['questionnaire_version_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE campaign DROP COLUMN questionnaire_version_id')
    else:
        op.drop_constraint(FK_NAME, 'campaign', type_='foreignkey')
        op.drop_column('campaign', 'questionnaire_version_id')

    with op.batch_alter_table('questionnaire_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaire_version_questionnaire_id'))

    op.drop_table('questionnaire_version')
    with op.batch_alter_table('questionnaire', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaire_organisation_id'))

    op.drop_table('questionnaire')
