"""The operator's commands: `flask officers create` and `flask alerts sweep`."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from corrections.alerts.models import Alert
from corrections.auth.models import Officer
from corrections.extensions import db
from tests.factories import bearer


def flask(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def officer_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Officer.id)))


def test_officers_create_makes_an_account_that_can_log_in(app, client, world):
    result = flask(
        app,
        "officers",
        "create",
        "zhou",
        "--role",
        "officer",
        "--password",
        "long-enough-1",
        "--office",
        "T01",
    )
    assert result.exit_code == 0, result.output
    assert "zhou" in result.output
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.username == "zhou"))
        assert officer.role == "officer" and officer.office.code == "T01"
    assert bearer(client, "zhou", "long-enough-1")


def test_officers_create_refuses_a_duplicate_name(app, world):
    before = officer_count(app)
    result = flask(
        app, "officers", "create", "admin", "--role", "admin", "--password", "another-pass-1"
    )
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert officer_count(app) == before


def test_officers_create_refuses_an_unknown_office(app, world):
    before = officer_count(app)
    result = flask(
        app,
        "officers",
        "create",
        "wu",
        "--role",
        "officer",
        "--password",
        "long-enough-1",
        "--office",
        "NOPE",
    )
    assert result.exit_code != 0
    assert "NOPE" in result.output
    assert officer_count(app) == before


def sweep(app, at: str) -> dict:
    result = flask(app, "alerts", "sweep", "--at", at)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])["missed_checkin"]


def test_sweep_at_is_idempotent(app, world):
    # Daily 08:00-20:00 from 2026-11-20 (entered the day before): by 21:00 on the 28th nine
    # windows have closed unmet.
    subject = world.subject(supervision_start="2026-11-20", enrolled_at="2026-11-19T12:00:00+08:00")

    first = sweep(app, "2026-11-28T21:00:00+08:00")
    assert first["opened"] == 1 and first["windows_missed"] == 9
    second = sweep(app, "2026-11-28T21:00:00+08:00")
    assert second["opened"] == 0 and second["bumped"] == 0 and second["windows_missed"] == 0

    with app.app_context():
        alerts = db.session.scalars(select(Alert).where(Alert.subject_id == subject["id"])).all()
        assert [(a.kind, a.occurrences) for a in alerts] == [("missed_checkin", 9)]

    # A later sweep still counts what is new: the next day's window, once.
    third = sweep(app, "2026-11-29T21:00:00+08:00")
    assert third["bumped"] == 1 and third["windows_missed"] == 1


def test_sweep_refuses_a_malformed_time(app, world):
    result = flask(app, "alerts", "sweep", "--at", "yesterday")
    assert result.exit_code != 0
    assert "ISO 8601" in result.output


def test_in_production_a_sweep_in_the_future_needs_allow_future(app, world):
    world.subject(supervision_start="2026-11-20", enrolled_at="2026-11-19T12:00:00+08:00")
    app.config["APP_ENV"] = "production"
    try:
        refused = flask(app, "alerts", "sweep", "--at", "2026-12-05T21:00:00+08:00")
        assert refused.exit_code != 0
        assert "--allow-future" in refused.output
        with app.app_context():
            assert db.session.scalar(select(func.count(Alert.id))) == 0  # nothing judged
        # A time in the past is a catch-up, not a prophecy: allowed.
        assert flask(app, "alerts", "sweep", "--at", "2026-11-27T21:00:00+08:00").exit_code == 0
        allowed = flask(
            app, "alerts", "sweep", "--at", "2026-12-05T21:00:00+08:00", "--allow-future"
        )
        assert allowed.exit_code == 0, allowed.output
    finally:
        app.config["APP_ENV"] = "testing"


def test_elsewhere_a_sweep_in_the_future_is_a_drill(app, world):
    world.subject(supervision_start="2026-11-20", enrolled_at="2026-11-19T12:00:00+08:00")
    assert sweep(app, "2026-12-05T21:00:00+08:00")["windows_missed"] == 16


def test_scheduler_status_says_whether_the_scheduler_and_the_sweep_are_alive(app, world, at):
    silent = flask(app, "scheduler", "status")
    assert silent.exit_code == 1
    assert "SILENT (never seen)" in silent.output and "STALE" in silent.output
    from corrections.scheduler import SchedulerState, heartbeat_job, sweep_job

    state = SchedulerState(5)
    heartbeat_job(app, state)
    sweep_job(app, state)
    alive = flask(app, "scheduler", "status")
    assert alive.exit_code == 0, alive.output
    assert "scheduler: alive" in alive.output and "sweep: fresh" in alive.output
    at("2026-11-28T10:10:00+08:00")  # ten minutes without a beat or a sweep
    late = flask(app, "scheduler", "status")
    assert late.exit_code == 1 and "SILENT since" in late.output and "STALE" in late.output
