"""Bad input on every field of every JSON endpoint: the CONTRACT error shape, nothing stored,
never a 5xx."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading

import pytest

from config import TestingConfig
from tests.api_support import DELETE, assert_error, mutate, post_raw, row_counts
from tests.factories import PASSWORD, SEAT, phone_login, subject_body

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # conftest.DEFAULT_NOW
NAN, INF = float("nan"), float("inf")


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Env:
    """One office, an admin, a subject with a logged-in phone and one open alert."""

    def __init__(self, app, client, world, admin):
        self.app, self.client, self.admin = app, client, admin
        self.subject = world.subject()
        self.phone = phone_login(client, self.subject["phone"])
        outside = self.checkin_body(client_id="far", lat=SEAT[0] + 1)
        assert (
            client.post("/mobile/v1/checkins", json=outside, headers=self.phone).status_code == 201
        )
        alerts = client.get("/api/v1/alerts", headers=admin).get_json()["items"]
        self.alert_id = alerts[0]["id"]

    @staticmethod
    def checkin_body(**overrides) -> dict:
        body = {
            "client_id": "c-1",
            "lat": SEAT[0],
            "lon": SEAT[1],
            "accuracy_m": 20,
            "recorded_at": iso(NOW - dt.timedelta(minutes=1)),
            "mock_location": False,
            "battery_pct": 80,
        }
        body.update(overrides)
        return body

    def endpoint(self, name: str) -> tuple[str, dict, dict]:
        """(path, a valid body, headers) of a JSON-body endpoint."""
        return {
            "token": ("/api/v1/auth/token", {"username": "admin", "password": PASSWORD}, {}),
            "office": (
                "/api/v1/offices",
                {"code": "T99", "name": "新设司法所", "lat": 24.5, "lon": 107.1},
                self.admin,
            ),
            "officer": (
                "/api/v1/officers",
                {
                    "username": "newbie",
                    "password": "long-enough",
                    "role": "officer",
                    "office_code": "T01",
                },
                self.admin,
            ),
            "subject": ("/api/v1/subjects", subject_body(), self.admin),
            "resolve": (
                f"/api/v1/alerts/{self.alert_id}/resolve",
                {"note": "已电话核实"},
                self.admin,
            ),
            "dismiss": (
                f"/api/v1/alerts/{self.alert_id}/dismiss",
                {"reason": "定位漂移"},
                self.admin,
            ),
            "login": (
                "/mobile/v1/auth/login",
                {"phone": self.subject["phone"], "pin": "2468", "device_id": "phone-1"},
                {},
            ),
            "checkin": ("/mobile/v1/checkins", self.checkin_body(), self.phone),
        }[name]


ENDPOINTS = ("token", "office", "officer", "subject", "resolve", "dismiss", "login", "checkin")


@pytest.fixture
def env(app, client, world, admin) -> Env:
    return Env(app, client, world, admin)


def send_rejected(env: Env, name: str, body, status: int, field: str | None = None, **kwargs):
    """Send `body` to endpoint `name`; expect the error shape with `status` and nothing stored."""
    path, _valid, headers = env.endpoint(name)
    before = row_counts(env.app)
    response = post_raw(env.client, path, body, headers, **kwargs)
    error = assert_error(response, status, field=field)
    assert row_counts(env.app) == before, "a rejected request stored something"
    return error


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_valid_body_is_accepted(env, name):
    """The bodies the cases below break are themselves good, so each case tests one thing."""
    path, body, headers = env.endpoint(name)
    response = env.client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.get_json()


# --- the body as a whole -------------------------------------------------------------------

BODY_CASES = {
    "malformed": (b'{"lat": 1,', 400, {}),
    "truncated": (b'{"username": "a"', 400, {}),
    "not utf-8": (b'\xff\xfe{"a": 1}', 400, {}),
    "array": (b"[]", 400, {}),
    "array of object": (b'[{"username": "admin"}]', 400, {}),
    "string": (b'"hello"', 400, {}),
    "number": (b"42", 400, {}),
    "null": (b"null", 400, {}),
    "empty": (b"", 400, {}),
    "whitespace": (b"  \n ", 400, {}),
    "text/plain": (b"{}", 415, {"content_type": "text/plain"}),
    "form": (b"a=1", 415, {"content_type": "application/x-www-form-urlencoded"}),
    "no content type": (b"{}", 415, {"content_type": ""}),
    "over 1 MB": (b'{"note": "' + b"x" * (1024 * 1024) + b'"}', 413, {}),
    "over 1 MB, not json": (b"x" * (1024 * 1024 + 1), 413, {}),
    "deep nesting": (b"[" * 50_000 + b"]" * 50_000, 400, {}),
}


@pytest.mark.parametrize("case", BODY_CASES)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_body_that_cannot_be_read_is_refused(env, name, case):
    body, status, kwargs = BODY_CASES[case]
    send_rejected(env, name, body, status, **kwargs)


@pytest.mark.parametrize("size", [1024 * 1024, 3 * 1024 * 1024])
def test_a_chunked_body_over_1_mb_is_413_too(env, size):
    """Without Content-Length (Transfer-Encoding: chunked, as gunicorn passes it on)."""
    path, _body, headers = env.endpoint("checkin")
    before = row_counts(env.app)
    response = env.client.post(
        path,
        input_stream=io.BytesIO(b'{"client_id": "' + b"x" * size + b'"}'),
        environ_overrides={"wsgi.input_terminated": True},
        headers={**headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    assert_error(response, 413)
    assert row_counts(env.app) == before


def test_a_small_chunked_body_is_read(env):
    path, body, headers = env.endpoint("checkin")
    response = env.client.post(
        path,
        input_stream=io.BytesIO(json.dumps(body).encode()),
        environ_overrides={"wsgi.input_terminated": True},
        headers={**headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 201


def test_json_with_a_charset_is_still_json(env):
    path, body, headers = env.endpoint("checkin")
    response = post_raw(
        env.client, path, body, headers, content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


# --- field by field ------------------------------------------------------------------------

FUTURE = NOW + dt.timedelta(minutes=5, seconds=1)
MAX_AGE_HOURS = TestingConfig.CHECKIN_MAX_AGE_HOURS
TOO_OLD = NOW - dt.timedelta(hours=MAX_AGE_HOURS, seconds=1)

FIELD_CASES = [
    # POST /api/v1/auth/token
    ("token", "username", DELETE),
    ("token", "username", ""),
    ("token", "username", 7),
    ("token", "username", None),
    ("token", "username", "u" * 65),
    ("token", "password", DELETE),
    ("token", "password", ""),
    ("token", "password", ["x"]),
    ("token", "otp", "123456"),
    # POST /api/v1/offices
    ("office", "code", DELETE),
    ("office", "code", ""),
    ("office", "code", "has space"),
    ("office", "code", "C" * 33),
    ("office", "code", 12),
    ("office", "name", DELETE),
    ("office", "name", ""),
    ("office", "name", "   "),
    ("office", "name", "名" * 121),
    ("office", "lat", DELETE),
    ("office", "lat", 90.5),
    ("office", "lat", -91),
    ("office", "lat", "24.5"),
    ("office", "lat", NAN),
    ("office", "lat", INF),
    ("office", "lat", None),
    ("office", "lat", True),
    ("office", "lon", DELETE),
    ("office", "lon", 180.01),
    ("office", "lon", -INF),
    ("office", "lon", "107"),
    ("office", "address", "somewhere"),
    # POST /api/v1/officers
    ("officer", "username", DELETE),
    ("officer", "username", "x"),
    ("officer", "username", "has space"),
    ("officer", "username", "王小明"),
    ("officer", "password", DELETE),
    ("officer", "password", "short"),
    ("officer", "password", 12345678),
    ("officer", "role", DELETE),
    ("officer", "role", "root"),
    ("officer", "role", "Officer"),
    ("officer", "office_code", "NOPE"),
    ("officer", "office_code", DELETE),  # an officer account needs an office
    ("officer", "office_code", 1),
    ("officer", "is_admin", True),
    # POST /api/v1/alerts/{id}/resolve and /dismiss
    ("resolve", "note", DELETE),
    ("resolve", "note", ""),
    ("resolve", "note", "   "),
    ("resolve", "note", None),
    ("resolve", "note", 5),
    ("resolve", "note", "x" * 2001),
    ("resolve", "reason", "wrong key"),
    ("dismiss", "reason", DELETE),
    ("dismiss", "reason", ""),
    ("dismiss", "reason", " \t"),
    ("dismiss", "reason", False),
    ("dismiss", "note", "wrong key"),
    # POST /mobile/v1/auth/login
    ("login", "phone", DELETE),
    ("login", "phone", 13900000001),
    ("login", "phone", "139"),
    ("login", "pin", DELETE),
    ("login", "pin", ""),
    ("login", "pin", 2468),
    ("login", "device_id", DELETE),
    ("login", "device_id", ""),
    ("login", "device_id", None),
    ("login", "device_id", "d" * 129),
    ("login", "remember", True),
    # POST /mobile/v1/checkins
    ("checkin", "client_id", DELETE),
    ("checkin", "client_id", ""),
    ("checkin", "client_id", "has space"),
    ("checkin", "client_id", "c" * 65),
    ("checkin", "client_id", 17),
    ("checkin", "lat", DELETE),
    ("checkin", "lat", 90.0001),
    ("checkin", "lat", -90.5),
    ("checkin", "lat", "24.7"),
    ("checkin", "lat", NAN),
    ("checkin", "lat", INF),
    ("checkin", "lat", -INF),
    ("checkin", "lat", None),
    ("checkin", "lat", True),
    ("checkin", "lat", [24.7]),
    ("checkin", "lon", DELETE),
    ("checkin", "lon", 180.5),
    ("checkin", "lon", -181),
    ("checkin", "lon", "107.5"),
    ("checkin", "lon", NAN),
    ("checkin", "accuracy_m", DELETE),
    ("checkin", "accuracy_m", -1),
    ("checkin", "accuracy_m", "20"),
    ("checkin", "accuracy_m", NAN),
    ("checkin", "accuracy_m", INF),
    ("checkin", "accuracy_m", 1e9),
    ("checkin", "recorded_at", DELETE),
    ("checkin", "recorded_at", iso(FUTURE)),
    ("checkin", "recorded_at", iso(TOO_OLD)),
    ("checkin", "recorded_at", "2026-11-28T09:59:00"),  # no time zone
    ("checkin", "recorded_at", "2026-11-28"),
    ("checkin", "recorded_at", "yesterday"),
    ("checkin", "recorded_at", "2026-13-01T00:00:00Z"),
    ("checkin", "recorded_at", 1_764_295_140),
    ("checkin", "recorded_at", None),
    ("checkin", "recorded_at", "0001-01-01T00:00:00+14:00"),
    ("checkin", "recorded_at", "9999-12-31T23:59:59-14:00"),
    ("checkin", "mock_location", "true"),
    ("checkin", "mock_location", "false"),
    ("checkin", "mock_location", 1),
    ("checkin", "battery_pct", 101),
    ("checkin", "battery_pct", -1),
    ("checkin", "battery_pct", "80"),
    ("checkin", "battery_pct", 80.5),
    ("checkin", "battery_pct", True),
    ("checkin", "speed", 3.2),
    # POST /api/v1/subjects: the person
    ("subject", "name", DELETE),
    ("subject", "name", ""),
    ("subject", "name", "   "),
    ("subject", "name", "名" * 65),
    ("subject", "name", 1),
    ("subject", "phone", DELETE),
    ("subject", "phone", "12345"),
    ("subject", "phone", "1390000"),
    ("subject", "phone", "not a phone"),
    ("subject", "phone", "+86 139 0000 0000 0000"),
    ("subject", "phone", 13900000099),
    ("subject", "pin", DELETE),
    ("subject", "pin", "12"),
    ("subject", "pin", "123456789"),
    ("subject", "pin", "12a4"),
    ("subject", "pin", 2468),
    ("subject", "office_code", DELETE),
    ("subject", "office_code", "NOPE"),
    ("subject", "office_code", ""),
    ("subject", "category", DELETE),
    ("subject", "category", "prison"),
    ("subject", "category", "Probation"),
    ("subject", "category", "缓刑"),
    ("subject", "level", DELETE),
    ("subject", "level", "medium"),
    ("subject", "level", None),
    ("subject", "supervision_start", DELETE),
    ("subject", "supervision_start", "2026/11/20"),
    ("subject", "supervision_start", "2026-02-30"),
    ("subject", "supervision_start", "20261120"),
    ("subject", "supervision_start", 20261120),
    ("subject", "supervision_start", "0001-01-01"),
    ("subject", "supervision_end", DELETE),
    ("subject", "supervision_end", "2026-11-19"),  # before the start
    ("subject", "supervision_end", "next year"),
    ("subject", "supervision_end", "9999-12-31"),
    ("subject", "id_number", "12345"),
    ("subject", "id_number", "45000019900101123Y"),
    ("subject", "id_number", "4500001990010112345"),
    ("subject", "id_number", 450000199001011234),
    ("subject", "home", DELETE),
    ("subject", "home", "county seat"),
    ("subject", "home.lat", 91),
    ("subject", "home.lat", NAN),
    ("subject", "home.lon", DELETE),
    ("subject", "home.lon", "107.5"),
    ("subject", "home.alt", 300),
    # ...the zones
    ("subject", "zones", "everywhere"),
    ("subject", "zones", {"kind": "allowed"}),
    ("subject", "zones.0", "home"),
    ("subject", "zones.0.radius_m", 0),
    ("subject", "zones.0.radius_m", -5),
    ("subject", "zones.0.radius_m", NAN),
    ("subject", "zones.0.radius_m", DELETE),
    ("subject", "zones.0.kind", "forbidden"),
    ("subject", "zones.0.kind", DELETE),
    ("subject", "zones.0.name", DELETE),
    ("subject", "zones.0.name", ""),
    ("subject", "zones.0.lat", 95),
    ("subject", "zones.0.lon", "x"),
    ("subject", "zones.0.colour", "red"),
    # ...the check-in plan
    ("subject", "checkin", DELETE),
    ("subject", "checkin", "daily"),
    ("subject", "checkin.every_days", 0),
    ("subject", "checkin.every_days", -1),
    ("subject", "checkin.every_days", 1.5),
    ("subject", "checkin.every_days", "1"),
    ("subject", "checkin.every_days", DELETE),
    ("subject", "checkin.window_start", "25:00"),
    ("subject", "checkin.window_start", "08:60"),
    ("subject", "checkin.window_start", "8:00"),
    ("subject", "checkin.window_start", "08:00:00"),
    ("subject", "checkin.window_start", 800),
    ("subject", "checkin.window_start", DELETE),
    ("subject", "checkin.window_end", "24:00"),
    ("subject", "checkin.window_end", "08:00"),  # equal to window_start
    ("subject", "checkin.video_every_days", 0),
    ("subject", "checkin.curfew", "22:00"),
    ("subject", "checkin.curfew_start", "25:00"),
    ("subject", "checkin.curfew_start", 2200),
    ("subject", "checkin.curfew_end", "06:60"),
    ("subject", "nickname", "小明"),
]


def _case_id(case) -> str:
    name, path, value = case
    shown = "DELETE" if value is DELETE else repr(value)[:30]
    return f"{name}-{path}={shown}"


@pytest.mark.parametrize("case", FIELD_CASES, ids=_case_id)
def test_a_bad_field_is_named_and_nothing_is_stored(env, case):
    name, path, value = case
    _path, body, _headers = env.endpoint(name)
    send_rejected(env, name, mutate(body, path, value), 422, field=path)


POLYGON_CASES = {
    "two corners": ([[24.6, 107.4], [24.8, 107.6]], "zones.0.polygon"),
    "self-crossing": (
        [[24.6, 107.4], [24.8, 107.6], [24.6, 107.6], [24.8, 107.4]],
        "zones.0.polygon",
    ),
    "all in one place": ([[24.7, 107.5], [24.7, 107.5], [24.7, 107.5]], "zones.0.polygon"),
    "on one line": ([[24.6, 107.5], [24.7, 107.5], [24.8, 107.5]], "zones.0.polygon"),
    "corner off the globe": ([[24.6, 107.4], [95.0, 107.6], [24.8, 107.4]], "zones.0.polygon.1.0"),
    "corner not a pair": ([[24.6, 107.4], [24.8], [24.8, 107.4]], "zones.0.polygon.1.1"),
    "corner of strings": ([[24.6, 107.4], ["24.8", "107.6"], [24.8, 107.4]], "zones.0.polygon.1.0"),
    "not a list": ("24.6,107.4", "zones.0.polygon"),
}


@pytest.mark.parametrize("case", POLYGON_CASES)
def test_a_bad_polygon_zone_is_refused(env, case):
    polygon, field = POLYGON_CASES[case]
    body = subject_body(zones=[{"kind": "exclusion", "name": "网吧", "polygon": polygon}])
    send_rejected(env, "subject", body, 422, field=field)


CURFEW_HALVES = {
    "start without an end": ({"curfew_start": "22:00"}, "checkin.curfew_end"),
    "end without a start": ({"curfew_end": "06:00"}, "checkin.curfew_end"),
    "empty": ({"curfew_start": "22:00", "curfew_end": "22:00"}, "checkin.curfew_end"),
}


@pytest.mark.parametrize("case", CURFEW_HALVES)
def test_a_curfew_needs_both_ends_that_differ(env, case):
    given, field = CURFEW_HALVES[case]
    body = subject_body()
    body["checkin"] = {**body["checkin"], **given}
    send_rejected(env, "subject", body, 422, field=field)


def test_a_polygon_zone_with_a_radius_is_refused(env):
    zone = {
        "kind": "allowed",
        "name": "村",
        "polygon": [[24.6, 107.4], [24.8, 107.6], [24.6, 107.6]],
    }
    body = subject_body(zones=[{**zone, "radius_m": 100}])
    send_rejected(env, "subject", body, 422, field="zones.0.radius_m")


def test_a_phone_already_enrolled_is_refused(env):
    body = subject_body(phone=env.subject["phone"])
    send_rejected(env, "subject", body, 422, field="phone")


def test_a_duplicate_office_code_or_username_is_a_conflict(env):
    path, body, headers = env.endpoint("office")
    assert env.client.post(path, json=body, headers=headers).status_code == 201
    send_rejected(env, "office", body, 409, field="code")
    send_rejected(
        env, "officer", {"username": "admin", "password": "long-enough", "role": "admin"}, 409
    )


@pytest.mark.parametrize("value", [None, True, 0, -1, 1e308, "", "x" * 5000, [], {}, [[1, 2]]])
@pytest.mark.parametrize("name", ENDPOINTS)
def test_no_junk_in_any_field_causes_a_server_error(env, name, value):
    """Every top-level field, and every nested one of the enrolment body, with junk in it."""
    _path, body, headers = env.endpoint(name)
    paths = list(body)
    if name == "subject":
        paths += ["home.lat", "home.lon", "zones.0.kind", "zones.0.lat", "zones.0.radius_m"]
        paths += ["checkin.every_days", "checkin.window_start", "checkin.window_end"]
    for path in paths:
        before = row_counts(env.app)
        response = post_raw(env.client, env.endpoint(name)[0], mutate(body, path, value), headers)
        assert response.status_code < 500, (path, response.get_data(as_text=True))
        if response.status_code >= 400:
            assert_error(response, response.status_code)
            assert row_counts(env.app) == before, path


# --- recorded_at at the edges of what is accepted ------------------------------------------


@pytest.mark.parametrize(
    "recorded_at",
    [
        iso(NOW + dt.timedelta(minutes=5)),
        iso(NOW - dt.timedelta(hours=MAX_AGE_HOURS) + dt.timedelta(seconds=1)),
        "2026-11-28T09:59:00+08:00",
        "2026-11-28T09:59:00.123456+08:00",
    ],
)
def test_recorded_at_inside_the_limits_is_accepted(env, recorded_at):
    path, body, headers = env.endpoint("checkin")
    response = env.client.post(path, json={**body, "recorded_at": recorded_at}, headers=headers)
    assert response.status_code == 201, response.get_json()


def test_the_age_limit_follows_the_configuration(env, app):
    path, body, headers = env.endpoint("checkin")
    old = iso(NOW - dt.timedelta(hours=30))
    app.config["CHECKIN_MAX_AGE_HOURS"] = 24
    try:
        send_rejected(env, "checkin", {**body, "recorded_at": old}, 422, field="recorded_at")
    finally:
        app.config["CHECKIN_MAX_AGE_HOURS"] = MAX_AGE_HOURS
    assert (
        env.client.post(path, json={**body, "recorded_at": old}, headers=headers).status_code == 201
    )


# --- query strings -------------------------------------------------------------------------

QUERY_CASES = [
    ("/api/v1/subjects?status=paused", "status"),
    ("/api/v1/subjects?page=0", "page"),
    ("/api/v1/subjects?page=abc", "page"),
    ("/api/v1/subjects?per_page=100000", "per_page"),
    ("/api/v1/alerts?status=closed", "status"),
    ("/api/v1/alerts?kind=speeding", "kind"),
    ("/api/v1/alerts?severity=urgent", "severity"),
    ("/api/v1/alerts?subject_id=abc", "subject_id"),
    ("/api/v1/alerts?subject_id=-1", "subject_id"),
    ("/api/v1/alerts?per_page=-5", "per_page"),
    ("/api/v1/subjects/{subject}/checkins?limit=0", "limit"),
    ("/api/v1/subjects/{subject}/checkins?limit=ten", "limit"),
    ("/mobile/v1/checkins?limit=0", "limit"),
    ("/mobile/v1/checkins?limit=501", "limit"),
    ("/mobile/v1/checkins?limit=1.5", "limit"),
]


@pytest.mark.parametrize("url, field", QUERY_CASES)
def test_a_bad_query_argument_is_named(env, url, field):
    headers = env.phone if url.startswith("/mobile") else env.admin
    response = env.client.get(url.format(subject=env.subject["id"]), headers=headers)
    assert_error(response, 422, field=field)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/subjects/0",
        "/api/v1/subjects/99999",
        "/api/v1/subjects/2147483648",
        "/api/v1/subjects/99999999999999999999999/checkins",
        "/api/v1/alerts/99999999999999999999999",
        "/api/v1/alerts/-1",
        "/api/v1/alerts/abc",
        "/api/v1/nothing-here",
        "/mobile/v1/nothing-here",
    ],
)
def test_an_unknown_record_or_path_is_a_json_404(env, url):
    assert_error(env.client.get(url, headers=env.admin), 404)


@pytest.mark.parametrize(
    "url", ["/api/v1/alerts/99999999999999999999999/ack", "/api/v1/alerts/2147483648/release"]
)
def test_acting_on_an_unknown_alert_is_a_404(env, url):
    assert_error(env.client.post(url, headers=env.admin), 404)


def test_a_wrong_method_is_a_json_405(env):
    assert_error(env.client.delete("/api/v1/subjects", headers=env.admin), 405)
    assert_error(env.client.put("/mobile/v1/checkins", headers=env.phone, json={}), 405)


# --- duplicates racing each other ------------------------------------------------------------


def post_at_once(app, path: str, bodies: list[dict], headers: dict) -> list:
    """POST each body from its own client at the same moment; the responses."""
    barrier = threading.Barrier(len(bodies))
    responses: list = [None] * len(bodies)

    def send(index, body):
        client = app.test_client()
        barrier.wait()
        responses[index] = client.post(path, json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i, b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


@pytest.mark.parametrize(
    "name, duplicate, status, field",
    [
        ("subject", lambda r, n: subject_body(phone=f"1381234000{r}"), 422, "phone"),
        (
            "office",
            lambda r, n: {"code": f"D{r}", "name": f"所{n}", "lat": 24, "lon": 107},
            409,
            "code",
        ),
        (
            "officer",
            lambda r, n: {"username": f"twin{r}", "password": f"password-{n}", "role": "viewer"},
            409,
            "username",
        ),
    ],
)
def test_simultaneous_duplicates_are_refused_not_a_server_error(
    env, name, duplicate, status, field
):
    path, _body, headers = env.endpoint(name)
    for round_ in range(4):
        responses = post_at_once(
            env.app, path, [duplicate(round_, 1), duplicate(round_, 2)], headers
        )
        assert sorted(r.status_code for r in responses) == [201, status], [
            r.get_json() for r in responses
        ]
        for response in responses:
            if response.status_code != 201:
                assert_error(response, status, field=field)
