"""Where signals are kept: daily partitions on PostgreSQL made ahead by the storage job, a
default partition that loses nothing, and retention that deletes exactly the old days (whole
partitions on PostgreSQL, rows on SQLite), logged and audited with counts."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql

from corrections.actors import Actor
from corrections.audit.models import AuditEntry
from corrections.extensions import db
from corrections.scheduler import SchedulerState, storage_job
from corrections.signals import storage
from corrections.signals.models import Signal
from tests.factories import SEAT
from tests.test_cli import flask
from tests.test_signals import NOW, point, send, tracked  # noqa: F401 - the fixture

UTC = dt.UTC
DAY = dt.timedelta(days=1)
SETTINGS = storage.StorageSettings(retention_days=180, ahead_days=7, late=dt.timedelta(days=7))


@pytest.fixture
def engine(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


@pytest.fixture
def pg(engine):
    if engine != "postgresql":
        pytest.skip("partitions are PostgreSQL's; SQLite keeps a plain table")


def days(first: str, last: str) -> list[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start + n * DAY for n in range((end - start).days + 1)]


def names(app) -> list[str]:
    with app.app_context():
        return [p.name for p in storage.partitions()]


def store(app, subject_id: int, *times: dt.datetime) -> None:
    """Signals recorded at `times`, written as the ingest writes them (old ones too, which the
    API would refuse as too old)."""
    with app.app_context():
        for n, at in enumerate(times):
            db.session.add(
                Signal(
                    subject_id=subject_id,
                    source="app",
                    lat=SEAT[0] + n * 1e-5,
                    lon=SEAT[1],
                    recorded_at=at,
                    received_at=at,
                    flags=[],
                )
            )
        db.session.commit()


def table_of(app, signal_id: int) -> str:
    with app.app_context():
        return db.session.scalar(
            text("SELECT tableoid::regclass::text FROM signals WHERE id = :id"), {"id": signal_id}
        )


def recorded_times(app) -> list[dt.datetime]:
    with app.app_context():
        return list(db.session.scalars(select(Signal.recorded_at).order_by(Signal.recorded_at)))


def prune_entries(app) -> list[dict]:
    with app.app_context():
        return [
            e.detail
            for e in db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "signals.prune")
                .order_by(AuditEntry.id)
            )
        ]


# The days, without a database.


def test_the_days_prepared_reach_back_as_far_as_a_late_upload_and_ahead():
    prepared = storage.days_to_prepare(NOW, 7, dt.timedelta(hours=7 * 24))
    assert prepared == days("2026-11-21", "2026-12-05")


def test_the_days_are_utc_days_whatever_the_local_time():
    # 07:30 in the county on 29 November is still 28 November in UTC.
    late_evening = dt.datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    assert storage.days_to_prepare(late_evening, 1, dt.timedelta(0)) == days(
        "2026-11-28", "2026-11-29"
    )


def test_the_cutoff_is_the_midnight_utc_starting_the_oldest_kept_day():
    assert storage.retention_cutoff(NOW, 180) == dt.datetime(2026, 6, 1, tzinfo=UTC)


def test_a_retention_no_longer_than_a_late_upload_is_refused():
    config = {
        "SIGNAL_RETENTION_DAYS": 7,
        "SIGNAL_PARTITIONS_AHEAD_DAYS": 7,
        "CHECKIN_MAX_AGE_HOURS": 7 * 24,
    }
    with pytest.raises(ValueError, match="CHECKIN_MAX_AGE_HOURS"):
        storage.StorageSettings.from_config(config)
    config["SIGNAL_RETENTION_DAYS"] = 8
    assert storage.StorageSettings.from_config(config).retention_days == 8


def test_partitions_are_no_model_s_table():
    assert storage.is_partition("signals_p20261128") and storage.is_partition("signals_default")
    assert not storage.is_partition("signals") and not storage.is_partition("signals_p2026")


# PostgreSQL: the partitions.


def test_the_job_makes_every_partition_a_point_may_hit_and_is_idempotent(app, pg):
    with app.app_context():
        storage.prepare(NOW, 7, SETTINGS.late)
        again = storage.prepare(NOW, 7, SETTINGS.late)
    made = names(app)
    assert again == []
    for day in days("2026-11-21", "2026-12-05"):
        assert storage.partition_name(day) in made
    assert made[-1] == "signals_default"
    assert names(app) == made


def test_a_late_point_lands_in_the_partition_of_its_utc_day(app, client, pg, tracked):  # noqa: F811
    with app.app_context():
        storage.prepare(NOW, 7, SETTINGS.late)
    # Recorded 26 November 23:00 UTC (27 November in the county), sent a day and more later.
    late = point(minutes=-(26 * 60))
    assert late["recorded_at"].startswith("2026-11-26T23:00")
    assert send(client, tracked, [late]).get_json() == {"stored": 1, "duplicates": 0}
    with app.app_context():
        signal_id = db.session.scalar(select(Signal.id))
    assert table_of(app, signal_id) == "signals_p20261126"


def test_a_point_of_a_day_without_a_partition_waits_in_the_default_and_is_moved_later(
    app, world, pg, caplog
):
    far = dt.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    with app.app_context():
        db.session.execute(text("DROP TABLE IF EXISTS signals_p20270301"))
        db.session.commit()
    subject_id = world.subject()["id"]
    store(app, subject_id, far)
    with app.app_context():
        signal_id = db.session.scalar(select(Signal.id))
    assert table_of(app, signal_id) == "signals_default"
    with app.app_context(), caplog.at_level(logging.WARNING, logger="corrections.signals"):
        made = storage.prepare(far, 1, dt.timedelta(0))
    assert made == ["signals_p20270301", "signals_p20270302"]
    assert table_of(app, signal_id) == "signals_p20270301"  # the same point, the same id
    assert "moved 1 signals out of signals_default" in caplog.text
    assert recorded_times(app) == [far]


def test_duplicates_are_refused_across_partitions_on_the_batch_path(app, client, pg, tracked):  # noqa: F811
    with app.app_context():
        storage.prepare(NOW, 7, SETTINGS.late)
    # From 27 November 23:50 UTC to 28 November 00:10: two partitions.
    batch = [point(minutes=m, client_id=f"p{m}") for m in (-70, -60, -50)]
    assert send(client, tracked, batch).get_json() == {"stored": 3, "duplicates": 0}
    plain = point(minutes=-65)  # no client_id: the same time and place is the duplicate
    again = send(client, tracked, [*batch, plain, plain])
    assert again.get_json() == {"stored": 1, "duplicates": 4}
    with app.app_context():
        tables = db.session.scalars(
            text("SELECT DISTINCT tableoid::regclass::text FROM signals ORDER BY 1")
        ).all()
    assert tables == ["signals_p20261127", "signals_p20261128"]


def test_the_unique_key_holds_in_the_partitioned_table_as_on_conflict_needs(app, world, pg):
    subject_id = world.subject()["id"]
    at = dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    row = {
        "subject_id": subject_id,
        "source": "app",
        "lat": SEAT[0],
        "lon": SEAT[1],
        "recorded_at": at,
        "received_at": at,
        "flags": [],
    }
    with app.app_context():
        storage.prepare(NOW, 7, SETTINGS.late)
        inserted = [
            db.session.execute(
                postgresql.insert(Signal)
                .values([row])
                .on_conflict_do_nothing()
                .returning(Signal.id)
            ).all()
            for _ in range(2)
        ]
        db.session.commit()
        assert len(inserted[0]) == 1 and inserted[1] == []
        assert db.session.scalar(select(func.count()).select_from(Signal)) == 1


# Retention, on both engines.


def old_world(app, world, engine) -> int:
    """A subject with one signal on each of the days around the cutoff (1 June 2026)."""
    subject_id = world.subject()["id"]
    if engine == "postgresql":
        with app.app_context():
            storage.prepare(dt.datetime(2026, 5, 30, tzinfo=UTC), 3, dt.timedelta(days=1))
    store(
        app,
        subject_id,
        dt.datetime(2026, 5, 29, 12, 0, tzinfo=UTC),
        dt.datetime(2026, 5, 31, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC),
        dt.datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 6, 2, 8, 0, tzinfo=UTC),
    )
    return subject_id


def test_retention_deletes_exactly_the_days_before_the_cutoff_and_audits_them(
    app, world, engine, caplog
):
    old_world(app, world, engine)
    with app.app_context(), caplog.at_level(logging.INFO, logger="corrections.signals"):
        pruned = storage.prune(NOW, 180, Actor.system())
    assert pruned.total == 3
    assert recorded_times(app) == [
        dt.datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 6, 2, 8, 0, tzinfo=UTC),
    ]
    entries = prune_entries(app)
    assert sum(e["rows"] for e in entries) == 3
    assert {e["recorded_before"] for e in entries} == {"2026-06-01T00:00:00Z"}
    if engine == "postgresql":
        # The days before the cutoff dropped whole (the one of 30 May was empty), no later one.
        assert [name for name, _ in pruned.partitions] == [
            "signals_p20260529",
            "signals_p20260530",
            "signals_p20260531",
        ]
        assert [e["day"] for e in entries] == ["2026-05-29", "2026-05-30", "2026-05-31"]
        assert [e["rows"] for e in entries] == [1, 0, 2]
        assert "signals_p20260531" not in names(app) and "signals_p20260601" in names(app)
        assert "dropped partition signals_p20260531 (2 signals)" in caplog.text
    else:
        assert entries == [
            {"table": "signals", "day": None, "rows": 3, "recorded_before": "2026-06-01T00:00:00Z"}
        ]
        assert "deleted 3 signals recorded before" in caplog.text


def test_a_dry_run_counts_what_would_go_and_deletes_nothing(app, world, engine):
    old_world(app, world, engine)
    with app.app_context():
        pruned = storage.prune(NOW, 180, Actor.system(), dry_run=True)
    assert pruned.total == 3 and pruned.dry_run
    assert len(recorded_times(app)) == 5
    assert prune_entries(app) == []


def test_old_points_in_the_default_partition_go_too(app, world, pg):
    subject_id = world.subject()["id"]
    with app.app_context():
        db.session.execute(text("DROP TABLE IF EXISTS signals_p20260101"))
        db.session.commit()
    store(app, subject_id, dt.datetime(2026, 1, 1, 6, 0, tzinfo=UTC))
    with app.app_context():
        pruned = storage.prune(NOW, 180, Actor.system())
    assert pruned.rows_deleted == 1 and recorded_times(app) == []
    assert prune_entries(app)[-1]["table"] == "signals_default"


# The scheduler job and the commands.


def test_the_scheduled_job_prepares_and_prunes_and_a_second_run_changes_nothing(app, world, engine):
    old_world(app, world, engine)
    storage_job(app, SchedulerState(5))
    after_first = (names(app), recorded_times(app), prune_entries(app))
    storage_job(app, SchedulerState(5))
    assert (names(app), recorded_times(app), prune_entries(app)) == after_first
    assert len(after_first[1]) == 2
    if engine == "postgresql":
        assert "signals_p20261205" in after_first[0]  # NOW + 7 days
        assert "signals_p20260531" not in after_first[0]


def test_the_partitions_command_lists_them_with_their_rows(app, world, engine):
    old_world(app, world, engine)
    result = flask(app, "signals", "partitions", "--exact")
    assert result.exit_code == 0, result.output
    if engine == "postgresql":
        [line] = [row for row in result.output.splitlines() if row.startswith("signals_p20260531")]
        assert line.split()[:3] == ["signals_p20260531", "2026-05-31", "2"]
    else:
        assert "a plain table (SQLite), 5 signals" in result.output


def test_the_prune_command_dry_run_and_for_real(app, world, engine):
    old_world(app, world, engine)
    dry = flask(app, "signals", "prune", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would delete 3 signals recorded before 2026-06-01T00:00:00Z" in dry.output
    assert len(recorded_times(app)) == 5
    done = flask(app, "signals", "prune")
    assert done.exit_code == 0, done.output
    assert "deleted 3 signals" in done.output
    assert len(recorded_times(app)) == 2
    kept_shorter = flask(app, "signals", "prune", "--retention-days", "170")
    assert "deleted 2 signals recorded before 2026-06-11T00:00:00Z" in kept_shorter.output
    refused = flask(app, "signals", "prune", "--retention-days", "7")
    assert refused.exit_code != 0 and "CHECKIN_MAX_AGE_HOURS" in refused.output


def test_a_busy_partition_is_left_for_the_next_run_without_holding_the_table_long(
    app, world, pg, caplog
):
    old_world(app, world, "postgresql")
    with app.app_context():
        with db.engine.connect() as reader:
            # A long read of the oldest day holds a lock the DROP of that day would wait for.
            reader.execute(text("SELECT count(*) FROM signals_p20260529"))
            started = time.monotonic()
            with caplog.at_level(logging.WARNING, logger="corrections.signals"):
                busy = storage.prune(NOW, 180, Actor.system())
            waited = time.monotonic() - started
            reader.rollback()
        assert busy.partitions == () and waited < 3
        assert "signals_p20260529: the table is busy; the next run drops it" in caplog.text
        assert prune_entries(app) == []
        later = storage.prune(NOW, 180, Actor.system())
    assert [name for name, _ in later.partitions] == [
        "signals_p20260529",
        "signals_p20260530",
        "signals_p20260531",
    ]
    assert len(recorded_times(app)) == 2
