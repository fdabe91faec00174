"""Phones an officer refused for a subject after a device_change

Revision ID: e2a0cf347325
Revises: 4a602cc99b59
Create Date: 2026-12-03 01:45:27.551423

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a0cf347325'
down_revision = '4a602cc99b59'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('refused_devices',
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=128), nullable=False),
    sa.Column('refused_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refused_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['refused_by'], ['officers.id'], name=op.f('fk_refused_devices_refused_by_officers')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_refused_devices_subject_id_subjects')),
    sa.PrimaryKeyConstraint('subject_id', 'device_id', name=op.f('pk_refused_devices'))
    )


def downgrade():
    op.drop_table('refused_devices')
