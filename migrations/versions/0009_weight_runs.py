"""weighting runs: weight_run (versioned, with spec, input digest, diagnostics) and unit_weight

Reviewed by hand. A weight_run is never overwritten (unique campaign_id + number); it names
the locked plan (id, version) and a SHA-256 of its input rows; unit_weight holds the base,
non-response-adjusted and final weight of each respondent of the run.

Revision ID: 0009_weight_runs
Revises: 0007_quality_control
Create Date: 2026-12-04 05:10:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0009_weight_runs'
down_revision = '0007_quality_control'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('weight_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('spec', JSON, nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('input_rows', sa.Integer(), nullable=False),
    sa.Column('input_sha256', sa.String(length=64), nullable=False),
    sa.Column('diagnostics', JSON, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_weight_run_number_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_weight_run_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['sampling_plan.id'], name=op.f('fk_weight_run_plan_id_sampling_plan'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_weight_run_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weight_run')),
    sa.UniqueConstraint('campaign_id', 'number', name=op.f('uq_weight_run_campaign_id_number'))
    )
    with op.batch_alter_table('weight_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weight_run_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('unit_weight',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('base_weight', sa.Float(), nullable=False),
    sa.Column('nonresponse_weight', sa.Float(), nullable=False),
    sa.Column('final_weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['weight_run.id'], name=op.f('fk_unit_weight_run_id_weight_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_unit_weight_interview_id_interview'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['sampling_case.id'], name=op.f('fk_unit_weight_case_id_sampling_case'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_weight')),
    sa.UniqueConstraint('run_id', 'interview_id', name=op.f('uq_unit_weight_run_id_interview_id'))
    )
    with op.batch_alter_table('unit_weight', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_weight_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_weight_interview_id'), ['interview_id'], unique=False)


def downgrade():
    with op.batch_alter_table('unit_weight', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_weight_interview_id'))
        batch_op.drop_index(batch_op.f('ix_unit_weight_run_id'))
    op.drop_table('unit_weight')
    with op.batch_alter_table('weight_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weight_run_campaign_id'))
    op.drop_table('weight_run')
