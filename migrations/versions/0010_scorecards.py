"""scorecards: scorecard_run (versioned, index key + method version, rule, seed) and scorecard_row

Reviewed by hand. A scorecard_run is never overwritten (unique campaign_id + number); it names
the weighting run, the index and its method version, the confidence level, the small-cell
minimum, the reliability rule and the seed of the rank simulation; scorecard_row holds one
figure per domain (agency, or the city total with agency_code NULL) and node.

Revision ID: 0010_scorecards
Revises: 0009_weight_runs
Create Date: 2026-12-04 05:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_scorecards'
down_revision = '0009_weight_runs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scorecard_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('weight_run_id', sa.Integer(), nullable=True),
    sa.Column('index_key', sa.String(length=16), nullable=False),
    sa.Column('method_version', sa.String(length=64), nullable=False),
    sa.Column('confidence_level', sa.Float(), nullable=False),
    sa.Column('min_n', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_scorecard_run_number_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_scorecard_run_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['weight_run_id'], ['weight_run.id'], name=op.f('fk_scorecard_run_weight_run_id_weight_run'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_scorecard_run_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_run')),
    sa.UniqueConstraint('campaign_id', 'number', name=op.f('uq_scorecard_run_campaign_id_number'))
    )
    with op.batch_alter_table('scorecard_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecard_run_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('scorecard_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('agency_code', sa.String(length=64), nullable=True),
    sa.Column('agency_name', sa.String(length=255), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('estimate', sa.Float(), nullable=True),
    sa.Column('se', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('unweighted', sa.Float(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('n_effective', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('band', sa.Integer(), nullable=True),
    sa.Column('rank_median', sa.Float(), nullable=True),
    sa.Column('rank_low', sa.Float(), nullable=True),
    sa.Column('rank_high', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['scorecard_run.id'], name=op.f('fk_scorecard_row_run_id_scorecard_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_row')),
    sa.UniqueConstraint('run_id', 'position', name=op.f('uq_scorecard_row_run_id_position'))
    )
    with op.batch_alter_table('scorecard_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecard_row_run_id'), ['run_id'], unique=False)


def downgrade():
    with op.batch_alter_table('scorecard_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecard_row_run_id'))
    op.drop_table('scorecard_row')
    with op.batch_alter_table('scorecard_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecard_run_campaign_id'))
    op.drop_table('scorecard_run')
