"""The audit log's (subject_id, at) index: read by no query (a person's entries are found through
audit_subjects), written by every audited change and read

Revision ID: 9c41d7e2b5a0
Revises: ee58d8ddc854
Create Date: 2026-12-04 20:24:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9c41d7e2b5a0'
down_revision = 'ee58d8ddc854'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_subject_at')


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_subject_at', ['subject_id', 'at'], unique=False)
