"""scorecard comparisons: scorecard_comparison (each agency against the city total and against
its previous year, with raw and adjusted p-values), and on scorecard_run the design's degrees of
freedom, the previous year's run compared with and the multiple-comparison adjustment

Reviewed by hand. Comparisons are part of a run: computed once with it, never per request.

Revision ID: 0013_scorecard_comparisons
Revises: 0012_custom_indices_bands
Create Date: 2026-12-04 07:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_scorecard_comparisons'
down_revision = '0012_custom_indices_bands'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scorecard_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('df', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('previous_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('comparison_adjust', sa.String(length=8), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_scorecard_run_previous_run_id_scorecard_run'), 'scorecard_run', ['previous_run_id'], ['id'], ondelete='SET NULL')

    op.create_table('scorecard_comparison',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('agency_code', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.Float(), nullable=False),
    sa.Column('difference', sa.Float(), nullable=False),
    sa.Column('se', sa.Float(), nullable=False),
    sa.Column('statistic', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=False),
    sa.Column('p_adjusted', sa.Float(), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['scorecard_run.id'], name=op.f('fk_scorecard_comparison_run_id_scorecard_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_comparison')),
    sa.UniqueConstraint('run_id', 'kind', 'node', 'agency_code', name=op.f('uq_scorecard_comparison_run_id_kind_node_agency_code'))
    )
    with op.batch_alter_table('scorecard_comparison', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecard_comparison_run_id'), ['run_id'], unique=False)


def downgrade():
    with op.batch_alter_table('scorecard_comparison', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecard_comparison_run_id'))
    op.drop_table('scorecard_comparison')

    with op.batch_alter_table('scorecard_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_scorecard_run_previous_run_id_scorecard_run'), type_='foreignkey')
        batch_op.drop_column('comparison_adjust')
        batch_op.drop_column('previous_run_id')
        batch_op.drop_column('df')
