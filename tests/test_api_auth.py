"""Tokens, guessing, roles and the web session's protections (CONTRACT: Errors, Web, Roles)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select, update

from config import TestingConfig
from corrections import create_app
from corrections.alerts.models import Alert
from corrections.auth.models import Officer
from corrections.extensions import db
from tests.api_support import (
    AUDIT_TABLES,
    assert_error,
    audit_actions_since,
    csrf_token_of,
    last_audit_id,
    row_counts,
    web_login,
)
from tests.factories import PASSWORD, SEAT, bearer, phone_login

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # conftest.DEFAULT_NOW
#: Endpoints anyone may call.
PUBLIC = {"/api/v1/auth/token", "/mobile/v1/auth/login", "/mobile/v1/openapi.json"}
#: The only officer-API endpoints a viewer may call (CONTRACT: Roles), besides those about the
#: caller's own account that every role has (signing out, changing one's password).
VIEWER_MAY = {"/api/v1/wall/summary", "/api/v1/reports/summary"}
OWN_ACCOUNT = {"/api/v1/auth/logout", "/api/v1/auth/password"}


def token_request(client, username="admin", password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def pin_request(client, phone, pin="2468", device_id="phone-1"):
    return client.post(
        "/mobile/v1/auth/login", json={"phone": phone, "pin": pin, "device_id": device_id}
    )


def routes(app, prefix: str, skip=()):
    """(method, path) of every route under `prefix`, ids filled in with 1."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or rule.rule in PUBLIC or rule.rule in skip:
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def call(client, method, path, headers=None):
    return client.open(path, method=method, headers=headers or {}, json={})


# --- officer tokens -------------------------------------------------------------------------


def test_a_token_is_issued_for_the_right_password_and_lasts_the_configured_hours(client, world):
    response = token_request(client)
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["token"]) >= 32
    assert body["expires_at"] == "2026-11-28T14:00:00Z"  # API_TOKEN_HOURS = 12
    listed = client.get("/api/v1/offices", headers={"Authorization": f"Bearer {body['token']}"})
    assert listed.status_code == 200


@pytest.mark.parametrize("username, password", [("admin", "wrong-password"), ("nobody", PASSWORD)])
def test_a_wrong_password_or_unknown_user_is_401_and_indistinguishable(
    client, world, username, password
):
    before = row_counts(world.app, ignore=("audit_log",))
    error = assert_error(token_request(client, username, password), 401)
    assert error["code"] == "invalid_credentials"
    assert error == assert_error(token_request(client, "admin", "another-wrong-one"), 401)
    # Nothing is stored but the audit log's record of the two failures.
    assert row_counts(world.app, ignore=("audit_log",)) == before


def test_ten_failures_lock_the_account_for_fifteen_minutes(client, world, at):
    for _ in range(10):
        assert_error(token_request(client, password="guess"), 401)
    locked = token_request(client)  # the right password, the 11th attempt
    assert_error(locked, 429, code="rate_limited")
    assert int(locked.headers["Retry-After"]) == 15 * 60
    client.set_cookie("lang", "en")
    english = assert_error(token_request(client), 429)
    assert english["message"] == "Too many failed attempts. Try again in 15 minutes."
    client.delete_cookie("lang")

    at(NOW + dt.timedelta(minutes=5))
    still = token_request(client)
    assert_error(still, 429)
    assert int(still.headers["Retry-After"]) == 10 * 60

    at(NOW + dt.timedelta(minutes=15))
    assert token_request(client).status_code == 200


def test_the_lock_counts_the_failures_of_the_last_fifteen_minutes_only(client, world, at):
    for minute in range(9):
        at(NOW + dt.timedelta(minutes=minute))
        assert_error(token_request(client, password="guess"), 401)
    at(NOW + dt.timedelta(minutes=16))  # the first failures have aged out
    assert_error(token_request(client, password="guess"), 401)
    assert_error(token_request(client, password="guess"), 401)
    assert token_request(client).status_code == 200


def test_a_success_forgets_earlier_failures(client, world):
    for _ in range(9):
        assert_error(token_request(client, password="guess"), 401)
    assert token_request(client).status_code == 200
    for _ in range(9):
        assert_error(token_request(client, password="guess"), 401)
    assert token_request(client).status_code == 200


def test_the_lock_is_per_account(client, world):
    world.officer("li")
    for _ in range(10):
        token_request(client, password="guess")
    assert_error(token_request(client), 429)
    assert token_request(client, "li").status_code == 200


def test_the_web_form_and_the_api_share_the_lock_and_the_form_answers_429_with_retry_after(
    client, world
):
    for _ in range(5):
        assert_error(token_request(client, password="guess"), 401)
    for _ in range(5):
        assert web_login(client, "admin", "guess").status_code == 401
    locked = web_login(client, "admin", PASSWORD)
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert "Content-Security-Policy" in locked.headers
    assert_error(token_request(client), 429)


# --- phones ---------------------------------------------------------------------------------


def test_a_wrong_pin_is_401(client, world):
    subject = world.subject()
    assert_error(pin_request(client, subject["phone"], pin="0000"), 401, code="invalid_credentials")
    assert_error(pin_request(client, "+8613911112222"), 401, code="invalid_credentials")


def test_ten_wrong_pins_lock_the_phone_for_fifteen_minutes(client, world, at):
    subject = world.subject()
    other = world.subject()
    for _ in range(10):
        assert_error(pin_request(client, subject["phone"], pin="0000"), 401)
    locked = pin_request(client, subject["phone"])  # the right PIN
    assert_error(locked, 429)
    assert int(locked.headers["Retry-After"]) == 15 * 60
    # The same number written another way is the same phone.
    local = subject["phone"].removeprefix("+86")
    assert_error(pin_request(client, f"{local[:3]} {local[3:7]} {local[7:]}"), 429)
    assert pin_request(client, other["phone"]).status_code == 200

    at(NOW + dt.timedelta(minutes=15))
    assert pin_request(client, subject["phone"]).status_code == 200


# --- bearer tokens --------------------------------------------------------------------------


def test_an_officer_token_expires(client, world, at):
    headers = bearer(client, "admin")
    at(NOW + dt.timedelta(hours=12) - dt.timedelta(seconds=1))
    assert client.get("/api/v1/subjects", headers=headers).status_code == 200
    at(NOW + dt.timedelta(hours=12))
    assert_error(client.get("/api/v1/subjects", headers=headers), 401)


def test_a_phone_token_expires(client, world, at):
    subject = world.subject()
    headers = phone_login(client, subject["phone"])
    at(NOW + dt.timedelta(days=30) - dt.timedelta(seconds=1))
    assert client.get("/mobile/v1/me", headers=headers).status_code == 200
    at(NOW + dt.timedelta(days=30))
    assert_error(client.get("/mobile/v1/me", headers=headers), 401)


def test_a_deactivated_officers_token_stops_working(app, client, world):
    headers = bearer(client, "admin")
    with app.app_context():
        db.session.execute(update(Officer).values(active=False))
        db.session.commit()
    assert_error(client.get("/api/v1/subjects", headers=headers), 401)
    assert_error(token_request(client), 401)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-real-token",
        "Bearer ",
        "Bearer",
        "Basic YWRtaW46Y29ycmVjdC1ob3JzZS0x",  # admin:correct-horse-1
        "Token abc",
        "",
    ],
)
def test_an_invalid_bearer_is_401(client, world, authorization):
    assert_error(client.get("/api/v1/subjects", headers={"Authorization": authorization}), 401)
    assert_error(client.get("/mobile/v1/me", headers={"Authorization": authorization}), 401)


def test_without_credentials_every_officer_and_phone_endpoint_is_401(app, client, world):
    checked = routes(app, "/api/v1/") + routes(app, "/mobile/v1/")
    assert ("POST", "/api/v1/subjects") in checked and ("POST", "/mobile/v1/checkins") in checked
    wrong = {}
    for method, path in checked:
        response = call(client, method, path)
        if response.status_code != 401:
            wrong[f"{method} {path}"] = response.status_code
        else:
            assert_error(response, 401)
    assert wrong == {}


def test_a_phone_token_is_no_officer_token_and_the_reverse(app, client, world):
    subject = world.subject()
    phone = phone_login(client, subject["phone"])
    officer = bearer(client, "admin")
    wrong = {}
    for method, path in routes(app, "/api/v1/"):
        status = call(client, method, path, phone).status_code
        if status != 401:
            wrong[f"{method} {path}"] = status
    for method, path in routes(app, "/mobile/v1/"):
        status = call(client, method, path, officer).status_code
        if status != 401:
            wrong[f"{method} {path}"] = status
    assert wrong == {}


# --- roles ----------------------------------------------------------------------------------


def test_a_viewer_may_only_watch_the_wall_and_reports(app, client, world):
    world.officer("screen", role="viewer")
    headers = bearer(client, "screen")
    checked = routes(app, "/api/v1/", skip=VIEWER_MAY | OWN_ACCOUNT)
    assert ("GET", "/api/v1/alerts") in checked and ("POST", "/api/v1/alerts/1/ack") in checked
    wrong = {}
    for method, path in checked:
        response = call(client, method, path, headers)
        if response.status_code != 403:
            wrong[f"{method} {path}"] = response.status_code
    assert wrong == {}


@pytest.mark.parametrize("role", ["officer", "supervisor"])
def test_only_an_admin_creates_offices_and_accounts(client, world, role):
    world.officer("someone", role=role)
    headers = bearer(client, "someone")
    before = row_counts(world.app, ignore=AUDIT_TABLES)
    mark = last_audit_id(world.app)
    office = {"code": "T77", "name": "新所", "lat": 24.1, "lon": 107.1}
    assert_error(client.post("/api/v1/offices", json=office, headers=headers), 403)
    account = {"username": "mallory", "password": "long-enough", "role": "admin"}
    assert_error(client.post("/api/v1/officers", json=account, headers=headers), 403)
    assert row_counts(world.app, ignore=AUDIT_TABLES) == before
    assert audit_actions_since(world.app, mark) == ["access.refused", "access.refused"]


def test_an_admin_creates_offices_and_accounts(client, world, admin):
    office = {"code": "T77", "name": "新所", "lat": 24.1, "lon": 107.1}
    created = client.post("/api/v1/offices", json=office, headers=admin)
    assert created.status_code == 201
    assert created.get_json()["code"] == "T77"
    account = {
        "username": "zhao",
        "password": "long-enough",
        "role": "officer",
        "office_code": "T77",
    }
    created = client.post("/api/v1/officers", json=account, headers=admin)
    assert created.status_code == 201
    assert created.get_json()["office_code"] == "T77"
    assert "password" not in created.get_data(as_text=True)
    assert token_request(client, "zhao", "long-enough").status_code == 200


# --- the web session ------------------------------------------------------------------------


def test_a_page_without_a_login_redirects_to_the_login_with_next(client, world):
    response = client.get("/alerts?status=open")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login"
    assert "next=%2Falerts" in target.query


def test_login_goes_to_a_local_next(client, world):
    response = web_login(client, "admin", PASSWORD, next_url="/subjects?status=active")
    assert response.status_code == 302
    assert response.headers["Location"] == "/subjects?status=active"


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.com",
        "//evil.com/alerts",
        "https://evil.com",
        "http:evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        " //evil.com",
        "javascript:alert(1)",
        "evil.com",
    ],
)
def test_login_never_goes_to_another_site(client, world, next_url):
    response = web_login(client, "admin", PASSWORD, next_url=next_url)
    assert response.status_code == 302
    location = response.headers["Location"]
    target = urlsplit(location)
    assert target.netloc in ("", "localhost"), location
    assert target.path in ("/", "/alerts"), location  # the start page


def test_a_next_with_a_control_character_is_refused_before_the_form(client, world):
    # Like every query argument (corrections.validation.check_query_text): no form, no login.
    url = "/login?next=" + quote("/\t/evil.com", safe="")
    assert client.get(url).status_code == 422
    form = {"username": "admin", "password": PASSWORD}
    token = csrf_token_of(client.get("/login"))
    assert client.post(url, data={**form, "csrf_token": token}).status_code == 422
    assert client.get("/alerts").status_code == 302


def test_a_wrong_password_on_the_form_is_refused_without_a_session(client, world):
    response = web_login(client, "admin", "wrong-password")
    assert response.status_code == 401
    assert client.get("/alerts").status_code == 302
    assert_error(client.get("/api/v1/alerts"), 401)


def test_the_login_form_needs_its_csrf_token(client, world):
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/alerts").status_code == 302


def content_security_policy(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def test_html_pages_carry_a_strict_content_security_policy(client, world):
    pages = [client.get("/login"), client.get("/no-such-page")]
    web_login(client, "admin", PASSWORD)
    pages += [client.get("/alerts"), client.get("/subjects")]
    for page in pages:
        assert page.mimetype == "text/html"
        policy = content_security_policy(page)
        script_src = policy.get("script-src", policy.get("default-src"))
        assert script_src, page.request.path
        assert "'unsafe-inline'" not in script_src and "*" not in script_src
        assert policy["frame-ancestors"] in (["'none'"], ["'self'"])
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        # The policy forbids inline script: a page that had some would break.
        html = page.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page.request.path
        assert not re.search(r"\son[a-z]+\s*=", html), page.request.path


def test_json_responses_are_nosniff(client, world, admin):
    for response in [
        client.get("/api/v1/subjects", headers=admin),
        client.get("/api/v1/subjects"),
        client.get("/mobile/v1/openapi.json"),
        client.post("/mobile/v1/auth/login", data="x", content_type="text/plain"),
    ]:
        assert response.is_json
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_cookie_is_httponly_and_samesite(client, world):
    response = web_login(client, "admin", PASSWORD)
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies
    for cookie in cookies:
        attributes = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")[1:]}
        assert "httponly" in attributes
        assert attributes["samesite"].split("=")[1].strip().lower() in ("lax", "strict")


def test_a_session_works_on_another_server_with_the_same_secret(app, client, world):
    web_login(client, "admin", PASSWORD)
    cookie = client.get_cookie("session")

    class SameConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    other = create_app(SameConfig).test_client()
    other.set_cookie("session", cookie.value)
    assert other.get("/api/v1/subjects").status_code == 200


def test_a_web_session_may_read_the_api_but_must_prove_its_writes(app, client, world):
    world.officer("li")
    subject = world.subject()
    phone = phone_login(client, subject["phone"])
    far = {"client_id": "far", "lat": SEAT[0] + 1, "lon": SEAT[1], "accuracy_m": 10}
    far["recorded_at"] = "2026-11-28T09:59:00+08:00"
    assert client.post("/mobile/v1/checkins", json=far, headers=phone).status_code == 201

    assert web_login(client, "li", PASSWORD).status_code == 302
    listed = client.get("/api/v1/alerts")
    assert listed.status_code == 200
    alert_id = listed.get_json()["items"][0]["id"]

    forged = client.post(f"/api/v1/alerts/{alert_id}/ack")
    assert_error(forged, 400, code="csrf_failed")
    forged = client.post(f"/api/v1/alerts/{alert_id}/ack", headers={"X-CSRFToken": "made-up"})
    assert_error(forged, 400, code="csrf_failed")
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.id == alert_id))
        assert (alert.status, alert.owner_id) == ("open", None)

    token = csrf_token_of(client.get("/alerts"))
    acked = client.post(f"/api/v1/alerts/{alert_id}/ack", headers={"X-CSRFToken": token})
    assert acked.status_code == 200
    assert acked.get_json()["owner"] == "li"


def guess_at_once(app, path: str, bodies: list[dict]) -> list[int]:
    """Send every body from its own client at the same moment; the status codes."""
    barrier = threading.Barrier(len(bodies))
    codes: list[int] = []

    def send(body):
        client = app.test_client()
        barrier.wait()
        codes.append(client.post(path, json=body).status_code)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(codes)


def guesses_until_locked(send) -> int:
    """Keep guessing one at a time until refused; how many guesses were checked."""
    for tried in range(11):
        if send().status_code == 429:
            return tried
    raise AssertionError("never locked")


def test_a_burst_of_parallel_guesses_gets_ten_tries_in_all(app, world):
    bodies = [{"username": "admin", "password": f"guess-{n}"} for n in range(24)]
    codes = guess_at_once(app, "/api/v1/auth/token", bodies)
    assert len(codes) == 24 and set(codes) <= {401, 429}
    client = world.app.test_client()
    later = guesses_until_locked(lambda: token_request(client, password="one-more"))
    assert codes.count(401) + later == 10
    assert_error(token_request(client), 429)


def test_a_burst_of_parallel_pins_gets_ten_tries_in_all(app, world):
    subject = world.subject()
    bodies = [{"phone": subject["phone"], "pin": f"{n:04d}", "device_id": "x"} for n in range(24)]
    codes = guess_at_once(app, "/mobile/v1/auth/login", bodies)
    assert len(codes) == 24 and set(codes) <= {401, 429}
    client = world.app.test_client()
    later = guesses_until_locked(lambda: pin_request(client, subject["phone"], pin="9999"))
    assert codes.count(401) + later == 10
    assert_error(pin_request(client, subject["phone"]), 429)


def test_a_deactivated_officers_web_session_ends(app, client, world):
    assert web_login(client, "admin", PASSWORD).status_code == 302
    assert client.get("/alerts").status_code == 200
    with app.app_context():
        db.session.execute(update(Officer).values(active=False))
        db.session.commit()
    assert client.get("/alerts").status_code == 302
    assert_error(client.get("/api/v1/alerts"), 401)
