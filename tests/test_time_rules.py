"""Time and supervision at ingest: what the phone is told about windows, who may report at all,
and which phone a report came from."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from corrections import clock
from corrections.alerts.models import Alert
from corrections.audit.models import AuditEntry
from corrections.checkin.models import Checkin
from corrections.extensions import db
from tests.api_support import assert_error, row_counts
from tests.factories import SEAT, bearer, phone_login

ZONE = {"kind": "allowed", "name": "县城", "lat": SEAT[0], "lon": SEAT[1], "radius_m": 5000}


def body(client_id="c-1", recorded_at="2026-11-28T09:59:00+08:00", where=SEAT, accuracy=20.0):
    return {
        "client_id": client_id,
        "lat": where[0],
        "lon": where[1],
        "accuracy_m": accuracy,
        "recorded_at": recorded_at,
    }


def post(client, headers, **kwargs):
    return client.post("/mobile/v1/checkins", json=body(**kwargs), headers=headers)


# --- the window a check-in met --------------------------------------------------------------


def test_the_answer_names_the_window_the_checkin_met(client, world):
    subject = world.subject(zones=[ZONE], enrolled_at="2026-11-27T12:00:00+08:00")
    phone = phone_login(client, subject["phone"])
    met = post(client, phone)
    assert met.status_code == 201
    assert met.get_json()["window"] == {
        "start": "2026-11-28T00:00:00Z",
        "end": "2026-11-28T12:00:00Z",
    }
    # The same client_id again: the same answer, window included, and nothing new stored.
    again = post(client, phone)
    assert again.status_code == 200 and again.get_json() == met.get_json()


def test_a_checkin_outside_every_window_met_none(client, world, at):
    subject = world.subject(zones=[ZONE], enrolled_at="2026-11-27T12:00:00+08:00")
    phone = phone_login(client, subject["phone"])
    at("2026-11-28T21:00:00+08:00")
    late = post(client, phone, client_id="evening", recorded_at="2026-11-28T20:30:00+08:00")
    assert late.status_code == 201 and late.get_json()["window"] is None
    # And the phone learns when the next one opens.
    me = client.get("/mobile/v1/me", headers=phone).get_json()
    assert me["next_window"] == {"start": "2026-11-29T00:00:00Z", "end": "2026-11-29T12:00:00Z"}


def test_a_record_entered_during_the_window_has_its_first_window_tomorrow(client, world):
    # Entered at 10:00 (DEFAULT_NOW), the day's 08:00 window had begun: not due, not met.
    subject = world.subject(zones=[ZONE])
    phone = phone_login(client, subject["phone"])
    assert post(client, phone).get_json()["window"] is None
    me = client.get("/mobile/v1/me", headers=phone).get_json()
    assert me["next_window"]["start"] == "2026-11-29T00:00:00Z"


# --- supervision at ingest ------------------------------------------------------------------


def test_no_login_once_supervision_has_ended(app, client, world):
    released = world.subject(supervision_start="2025-01-01", supervision_end="2026-01-05")
    before = row_counts(app, ignore=("audit_log",))
    response = client.post(
        "/mobile/v1/auth/login",
        json={"phone": released["phone"], "pin": "2468", "device_id": "phone-1"},
    )
    assert_error(response, 403, "not_in_supervision")
    assert row_counts(app, ignore=("audit_log",)) == before  # no token


def test_the_wrong_pin_of_a_released_person_is_still_only_a_wrong_pin(client, world):
    released = world.subject(supervision_start="2025-01-01", supervision_end="2026-01-05")
    response = client.post(
        "/mobile/v1/auth/login",
        json={"phone": released["phone"], "pin": "0000", "device_id": "phone-1"},
    )
    assert_error(response, 401, "invalid_credentials")  # supervision is not revealed


def test_a_token_stops_working_when_supervision_ends(client, world, at):
    subject = world.subject(supervision_start="2026-11-01", supervision_end="2026-11-28")
    phone = phone_login(client, subject["phone"])
    assert client.get("/mobile/v1/me", headers=phone).status_code == 200  # the last day
    at("2026-11-29T08:00:00+08:00")
    assert_error(client.get("/mobile/v1/me", headers=phone), 403, "not_in_supervision")
    assert_error(
        post(client, phone, recorded_at="2026-11-29T08:00:00+08:00"), 403, "not_in_supervision"
    )


def test_a_checkin_is_turned_away_by_its_token_before_its_body(app, client, world, at):
    # The check-in's own first read resolves the token (docs/performance.md): no token or a
    # wrong one is 401 whatever the body, an ended supervision 403, and nothing is stored.
    subject = world.subject(supervision_start="2026-11-01", supervision_end="2026-11-28")
    phone = phone_login(client, subject["phone"])
    before = row_counts(app)
    bad = {"client_id": "c-1", "lat": 95, "lon": SEAT[1], "accuracy_m": -1}
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        assert_error(post(client, headers), 401)
        assert_error(client.post("/mobile/v1/checkins", json=bad, headers=headers), 401)
    assert_error(client.post("/mobile/v1/checkins", json=bad, headers=phone), 422)
    at("2026-11-29T08:00:00+08:00")
    for sent in (body(recorded_at="2026-11-29T07:59:00+08:00"), bad):
        response = client.post("/mobile/v1/checkins", json=sent, headers=phone)
        assert_error(response, 403, "not_in_supervision")
    assert row_counts(app) == before


def test_a_revoked_or_expired_phone_token_cannot_check_in(app, client, world, at):
    subject = world.subject(supervision_start="2026-11-01", supervision_end="2027-11-01")
    signed_out = phone_login(client, subject["phone"])
    assert client.post("/mobile/v1/auth/logout", headers=signed_out).status_code == 204
    assert_error(post(client, signed_out), 401)
    phone = phone_login(client, subject["phone"])
    assert post(client, phone).status_code == 201
    days = app.config["MOBILE_TOKEN_DAYS"]
    later = clock.now() + dt.timedelta(days=days, minutes=1)
    at(later)
    assert_error(post(client, phone, client_id="c-2", recorded_at=clock.isoformat(later)), 401)


def test_a_checkin_recorded_outside_the_supervision_period_is_refused(app, client, world, at):
    # Supervision begins on the 28th; a phone logged in the evening before uploads a fix of the
    # 27th, and one with a forged time far back: neither is stored, neither raises an alert.
    subject = world.subject(
        zones=[ZONE], supervision_start="2026-11-28", enrolled_at="2026-11-20T12:00:00+08:00"
    )
    phone = phone_login(client, subject["phone"])
    before = row_counts(app)
    for recorded_at in ("2026-11-27T23:59:00+08:00", "2026-11-27T15:00:00+00:00"):
        far_away = (SEAT[0] + 1, SEAT[1])  # would be a geofence exit
        response = post(client, phone, recorded_at=recorded_at, where=far_away)
        assert_error(response, 403, "not_in_supervision")
    assert row_counts(app) == before
    assert post(client, phone, recorded_at="2026-11-28T00:01:00+08:00").status_code == 201


# --- devices --------------------------------------------------------------------------------


def test_a_login_from_a_new_phone_revokes_the_old_phones_token(app, client, world):
    subject = world.subject(zones=[ZONE])
    old = phone_login(client, subject["phone"], device_id="phone-1")
    assert post(client, old, client_id="a").status_code == 201
    new = phone_login(client, subject["phone"], device_id="phone-2")
    # The phone left with someone else can no longer report for the subject (人机分离).
    assert_error(post(client, old, client_id="b"), 401)
    assert_error(client.get("/mobile/v1/me", headers=old), 401)
    assert post(client, new, client_id="c").status_code == 201
    with app.app_context():
        assert db.session.scalar(select(Alert.kind)) == "device_change"
        devices = db.session.execute(
            select(Checkin.client_id, Checkin.device_id).order_by(Checkin.id)
        ).all()
        assert [tuple(d) for d in devices] == [("a", "phone-1"), ("c", "phone-2")]
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "subject.device_change")
        )
        assert entry.detail == {"previous_device_id": "phone-1", "tokens_revoked": 1}


def test_a_second_login_from_the_same_phone_keeps_its_other_token(client, world):
    subject = world.subject(zones=[ZONE])
    first = phone_login(client, subject["phone"], device_id="phone-1")
    phone_login(client, subject["phone"], device_id="phone-1")
    assert post(client, first).status_code == 201


def test_officers_see_which_phone_a_checkin_came_from(client, world):
    subject = world.subject(zones=[ZONE])
    phone = phone_login(client, subject["phone"], device_id="phone-7")
    post(client, phone)
    items = client.get(
        f"/api/v1/subjects/{subject['id']}/checkins", headers=bearer(client, "admin")
    ).get_json()["items"]
    assert [i["device_id"] for i in items] == ["phone-7"]


# --- the check-in's own audit row ------------------------------------------------------------


def test_each_stored_checkin_is_audited_once_with_the_phones_address(app, client, world):
    subject = world.subject(zones=[ZONE])
    phone = phone_login(client, subject["phone"])
    response = client.post(
        "/mobile/v1/checkins",
        json=body(),
        headers=phone,
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    client.post("/mobile/v1/checkins", json=body(), headers=phone)  # a retry: nothing new
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "checkin.create")
        ).all()
        assert [(r.actor_kind, r.actor_id, r.subject_id, r.ip) for r in rows] == [
            ("subject", subject["id"], subject["id"], "10.1.2.3")
        ]
        assert rows[0].detail["checkin_id"] == response.get_json()["id"]
        assert db.session.scalar(select(func.count()).select_from(Checkin)) == 1


# --- impossible travel is judged at ingest --------------------------------------------------


def test_impossible_travel_is_flagged_when_the_checkin_arrives(app, client, world):
    subject = world.subject(zones=[])  # no zones: only the travel rule can flag
    phone = phone_login(client, subject["phone"])
    post(client, phone, client_id="a", recorded_at="2026-11-28T09:40:00+08:00")
    far = (SEAT[0] + 0.9, SEAT[1])  # 100 km north, ten minutes later: 600 km/h
    response = post(
        client, phone, client_id="b", recorded_at="2026-11-28T09:50:00+08:00", where=far
    )
    assert response.get_json()["flags"] == ["impossible_travel"]
    with app.app_context():
        alert = db.session.scalar(select(Alert))
        assert alert.kind == "impossible_travel"
        assert alert.evidence["speed_kmh"] > 300 and alert.evidence["limit_kmh"] == 300


def test_a_claimed_100_km_accuracy_does_not_switch_the_geofence_off(app, client, world):
    subject = world.subject(zones=[ZONE])
    phone = phone_login(client, subject["phone"])
    far = (SEAT[0] + 0.5, SEAT[1])  # 55 km north of a 5 km zone
    response = post(client, phone, where=far, accuracy=100_000)
    assert response.get_json()["flags"] == ["geofence_exit"]
    with app.app_context():
        evidence = db.session.scalar(select(Alert)).evidence
    assert (evidence["accuracy_m"], evidence["accuracy_counted_m"]) == (100_000, 2000)
