"""field collection: assignments, interviews, their versions, kept conflicts, respondents

Reviewed by hand. ``interview.uuid`` is UNIQUE in the database (the key of "nothing
doubled"); ``interview_version`` keeps every submitted version (corrections point to the
previous one); ``interview_conflict`` keeps a second, different payload under a stored UUID;
``interview_respondent`` holds identifying data apart from the answers. JSON columns are
JSONB on PostgreSQL.

Revision ID: 0004_field_collection
Revises: 0003_questionnaires
Create Date: 2026-12-03 20:06:36.670668

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0004_field_collection'
down_revision = '0003_questionnaires'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('interviewer_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('disposition', sa.String(length=32), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_assignment_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['sampling_case.id'], name=op.f('fk_assignment_case_id_sampling_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interviewer_id'], ['user.id'], name=op.f('fk_assignment_interviewer_id_user')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['user.id'], name=op.f('fk_assignment_supervisor_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment')),
    sa.UniqueConstraint('case_id', name=op.f('uq_assignment_case_id'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_interviewer_id'), ['interviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_status'), ['status'], unique=False)

    op.create_table('interview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('interviewer_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=64), nullable=False),
    sa.Column('disposition', sa.String(length=32), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_interview_version_positive')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_interview_assignment_id_assignment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_interview_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interviewer_id'], ['user.id'], name=op.f('fk_interview_interviewer_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], name=op.f('fk_interview_reviewed_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview')),
    sa.UniqueConstraint('uuid', name='uq_interview_uuid')
    )
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_interviewer_id'), ['interviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_status'), ['status'], unique=False)

    op.create_table('interview_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_before', sa.String(length=16), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_interview_conflict_interview_id_interview'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_interview_conflict_resolved_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], name=op.f('fk_interview_conflict_submitted_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_conflict')),
    sa.UniqueConstraint('interview_id', 'content_sha256', name=op.f('uq_interview_conflict_interview_id_content_sha256'))
    )
    with op.batch_alter_table('interview_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_conflict_interview_id'), ['interview_id'], unique=False)

    op.create_table('interview_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('disposition', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answers', JSON, nullable=False),
    sa.Column('calculated', JSON, nullable=False),
    sa.Column('paradata', JSON, nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_interview_version_number_positive')),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_interview_version_interview_id_interview'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['previous_id'], ['interview_version.id'], name=op.f('fk_interview_version_previous_id_interview_version'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_version.id'], name=op.f('fk_interview_version_questionnaire_version_id_questionnaire_version')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], name=op.f('fk_interview_version_submitted_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_version')),
    sa.UniqueConstraint('interview_id', 'number', name=op.f('uq_interview_version_interview_id_number'))
    )
    with op.batch_alter_table('interview_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_version_interview_id'), ['interview_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_version_questionnaire_version_id'), ['questionnaire_version_id'], unique=False)

    op.create_table('interview_respondent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('conflict_id', sa.Integer(), nullable=True),
    sa.Column('data', JSON, nullable=False),
    sa.CheckConstraint('(version_id IS NULL) <> (conflict_id IS NULL)', name=op.f('ck_interview_respondent_one_owner')),
    sa.ForeignKeyConstraint(['conflict_id'], ['interview_conflict.id'], name=op.f('fk_interview_respondent_conflict_id_interview_conflict'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['interview_version.id'], name=op.f('fk_interview_respondent_version_id_interview_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_respondent')),
    sa.UniqueConstraint('conflict_id', name=op.f('uq_interview_respondent_conflict_id')),
    sa.UniqueConstraint('version_id', name=op.f('uq_interview_respondent_version_id'))
    )


def downgrade():
    op.drop_table('interview_respondent')
    with op.batch_alter_table('interview_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_version_questionnaire_version_id'))
        batch_op.drop_index(batch_op.f('ix_interview_version_interview_id'))

    op.drop_table('interview_version')
    with op.batch_alter_table('interview_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_conflict_interview_id'))

    op.drop_table('interview_conflict')
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_status'))
        batch_op.drop_index(batch_op.f('ix_interview_interviewer_id'))
        batch_op.drop_index(batch_op.f('ix_interview_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_interview_assignment_id'))

    op.drop_table('interview')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_status'))
        batch_op.drop_index(batch_op.f('ix_assignment_interviewer_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_campaign_id'))

    op.drop_table('assignment')
