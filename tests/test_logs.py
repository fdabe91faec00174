"""What reaches a log when a write fails: the statement and what failed, never its values.

A failed INSERT of a subject used to log its parameters (name, phone, resident ID and the PIN
hash, which a 4-8 digit PIN makes cheap to reverse); PostgreSQL adds the values again in its
DETAIL line ("Key (id_number)=(...) already exists"), which hide_parameters does not hide.
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from corrections import errors, features
from corrections.extensions import db
from corrections.jobs.models import JobRun
from corrections.scheduler import SchedulerState, sweep_job
from tests.api_support import assert_error
from tests.factories import subject_body

ID_NUMBER = "450000198807071234"


@pytest.fixture
def unknown_constraint(app):
    """A unique index on the home that the code knows nothing about: a second subject at the
    same home fails inside the request, as an IntegrityError nobody expects."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("CREATE UNIQUE INDEX test_only_home ON subjects (home_lat, home_lon)"))
    yield
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX test_only_home"))


def test_the_engine_hides_parameters(app):
    with app.app_context():
        assert db.engine.hide_parameters


def test_a_failed_write_logs_neither_its_parameters_nor_the_body(
    app, client, admin, unknown_constraint, caplog
):
    first = subject_body(name="甲某")
    assert client.post("/api/v1/subjects", json=first, headers=admin).status_code == 201
    second = subject_body(name="乙某某", id_number=ID_NUMBER, pin="97531")
    with caplog.at_level(logging.DEBUG):
        response = client.post("/api/v1/subjects", json=second, headers=admin)
    assert_error(response, 500, "internal_error")
    logged = caplog.text
    assert "unhandled error on POST /api/v1/subjects" in logged
    assert "IntegrityError" in logged and "INSERT INTO subjects" in logged  # still says what
    phone = second["phone"]
    for secret in (ID_NUMBER, "乙某某", "97531", phone, phone[-8:], "pbkdf2:", "scrypt:"):
        assert secret not in logged, f"{secret!r} reached the log:\n{logged}"
    assert ID_NUMBER[-4:] + ")" not in logged


def test_the_description_of_a_database_error_names_no_value(app, world, unknown_constraint):
    with app.app_context():
        row = {"name": "丙某", "phone": "+8613900000777", "id_number": ID_NUMBER, "pin": "pbkdf2:x"}
        statement = sa.text(
            "INSERT INTO subjects (name, phone, pin_hash, office_id, category, level,"
            " supervision_start, supervision_end, id_number, created_at)"
            " VALUES (:name, :phone, :pin, :office, 'parole', 'normal',"
            " '2026-01-01', '2026-12-31', :id_number, '2026-01-01 00:00:00')"
        )
        office = db.session.execute(sa.text("SELECT id FROM offices")).scalar()
        again = {**row, "phone": "+8613900000778", "office": office}
        db.session.execute(statement, {**row, "office": office})
        try:
            db.session.execute(statement, again)  # (a traceback shows this line of code)
        except sa.exc.IntegrityError as error:
            failure = error
        db.session.rollback()
    text = errors.loggable_traceback(failure)
    assert "IntegrityError" in text and "INSERT INTO subjects" in text
    for secret in (ID_NUMBER, "丙某", "+8613900000778", "pbkdf2:x"):
        assert secret not in text, text
    assert "丙某" not in errors.describe(failure) and ID_NUMBER not in errors.describe(failure)


def test_a_failed_sweep_records_and_logs_no_values(app, world, caplog, monkeypatch):
    """The scheduler's log of a failed sweep, and the sweep's record of it, keep the rule."""
    secret = "SECRET-CODE-77"

    def failing_detector(at, config):
        insert = sa.text("INSERT INTO offices (code, name, lat, lon) VALUES (:c, '某所', 1, 1)")
        db.session.execute(insert, {"c": secret})
        db.session.execute(insert, {"c": secret})

    monkeypatch.setattr(
        "corrections.sweep.DETECTORS", (features.Detector("missed_checkin", failing_detector),)
    )
    with caplog.at_level(logging.DEBUG):
        sweep_job(app, SchedulerState(5))
    with app.app_context():
        [error] = db.session.scalars(sa.select(JobRun.error)).all()
    assert error.startswith("IntegrityError") and secret not in error
    assert "sweep failed (1 in a row)" in caplog.text and "INSERT INTO offices" in caplog.text
    assert secret not in caplog.text, caplog.text
