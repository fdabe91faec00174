"""The one alert path: the catalogue, raising (set-based and one row), concerns other than
subjects, the step policy feeding both the service and the page, a constant number of
statements for a page of alerts, and a history that a flood cannot grow without limit."""

from __future__ import annotations

import contextlib
import datetime as dt
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import JSON, func, literal, select

from corrections.actors import Actor
from corrections.alerts import catalogue
from corrections.alerts.models import Alert, AlertEvent
from corrections.alerts.policy import allowed_steps
from corrections.alerts.raising import raise_alerts, raise_case_alert
from corrections.alerts.services import AlertConflict, take_step
from corrections.audit.models import AuditEntry
from corrections.auth.models import Officer
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.sweep import run_sweep
from tests.api_support import web_login
from tests.factories import PASSWORD, SEAT, bearer, phone_login, raise_for

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


# --- the catalogue --------------------------------------------------------------------------


def test_every_contract_kind_has_exactly_one_entry(app):
    assert set(catalogue.codes()) == set(catalogue.CONTRACT_ORDER)
    assert catalogue.codes()[:3] == ("missed_checkin", "missed_video", "geofence_exit")
    with pytest.raises(ValueError, match="declared twice"):
        catalogue.register(catalogue.AlertKind("deadline", "x", {}, "low"))


@pytest.mark.parametrize("code", catalogue.CONTRACT_ORDER)
def test_the_sql_severity_is_the_python_severity(app, code):
    entry = catalogue.kind(code)
    with app.app_context():
        for level in (*catalogue.LEVELS, None):
            in_sql = db.session.scalar(select(entry.severity_sql(literal(level, sa.String))))
            assert in_sql == entry.severity_for(level), (code, level)


def test_strict_supervision_escalates_the_kinds_that_say_someone_may_abscond():
    assert catalogue.kind("geofence_exit").severity_for("strict") == "critical"
    assert catalogue.kind("geofence_exit").severity_for("lenient") == "high"
    assert catalogue.kind("missed_checkin").severity_for("strict") == "high"
    assert catalogue.kind("impossible_travel").severity_for("strict") == "high"
    assert catalogue.kind("device_change").severity_for("strict") == "low"
    assert catalogue.kind("deadline").severity_for(None) == "medium"


# --- raising --------------------------------------------------------------------------------


def test_the_set_based_path_opens_one_alert_per_subject_and_bumps_the_next_time(app, world):
    ids = [world.subject(level=level)["id"] for level in ("strict", "normal", "lenient")]
    source = select(
        Subject.id.label("subject_id"),
        Subject.office_id.label("office_id"),
        Subject.level.label("level"),
        literal(2).label("occurrences"),
        literal({"from": "test"}, JSON).label("evidence"),
    ).where(Subject.id.in_(ids))
    with app.app_context():
        first = raise_alerts("curfew", source, NOW)
        second = raise_alerts("curfew", source, NOW + dt.timedelta(hours=1))
        db.session.commit()
        alerts = db.session.scalars(select(Alert).order_by(Alert.subject_id)).all()
        assert len(first.opened) == 3 and first.bumped == ()
        assert sorted(second.bumped) == sorted(first.opened) and second.opened == ()
        assert [(a.severity, a.occurrences) for a in alerts] == [
            ("critical", 4), ("high", 4), ("high", 4)
        ]  # fmt: skip
        assert [a.evidence for a in alerts] == [{"from": "test"}] * 3


def test_an_alert_may_concern_a_case_record(app, client, world):
    other = world.office(code="T02", name="第二司法所")
    world.officer("li", office_code="T01")
    world.officer("wang", office_code="T02")
    with app.app_context():
        evidence = {"what": "法律援助审查", "due_on": "2026-12-02"}
        first = raise_case_alert(
            "deadline", case_type="legal_aid_case", case_id=7, office_id=other,
            evidence=evidence, at=NOW,
        )  # fmt: skip
        again = raise_case_alert(
            "deadline", case_type="legal_aid_case", case_id=7, office_id=other,
            evidence=evidence, at=NOW,
        )  # fmt: skip
        another = raise_case_alert(
            "deadline", case_type="dispute", case_id=7, office_id=other,
            evidence=evidence, at=NOW,
        )  # fmt: skip
        db.session.commit()
    assert first == again != another
    items = client.get("/api/v1/alerts", headers=bearer(client, "wang")).get_json()["items"]
    mine = next(a for a in items if a["id"] == first)
    assert (mine["subject_id"], mine["case"]) == (
        None,
        {"type": "legal_aid_case", "id": 7, "title": "legal_aid_case 7"},
    )
    assert (mine["severity"], mine["occurrences"]) == ("medium", 2)
    assert mine["summary"] == "法律援助审查 的期限是 2026-12-02。"
    # Another office does not see it.
    assert client.get("/api/v1/alerts", headers=bearer(client, "li")).get_json()["items"] == []


def test_a_case_alert_needs_a_whole_concern(app, world):
    with app.app_context(), pytest.raises(sa.exc.IntegrityError):
        db.session.add(
            Alert(
                case_type="dispute",
                office_id=1,
                kind="deadline",
                severity="low",
                status="open",
                opened_at=NOW,
                last_seen_at=NOW,
                occurrences=1,
                evidence={},
            )
        )
        db.session.flush()


# --- the step policy ------------------------------------------------------------------------


class Seen:
    def __init__(self, status, owner_id=None):
        self.status, self.owner_id = status, owner_id


class Who:
    def __init__(self, id, role):  # noqa: A002
        self.id, self.role = id, role


OFFICER, OTHER, SUPERVISOR, VIEWER, ADMIN = (
    Who(1, "officer"),
    Who(2, "officer"),
    Who(3, "supervisor"),
    Who(4, "viewer"),
    Who(5, "admin"),
)


@pytest.mark.parametrize(
    "alert, who, steps",
    [
        (Seen("open"), OFFICER, {"ack", "resolve", "dismiss"}),
        (Seen("acknowledged", 1), OFFICER, {"release", "resolve", "dismiss"}),
        (Seen("acknowledged", 1), OTHER, set()),
        (Seen("acknowledged", 1), SUPERVISOR, {"release", "reassign"}),
        (Seen("acknowledged", 3), SUPERVISOR, {"release", "resolve", "dismiss", "reassign"}),
        (Seen("open"), SUPERVISOR, {"ack", "resolve", "dismiss", "reassign"}),
        (Seen("open"), ADMIN, {"ack", "resolve", "dismiss", "reassign"}),
        (Seen("resolved", 1), OFFICER, set()),
        (Seen("dismissed"), SUPERVISOR, set()),
        (Seen("open"), VIEWER, set()),
    ],
)
def test_allowed_steps(alert, who, steps):
    assert allowed_steps(alert, who) == steps


@pytest.fixture
def two_officers(app, world):
    world.officer("li", office_code="T01")
    world.officer("zhou", office_code="T01")
    world.officer("boss", role="supervisor")
    subject = world.subject()["id"]
    with app.app_context():
        alert = raise_for(subject, "geofence_exit", {"distance_outside_m": 900.0}, NOW)
        li = db.session.scalar(select(Officer).where(Officer.username == "li"))
        take_step(alert, "ack", li, Actor.officer(li.id, None), NOW)
        db.session.commit()
        return alert.id


def buttons(client, alert_id: int) -> set[str]:
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    return set(re.findall(rf'action="/alerts/{alert_id}/(\w+)"', page))


@pytest.mark.parametrize(
    "who, expected",
    [("li", {"release", "resolve", "dismiss"}), ("zhou", set()), ("boss", {"release", "reassign"})],
)
def test_the_page_shows_exactly_the_allowed_steps(app, two_officers, who, expected):
    client = app.test_client()
    web_login(client, who, PASSWORD)
    assert buttons(client, two_officers) == expected


def test_the_service_refuses_what_the_policy_does_not_allow(app, two_officers):
    with app.app_context():
        zhou = db.session.scalar(select(Officer).where(Officer.username == "zhou"))
        alert = db.session.get(Alert, two_officers)
        for step in ("release", "resolve", "dismiss", "ack"):
            with pytest.raises(AlertConflict):
                take_step(alert, step, zhou, Actor.officer(zhou.id, None), NOW, "note")
        db.session.rollback()


# --- a page of alerts costs a constant number of statements ----------------------------------


@contextlib.contextmanager
def counted_statements(app):
    statements = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def many_alerts(app, world, n: int) -> None:
    kinds = ("geofence_exit", "missed_checkin", "mock_location", "device_change")
    subjects = [world.subject()["id"] for _ in range(n)]
    with app.app_context():
        for i, subject_id in enumerate(subjects):
            raise_for(subject_id, kinds[i % len(kinds)], {"n": i}, NOW)
        db.session.commit()


def statements_for(app, client, path: str, headers=None) -> int:
    with counted_statements(app) as statements:
        response = client.get(path, headers=headers or {})
        assert response.status_code == 200
    return len(statements)


def test_the_alert_list_costs_the_same_statements_for_5_or_40_alerts(app, world):
    client = app.test_client()
    admin = bearer(client, "admin")
    many_alerts(app, world, 5)
    small = statements_for(app, client, "/api/v1/alerts?per_page=50", admin)
    many_alerts(app, world, 35)
    large = statements_for(app, client, "/api/v1/alerts?per_page=50", admin)
    assert large == small
    assert small <= 12  # docs/performance.md lists what they are


def test_the_queue_page_costs_the_same_statements_for_5_or_40_alerts(app, world):
    client = app.test_client()
    web_login(client, "admin", PASSWORD)
    many_alerts(app, world, 5)
    small = statements_for(app, client, "/alerts")
    many_alerts(app, world, 35)
    large = statements_for(app, client, "/alerts")
    assert large == small
    assert small <= 16


def test_the_missed_windows_are_the_evidence_of_a_missed_checkin(app, client, world, at):
    subject = world.subject(
        supervision_start="2026-11-26", enrolled_at="2026-11-25T12:00:00+08:00"
    )["id"]
    with app.app_context():
        run_sweep(dt.datetime(2026, 11, 27, 13, 0, tzinfo=dt.UTC))  # 21:00 on the 27th
        db.session.commit()
    [alert] = client.get("/api/v1/alerts", headers=bearer(client, "admin")).get_json()["items"]
    assert alert["subject_id"] == subject
    assert alert["evidence"]["missed_total"] == 2
    assert alert["evidence"]["missed_windows"] == [
        {"start": "2026-11-27T00:00:00Z", "end": "2026-11-27T12:00:00Z"},
        {"start": "2026-11-26T00:00:00Z", "end": "2026-11-26T12:00:00Z"},
    ]
    assert alert["summary"] == "漏签 2 次。"


# --- a flood of repeats ---------------------------------------------------------------------


def test_a_flood_of_flagged_checkins_collapses_into_one_history_step(app, client, world):
    subject = world.subject()
    phone = phone_login(client, subject["phone"])
    far = (SEAT[0] + 0.2, SEAT[1])
    for i in range(60):
        at = (NOW - dt.timedelta(seconds=600 - i)).isoformat()
        body = {
            "client_id": f"f{i}",
            "lat": far[0],
            "lon": far[1],
            "accuracy_m": 10,
            "recorded_at": at,
        }
        assert client.post("/mobile/v1/checkins", json=body, headers=phone).status_code == 201
    admin = bearer(client, "admin")
    [alert] = client.get("/api/v1/alerts?kind=geofence_exit", headers=admin).get_json()["items"]
    assert alert["occurrences"] == 60
    shown = client.get(f"/api/v1/alerts/{alert['id']}", headers=admin).get_json()
    assert [(h["action"], h.get("count", 1)) for h in shown["history"]] == [
        ("opened", 1),
        ("repeated", 59),
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AlertEvent)) == 2


def test_an_officers_step_starts_a_new_run_of_repeats(app, client, world):
    subject = world.subject()["id"]
    world.officer("li", office_code="T01")
    with app.app_context():
        for _ in range(3):
            raise_for(subject, "mock_location", {}, NOW)
        li = db.session.scalar(select(Officer).where(Officer.username == "li"))
        alert = db.session.scalar(select(Alert))
        take_step(alert, "ack", li, Actor.officer(li.id, None), NOW)
        for _ in range(2):
            raise_for(subject, "mock_location", {}, NOW)
        db.session.commit()
        steps = db.session.execute(
            select(AlertEvent.action, AlertEvent.count).order_by(AlertEvent.id)
        ).all()
    assert [tuple(s) for s in steps] == [
        ("opened", 1), ("repeated", 2), ("acknowledged", 1), ("repeated", 2)
    ]  # fmt: skip


def test_the_history_is_paged(app, client, world, monkeypatch):
    subject = world.subject()["id"]
    world.officer("li", office_code="T01")
    world.officer("zhou", office_code="T01")
    with app.app_context():
        alert_id = raise_for(subject, "mock_location", {}, NOW).id
        people = {
            name: db.session.scalar(select(Officer).where(Officer.username == name))
            for name in ("li", "zhou")
        }
        for i in range(7):
            who = people["li" if i % 2 == 0 else "zhou"]
            alert = db.session.get(Alert, alert_id)
            take_step(alert, "ack", who, Actor.officer(who.id, None), NOW)
            take_step(alert, "release", who, Actor.officer(who.id, None), NOW)
        db.session.commit()
    monkeypatch.setattr("corrections.alerts.services.HISTORY_PAGE", 5)
    admin = bearer(client, "admin")
    first = client.get(f"/api/v1/alerts/{alert_id}", headers=admin).get_json()
    assert (len(first["history"]), first["history_total"], first["history_page"]) == (5, 15, 1)
    last = client.get(f"/api/v1/alerts/{alert_id}?history_page=3", headers=admin).get_json()
    assert [h["action"] for h in last["history"]] == [
        "released", "acknowledged", "released", "acknowledged", "released"
    ]  # fmt: skip


# --- reads of the queue are audited ---------------------------------------------------------


def test_reading_the_alert_list_is_audited_with_what_was_shown(app, client, world):
    many_alerts(app, world, 3)
    client.get("/api/v1/alerts?kind=geofence_exit", headers=bearer(client, "admin"))
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "alert.list"))
        shown = db.session.scalars(select(Alert).where(Alert.kind == "geofence_exit")).all()
    assert entry.actor_kind == "officer"
    assert entry.detail["alert_ids"] == [a.id for a in shown]
    assert entry.detail["subject_ids"] == sorted(a.subject_id for a in shown)
    assert entry.detail["args"] == {"kind": "geofence_exit"}
