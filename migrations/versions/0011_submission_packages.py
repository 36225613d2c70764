"""submission packages: submission_package (organisation x year), package_version (numbered, frozen
snapshot + SHA-256 digest on submission, amendment pointer), its surveys, findings, agencies and
workflow transitions; submission_deadline per year; notification (in-app, per user)

Reviewed by hand. A package_version is frozen from submission on: snapshot (JSON), digest (the
SHA-256 of its RFC 8785 canonical form) and part_digests are written once; replaces_id names the
version an amendment replaces (unique: a version is amended at most once).

Revision ID: 0011_submission_packages
Revises: 0010_scorecards
Create Date: 2026-12-04 06:36:08

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0011_submission_packages'
down_revision = '0010_scorecards'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('submission_deadline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_submission_deadline_year_range')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_submission_deadline_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_deadline')),
    sa.UniqueConstraint('year', name=op.f('uq_submission_deadline_year'))
    )
    op.create_table('submission_package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_submission_package_year_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_submission_package_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_submission_package_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_package')),
    sa.UniqueConstraint('organisation_id', 'year', name=op.f('uq_submission_package_organisation_id_year'))
    )
    with op.batch_alter_table('submission_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_package_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_package_year'), ['year'], unique=False)

    op.create_table('package_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('recommendations', sa.Text(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', JSON, nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.Column('part_digests', JSON, nullable=True),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_package_version_number_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_package_version_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['package_id'], ['submission_package.id'], name=op.f('fk_package_version_package_id_submission_package')),
    sa.ForeignKeyConstraint(['replaces_id'], ['package_version.id'], name=op.f('fk_package_version_replaces_id_package_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_version')),
    sa.UniqueConstraint('package_id', 'number', name=op.f('uq_package_version_package_id_number')),
    sa.UniqueConstraint('replaces_id', name=op.f('uq_package_version_replaces_id'))
    )
    with op.batch_alter_table('package_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_version_digest'), ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_package_version_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_package_version_status'), ['status'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('params', JSON, nullable=False),
    sa.Column('package_version_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['package_version_id'], ['package_version.id'], name=op.f('fk_notification_package_version_id_package_version'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_package_version_id'), ['package_version_id'], unique=False)
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('package_agency',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('agency_code', sa.String(length=64), nullable=False),
    sa.Column('agency_name', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['package_version.id'], name=op.f('fk_package_agency_version_id_package_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'agency_code', name=op.f('pk_package_agency'))
    )
    with op.batch_alter_table('package_agency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_agency_agency_code'), ['agency_code'], unique=False)

    op.create_table('package_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('agency_code', sa.String(length=64), nullable=False),
    sa.Column('agency_name', sa.String(length=255), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('recommendations', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['package_version.id'], name=op.f('fk_package_finding_version_id_package_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_finding')),
    sa.UniqueConstraint('version_id', 'agency_code', name=op.f('uq_package_finding_version_id_agency_code'))
    )
    with op.batch_alter_table('package_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_finding_version_id'), ['version_id'], unique=False)

    op.create_table('package_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_package_transition_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['package_version.id'], name=op.f('fk_package_transition_version_id_package_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_transition'))
    )
    with op.batch_alter_table('package_transition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_transition_version_id'), ['version_id'], unique=False)

    op.create_table('package_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('scorecard_run_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_package_survey_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['scorecard_run_id'], ['scorecard_run.id'], name=op.f('fk_package_survey_scorecard_run_id_scorecard_run')),
    sa.ForeignKeyConstraint(['version_id'], ['package_version.id'], name=op.f('fk_package_survey_version_id_package_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_survey')),
    sa.UniqueConstraint('version_id', 'campaign_id', name=op.f('uq_package_survey_version_id_campaign_id')),
    sa.UniqueConstraint('version_id', 'position', name=op.f('uq_package_survey_version_id_position'))
    )
    with op.batch_alter_table('package_survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_survey_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_package_survey_scorecard_run_id'), ['scorecard_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_package_survey_version_id'), ['version_id'], unique=False)



def downgrade():
    with op.batch_alter_table('package_survey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_survey_version_id'))
        batch_op.drop_index(batch_op.f('ix_package_survey_scorecard_run_id'))
        batch_op.drop_index(batch_op.f('ix_package_survey_campaign_id'))

    op.drop_table('package_survey')
    with op.batch_alter_table('package_transition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_transition_version_id'))

    op.drop_table('package_transition')
    with op.batch_alter_table('package_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_finding_version_id'))

    op.drop_table('package_finding')
    with op.batch_alter_table('package_agency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_agency_agency_code'))

    op.drop_table('package_agency')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')
        batch_op.drop_index(batch_op.f('ix_notification_package_version_id'))

    op.drop_table('notification')
    with op.batch_alter_table('package_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_version_status'))
        batch_op.drop_index(batch_op.f('ix_package_version_package_id'))
        batch_op.drop_index(batch_op.f('ix_package_version_digest'))

    op.drop_table('package_version')
    with op.batch_alter_table('submission_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_package_year'))
        batch_op.drop_index(batch_op.f('ix_submission_package_organisation_id'))

    op.drop_table('submission_package')
    op.drop_table('submission_deadline')
