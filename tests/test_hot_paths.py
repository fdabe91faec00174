"""The hottest writes cost a constant handful of SQL statements (docs/performance.md): a phone's
check-in, and a batch of background positions whatever its size."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from sqlalchemy import event, func, select

from corrections import clock
from corrections.audit.models import AuditEntry, AuditSubject
from corrections.checkin.models import Checkin
from corrections.extensions import db
from tests.factories import SEAT, phone_login
from tests.test_signals import point, send, tracked  # noqa: F401  (the fixture)

#: Statements of one check-in that raises nothing, counting BEGIN and COMMIT, by engine (see
#: docs/performance.md for what each one is). PostgreSQL: one read (the phone's token and its
#: subject, the zones, the plan versions, the previous fix, with the judgement's and the rate
#: limit's locks) and one write (the rate limit's count, the check-in, its audit entry, the
#: windows it meets late). SQLite sends each feature's own statements, and BEGIN IMMEDIATE.
CHECKIN_STATEMENTS = {"postgresql": 4, "sqlite": 12}
#: Statements of a batch of 100 positions that raises nothing, by engine (tests/test_signals.py
#: counts the same batch without COMMIT; one of them reads the plan versions, for the curfew;
#: SQLite sends BEGIN IMMEDIATE besides BEGIN).
SIGNALS_STATEMENTS = {"postgresql": 12, "sqlite": 13}


@contextlib.contextmanager
def statements(app):
    """The SQL the application sends while the block runs (BEGIN and COMMIT included)."""
    sent: list[str] = []

    def on_execute(conn, cursor, statement, *args):
        sent.append(statement)

    def on_begin(conn):
        sent.append("BEGIN")

    def on_commit(conn):
        sent.append("COMMIT")

    with app.app_context():
        engine = db.engine
    listeners = (
        ("before_cursor_execute", on_execute),
        ("begin", on_begin),
        ("commit", on_commit),
    )
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield sent
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


def for_engine(app, counts: dict[str, int]) -> int:
    with app.app_context():
        return counts[db.engine.dialect.name]


@pytest.fixture
def phone(world, client):
    subject = world.subject()
    return {"id": subject["id"], "headers": phone_login(client, subject["phone"])}


def checkin(client, phone, client_id, *, minutes=0, lat=SEAT[0], lon=SEAT[1]):
    at = clock.now() - dt.timedelta(minutes=30) + dt.timedelta(minutes=minutes)
    return client.post(
        "/mobile/v1/checkins",
        json={
            "client_id": client_id,
            "lat": lat,
            "lon": lon,
            "accuracy_m": 15,
            "recorded_at": clock.isoformat(at),
        },
        headers=phone["headers"],
    )


def test_a_checkin_is_a_handful_of_statements_however_many_came_before(app, client, phone):
    for n in range(5):
        assert checkin(client, phone, f"warm-{n}", minutes=n).status_code == 201
    with statements(app) as sent:
        answer = checkin(client, phone, "hot", minutes=10)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["status"] == "accepted"
    assert len(sent) <= for_engine(app, CHECKIN_STATEMENTS), "\n".join(sent)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checkin)) == 6
        # The audit row was written in the same transaction.
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "checkin.create", AuditEntry.subject_id == phone["id"])
            )
            == 6
        )


def test_a_retry_costs_no_more_and_stores_nothing(app, client, phone):
    first = checkin(client, phone, "same")
    with statements(app) as sent:
        again = checkin(client, phone, "same")
    assert (again.status_code, again.get_json()["id"]) == (200, first.get_json()["id"])
    # One more at most: the first one's answer is read back.
    assert len(sent) <= for_engine(app, CHECKIN_STATEMENTS) + 1, "\n".join(sent)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checkin)) == 1


def test_a_flagged_checkin_adds_only_its_alert_statements(app, client, phone):
    with statements(app) as sent:
        answer = checkin(client, phone, "away", lat=SEAT[0] + 0.2)  # 22 km north: outside
    assert answer.get_json()["flags"] == ["geofence_exit"]
    # The one alert path opens an alert with a few statements more (bump, insert, history).
    assert len(sent) <= for_engine(app, CHECKIN_STATEMENTS) + 4, "\n".join(sent)


def test_a_batch_of_100_positions_costs_what_a_batch_of_one_does(app, client, tracked):  # noqa: F811
    send(client, tracked, [point(minutes=0)])
    with statements(app) as one:
        assert send(client, tracked, [point(minutes=1)]).get_json()["stored"] == 1
    with statements(app) as hundred:
        answer = send(client, tracked, [point(minutes=2 + m / 10) for m in range(100)])
    assert answer.get_json() == {"stored": 100, "duplicates": 0}
    assert len(hundred) == len(one)
    assert len(hundred) <= for_engine(app, SIGNALS_STATEMENTS), "\n".join(hundred)


def test_the_checkins_audit_entry_names_it_and_links_its_subject(app, client, phone):
    answer = checkin(client, phone, "audited")
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "checkin.create")
        ).one()
        assert entry.detail == {
            "checkin_id": answer.get_json()["id"],
            "kind": "location",
            "device_id": "phone-1",
        }
        assert (entry.actor_kind, entry.actor_id, entry.subject_id) == (
            "subject",
            phone["id"],
            phone["id"],
        )
        linked = db.session.scalars(
            select(AuditSubject.subject_id).where(AuditSubject.entry_id == entry.id)
        ).all()
        assert linked == [phone["id"]]
