"""PostgreSQL only: two sweeps at once count each missed window once, and a check-in being
written while the sweep judges its window is waited for, not judged missed."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.models import Alert
from corrections.checkin.models import MissedWindow
from corrections.checkin.services import LocationReport, record_location_checkin
from corrections.checkin.settings import CheckinSettings
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.sweep import run_sweep
from tests.factories import SEAT

UTC = dt.UTC
EVENING = dt.datetime(2026, 11, 28, 12, 30, tzinfo=UTC)  # 20:30 in Asia/Shanghai


@pytest.fixture(autouse=True)
def _postgresql_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrency on SQLite is one writer at a time; this is about PostgreSQL")


def subjects(world, n: int) -> list[int]:
    return [
        world.subject(supervision_start="2026-11-25", enrolled_at="2026-11-24T12:00:00+08:00")["id"]
        for _ in range(n)
    ]


def test_two_sweeps_racing_count_each_missed_window_once(app, world):
    ids = subjects(world, 12)
    app.config["SWEEP_BATCH_SIZE"] = 3  # many short transactions, plenty of room to interleave
    barrier = threading.Barrier(2)
    errors = []

    def sweep():
        try:
            with app.app_context():
                barrier.wait()
                run_sweep(EVENING)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    try:
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        app.config["SWEEP_BATCH_SIZE"] = 50_000
    assert errors == []
    with app.app_context():
        alerts = db.session.scalars(select(Alert).where(Alert.kind == "missed_checkin")).all()
        windows = db.session.scalar(select(func.count()).select_from(MissedWindow))
        unlinked = db.session.scalar(
            select(func.count()).select_from(MissedWindow).where(MissedWindow.alert_id.is_(None))
        )
    assert sorted(a.subject_id for a in alerts) == sorted(ids)  # one alert each
    assert {a.occurrences for a in alerts} == {4}  # the 25th to the 28th, each counted once
    assert (windows, unlinked) == (4 * len(ids), 0)


def test_the_sweep_waits_for_a_checkin_being_written_in_the_window_it_judges(app, world):
    (subject_id,) = subjects(world, 1)
    clock.set_now(dt.datetime(2026, 11, 28, 11, 59, tzinfo=UTC))  # 19:59 local
    writing = app.app_context()
    writing.push()
    try:
        subject = db.session.get(Subject, subject_id)
        report = LocationReport("late", SEAT[0], SEAT[1], 20.0, clock.now())
        record_location_checkin(
            subject,
            report,
            kind="location",
            device_id="d",
            actor=Actor.subject(subject_id, None),
            now=clock.now(),
            settings=CheckinSettings.from_config(app.config),
        )  # written, holding the judgement lock, not committed yet

        done = threading.Event()

        def sweep():
            with app.app_context():
                run_sweep(EVENING)
                db.session.remove()
            done.set()

        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        time.sleep(1.0)
        assert not done.is_set(), "the sweep judged while a check-in in the window was unwritten"
        db.session.commit()
    finally:
        db.session.remove()
        writing.pop()
    sweeper.join(30)
    assert done.is_set()
    with app.app_context():
        missed = db.session.scalars(
            select(MissedWindow.starts_at).where(MissedWindow.subject_id == subject_id)
        ).all()
        days = [m.astimezone(clock.local_zone()).day for m in sorted(missed)]
    # The 25th to the 27th were missed; the 28th was met by the check-in it waited for.
    assert days == [25, 26, 27]
