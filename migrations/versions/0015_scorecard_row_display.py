"""scorecard_row.display: the rounded value a band table grades (Circular 01/2018 Art. 15: each
indicator's mean points rounded to one decimal, the total the sum of the rounded indicators),
stored for indices that round for display, NULL otherwise; scorecard_row.na / dk: an item's
unweighted counts of "not applicable" and "don't know" answers (excluded from its estimate)

Reviewed by hand.

Revision ID: 0015_scorecard_row_display
Revises: 0014_annual_reports
Create Date: 2026-12-04 17:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_scorecard_row_display'
down_revision = '0014_annual_reports'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scorecard_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('na', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('dk', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('scorecard_row', schema=None) as batch_op:
        batch_op.drop_column('dk')
        batch_op.drop_column('na')
        batch_op.drop_column('display')
