"""The missed-check-in detector, run by every sweep.

For each rhythm (window shape) whose next window can be judged (it ended `CHECKIN_GRACE_MINUTES`
ago), and for each of its windows not judged yet, oldest first: one INSERT ... SELECT stores the
windows that were due and in which no check-in was recorded (judged and stored in the same
statement; met windows are not stored), one UPDATE and one INSERT ... SELECT open or bump the
`missed_checkin` alerts, one UPDATE links the windows to their alert. Subjects are taken in
batches of `SWEEP_BATCH_SIZE`, each its own short transaction under the judgement lock, so a
catch-up after long downtime never holds phones up; a batch judged twice (a crash in between)
changes nothing, since a stored window is never stored or counted again. An idle sweep reads
one small table (the shapes' `next_judgement_at`) and writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter

from sqlalchemy import JSON, Integer, and_, exists, func, literal, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from corrections import clock
from corrections.alerts.models import UNRESOLVED, Alert
from corrections.alerts.raising import raise_alerts
from corrections.checkin import windows
from corrections.checkin.models import (
    WINDOW_KINDS_SQL,
    Checkin,
    CheckinPlan,
    MissedWindow,
    WindowShape,
)
from corrections.checkin.plans import next_judgement, pure_shape
from corrections.checkin.settings import CheckinSettings
from corrections.checkin.store import judgement_lock
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.types import UtcDateTime


def due_on_day(shape_id: int, shape: windows.WindowShape, n: int) -> list:
    """`windows.is_due` for every plan of one rhythm on local day `n`, as SQL conditions over
    CheckinPlan and Subject (the property test holds the two to each other)."""
    return [
        CheckinPlan.shape_id == shape_id,
        CheckinPlan.first_day <= n,
        or_(CheckinPlan.last_day.is_(None), CheckinPlan.last_day >= n),
        # first_day >= anchor_day (a check constraint), so the left side is never negative.
        (literal(n, Integer) - CheckinPlan.anchor_day) % shape.every_days == 0,
        Subject.supervision_start <= windows.day_from_number(n),
        Subject.supervision_end > windows.day_from_number(shape.end_day(n)),
    ]


def detect_missed_checkins(now: dt.datetime, settings: CheckinSettings) -> dict:
    """Judge every window that can be judged by `now`; counts of what was found."""
    due = db.session.scalars(
        select(WindowShape.id).where(WindowShape.next_judgement_at <= now).order_by(WindowShape.id)
    ).all()
    db.session.commit()
    totals: Counter = Counter(windows_closed=0, windows_missed=0, opened=0, bumped=0)
    for shape_id in due:
        totals.update(_judge_shape(shape_id, now, settings))
    return dict(totals)


def _windows_to_judge(shape: windows.WindowShape, judged_until: dt.datetime, cutoff, zone):
    """(day, start, end) of each window of the rhythm ending after `judged_until`, by `cutoff`."""
    found = []
    n = windows.day_number(judged_until.astimezone(zone).date()) - 1
    while True:
        start, end = shape.bounds(n, zone)
        if end > cutoff:
            return found
        if end > judged_until:
            found.append((n, start, end))
        n += 1


def _judge_shape(shape_id: int, now: dt.datetime, settings: CheckinSettings) -> Counter:
    zone = clock.local_zone()
    row = db.session.get(WindowShape, shape_id)
    shape = pure_shape(row)
    cutoff = now - settings.grace
    found: Counter = Counter()
    todo = _windows_to_judge(shape, row.judged_until, cutoff, zone)
    batches = _batches(shape_id, settings.sweep_batch_size) if todo else []
    for n, start, end in todo:
        for low, high in batches:
            judgement_lock(shared=False)
            found["windows_missed"] += _store_missed(shape_id, shape, n, start, end, low, high, now)
            raised = _raise_alerts(low, high, now)
            found["opened"] += len(raised.opened)
            found["bumped"] += len(raised.bumped)
            db.session.commit()
        found["windows_closed"] += 1
        row = db.session.get(WindowShape, shape_id)
        row.judged_until = end
        row.next_judgement_at = next_judgement(shape, end, settings.grace, zone)
        db.session.commit()
    if not todo:
        # Picked before its time (the grace was lengthened): look again when it is due.
        row.next_judgement_at = next_judgement(shape, row.judged_until, settings.grace, zone)
        db.session.commit()
    return found


def _batches(shape_id: int, size: int) -> list[tuple[int | None, int | None]]:
    """Subject-id ranges (low exclusive, high inclusive) of about `size` plans of the rhythm."""
    numbered = (
        select(
            CheckinPlan.subject_id,
            func.row_number().over(order_by=CheckinPlan.subject_id).label("position"),
        )
        .where(CheckinPlan.shape_id == shape_id)
        .subquery()
    )
    bounds = db.session.scalars(
        select(numbered.c.subject_id)
        .where(numbered.c.position % size == 0)
        .order_by(numbered.c.subject_id)
    ).all()
    edges = [None, *bounds, None]
    return [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


def _in_batch(column, low, high) -> list:
    conditions = []
    if low is not None:
        conditions.append(column > low)
    if high is not None:
        conditions.append(column <= high)
    return conditions


def _store_missed(shape_id, shape, n, start, end, low, high, now) -> int:
    checked_in = exists().where(
        Checkin.subject_id == CheckinPlan.subject_id,
        # Spelled as the partial index ix_checkins_window_reports states it, so the planner uses it.
        text(WINDOW_KINDS_SQL),
        Checkin.recorded_at >= start,
        Checkin.recorded_at < end,
    )
    rows = (
        select(
            CheckinPlan.subject_id,
            CheckinPlan.id,
            literal(start, UtcDateTime),
            literal(end, UtcDateTime),
            literal(now, UtcDateTime),
        )
        .join(Subject, Subject.id == CheckinPlan.subject_id)
        .where(
            *due_on_day(shape_id, shape, n),
            *_in_batch(CheckinPlan.subject_id, low, high),
            *_in_batch(Subject.id, low, high),
            ~checked_in,
        )
    )
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(MissedWindow)
        .from_select(["subject_id", "plan_id", "starts_at", "ends_at", "judged_at"], rows)
        .on_conflict_do_nothing(index_elements=["subject_id", "starts_at"])
        # Counted by what it returns: SQLAlchemy on psycopg reports no row count for an
        # INSERT ... SELECT.
        .returning(MissedWindow.id)
    )
    return len(db.session.scalars(statement).all())


@contextlib.contextmanager
def _hash_joins():
    """On PostgreSQL, steer the batch's alert statements away from nested loops: they join a
    few thousand new misses against the batch's open alerts, and while the planner's statistics
    lag behind a table that just grew (a new county's first days, a catch-up) a nested loop
    over "one row" takes seconds. Hash joins cost milliseconds whatever the statistics say."""
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("SET LOCAL enable_nestloop = off"))
    yield
    if postgres:
        db.session.execute(text("SET LOCAL enable_nestloop = on"))


def _raise_alerts(low, high, now):
    unlinked = and_(MissedWindow.alert_id.is_(None), *_in_batch(MissedWindow.subject_id, low, high))
    source = (
        select(
            MissedWindow.subject_id.label("subject_id"),
            Subject.office_id.label("office_id"),
            Subject.level.label("level"),
            func.count().label("occurrences"),
            literal({}, JSON).label("evidence"),
        )
        .join(Subject, Subject.id == MissedWindow.subject_id)
        .where(unlinked, *_in_batch(Subject.id, low, high))
        .group_by(MissedWindow.subject_id, Subject.office_id, Subject.level)
    )
    batch_alerts = _in_batch(Alert.subject_id, low, high)
    with _hash_joins():
        raised = raise_alerts("missed_checkin", source, now, within=tuple(batch_alerts))
        db.session.execute(
            update(MissedWindow)
            .where(
                unlinked,
                Alert.subject_id == MissedWindow.subject_id,
                Alert.kind == "missed_checkin",
                Alert.status.in_(UNRESOLVED),
                *batch_alerts,
            )
            .values(alert_id=Alert.id)
            .execution_options(synchronize_session=False)
        )
    return raised
