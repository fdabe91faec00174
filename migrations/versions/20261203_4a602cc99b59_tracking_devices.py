"""Tracking devices: the id a Traccar Client or OsmAnd app reports, bound to its subject

Revision ID: 4a602cc99b59
Revises: 5b3e3e4c172f
Create Date: 2026-12-03 01:37:57.436755

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4a602cc99b59'
down_revision = '5b3e3e4c172f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tracking_devices',
    sa.Column('device_id', sa.String(length=128), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('bound_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['bound_by'], ['officers.id'], name=op.f('fk_tracking_devices_bound_by_officers')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_tracking_devices_subject_id_subjects')),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_tracking_devices')),
    sa.UniqueConstraint('subject_id', name=op.f('uq_tracking_devices_subject_id'))
    )


def downgrade():
    op.drop_table('tracking_devices')
