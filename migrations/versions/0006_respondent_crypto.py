"""respondent confidentiality: identifying data encrypted at rest

Reviewed by hand. interview_respondent.data (the API's respondent object) and
sampling_case.data (the frame's label columns shown to interviewers) become text columns
holding Fernet tokens under RESPONDENT_KEYS (surveyapp/crypto.py); the rows already stored
as plain JSON are encrypted here, and decrypted back to JSON by the downgrade.

Revision ID: 0006_respondent_crypto
Revises: 0005_one_interview_per_case
Create Date: 2026-12-04 04:55:00

"""
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0006_respondent_crypto'
down_revision = '0005_one_interview_per_case'
branch_labels = None
depends_on = None

TABLES = ('interview_respondent', 'sampling_case')


def _json_type():
    return sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def _rows(table):
    t = sa.table(table, sa.column('id', sa.Integer), sa.column('data', sa.Text))
    return t, op.get_bind().execute(sa.select(t.c.id, t.c.data)).all()


def upgrade():
    from surveyapp.crypto import encrypt_json, keyring

    ring = keyring()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('data', existing_type=_json_type(), type_=sa.Text(),
                                  existing_nullable=False, postgresql_using='data::text')
        t, rows = _rows(table)
        for row_id, data in rows:
            if isinstance(data, str) and data.startswith('gAAAAA'):
                continue  # already a Fernet token (JSON text never starts with "g")
            value = json.loads(data) if isinstance(data, str) else (data or {})
            op.get_bind().execute(t.update().where(t.c.id == row_id)
                                  .values(data=encrypt_json(value, ring)))


def downgrade():
    from surveyapp.crypto import decrypt_json, keyring

    ring = keyring()
    for table in TABLES:
        t, rows = _rows(table)
        for row_id, data in rows:
            op.get_bind().execute(t.update().where(t.c.id == row_id).values(
                data=json.dumps(decrypt_json(data, ring), ensure_ascii=False)))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('data', existing_type=sa.Text(), type_=_json_type(),
                                  existing_nullable=False, postgresql_using='data::jsonb')
