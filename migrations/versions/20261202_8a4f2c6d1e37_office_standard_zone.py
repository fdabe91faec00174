"""An office's standard zone (its township's area), offered in one click at enrolment

Revision ID: 8a4f2c6d1e37
Revises: 5e1c0a7b9d21
Create Date: 2026-12-02 20:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8a4f2c6d1e37'
down_revision = '5e1c0a7b9d21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standard_zone', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.drop_column('standard_zone')
