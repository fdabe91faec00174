"""`flask demo load`: the fictional county a newcomer sees on `make run`."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from corrections.alerts.models import Alert
from corrections.auth.models import Officer
from corrections.casefile.schemas import SubjectIn
from corrections.checkin.models import Checkin, MissedWindow
from corrections.demo import data
from corrections.demo.county import build_county
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.subjects.models import Subject
from corrections.zones.rules import ZoneShape, distance_outside_m
from corrections.zones.schemas import CircleZoneIn, PolygonZoneIn
from tests.conftest import DEFAULT_NOW
from tests.factories import bearer, phone_login

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = DEFAULT_NOW.astimezone(ZONE).date()


def load(app, *args: str, env: dict | None = None):
    return app.test_cli_runner().invoke(args=["demo", "load", *args], env=env)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count(model.id)).where(*where))


def test_demo_load_builds_a_living_county(app, client):
    result = load(app)
    assert result.exit_code == 0, result.output
    assert "officer01" in result.output and data.OFFICER_PASSWORD in result.output

    with app.app_context():
        assert count(Office) == 14
        assert count(Subject) == 100
        # Pages name people as people: every demo account has a display name.
        shown = db.session.scalars(select(Officer.display_name)).all()
        assert shown and all(shown) and len(set(shown)) == len(shown)
        for office in db.session.scalars(select(Office)):
            # Each office has a standard zone round its seat, valid as an enrolment's zone.
            zone = office.standard_zone
            shape_in = PolygonZoneIn if "polygon" in zone else CircleZoneIn
            shape_in.from_plain({"kind": "allowed", **zone})
            polygon = tuple(tuple(c) for c in zone["polygon"]) if "polygon" in zone else None
            shape = ZoneShape(
                None,
                "allowed",
                zone["name"],
                zone.get("lat"),
                zone.get("lon"),
                zone.get("radius_m"),
                polygon,
            )
            assert distance_outside_m(office.lat, office.lon, shape) == 0
        assert count(Checkin) > 300
        open_missed = count(Alert, Alert.kind == "missed_checkin", Alert.status == "open")
        assert open_missed >= 1
        assert count(Alert, Alert.kind == "geofence_exit") >= 1
        assert count(Alert, Alert.kind == "exclusion_zone") >= 1
        assert count(Alert, Alert.kind == "curfew") >= 1  # the night owl
        assert count(Alert, Alert.status == "resolved") >= 1
        # The county went live five days ago: no window before that is due, and most are met.
        first_missed = db.session.scalar(select(func.min(MissedWindow.starts_at)))
        assert first_missed.astimezone(ZONE).date() >= TODAY - dt.timedelta(days=5)
        missed = count(MissedWindow)
        assert 0 < missed < count(Checkin) / 10
        for subject in db.session.scalars(select(Subject)):
            assert "*" not in subject.name and 2 <= len(subject.name) <= 4
            assert subject.phone.startswith("+8613")
            if subject.id_number is not None:
                assert re.fullmatch(r"450000\d{11}[\dX]", subject.id_number)

    # The documented logins work, and an officer sees a queue with real alerts in it.
    officer = bearer(client, "officer01", data.OFFICER_PASSWORD)
    queue = client.get("/api/v1/alerts?status=unresolved", headers=officer).get_json()
    assert queue["total"] >= 2
    assert {a["office_code"] for a in queue["items"]} == {"QS01"}
    supervisor = bearer(client, "supervisor", data.SUPERVISOR_PASSWORD)
    resolved = client.get("/api/v1/alerts?status=resolved", headers=supervisor).get_json()
    alert = client.get(f"/api/v1/alerts/{resolved['items'][0]['id']}", headers=supervisor)
    steps = [h["action"] for h in alert.get_json()["history"]]
    assert steps[0] == "opened" and steps[-2:] == ["acknowledged", "resolved"]

    phone = phone_login(client, "+8613000000001", data.SUBJECT_PIN)
    me = client.get("/mobile/v1/me", headers=phone).get_json()
    assert me["office"]["code"] == "QS01"
    assert me["status"] == "active"


@pytest.mark.parametrize(
    ("env", "address"),
    [
        ({"PORT": "5050", "FLASK_RUN_PORT": None}, "http://127.0.0.1:5050/login"),
        ({"PORT": None, "FLASK_RUN_PORT": "5123"}, "http://127.0.0.1:5123/login"),
        ({"PORT": None, "FLASK_RUN_PORT": None}, "http://127.0.0.1:5000/login"),
    ],
)
def test_the_load_names_the_address_the_web_server_uses(app, env, address):
    # deploy/run-dev.sh (`make run`) serves on $PORT; a plain `flask run` on $FLASK_RUN_PORT.
    result = load(app, "--subjects", "4", env=env)
    assert result.exit_code == 0, result.output
    assert address in result.output
    assert len(re.findall(r"http://127\.0\.0\.1:\d+", result.output)) == 1


def test_a_second_load_changes_nothing(app):
    assert load(app, "--subjects", "6").exit_code == 0
    again = load(app, "--subjects", "6")
    assert again.exit_code == 0
    assert "already loaded" in again.output and "nothing loaded" in again.output
    with app.app_context():
        assert count(Subject) == 6


def test_a_load_that_would_collide_with_other_data_refuses_and_stores_nothing(app, world):
    result = load(app, "--subjects", "6")  # `world` holds an account named admin
    assert result.exit_code != 0
    assert "'admin'" in result.output
    with app.app_context():
        assert count(Subject) == 0 and count(Office) == 1


def test_if_empty_leaves_a_database_with_offices_alone(app, world):
    result = load(app, "--if-empty")
    assert result.exit_code == 0
    assert "nothing loaded" in result.output
    with app.app_context():
        assert count(Office) == 1  # only the test's own T01
        assert count(Subject) == 0


def test_default_county_has_the_documented_shape():
    """The default plan (100 subjects, 5 days) without writing it: cheap to check in full."""
    now = DEFAULT_NOW
    county = build_county(seed=2026, n_subjects=100, today=TODAY, days=5, now=now, zone=ZONE)
    again = build_county(seed=2026, n_subjects=100, today=TODAY, days=5, now=now, zone=ZONE)
    assert [s.body for s in county.subjects] == [s.body for s in again.subjects]  # reproducible

    bodies = [s.body for s in county.subjects]
    assert len(bodies) == 100
    assert len({b["name"] for b in bodies}) == 100
    assert len({b["phone"] for b in bodies}) == 100
    assert {b["office_code"] for b in bodies} == {code for code, *_ in data.OFFICES}
    categories = [b["category"] for b in bodies]
    assert categories.count("probation") > 50 and len(set(categories)) == 4
    assert {b["level"] for b in bodies} == {"strict", "normal", "lenient"}
    plans = [b["checkin"]["every_days"] for b in bodies]
    assert plans.count(1) > 50 and {3, 7} <= set(plans)
    statuses = {_status(b) for b in bodies}
    assert statuses == {"pending", "active", "ended"}
    assert any(z["kind"] == "exclusion" for b in bodies for z in b["zones"])
    for body in bodies:
        SubjectIn.from_plain(body)  # what enrol will be given

    checkins = [c for s in county.subjects for c in s.checkins]
    assert len(checkins) > 300
    for c in checkins:
        local = c.recorded_at.astimezone(ZONE)
        if c.client_id.endswith("-night"):
            assert dt.time(22) <= local.time()  # the night owl's one night out
        else:
            assert dt.time(8) <= local.time() < dt.time(20)
        assert c.recorded_at < c.received_at < now
        assert now - c.recorded_at < dt.timedelta(days=6)
    behaviours = {s.behaviour for s in county.subjects}
    assert {"steady", "forgetful", "absent", "wanderer", "trespasser", "night_owl"} <= behaviours
    curfews = {(b["checkin"].get("curfew_start"), b["level"]) for b in bodies}
    assert ("22:00", "strict") in curfews and ("22:00", "normal") not in curfews


def _status(body: dict) -> str:
    if dt.date.fromisoformat(body["supervision_start"]) > TODAY:
        return "pending"
    if dt.date.fromisoformat(body["supervision_end"]) < TODAY:
        return "ended"
    return "active"
