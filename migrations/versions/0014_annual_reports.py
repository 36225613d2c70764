"""annual reports: annual_report (numbered per campaign; the scorecard run, language, SHA-256 of
the report data, job, who and when) and annual_report_file (xlsx / pdf / html with SHA-256,
size and the bytes)

Reviewed by hand. A report version is never changed; the files' bytes are kept in the database
(see surveyapp/models/reports.py for why).

Revision ID: 0014_annual_reports
Revises: 0013_scorecard_comparisons
Create Date: 2026-12-04 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_annual_reports'
down_revision = '0013_scorecard_comparisons'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('annual_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('scorecard_run_id', sa.Integer(), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('data_sha256', sa.String(length=64), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_annual_report_number_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_annual_report_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scorecard_run_id'], ['scorecard_run.id'], name=op.f('fk_annual_report_scorecard_run_id_scorecard_run'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_annual_report_job_id_job'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_annual_report_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_report')),
    sa.UniqueConstraint('campaign_id', 'number', name=op.f('uq_annual_report_campaign_id_number'))
    )
    with op.batch_alter_table('annual_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_report_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_annual_report_scorecard_run_id'), ['scorecard_run_id'], unique=False)

    op.create_table('annual_report_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint("format IN ('xlsx', 'pdf', 'html')", name=op.f('ck_annual_report_file_format_known')),
    sa.ForeignKeyConstraint(['report_id'], ['annual_report.id'], name=op.f('fk_annual_report_file_report_id_annual_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_report_file')),
    sa.UniqueConstraint('report_id', 'format', name=op.f('uq_annual_report_file_report_id_format'))
    )
    with op.batch_alter_table('annual_report_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_report_file_report_id'), ['report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('annual_report_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_report_file_report_id'))
    op.drop_table('annual_report_file')
    with op.batch_alter_table('annual_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_report_scorecard_run_id'))
        batch_op.drop_index(batch_op.f('ix_annual_report_campaign_id'))
    op.drop_table('annual_report')
