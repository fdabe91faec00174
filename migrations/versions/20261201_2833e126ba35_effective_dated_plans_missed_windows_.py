"""effective-dated plans, shared window shapes, missed windows only, alert concerns, job runs

Check-in plans become versions (effective_from / effective_to, with the first and last local
day of their windows) that share a rhythm (`window_shapes`, which also holds how far the sweep
has judged it). Only missed windows are kept (`missed_windows`); met ones are dropped, as the
check-in that met them is kept. Alerts may concern a case record instead of a subject; history
steps can stand for a run of repeats and carry facts. Job runs and scheduler heartbeats are
recorded.

Revision ID: 2833e126ba35
Revises: 2582da68d407
Create Date: 2026-12-01 21:13:22.072038

"""
import datetime as dt
import os
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '2833e126ba35'
down_revision = '2582da68d407'
branch_labels = None
depends_on = None

EPOCH = dt.date(1970, 1, 1)


def _utc(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _start(n, start_min, zone):
    day = EPOCH + dt.timedelta(days=n)
    local = dt.datetime.combine(day, dt.time(start_min // 60, start_min % 60), tzinfo=zone)
    return local.astimezone(dt.UTC)


def _first_window_day(every, start_min, anchor, effective_from, zone):
    # As corrections.checkin.windows.first_window_day, frozen here as of this migration.
    n = (effective_from.astimezone(zone).date() - EPOCH).days - 1
    n = max(n, anchor)
    n += (-(n - anchor)) % every
    while _start(n, start_min, zone) < effective_from:
        n += every
    return n


def upgrade():
    zone = ZoneInfo(os.environ.get("TIMEZONE", "Asia/Shanghai"))
    now = dt.datetime.now(dt.UTC)
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('runner', sa.String(length=160), nullable=True),
    sa.CheckConstraint("outcome IN ('running', 'ok', 'failed')", name=op.f('ck_job_runs_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_outcome_finished', ['job', 'outcome', 'finished_at'], unique=False)
        batch_op.create_index('ix_job_runs_started', ['started_at'], unique=False)

    op.create_table('scheduler_beats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=120), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_beats')),
    sa.UniqueConstraint('host', 'pid', name='uq_scheduler_beats_host_pid')
    )
    shapes = op.create_table('window_shapes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('every_days', sa.Integer(), nullable=False),
    sa.Column('window_start_min', sa.Integer(), nullable=False),
    sa.Column('window_end_min', sa.Integer(), nullable=False),
    sa.Column('judged_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_judgement_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('every_days >= 1', name=op.f('ck_window_shapes_every_days_positive')),
    sa.CheckConstraint('window_end_min BETWEEN 0 AND 1439', name=op.f('ck_window_shapes_window_end_range')),
    sa.CheckConstraint('window_start_min != window_end_min', name=op.f('ck_window_shapes_window_not_empty')),
    sa.CheckConstraint('window_start_min BETWEEN 0 AND 1439', name=op.f('ck_window_shapes_window_start_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_window_shapes')),
    sa.UniqueConstraint('every_days', 'window_start_min', 'window_end_min', name='uq_window_shape')
    )

    with op.batch_alter_table('checkin_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shape_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('effective_from', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('effective_to', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_day', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_day', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))

    # Each plan becomes the first version of the subject's plan, in force since the record was
    # entered; its rhythm is judged from where the oldest of its plans had been laid out.
    bind = op.get_bind()
    plans = bind.execute(
        sa.text(
            "SELECT p.id, p.every_days, p.window_start_min, p.window_end_min, p.anchor_day,"
            " p.windows_until, s.created_at FROM checkin_plans p"
            " JOIN subjects s ON s.id = p.subject_id"
        ).columns(windows_until=sa.DateTime(), created_at=sa.DateTime())
    ).all()
    judged: dict[tuple, dt.datetime] = {}
    for plan in plans:
        key = (plan.every_days, plan.window_start_min, plan.window_end_min)
        since = _utc(plan.windows_until) or _utc(plan.created_at)
        judged[key] = min(judged.get(key, since), since)
    shape_ids = {}
    for key, until in judged.items():
        shape_ids[key] = bind.execute(
            shapes.insert()
            .values(
                every_days=key[0],
                window_start_min=key[1],
                window_end_min=key[2],
                judged_until=until,
                next_judgement_at=until,
            )
            .returning(shapes.c.id)
        ).scalar_one()
    plan_table = sa.table(
        'checkin_plans',
        sa.column('id', sa.Integer),
        sa.column('shape_id', sa.Integer),
        sa.column('effective_from', sa.DateTime(timezone=True)),
        sa.column('first_day', sa.Integer),
        sa.column('created_at', sa.DateTime(timezone=True)),
    )
    for plan in plans:
        key = (plan.every_days, plan.window_start_min, plan.window_end_min)
        effective = _utc(plan.created_at)
        bind.execute(
            plan_table.update()
            .where(plan_table.c.id == plan.id)
            .values(
                shape_id=shape_ids[key],
                effective_from=effective,
                first_day=_first_window_day(
                    plan.every_days, plan.window_start_min, plan.anchor_day, effective, zone
                ),
                created_at=effective,
            )
        )

    op.create_table('missed_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('judged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('met_checkin_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_missed_windows_alert_id_alerts')),
    sa.ForeignKeyConstraint(['met_checkin_id'], ['checkins.id'], name=op.f('fk_missed_windows_met_checkin_id_checkins')),
    sa.ForeignKeyConstraint(['plan_id'], ['checkin_plans.id'], name=op.f('fk_missed_windows_plan_id_checkin_plans')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_missed_windows_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_missed_windows')),
    sa.UniqueConstraint('subject_id', 'starts_at', name='uq_missed_windows_subject_start')
    )
    with op.batch_alter_table('missed_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missed_windows_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_missed_windows_met_checkin_id'), ['met_checkin_id'], unique=False)
        batch_op.create_index('ix_missed_windows_unlinked', ['subject_id'], unique=False, sqlite_where=sa.text('alert_id IS NULL'), postgresql_where=sa.text('alert_id IS NULL'))

    # Missed windows already counted keep their alert; met ones are not kept any more.
    op.execute(
        "INSERT INTO missed_windows (subject_id, plan_id, starts_at, ends_at, judged_at, alert_id)"
        " SELECT w.subject_id, p.id, w.starts_at, w.ends_at, w.ends_at, w.alert_id"
        " FROM checkin_windows w JOIN checkin_plans p ON p.subject_id = w.subject_id"
        " WHERE w.met_checkin_id IS NULL AND w.alert_id IS NOT NULL"
    )
    with op.batch_alter_table('checkin_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_windows_unjudged'), sqlite_where=sa.text('met_checkin_id IS NULL AND alert_id IS NULL'))

    op.drop_table('checkin_windows')
    window_kinds = "kind IN ('location', 'video', 'sms', 'voice')"
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index('ix_checkins_window_reports', ['subject_id', 'recorded_at', 'kind'], unique=False, sqlite_where=sa.text(window_kinds), postgresql_where=sa.text(window_kinds))
    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('count', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('detail', sa.JSON(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_alert_events_count_positive'), 'count >= 1')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.alter_column('subject_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_check_constraint(
            op.f('ck_alerts_one_concern'),
            '(subject_id IS NULL) != (case_type IS NULL) AND (case_type IS NULL) = (case_id IS NULL)',
        )
        batch_op.create_index('uq_alerts_one_unresolved_case', ['case_type', 'case_id', 'kind'], unique=True, sqlite_where=sa.text("status IN ('open', 'acknowledged')"), postgresql_where=sa.text("status IN ('open', 'acknowledged')"))

    with op.batch_alter_table('checkin_plans', schema=None) as batch_op:
        batch_op.alter_column('shape_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('effective_from', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('first_day', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('created_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_checkin_plans_subject_id'), type_='unique')
        batch_op.drop_constraint(op.f('ck_checkin_plans_every_days_positive'), type_='check')
        batch_op.drop_constraint(op.f('ck_checkin_plans_window_end_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_checkin_plans_window_not_empty'), type_='check')
        batch_op.drop_constraint(op.f('ck_checkin_plans_window_start_range'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_checkin_plans_video_positive'), 'video_every_days IS NULL OR video_every_days >= 1'
        )
        batch_op.create_check_constraint(op.f('ck_checkin_plans_first_after_anchor'), 'first_day >= anchor_day')
        batch_op.create_index('ix_checkin_plans_shape_subject', ['shape_id', 'subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_plans_subject_id'), ['subject_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_checkin_plans_shape_id_window_shapes'), 'window_shapes', ['shape_id'], ['id'])
        batch_op.drop_column('window_start_min')
        batch_op.drop_column('window_end_min')
        batch_op.drop_column('every_days')
        batch_op.drop_column('windows_until')


def downgrade():
    # The rhythm goes back into each plan; versions other than the latest, missed windows and
    # case alerts are lost (an old schema cannot hold them).
    op.execute(
        "DELETE FROM checkin_plans WHERE effective_to IS NOT NULL"
    )
    op.execute("DELETE FROM alert_events WHERE alert_id IN (SELECT id FROM alerts WHERE subject_id IS NULL)")
    op.execute("DELETE FROM alerts WHERE subject_id IS NULL")
    with op.batch_alter_table('checkin_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('windows_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('every_days', sa.INTEGER(), nullable=True))
        batch_op.add_column(sa.Column('window_end_min', sa.INTEGER(), nullable=True))
        batch_op.add_column(sa.Column('window_start_min', sa.INTEGER(), nullable=True))
    op.execute(
        "UPDATE checkin_plans SET"
        " every_days = (SELECT every_days FROM window_shapes w WHERE w.id = checkin_plans.shape_id),"
        " window_start_min = (SELECT window_start_min FROM window_shapes w WHERE w.id = checkin_plans.shape_id),"
        " window_end_min = (SELECT window_end_min FROM window_shapes w WHERE w.id = checkin_plans.shape_id),"
        " windows_until = (SELECT judged_until FROM window_shapes w WHERE w.id = checkin_plans.shape_id)"
    )
    with op.batch_alter_table('checkin_plans', schema=None) as batch_op:
        batch_op.alter_column('every_days', existing_type=sa.INTEGER(), nullable=False)
        batch_op.alter_column('window_end_min', existing_type=sa.INTEGER(), nullable=False)
        batch_op.alter_column('window_start_min', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_checkin_plans_shape_id_window_shapes'), type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_checkin_plans_video_positive'), type_='check')
        batch_op.drop_constraint(op.f('ck_checkin_plans_first_after_anchor'), type_='check')
        batch_op.create_check_constraint(op.f('ck_checkin_plans_every_days_positive'), 'every_days >= 1')
        batch_op.create_check_constraint(op.f('ck_checkin_plans_window_end_range'), 'window_end_min BETWEEN 0 AND 1439')
        batch_op.create_check_constraint(op.f('ck_checkin_plans_window_not_empty'), 'window_start_min != window_end_min')
        batch_op.create_check_constraint(op.f('ck_checkin_plans_window_start_range'), 'window_start_min BETWEEN 0 AND 1439')
        batch_op.drop_index(batch_op.f('ix_checkin_plans_subject_id'))
        batch_op.drop_index('ix_checkin_plans_shape_subject')
        batch_op.create_unique_constraint(batch_op.f('uq_checkin_plans_subject_id'), ['subject_id'])
        batch_op.drop_column('created_at')
        batch_op.drop_column('last_day')
        batch_op.drop_column('first_day')
        batch_op.drop_column('effective_to')
        batch_op.drop_column('effective_from')
        batch_op.drop_column('shape_id')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_one_unresolved_case', sqlite_where=sa.text("status IN ('open', 'acknowledged')"), postgresql_where=sa.text("status IN ('open', 'acknowledged')"))
        batch_op.drop_constraint(op.f('ck_alerts_one_concern'), type_='check')
        batch_op.alter_column('subject_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('case_id')
        batch_op.drop_column('case_type')

    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_alert_events_count_positive'), type_='check')
        batch_op.drop_column('detail')
        batch_op.drop_column('count')
        batch_op.drop_column('last_at')

    op.create_table('checkin_windows',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('subject_id', sa.INTEGER(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('met_checkin_id', sa.INTEGER(), nullable=True),
    sa.Column('alert_id', sa.INTEGER(), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_checkin_windows_alert_id_alerts')),
    sa.ForeignKeyConstraint(['met_checkin_id'], ['checkins.id'], name=op.f('fk_checkin_windows_met_checkin_id_checkins')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_checkin_windows_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_windows')),
    sa.UniqueConstraint('subject_id', 'starts_at', name=op.f('uq_checkin_windows_subject_start'))
    )
    with op.batch_alter_table('checkin_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_windows_unjudged'), ['subject_id', 'ends_at'], unique=False, sqlite_where=sa.text('met_checkin_id IS NULL AND alert_id IS NULL'), postgresql_where=sa.text('met_checkin_id IS NULL AND alert_id IS NULL'))
    op.execute(
        "INSERT INTO checkin_windows (subject_id, starts_at, ends_at, met_checkin_id, alert_id)"
        " SELECT subject_id, starts_at, ends_at, met_checkin_id, alert_id FROM missed_windows"
    )

    with op.batch_alter_table('missed_windows', schema=None) as batch_op:
        batch_op.drop_index('ix_missed_windows_unlinked', sqlite_where=sa.text('alert_id IS NULL'), postgresql_where=sa.text('alert_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_missed_windows_met_checkin_id'))
        batch_op.drop_index(batch_op.f('ix_missed_windows_alert_id'))

    op.drop_table('missed_windows')
    window_kinds = "kind IN ('location', 'video', 'sms', 'voice')"
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_window_reports', sqlite_where=sa.text(window_kinds), postgresql_where=sa.text(window_kinds))
    op.drop_table('window_shapes')
    op.drop_table('scheduler_beats')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_started')
        batch_op.drop_index('ix_job_runs_job_outcome_finished')

    op.drop_table('job_runs')
