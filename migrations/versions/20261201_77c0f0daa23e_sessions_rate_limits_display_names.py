"""Server-side web sessions, shared rate-limit counts (replacing login_failures), display names

Failed-login counts move from login_failures to rate_limit_hits (the generic limiter); the old
rows only counted towards 15-minute locks, so they are dropped, not copied.

Revision ID: 77c0f0daa23e
Revises: 2833e126ba35
Create Date: 2026-12-01 21:38:41.940494

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '77c0f0daa23e'
down_revision = '2833e126ba35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_limit_hits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_limit_hits'))
    )
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_hits_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_rate_limit_hits_key_at', ['key', 'at'], unique=False)

    op.create_table('officer_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_officer_sessions_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_officer_sessions_token_hash'))
    )
    with op.batch_alter_table('officer_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_sessions_officer_id'), ['officer_id'], unique=False)

    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_key_at'))

    op.drop_table('login_failures')
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=64), nullable=True))



def downgrade():
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_column('display_name')

    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_key_at'), ['key', 'at'], unique=False)

    with op.batch_alter_table('officer_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_sessions_officer_id'))

    op.drop_table('officer_sessions')
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_limit_hits_key_at')
        batch_op.drop_index(batch_op.f('ix_rate_limit_hits_expires_at'))

    op.drop_table('rate_limit_hits')
