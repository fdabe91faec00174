"""The scheduler runs as its own process; the web app never starts jobs; it records each sweep,
beats while alive, and gives up (exit status 1) after repeated failures."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from corrections import clock, features
from corrections.extensions import db
from corrections.jobs.models import JobRun, SchedulerBeat
from corrections.scheduler import (
    SchedulerState,
    build_scheduler,
    heartbeat_job,
    jobs_table,
    run_until_stopped,
    sweep_job,
)


def test_job_table_holds_the_sweep_every_minute_and_a_heartbeat(app):
    table = {job["id"]: job for job in jobs_table(app, SchedulerState(5))}
    assert table["sweep"]["trigger"] == "interval"
    assert table["sweep"]["seconds"] == 60
    assert table["heartbeat"]["seconds"] == app.config["SCHEDULER_HEARTBEAT_SECONDS"]


def test_scheduler_is_built_with_the_jobs_but_not_started(app):
    scheduler = build_scheduler(app, SchedulerState(5))
    assert [job.id for job in scheduler.get_jobs()] == [
        "sweep",
        "heartbeat",
        "prune",
        "signal_storage",
    ]
    assert not scheduler.running


def test_building_the_web_app_starts_no_background_thread():
    import threading

    from config import TestingConfig
    from corrections import create_app

    before = {t.ident for t in threading.enumerate()}
    create_app(TestingConfig)
    assert {t.ident for t in threading.enumerate()} - before == set()


def runs(app) -> list[JobRun]:
    with app.app_context():
        return list(db.session.scalars(select(JobRun).order_by(JobRun.id)))


def test_each_sweep_is_recorded_with_its_outcome_and_counts(app, world):
    state = SchedulerState(5)
    sweep_job(app, state)
    [run] = runs(app)
    assert (run.job, run.outcome, run.error) == ("sweep", "ok", None)
    assert run.finished_at >= run.started_at
    assert set(run.result) == {d.name for d in features.DETECTORS}
    assert run.runner.startswith("scheduler@")
    assert state.failures == 0


def failing_detectors(monkeypatch):
    def broken(now, config):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(
        "corrections.sweep.DETECTORS", (features.Detector("missed_checkin", broken),)
    )


def test_a_failed_sweep_is_recorded_and_logged_and_the_scheduler_goes_on(
    app, world, monkeypatch, caplog
):
    failing_detectors(monkeypatch)
    state = SchedulerState(5)
    sweep_job(app, state)
    [run] = runs(app)
    assert (run.outcome, run.error) == ("failed", "RuntimeError: the database went away")
    assert state.failures == 1 and not state.stop.is_set()
    assert "sweep failed (1 in a row)" in caplog.text


def test_repeated_failures_stop_the_scheduler_with_exit_status_1(app, world, monkeypatch):
    failing_detectors(monkeypatch)
    state = SchedulerState(3)
    scheduler = build_scheduler(app, state)
    for _ in range(2):
        sweep_job(app, state)
    assert not state.stop.is_set()
    # The third failure is the catch-up sweep run_until_stopped runs first: it never starts.
    assert run_until_stopped(app, state, scheduler) == 1
    assert state.stop.is_set() and not scheduler.running
    assert [r.outcome for r in runs(app)] == ["failed"] * 3


def test_a_success_resets_the_count_of_failures(app, world, monkeypatch):
    state = SchedulerState(3)
    state.failures = 2
    sweep_job(app, state)
    assert state.failures == 0


def test_the_heartbeat_records_this_process_once_and_moves_on(app, world, at):
    state = SchedulerState(5)
    heartbeat_job(app, state)
    later = at(clock.now() + dt.timedelta(seconds=30))
    heartbeat_job(app, state)
    with app.app_context():
        [beat] = db.session.scalars(select(SchedulerBeat)).all()
        assert beat.beat_at == later
