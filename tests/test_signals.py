"""Background positions: POST /mobile/v1/signals and GET|POST /osmand, judged against the track,
only under a monitoring order in force; and the signal_lost sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from corrections import clock
from corrections.alerts.models import Alert, AlertEvent
from corrections.audit.models import AuditEntry
from corrections.extensions import db
from corrections.signals.models import Signal, TrackingState
from corrections.sweep import run_sweep
from corrections.zones.models import Zone
from tests.api_support import assert_error, row_counts
from tests.factories import SEAT, bearer, phone_login
from tests.test_pages import login, map_data

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # 10:00 in the county
#: 0.1 degree of latitude north of the seat: about 11 km, 6 km beyond the 5 km zone's edge.
AWAY = (SEAT[0] + 0.1, SEAT[1])


@pytest.fixture
def tracked(app, world, client):
    """Officer li, a supervisor, a subject under an approved order (2026-11-26 to 2027-02-25),
    signed in on their phone."""
    return track_subject(world, client)


def track_subject(world, client, **subject) -> dict:
    """The `tracked` world, the subject enrolled with `subject` (world.subject's arguments)."""
    world.officer("li", office_code="T01")
    world.officer("boss", role="supervisor", office_code=None)
    body = world.subject(**{"supervision_start": "2026-11-01", **subject})
    li, boss = bearer(client, "li"), bearer(client, "boss")
    order = client.post(
        f"/api/v1/subjects/{body['id']}/monitoring-orders",
        json={
            "ground": "left_area_without_approval",
            "starts_on": "2026-11-26",
            "ends_on": "2027-02-25",
            "reason": "两次未经批准离开本县",
        },
        headers=li,
    )
    assert order.status_code == 201, order.get_json()
    approved = client.post(
        f"/api/v1/monitoring-orders/{order.get_json()['id']}/approve", headers=boss
    )
    assert approved.status_code == 200
    return {
        "id": body["id"],
        "phone": phone_login(client, body["phone"]),
        "li": li,
        "order_id": order.get_json()["id"],
    }


def point(lat=SEAT[0], lon=SEAT[1], minutes=0, accuracy=20.0, **extra) -> dict:
    at = NOW - dt.timedelta(minutes=60) + dt.timedelta(minutes=minutes)
    return {
        "lat": lat,
        "lon": lon,
        "accuracy_m": accuracy,
        "recorded_at": clock.isoformat(at),
        **extra,
    }


def send(client, tracked, points):
    return client.post("/mobile/v1/signals", json=points, headers=tracked["phone"])


def alerts_of(app, subject_id, kind=None):
    with app.app_context():
        query = select(Alert).where(Alert.subject_id == subject_id).order_by(Alert.id)
        if kind:
            query = query.where(Alert.kind == kind)
        return db.session.scalars(query).all()


def steps_of(app, alert_id):
    with app.app_context():
        return db.session.scalars(
            select(AlertEvent.action).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
        ).all()


def stored(app, subject_id):
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Signal).where(Signal.subject_id == subject_id)
        )


def flags_of(app, subject_id):
    """The flags of the subject's signals, in the order they were recorded."""
    with app.app_context():
        return db.session.scalars(
            select(Signal.flags).where(Signal.subject_id == subject_id).order_by(Signal.recorded_at)
        ).all()


def test_a_batch_is_stored_and_a_retry_counts_duplicates(app, client, tracked):
    batch = [point(minutes=m, client_id=f"p{m}") for m in (5, 1, 3)]  # out of order
    first = send(client, tracked, batch)
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"stored": 3, "duplicates": 0}
    # The phone retries with one point more; a point without a client_id, same time and place.
    again = send(client, tracked, [*batch, point(minutes=7), point(minutes=7)])
    assert again.get_json() == {"stored": 1, "duplicates": 4}
    assert stored(app, tracked["id"]) == 4
    assert alerts_of(app, tracked["id"]) == []


def test_every_field_is_stored_as_sent_and_found_again_by_time_and_place(app, client, tracked):
    # Floats with all their digits, a local offset and microseconds, every optional field:
    # the batch's one statement (JSON on PostgreSQL) must keep each value exactly, or a retry
    # without client ids would no longer match the point by time and place.
    at = NOW - dt.timedelta(minutes=30, microseconds=123_457)
    sent = {
        "client_id": "exact-1",
        "lat": SEAT[0] + 0.000123456789012,
        "lon": SEAT[1] - 1e-13,
        "accuracy_m": 7.123456789,
        "recorded_at": at.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(),
        "mock_location": True,
        "battery_pct": 41.5,
        "speed_kmh": 3.25,
    }
    bare = {
        "lat": SEAT[0] - 0.000987654321,
        "lon": SEAT[1],
        "accuracy_m": 0.1,
        "recorded_at": clock.isoformat(at + dt.timedelta(minutes=1)),
    }
    assert send(client, tracked, [sent, bare]).get_json() == {"stored": 2, "duplicates": 0}
    retry = [{k: v for k, v in sent.items() if k != "client_id"}, bare]
    assert send(client, tracked, retry).get_json() == {"stored": 0, "duplicates": 2}
    with app.app_context():
        rows = db.session.scalars(
            select(Signal).where(Signal.subject_id == tracked["id"]).order_by(Signal.id)
        ).all()
        first, second = rows
        assert (first.client_id, first.lat, first.lon, first.accuracy_m) == (
            "exact-1",
            sent["lat"],
            sent["lon"],
            sent["accuracy_m"],
        )
        assert (first.recorded_at, first.mock_location) == (at, True)
        assert (first.battery_pct, first.speed_kmh, first.source) == (41.5, 3.25, "app")
        assert first.flags == ["mock_location"]
        assert (second.client_id, second.lat, second.accuracy_m) == (None, bare["lat"], 0.1)
        assert (second.mock_location, second.battery_pct, second.speed_kmh) == (None, None, None)
        assert second.flags == []


def test_a_zone_dated_for_one_day_holds_the_points_of_that_day_only(app, client, tracked):
    # A trip's destination is an allowed zone for its dates: a batch spanning two local days
    # judges each point against the zones of its own day.
    with app.app_context():
        db.session.add(
            Zone(
                subject_id=tracked["id"],
                kind="allowed",
                name="探亲",
                lat=AWAY[0],
                lon=AWAY[1],
                radius_m=2000,
                valid_from=dt.date(2026, 11, 28),
                valid_to=dt.date(2026, 11, 28),
            )
        )
        db.session.commit()
    day_before = point(*AWAY, minutes=-24 * 60)  # 09:00 on the 27th in the county
    that_day = point(*AWAY, minutes=0)  # 09:00 on the 28th
    assert send(client, tracked, [that_day, day_before]).get_json()["stored"] == 2
    flags = flags_of(app, tracked["id"])
    assert flags == [["outside"], []]


def test_one_fix_outside_is_not_an_exit_three_are_and_the_evidence_says_so(app, client, tracked):
    assert send(client, tracked, [point(*AWAY, minutes=1)]).status_code == 200
    assert alerts_of(app, tracked["id"], "geofence_exit") == []
    assert send(client, tracked, [point(minutes=2)]).status_code == 200  # a bad fix, then back
    send(client, tracked, [point(*AWAY, minutes=m) for m in (3, 4)])
    assert alerts_of(app, tracked["id"], "geofence_exit") == []
    send(client, tracked, [point(*AWAY, minutes=5)])
    [alert] = alerts_of(app, tracked["id"], "geofence_exit")
    evidence = alert.evidence
    assert evidence["source"] == "signals"
    assert evidence["confirmed_by_fixes"] == 3
    assert len(evidence["fixes"]) == 3
    assert evidence["distance_outside_m"] == pytest.approx(6_120, abs=60)
    assert evidence["first_outside_at"] == point(minutes=3)["recorded_at"]
    assert evidence["signal_id"] > 0
    flags = flags_of(app, tracked["id"])
    assert [("outside" in f) for f in flags] == [True, False, True, True, True]


def test_an_exit_clears_after_fixes_back_inside_and_does_not_flap(app, client, tracked):
    send(client, tracked, [point(*AWAY, minutes=m) for m in (1, 2, 3)])
    [alert] = alerts_of(app, tracked["id"], "geofence_exit")
    # Along the boundary: in, out, in, in: not yet three inside in a row.
    send(client, tracked, [point(minutes=4), point(*AWAY, minutes=5), point(minutes=6)])
    send(client, tracked, [point(minutes=7)])
    assert "back_inside" not in steps_of(app, alert.id)
    assert len(alerts_of(app, tracked["id"], "geofence_exit")) == 1
    send(client, tracked, [point(minutes=8)])
    assert steps_of(app, alert.id)[-1] == "back_inside"
    [still] = alerts_of(app, tracked["id"], "geofence_exit")
    assert still.status == "open"  # an officer closes it
    with app.app_context():
        state = db.session.get(TrackingState, tracked["id"])
        assert state.exit_alert_id is None and state.outside_count == 0


def test_a_late_point_is_kept_and_marked_but_does_not_rewrite_the_run(app, client, tracked):
    send(client, tracked, [point(minutes=30)])
    late = [point(*AWAY, minutes=m) for m in (1, 2, 3)]  # buffered hours ago, outside
    assert send(client, tracked, late).get_json() == {"stored": 3, "duplicates": 0}
    assert alerts_of(app, tracked["id"], "geofence_exit") == []
    with app.app_context():
        flags = db.session.scalars(
            select(Signal.flags).where(Signal.recorded_at < NOW - dt.timedelta(minutes=50))
        ).all()
    assert all("late" in f for f in flags)


def test_mock_exclusion_travel_and_repeats_raise_their_kinds(app, client, tracked):
    send(client, tracked, [point(minutes=1, mock_location=True)])
    [mock] = alerts_of(app, tracked["id"], "mock_location")
    assert mock.evidence["source"] == "signals"
    # 100 km in a minute.
    send(client, tracked, [point(SEAT[0] + 0.9, SEAT[1], minutes=2)])
    [travel] = alerts_of(app, tracked["id"], "impossible_travel")
    assert travel.evidence["speed_kmh"] > 300


def test_identical_coordinates_for_half_an_hour_are_a_spoofing_sign(app, client, tracked):
    exact = [point(24.7012345, 107.5012345, minutes=m, accuracy=5) for m in range(0, 40, 2)]
    send(client, tracked, exact[:19])
    assert alerts_of(app, tracked["id"], "mock_location") == []
    send(client, tracked, exact[19:])
    [alert] = alerts_of(app, tracked["id"], "mock_location")
    assert alert.evidence["reason"] == "repeated_coordinates"
    assert alert.evidence["repeated_fixes"] == 20
    assert alert.evidence["repeated_minutes"] == 38.0


def test_no_order_in_force_is_403_and_stores_nothing(app, client, world, tracked):
    other = world.subject()
    headers = phone_login(client, other["phone"], device_id="phone-2")
    before = row_counts(app, ignore=("audit_log", "audit_subjects", "rate_limit_hits"))
    answer = client.post("/mobile/v1/signals", json=[point()], headers=headers)
    assert_error(answer, 403, "no_monitoring_order")
    # A point before the order's first day refuses the batch, naming it.
    early = point(minutes=-60 * 24 * 3)  # 2026-11-25, the day before the order
    answer = send(client, tracked, [point(), early])
    body = assert_error(answer, 403, "no_monitoring_order")
    assert "1.recorded_at" in body["fields"]
    assert row_counts(app, ignore=("audit_log", "audit_subjects", "rate_limit_hits")) == before


def test_an_order_ended_early_stops_tracking(app, client, tracked):
    ended = client.post(
        f"/api/v1/monitoring-orders/{tracked['order_id']}/end",
        json={"reason": "已无必要"},
        headers=tracked["li"],
    )
    assert ended.status_code == 200
    assert_error(send(client, tracked, [point()]), 403, "no_monitoring_order")


@pytest.mark.parametrize(
    "body, field",
    [
        (
            [{"lat": 91, "lon": 107.5, "accuracy_m": 5, "recorded_at": "2026-11-28T01:00:00Z"}],
            "0.lat",
        ),
        ([{"lat": 24.7, "lon": 107.5, "recorded_at": "2026-11-28T01:00:00Z"}], "0.accuracy_m"),
        (
            [{"lat": 24.7, "lon": 107.5, "accuracy_m": 5, "recorded_at": "2026-11-28T01:00:00"}],
            "0.recorded_at",
        ),
        (
            [
                {
                    "lat": 24.7,
                    "lon": 107.5,
                    "accuracy_m": 5,
                    "recorded_at": "2026-11-28T01:00:00Z",
                    "x": 1,
                }
            ],
            "0.x",
        ),
    ],
)
def test_one_bad_point_refuses_the_batch_naming_its_index(app, client, tracked, body, field):
    answer = send(client, tracked, [point(), *body])
    fields = assert_error(answer, 422)["fields"]
    assert field.replace("0.", "1.", 1) in fields
    assert stored(app, tracked["id"]) == 0


def test_a_point_from_the_future_or_too_old_is_422_naming_it(app, client, tracked):
    future = {**point(), "recorded_at": clock.isoformat(NOW + dt.timedelta(hours=1))}
    fields = assert_error(send(client, tracked, [point(), future]), 422)["fields"]
    assert "1.recorded_at" in fields
    assert stored(app, tracked["id"]) == 0


def test_the_batch_limit_and_the_body_shape(app, client, tracked):
    assert_error(send(client, tracked, [point(minutes=m / 10) for m in range(501)]), 422)
    assert_error(send(client, tracked, []), 422)
    assert_error(send(client, tracked, {"lat": 1}), 400)
    assert client.post("/mobile/v1/signals", json=[point()]).status_code == 401


def test_a_batch_is_a_handful_of_statements(app, client, tracked):
    send(client, tracked, [point(minutes=0)])
    statements = []

    def count(*args):
        statements.append(args[2])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            answer = send(client, tracked, [point(minutes=m / 10 + 1) for m in range(100)])
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert answer.get_json() == {"stored": 100, "duplicates": 0}
    # BEGIN (and BEGIN IMMEDIATE on SQLite), the token with its subject, the order in force,
    # the state (locked), points stored before, the zones, the plan versions (the curfew), one
    # insert of all 100, the state's update, the audit row and its subject link: twelve on
    # SQLite, eleven on PostgreSQL, and none per point.
    assert len(statements) <= 12, "\n".join(statements)


# --- /osmand ---------------------------------------------------------------------------------


@pytest.fixture
def bound(client, tracked):
    answer = client.put(
        f"/api/v1/subjects/{tracked['id']}/tracking-device",
        json={"device_id": "865432"},
        headers=tracked["li"],
    )
    assert answer.status_code == 200
    return tracked


def test_osmand_query_string_as_the_osmand_app_sends_it(app, client, bound):
    when = int((NOW - dt.timedelta(minutes=5)).timestamp())
    answer = client.get(f"/osmand?id=865432&lat={SEAT[0]}&lon={SEAT[1]}&timestamp={when}&hdop=3")
    assert answer.status_code == 200, answer.get_json()
    with app.app_context():
        [row] = db.session.scalars(select(Signal)).all()
        assert (row.source, row.device_id, row.recorded_at) == (
            "osmand",
            "865432",
            NOW - dt.timedelta(minutes=5),
        )


def test_traccar_client_10_form_and_9_json(app, client, bound):
    when = int((NOW - dt.timedelta(minutes=4)).timestamp())
    form = {
        "id": "865432",
        "timestamp": str(when),
        "lat": str(SEAT[0]),
        "lon": str(SEAT[1]),
        "speed": "0.0",
        "bearing": "0.0",
        "altitude": "200.0",
        "accuracy": "12.0",
        "batt": "87.0",
        "charge": "false",
    }
    assert client.post("/osmand", data=form).status_code == 200
    body = {
        "device_id": "865432",
        "location": {
            "timestamp": clock.isoformat(NOW - dt.timedelta(minutes=3)),
            "coords": {
                "latitude": SEAT[0],
                "longitude": SEAT[1] + 0.001,
                "accuracy": 8,
                "speed": -1,
            },
            "is_moving": False,
            "mock": True,
            "battery": {"level": 0.5, "is_charging": False},
        },
    }
    assert client.post("/osmand", json=body).status_code == 200
    with app.app_context():
        rows = db.session.scalars(select(Signal).order_by(Signal.recorded_at)).all()
    assert [r.battery_pct for r in rows] == [87.0, 50.0]
    assert rows[1].mock_location is True and "mock_location" in rows[1].flags
    assert [a.kind for a in alerts_of(app, bound["id"])] == ["mock_location"]


def test_osmand_without_a_time_takes_the_arrival(app, client, bound):
    assert client.get(f"/osmand?deviceid=865432&location={SEAT[0]},{SEAT[1]}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Signal.recorded_at)) == NOW


@pytest.mark.parametrize(
    "query, status",
    [
        ("lat=24.7&lon=107.5", 400),  # no id
        ("id=865432&lat=abc&lon=107.5", 400),
        ("id=865432&lat=95&lon=107.5", 400),
        ("id=865432&location=24.7", 400),
        ("id=999999&lat=24.7&lon=107.5", 404),  # unknown device
    ],
)
def test_malformed_osmand_requests_are_4xx_and_store_nothing(app, client, bound, query, status):
    assert_error(client.get(f"/osmand?{query}"), status)
    answer = client.post(
        "/osmand", data=b'{"device_id": "865432", "loc', content_type="application/json"
    )
    assert_error(answer, 400)
    assert stored(app, bound["id"]) == 0


def test_osmand_for_a_subject_without_an_order_is_403(app, client, world, bound):
    other = world.subject()
    client.put(
        f"/api/v1/subjects/{other['id']}/tracking-device",
        json={"device_id": "777"},
        headers=bound["li"],
    )
    assert_error(client.get("/osmand?id=777&lat=24.7&lon=107.5"), 403, "no_monitoring_order")


# --- signal_lost -----------------------------------------------------------------------------


def test_signal_lost_after_six_hours_once_per_silence_and_back(app, client, tracked, at):
    send(client, tracked, [point(minutes=55)])  # 09:55 local
    with app.app_context():
        run_sweep(NOW + dt.timedelta(hours=5, minutes=50))
    assert alerts_of(app, tracked["id"], "signal_lost") == []
    with app.app_context():
        run_sweep(NOW + dt.timedelta(hours=6))
        run_sweep(NOW + dt.timedelta(hours=7))
    [alert] = alerts_of(app, tracked["id"], "signal_lost")
    assert alert.occurrences == 1  # one silence, one alert, not one per sweep
    assert alert.evidence["silent_hours"] == 6.1
    assert alert.evidence["threshold_hours"] == 6.0
    at(NOW + dt.timedelta(hours=8))
    late = {**point(), "recorded_at": clock.isoformat(NOW + dt.timedelta(hours=7, minutes=50))}
    assert send(client, tracked, [late]).status_code == 200
    assert steps_of(app, alert.id)[-1] == "signal_back"


def test_signal_lost_only_while_an_order_is_in_force(app, client, world, tracked):
    world.subject()  # no order: never "lost"
    with app.app_context():
        result = run_sweep(NOW + dt.timedelta(days=1))
    # The tracked subject never sent a position since the approval: lost; the other is not.
    assert result["signal_lost"] == {"silent": 1, "raised": 1}
    with app.app_context():
        result = run_sweep(dt.datetime(2027, 3, 1, 2, tzinfo=dt.UTC))  # after the order ended
    assert result["signal_lost"] == {"silent": 0, "raised": 0}


def test_the_timeout_is_set_per_level(app, client, tracked):
    app.config["SIGNAL_THRESHOLDS"] = {"normal": {"signal_lost_hours": 2}}
    try:
        send(client, tracked, [point(minutes=60)])
        with app.app_context():
            result = run_sweep(NOW + dt.timedelta(hours=2, minutes=1))
    finally:
        app.config["SIGNAL_THRESHOLDS"] = {}
    assert result["signal_lost"]["raised"] == 1


def test_the_subject_page_draws_the_signals_in_the_track(app, client, tracked, browser):
    send(client, tracked, [point(minutes=m) for m in (0, 2, 30)])
    send(client, tracked, [point(*AWAY, minutes=40, accuracy=50)])
    login(browser, "li")
    page = browser.get(f"/subjects/{tracked['id']}").text
    points = map_data(page, "subject-map")["points"]
    # Plain positions thinned to one per ten minutes, the flagged one kept with its circle.
    assert len(points) == 3
    assert [p["status"] for p in points] == ["accepted", "accepted", "flagged"]
    assert points[-1]["accuracy_m"] == 50 and points[0]["accuracy_m"] is None
    assert points[-1]["lines"][0] == "Background position"
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "subject.signals.read" in actions
