"""quality control: respondents' keyed hashes, back-check draws and their outcomes

Reviewed by hand. respondent_key holds one HMAC-SHA256 of the normalised contact data per
interview version (for the duplicate-respondent flag; never the data); back_check_draw is a
seeded random draw of completed interviews, back_check its rows with the recorded outcome.

Revision ID: 0007_quality_control
Revises: 0006_respondent_crypto
Create Date: 2026-12-04 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_quality_control'
down_revision = '0006_respondent_crypto'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('respondent_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_respondent_key_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['interview_version.id'], name=op.f('fk_respondent_key_version_id_interview_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_respondent_key')),
    sa.UniqueConstraint('version_id', name=op.f('uq_respondent_key_version_id'))
    )
    with op.batch_alter_table('respondent_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_respondent_key_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_respondent_key_key_hash'), ['key_hash'], unique=False)

    op.create_table('back_check_draw',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('share', sa.Float(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('eligible', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('share > 0 AND share <= 1', name=op.f('ck_back_check_draw_share_range')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_back_check_draw_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_back_check_draw_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_back_check_draw'))
    )
    with op.batch_alter_table('back_check_draw', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_back_check_draw_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('back_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['checked_by_id'], ['user.id'], name=op.f('fk_back_check_checked_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['draw_id'], ['back_check_draw.id'], name=op.f('fk_back_check_draw_id_back_check_draw'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_back_check_interview_id_interview'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_back_check')),
    sa.UniqueConstraint('interview_id', name='uq_back_check_interview_id')
    )
    with op.batch_alter_table('back_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_back_check_draw_id'), ['draw_id'], unique=False)


def downgrade():
    with op.batch_alter_table('back_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_back_check_draw_id'))
    op.drop_table('back_check')
    with op.batch_alter_table('back_check_draw', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_back_check_draw_campaign_id'))
    op.drop_table('back_check_draw')
    with op.batch_alter_table('respondent_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_respondent_key_key_hash'))
        batch_op.drop_index(batch_op.f('ix_respondent_key_campaign_id'))
    op.drop_table('respondent_key')
