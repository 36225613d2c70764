"""one interview per assignment: a unique key on interview.assignment_id

Reviewed by hand. A second interview (another UUID) for a case that already has one would
count the case twice in analysis; the submission service relies on this key, not on a
look-up before the insert, so that two devices racing cannot both store. Walk-in interviews
have no assignment (NULL), and NULLs never collide in a unique key on either database.

Revision ID: 0005_one_interview_per_case
Revises: 0004_field_collection
Create Date: 2026-12-04 04:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_one_interview_per_case'
down_revision = '0004_field_collection'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_interview_assignment_id', ['assignment_id'])


def downgrade():
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.drop_constraint('uq_interview_assignment_id', type_='unique')
