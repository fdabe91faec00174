"""The subject's phone: /mobile/v1 login, profile, check-ins judged at once, retries, OpenAPI."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from geopy.distance import geodesic
from sqlalchemy import select

from corrections.alerts.models import Alert
from corrections.checkin.models import Checkin
from corrections.extensions import db
from tests.api_support import assert_error, row_counts
from tests.factories import SEAT, bearer, phone_login

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # 10:00 in Asia/Shanghai
ZONE = {"kind": "allowed", "name": "县城", "lat": SEAT[0], "lon": SEAT[1], "radius_m": 5000}
#: A square of about 2.2 km a side around the seat.
SQUARE = [[24.69, 107.49], [24.71, 107.49], [24.71, 107.51], [24.69, 107.51]]


def away(metres: float, bearing: float = 0.0, origin=SEAT) -> tuple[float, float]:
    """The point `metres` from `origin` towards `bearing` (degrees from north)."""
    point = geodesic(meters=metres).destination(origin, bearing)
    return point.latitude, point.longitude


def login(client, phone, pin="2468", device_id="phone-1"):
    return client.post(
        "/mobile/v1/auth/login", json={"phone": phone, "pin": pin, "device_id": device_id}
    )


def check_in(client, headers, where=SEAT, accuracy=20.0, client_id="c-1", **extra):
    body = {
        "client_id": client_id,
        "lat": where[0],
        "lon": where[1],
        "accuracy_m": accuracy,
        "recorded_at": extra.pop("recorded_at", "2026-11-28T09:59:00+08:00"),
        **extra,
    }
    return client.post("/mobile/v1/checkins", json=body, headers=headers)


def alerts_of(app, subject_id: int) -> list[Alert]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Alert).where(Alert.subject_id == subject_id).order_by(Alert.id)
            )
        )
        db.session.expunge_all()
        return rows


@pytest.fixture
def person(world):
    """A subject in T01 with a daily 08:00–20:00 window and one 5 km allowed zone."""
    return world.subject(zones=[ZONE])


@pytest.fixture
def phone(client, person):
    return phone_login(client, person["phone"])


# --- login ----------------------------------------------------------------------------------


def test_login_gives_a_token_for_the_subject(client, person):
    response = login(client, person["phone"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["subject_id"] == person["id"]
    assert body["expires_at"] == "2026-12-28T02:00:00Z"  # MOBILE_TOKEN_DAYS = 30
    me = client.get("/mobile/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json()["subject_id"] == person["id"]


@pytest.mark.parametrize("written", ["{local}", "+86{local}", "+86 {a} {b} {c}", "{a}-{b}-{c}"])
def test_the_phone_number_may_be_written_any_usual_way(client, person, written):
    local = person["phone"].removeprefix("+86")
    number = written.format(local=local, a=local[:3], b=local[3:7], c=local[7:])
    assert login(client, number).status_code == 200


def test_no_device_change_alert_on_the_first_login_or_the_same_phone(app, client, person):
    for _ in range(3):
        assert login(client, person["phone"], device_id="phone-1").status_code == 200
    assert alerts_of(app, person["id"]) == []


def test_a_login_from_another_phone_raises_device_change(app, client, person, at):
    assert login(client, person["phone"], device_id="phone-1").status_code == 200
    at(NOW + dt.timedelta(hours=1))
    assert login(client, person["phone"], device_id="phone-2").status_code == 200
    [alert] = alerts_of(app, person["id"])
    assert (alert.kind, alert.status, alert.occurrences) == ("device_change", "open", 1)
    assert alert.evidence["previous_device_id"] == "phone-1"
    assert alert.evidence["device_id"] == "phone-2"

    # The new phone is now the last one: using it again is no change.
    assert login(client, person["phone"], device_id="phone-2").status_code == 200
    assert alerts_of(app, person["id"])[0].occurrences == 1
    # A failed login from a third phone is no successful login and changes nothing.
    assert login(client, person["phone"], pin="0000", device_id="phone-3").status_code == 401
    assert login(client, person["phone"], device_id="phone-2").status_code == 200
    assert alerts_of(app, person["id"])[0].occurrences == 1
    # Back to the first phone: a change again, counted on the same unresolved alert.
    at(NOW + dt.timedelta(hours=2))
    assert login(client, person["phone"], device_id="phone-1").status_code == 200
    [alert] = alerts_of(app, person["id"])
    assert alert.occurrences == 2
    assert alert.evidence["previous_device_id"] == "phone-2"


# --- /me ------------------------------------------------------------------------------------


def test_me_shows_the_profile_plan_zones_and_requests(client, world):
    subject = world.subject(
        name="李四",
        zones=[ZONE, {"kind": "exclusion", "name": "网吧", "polygon": SQUARE}],
        checkin={"every_days": 2, "window_start": "08:30", "window_end": "18:00"},
    )
    me = client.get("/mobile/v1/me", headers=phone_login(client, subject["phone"]))
    assert me.status_code == 200
    body = me.get_json()
    assert body["subject_id"] == subject["id"]
    assert body["name"] == "李四"
    assert body["office"]["code"] == "T01"
    assert body["status"] == "active"
    assert body["plan"]["every_days"] == 2
    assert (body["plan"]["window_start"], body["plan"]["window_end"]) == ("08:30", "18:00")
    circle, square = body["zones"]
    assert (circle["kind"], circle["radius_m"], circle["lat"], circle["lon"]) == (
        "allowed",
        5000,
        SEAT[0],
        SEAT[1],
    )
    # An exclusion zone (often a victim's home) comes by name only, never its place.
    assert square == {"id": square["id"], "kind": "exclusion", "name": "网吧"}
    assert body["checkin_requests"] == []
    text = me.get_data(as_text=True)
    assert subject["id_number"] not in text and "pin" not in body


def next_window(client, world, at, now: str, **overrides) -> dict | None:
    # Entered the morning before, after that day's window opened.
    subject = world.subject(enrolled_at="2026-11-27T09:00:00+08:00", **overrides)
    at(now)
    me = client.get("/mobile/v1/me", headers=phone_login(client, subject["phone"]))
    assert me.status_code == 200, me.get_json()
    return me.get_json()["next_window"]


DAILY = {"every_days": 1, "window_start": "08:00", "window_end": "20:00"}
NIGHT = {"every_days": 1, "window_start": "22:00", "window_end": "02:00"}


@pytest.mark.parametrize(
    "now, overrides, expected",
    [
        # open now: 10:00 local, inside today's 08:00–20:00 (= 00:00–12:00 UTC)
        ("2026-11-28T10:00:00+08:00", {}, ("2026-11-28T00:00:00Z", "2026-11-28T12:00:00Z")),
        # before the window opens: 07:59 local, still today's
        ("2026-11-28T07:59:00+08:00", {}, ("2026-11-28T00:00:00Z", "2026-11-28T12:00:00Z")),
        # 07:59 local is 23:59 UTC the day before: the local day decides
        ("2026-11-27T23:59:00+00:00", {}, ("2026-11-28T00:00:00Z", "2026-11-28T12:00:00Z")),
        # after it closed at 20:00 local: tomorrow's
        ("2026-11-28T20:00:00+08:00", {}, ("2026-11-29T00:00:00Z", "2026-11-29T12:00:00Z")),
        # a window across midnight, asked at 01:00 local: the one opened yesterday 22:00
        (
            "2026-11-29T01:00:00+08:00",
            {"checkin": NIGHT},
            ("2026-11-28T14:00:00Z", "2026-11-28T18:00:00Z"),
        ),
        # every 3 days from the first day (27th): the 30th
        (
            "2026-11-28T10:00:00+08:00",
            {"supervision_start": "2026-11-27", "checkin": {**DAILY, "every_days": 3}},
            ("2026-11-30T00:00:00Z", "2026-11-30T12:00:00Z"),
        ),
        # supervision not begun: its first day
        (
            "2026-11-28T10:00:00+08:00",
            {"supervision_start": "2026-12-05", "supervision_end": "2027-12-04"},
            ("2026-12-05T00:00:00Z", "2026-12-05T12:00:00Z"),
        ),
    ],
)
def test_next_window_is_the_local_window_in_utc(client, world, at, now, overrides, expected):
    window = next_window(client, world, at, now, **overrides)
    assert (window["start"], window["end"]) == expected


def test_no_next_window_after_supervision(client, world, at):
    ended = {"supervision_start": "2026-01-01", "supervision_end": "2026-11-28"}
    assert next_window(client, world, at, "2026-11-28T20:00:00+08:00", **ended) is None
    # A night window opening on the last day ends after supervision: it is not due.
    assert (
        next_window(client, world, at, "2026-11-28T21:00:00+08:00", checkin=NIGHT, **ended) is None
    )


# --- check-ins and the zone rules -----------------------------------------------------------


def test_a_checkin_inside_the_zone_is_accepted_and_stored(app, client, person, phone):
    response = check_in(client, phone, where=away(3000, 90), battery_pct=64)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["flags"]) == ("accepted", [])
    assert isinstance(body["id"], int)
    assert alerts_of(app, person["id"]) == []
    [stored] = client.get("/mobile/v1/checkins", headers=phone).get_json()["items"]
    assert stored["id"] == body["id"]
    assert (stored["kind"], stored["battery_pct"], stored["recorded_at"]) == (
        "location",
        64,
        "2026-11-28T01:59:00Z",
    )


def test_a_checkin_outside_has_its_alert_open_when_the_response_returns(app, client, person, phone):
    response = check_in(client, phone, where=away(8000, 45), accuracy=100)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["flags"]) == ("flagged", ["geofence_exit"])
    [alert] = alerts_of(app, person["id"])
    assert (alert.kind, alert.status, alert.severity) == ("geofence_exit", "open", "high")
    assert alert.evidence["checkin_id"] == body["id"]
    assert alert.evidence["accuracy_m"] == 100
    assert alert.evidence["distance_outside_m"] == pytest.approx(3000, abs=5)
    queue = client.get("/api/v1/alerts", headers=bearer(client, "admin")).get_json()["items"]
    assert [a["id"] for a in queue] == [alert.id]


@pytest.mark.parametrize(
    "distance, accuracy, flagged",
    [
        (5100, 150, False),  # the accuracy circle still reaches into the zone
        (5100, 101, False),
        (5100, 99, True),  # wholly outside by a metre
        (5100, 0, True),
        (4990, 0, False),  # inside, however precise
        (6500, 1900, False),  # 1.5 km outside, but a coarse fix may be anywhere in 1.9 km
        # 15 km outside claiming 16 km: a claim above ACCURACY_CEILING_M (2 km) counts as 2 km,
        # or a phone could switch its geofence off by claiming a huge circle.
        (20_000, 16_000, True),
    ],
)
def test_a_fix_is_outside_only_when_its_whole_accuracy_circle_is(
    client, person, phone, distance, accuracy, flagged
):
    response = check_in(client, phone, where=away(distance, 200), accuracy=accuracy)
    assert response.status_code == 201
    assert response.get_json()["flags"] == (["geofence_exit"] if flagged else [])


def test_allowed_zones_are_a_union(client, world):
    subject = world.subject(
        zones=[ZONE, {**ZONE, "name": "工地", "lat": 24.9, "lon": 107.5, "radius_m": 1000}]
    )
    phone = phone_login(client, subject["phone"])
    assert check_in(client, phone, where=(24.9, 107.5005)).get_json()["flags"] == []
    assert check_in(client, phone, where=(24.8, 107.5), client_id="c-2").get_json()["flags"] == [
        "geofence_exit"
    ]


def test_no_zones_means_nothing_to_leave(client, world):
    subject = world.subject(zones=[])
    phone = phone_login(client, subject["phone"])
    assert check_in(client, phone, where=(39.9, 116.4)).get_json()["status"] == "accepted"


def test_inside_an_exclusion_zone_is_flagged_by_the_fix_itself(app, client, world):
    bar = {"kind": "exclusion", "name": "酒吧", "lat": 24.72, "lon": 107.5, "radius_m": 200}
    subject = world.subject(zones=[ZONE, bar])
    phone = phone_login(client, subject["phone"])
    inside = check_in(client, phone, where=away(150, 90, origin=(24.72, 107.5)), accuracy=500)
    # Recorded a minute before the record was entered (conftest's DEFAULT_NOW): no window due.
    assert inside.get_json() == {"id": inside.get_json()["id"], "status": "flagged",
                                 "flags": ["exclusion_zone"], "window": None}  # fmt: skip
    [alert] = alerts_of(app, subject["id"])
    assert (alert.kind, alert.evidence["zone"]) == ("exclusion_zone", "酒吧")
    # Outside by 50 m, though the accuracy circle overlaps the zone: not inside.
    near = check_in(
        client, phone, where=away(250, 90, origin=(24.72, 107.5)), accuracy=500, client_id="c-2"
    )
    assert near.get_json()["flags"] == []


def test_polygon_zones(client, world):
    allowed = {"kind": "allowed", "name": "村", "polygon": SQUARE}
    inner = [[24.699, 107.499], [24.701, 107.499], [24.701, 107.501], [24.699, 107.501]]
    shop = {"kind": "exclusion", "name": "赌场", "polygon": inner}
    subject = world.subject(zones=[allowed, shop])
    phone = phone_login(client, subject["phone"])

    def flags(where, accuracy, n):
        response = check_in(client, phone, where=where, accuracy=accuracy, client_id=f"p{n}")
        assert response.status_code == 201
        return response.get_json()["flags"]

    assert flags((24.705, 107.495), 10, 1) == []  # in the square, not in the shop
    assert flags((24.7, 107.5), 10, 2) == ["exclusion_zone"]  # in the shop
    # 0.005° north of the square's top edge is about 550 m outside it.
    assert flags((24.715, 107.5), 10, 3) == ["geofence_exit"]
    assert flags((24.715, 107.5), 600, 4) == []  # the accuracy circle reaches the square


def test_a_mock_location_is_flagged(app, client, person, phone):
    honest = check_in(client, phone, mock_location=False)
    assert (honest.get_json()["status"], honest.get_json()["flags"]) == ("accepted", [])
    mocked = check_in(client, phone, mock_location=True, client_id="c-2")
    assert (mocked.get_json()["status"], mocked.get_json()["flags"]) == (
        "flagged",
        ["mock_location"],
    )
    assert [a.kind for a in alerts_of(app, person["id"])] == ["mock_location"]


def test_a_mocked_fix_outside_raises_both(app, client, person, phone):
    response = check_in(client, phone, where=away(9000), mock_location=True)
    assert sorted(response.get_json()["flags"]) == ["geofence_exit", "mock_location"]
    assert sorted(a.kind for a in alerts_of(app, person["id"])) == [
        "geofence_exit",
        "mock_location",
    ]


# --- retries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "retry_changes",
    [
        {},
        {"lat": SEAT[0] + 0.5, "accuracy_m": 5},
        {"recorded_at": "2026-11-28T09:30:00+08:00", "mock_location": True},
    ],
)
def test_a_retry_with_the_same_client_id_returns_the_first_checkin(
    app, client, person, phone, at, retry_changes
):
    first = check_in(client, phone, where=away(7000), client_id="retry-me")
    assert first.status_code == 201
    before = row_counts(app)
    at(NOW + dt.timedelta(minutes=3))
    body = {
        "client_id": "retry-me",
        "lat": SEAT[0],
        "lon": SEAT[1],
        "accuracy_m": 20,
        "recorded_at": "2026-11-28T09:59:00+08:00",
        **retry_changes,
    }
    retry = client.post("/mobile/v1/checkins", json=body, headers=phone)
    assert retry.status_code == 200
    assert retry.get_json() == first.get_json()
    assert row_counts(app) == before
    [alert] = alerts_of(app, person["id"])
    assert alert.occurrences == 1


def test_a_retry_after_the_age_limit_still_returns_the_first(client, person, phone, at):
    first = check_in(client, phone, client_id="old-one")
    at(NOW + dt.timedelta(hours=100))
    retry = check_in(client, phone, client_id="old-one")
    assert (retry.status_code, retry.get_json()["id"]) == (200, first.get_json()["id"])


def test_client_ids_belong_to_one_subject(app, client, person, phone, world):
    other = world.subject()
    other_phone = phone_login(client, other["phone"])
    mine = check_in(client, phone, client_id="shared")
    theirs = check_in(client, other_phone, client_id="shared")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["id"] != theirs.get_json()["id"]


# --- the phone's own history ----------------------------------------------------------------


def test_checkins_lists_only_the_callers_own_newest_first(client, person, phone, world):
    other = world.subject()
    assert (
        check_in(client, phone_login(client, other["phone"]), client_id="theirs").status_code == 201
    )
    for client_id, local in (("a", "09:10"), ("c", "09:50"), ("b", "09:30")):
        recorded = f"2026-11-28T{local}:00+08:00"
        assert check_in(client, phone, client_id=client_id, recorded_at=recorded).status_code == 201

    listed = client.get("/mobile/v1/checkins", headers=phone).get_json()["items"]
    assert [c["client_id"] for c in listed] == ["c", "b", "a"]
    assert listed[0]["recorded_at"] == "2026-11-28T01:50:00Z"
    assert {c["kind"] for c in listed} == {"location"}
    assert all(set(c) >= {"id", "kind", "status", "flags", "recorded_at"} for c in listed)
    limited = client.get("/mobile/v1/checkins?limit=2", headers=phone).get_json()["items"]
    assert [c["client_id"] for c in limited] == ["c", "b"]


def test_checkins_are_stored_with_the_phone_that_sent_them(app, client, person):
    headers = phone_login(client, person["phone"], device_id="phone-9")
    response = check_in(client, headers)
    with app.app_context():
        stored = db.session.get(Checkin, response.get_json()["id"])
        assert (stored.device_id, stored.subject_id) == ("phone-9", person["id"])


# --- the OpenAPI document -------------------------------------------------------------------


def resolve(document: dict, ref: str) -> dict:
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def all_refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from all_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_refs(value)


def test_openapi_is_public_and_describes_the_validated_schemas(client, app):
    response = client.get("/mobile/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    paths = document["paths"]
    assert {"/auth/login", "/checkins", "/me"} <= set(paths)
    assert {"get", "post"} <= set(paths["/checkins"])
    assert "security" not in paths["/auth/login"]["post"]
    assert paths["/checkins"]["post"]["security"]
    for ref in all_refs(document):
        assert isinstance(resolve(document, ref), dict), ref

    body = paths["/checkins"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    checkin = resolve(document, body["$ref"])
    assert checkin is document["components"]["schemas"]["CheckinIn"]
    lat, lon = checkin["properties"]["lat"], checkin["properties"]["lon"]
    assert (lat["minimum"], lat["maximum"]) == (-90, 90)
    assert (lon["minimum"], lon["maximum"]) == (-180, 180)
    assert set(checkin["required"]) == {"client_id", "lat", "lon", "accuracy_m", "recorded_at"}
    assert checkin["additionalProperties"] is False
    login_schema = document["components"]["schemas"]["LoginIn"]
    assert set(login_schema["required"]) == {"phone", "pin", "device_id"}


def test_the_document_says_what_the_validator_does(client, phone):
    """A value the document allows is accepted; one just past its bound is refused."""
    document = client.get("/mobile/v1/openapi.json").get_json()
    lat = document["components"]["schemas"]["CheckinIn"]["properties"]["lat"]
    at_bound = check_in(client, phone, where=(lat["maximum"], 0.0), client_id="edge")
    assert at_bound.status_code == 201
    past = check_in(client, phone, where=(lat["maximum"] + 1e-6, 0.0), client_id="edge-2")
    assert_error(past, 422, field="lat")


# --- phones racing themselves ---------------------------------------------------------------


def at_once(app, requests) -> list:
    """Send each (headers, body) from its own client at the same moment; the responses."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def send(index, headers, body):
        client = app.test_client()
        barrier.wait()
        responses[index] = client.post("/mobile/v1/checkins", json=body, headers=headers)

    threads = [
        threading.Thread(target=send, args=(i, headers, body))
        for i, (headers, body) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


def checkin_body(client_id: str, where=SEAT) -> dict:
    return {
        "client_id": client_id,
        "lat": where[0],
        "lon": where[1],
        "accuracy_m": 20,
        "recorded_at": "2026-11-28T09:59:00+08:00",
    }


def test_a_retry_racing_the_first_attempt_stores_one_checkin(app, person, phone):
    for round_ in range(5):
        body = checkin_body(f"race-{round_}", where=away(6000 + round_))
        first, second = at_once(app, [(phone, body), (phone, body)])
        assert sorted([first.status_code, second.status_code]) == [200, 201], (
            first.get_data(as_text=True),
            second.get_data(as_text=True),
        )
        assert first.get_json() == second.get_json()
    with app.app_context():
        assert len(db.session.scalars(select(Checkin.id)).all()) == 5
    [alert] = alerts_of(app, person["id"])
    assert alert.occurrences == 5


def test_two_breaches_at_once_make_one_alert_counted_twice(app, person, phone):
    responses = at_once(
        app,
        [
            (phone, checkin_body("left", away(7000, 270))),
            (phone, checkin_body("right", away(7000, 90))),
        ],
    )
    assert [r.status_code for r in responses] == [201, 201], [r.get_json() for r in responses]
    [alert] = alerts_of(app, person["id"])
    assert (alert.kind, alert.occurrences) == ("geofence_exit", 2)
