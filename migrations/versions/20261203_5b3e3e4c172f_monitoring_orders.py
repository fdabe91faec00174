"""Electronic-monitoring orders (art. 29): a subject's terms of continuous tracking

Revision ID: 5b3e3e4c172f
Revises: 8a4f2c6d1e37
Create Date: 2026-12-03 01:16:28.645800

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b3e3e4c172f'
down_revision = '8a4f2c6d1e37'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monitoring_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('ground', sa.String(length=40), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('expiry_warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'approved') = (approved_at IS NOT NULL AND ended_at IS NULL)", name=op.f('ck_monitoring_orders_approval_state')),
    sa.CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL)", name=op.f('ck_monitoring_orders_end_state')),
    sa.CheckConstraint("ground IN ('court_prohibition_breach', 'left_area_without_approval', 'refused_reporting_after_warning', 'police_penalty', 'revocation_pending')", name=op.f('ck_monitoring_orders_ground')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'ended')", name=op.f('ck_monitoring_orders_status')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_monitoring_orders_period_order')),
    sa.ForeignKeyConstraint(['approved_by'], ['officers.id'], name=op.f('fk_monitoring_orders_approved_by_officers')),
    sa.ForeignKeyConstraint(['created_by'], ['officers.id'], name=op.f('fk_monitoring_orders_created_by_officers')),
    sa.ForeignKeyConstraint(['ended_by'], ['officers.id'], name=op.f('fk_monitoring_orders_ended_by_officers')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_monitoring_orders_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_orders'))
    )
    with op.batch_alter_table('monitoring_orders', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_orders_status_ends_on', ['status', 'ends_on'], unique=False)
        batch_op.create_index('ix_monitoring_orders_subject_status', ['subject_id', 'status'], unique=False)



def downgrade():
    with op.batch_alter_table('monitoring_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_orders_subject_status')
        batch_op.drop_index('ix_monitoring_orders_status_ends_on')

    op.drop_table('monitoring_orders')
