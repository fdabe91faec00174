"""One definition of a due window, stated twice: `checkin.windows.is_due` in Python (for /me,
the check-in's answer and late uploads) and `checkin.detector.due_on_day` in SQL (for the
sweep). A property test holds the two to each other over random rhythms, anchors, plan versions
and supervision edges, on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from corrections import clock
from corrections.checkin import windows
from corrections.checkin.detector import due_on_day
from corrections.checkin.models import CheckinPlan, WindowShape
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.subjects.models import Subject

BASE = dt.date(2026, 11, 1)
DAYS = 30


@st.composite
def cases(draw):
    every = draw(st.integers(1, 9))
    start = draw(st.integers(0, 1439))
    end = draw(st.integers(0, 1439).filter(lambda m: m != start))
    anchor = windows.day_number(BASE) + draw(st.integers(-12, 12))
    # When the version took effect, and (maybe) when it was replaced: any minute of the month.
    effective_from = draw(st.integers(-3 * 1440, 20 * 1440))
    replaced_after = draw(st.none() | st.integers(0, 20 * 1440))
    sup_start = BASE + dt.timedelta(days=draw(st.integers(-5, 20)))
    sup_end = sup_start + dt.timedelta(days=draw(st.integers(0, 25)))
    return every, start, end, anchor, effective_from, replaced_after, sup_start, sup_end


def _instant(minutes: int, zone) -> dt.datetime:
    local = dt.datetime.combine(BASE, dt.time(0), tzinfo=zone) + dt.timedelta(minutes=minutes)
    return local.astimezone(dt.UTC)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_python_and_sql_agree_on_which_windows_are_due(app, case):
    every, start, end, anchor, effective_from, replaced_after, sup_start, sup_end = case
    with app.app_context():
        zone = clock.local_zone()
        shape = windows.WindowShape(every, start, end)
        began = _instant(effective_from, zone)
        first = windows.first_window_day(shape, anchor, began, zone)
        last = None
        if replaced_after is not None:
            replaced = began + dt.timedelta(minutes=replaced_after)
            last = windows.last_window_day(shape, anchor, replaced, zone)
        terms = windows.PlanTerms(shape, anchor, first, last)
        supervision = windows.Supervision(sup_start, sup_end)

        office = Office(code="P1", name="p", lat=0.0, lon=0.0)
        subject = Subject(
            name="p", phone="+8613900009999", pin_hash="x", office=office, category="probation",
            level="normal", supervision_start=sup_start, supervision_end=sup_end,
            created_at=began,
        )  # fmt: skip
        row = WindowShape(
            every_days=every, window_start_min=start, window_end_min=end, judged_until=began
        )
        db.session.add_all([office, subject, row])
        db.session.flush()
        db.session.add(
            CheckinPlan(
                subject_id=subject.id, shape_id=row.id, anchor_day=anchor,
                effective_from=began, first_day=first, last_day=last, created_at=began,
            )
        )  # fmt: skip
        db.session.flush()
        try:
            low = windows.day_number(BASE) - 5
            in_sql, in_python = [], []
            for n in range(low, low + DAYS + 10):
                query = (
                    select(CheckinPlan.subject_id)
                    .join(Subject, Subject.id == CheckinPlan.subject_id)
                    .where(*due_on_day(row.id, shape, n))
                )
                if db.session.scalars(query).all():
                    in_sql.append(n)
                if windows.is_due(terms, n, supervision):
                    in_python.append(n)
            assert in_sql == in_python
            enumerated = windows.due_windows([terms], supervision, low, low + DAYS + 9, zone)
            assert [w.day for w in enumerated] == in_python
            # Every due window starts at or after the version took effect (no past misses)
            # and before it was replaced (a change never reaches into judged days).
            for w in enumerated:
                assert w.start >= began
                if replaced_after is not None:
                    assert w.start < began + dt.timedelta(minutes=replaced_after)
        finally:
            db.session.rollback()
            for model in (CheckinPlan, WindowShape, Subject, Office):
                db.session.execute(delete(model))
            db.session.commit()
