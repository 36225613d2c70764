"""sampling plans and their cases

Reviewed by hand: a campaign's versioned sampling plans (frame kept as uploaded with the
library's digest, column mapping, design, draw record) and one sampling_case per selected
unit or reserve. Named constraints (the MetaData naming convention), batch mode for SQLite,
JSONB on PostgreSQL.

Revision ID: 0002_sampling_plans
Revises: 0001_initial
Create Date: 2026-12-03 20:05:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002_sampling_plans'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('sampling_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('frame_filename', sa.String(length=255), nullable=True),
    sa.Column('frame_content', sa.LargeBinary(), nullable=True),
    sa.Column('frame_sha256', sa.String(length=64), nullable=True),
    sa.Column('frame_rows', sa.Integer(), nullable=True),
    sa.Column('frame_columns', _json(), nullable=True),
    sa.Column('id_column', sa.String(length=200), nullable=True),
    sa.Column('label_columns', _json(), nullable=False),
    sa.Column('stratum_column', sa.String(length=200), nullable=True),
    sa.Column('size_column', sa.String(length=200), nullable=True),
    sa.Column('psu_column', sa.String(length=200), nullable=True),
    sa.Column('method', sa.String(length=32), nullable=True),
    sa.Column('psu_method', sa.String(length=32), nullable=True),
    sa.Column('n_per_psu', sa.Integer(), nullable=True),
    sa.Column('allocation_method', sa.String(length=32), nullable=True),
    sa.Column('allocation_params', _json(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=True),
    sa.Column('seed', sa.BigInteger(), nullable=True),
    sa.Column('reserve', sa.Integer(), nullable=False),
    sa.Column('stages', _json(), nullable=True),
    sa.Column('allocation', _json(), nullable=True),
    sa.Column('draw_record', _json(), nullable=True),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_sampling_plan_version_positive')),
    sa.CheckConstraint('n IS NULL OR n >= 1', name=op.f('ck_sampling_plan_n_positive')),
    sa.CheckConstraint('reserve >= 0', name=op.f('ck_sampling_plan_reserve_non_negative')),
    sa.CheckConstraint('seed IS NULL OR seed >= 0', name=op.f('ck_sampling_plan_seed_non_negative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_sampling_plan_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['previous_id'], ['sampling_plan.id'], name=op.f('fk_sampling_plan_previous_id_sampling_plan'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['user.id'], name=op.f('fk_sampling_plan_drawn_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['locked_by_id'], ['user.id'], name=op.f('fk_sampling_plan_locked_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_sampling_plan_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_plan')),
    sa.UniqueConstraint('campaign_id', 'version', name=op.f('uq_sampling_plan_campaign_id_version'))
    )
    with op.batch_alter_table('sampling_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sampling_plan_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('sampling_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=200), nullable=False),
    sa.Column('data', _json(), nullable=False),
    sa.Column('stratum', sa.String(length=200), nullable=True),
    sa.Column('psu', sa.String(length=200), nullable=True),
    sa.Column('pik', sa.Float(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('reserve_rank', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.CheckConstraint('pik > 0 AND pik <= 1', name=op.f('ck_sampling_case_pik_range')),
    sa.CheckConstraint('reserve_rank IS NULL OR reserve_rank >= 1', name=op.f('ck_sampling_case_reserve_rank_positive')),
    sa.ForeignKeyConstraint(['plan_id'], ['sampling_plan.id'], name=op.f('fk_sampling_case_plan_id_sampling_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_case')),
    sa.UniqueConstraint('plan_id', 'unit_id', name=op.f('uq_sampling_case_plan_id_unit_id')),
    sa.UniqueConstraint('plan_id', 'position', name=op.f('uq_sampling_case_plan_id_position'))
    )
    with op.batch_alter_table('sampling_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sampling_case_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sampling_case_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('sampling_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sampling_case_status'))
        batch_op.drop_index(batch_op.f('ix_sampling_case_plan_id'))

    op.drop_table('sampling_case')
    with op.batch_alter_table('sampling_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sampling_plan_campaign_id'))

    op.drop_table('sampling_plan')
