"""Curfew hours on check-in plans; each subject's curfew night in the tracking state

Revision ID: ee58d8ddc854
Revises: 383c32558362
Create Date: 2026-12-04 15:14:10.805776

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ee58d8ddc854'
down_revision = '383c32558362'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checkin_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('curfew_start_min', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('curfew_end_min', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_checkin_plans_curfew_both_or_none'), '(curfew_start_min IS NULL) = (curfew_end_min IS NULL)'
        )
        batch_op.create_check_constraint(
            op.f('ck_checkin_plans_curfew_range'),
            'curfew_start_min IS NULL OR (curfew_start_min BETWEEN 0 AND 1439'
            ' AND curfew_end_min BETWEEN 0 AND 1439 AND curfew_start_min != curfew_end_min)',
        )

    with op.batch_alter_table('tracking_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('curfew_night', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('curfew_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('curfew_run', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('curfew_raised', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('tracking_states', schema=None) as batch_op:
        batch_op.drop_column('curfew_raised')
        batch_op.drop_column('curfew_run')
        batch_op.drop_column('curfew_count')
        batch_op.drop_column('curfew_night')

    with op.batch_alter_table('checkin_plans', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_checkin_plans_curfew_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_checkin_plans_curfew_both_or_none'), type_='check')
        batch_op.drop_column('curfew_end_min')
        batch_op.drop_column('curfew_start_min')

