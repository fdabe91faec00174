"""Web sessions end on the server (CONTRACT: Web, sessions, guessing): signing out, a password
change, a deactivation or an administrator's sign-out ends them for any copy of the cookie; they
end by themselves when idle or old; the CSRF token is renewed at login and expires."""

from __future__ import annotations

import datetime as dt
import hashlib

import itsdangerous.timed
import pytest
from sqlalchemy import select

from config import TestingConfig
from corrections import create_app
from corrections.auth.models import Officer
from corrections.extensions import db
from tests.api_support import assert_error, csrf_token_of, web_login
from tests.factories import PASSWORD, bearer

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # conftest.DEFAULT_NOW
NEW_PASSWORD = "a-brand-new-secret-7"


def signed_in(client) -> bool:
    """Whether the client's cookie opens a page (not a redirect to /login)."""
    return client.get("/alerts").status_code == 200


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def post_page_form(client, page: str, action: str, **fields):
    token = csrf_token_of(client.get(page))
    return client.post(action, data={"csrf_token": token, **fields})


def officer_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Officer.id).where(Officer.username == username))


@pytest.fixture
def li(world):
    world.officer("li")
    return "li"


def test_signing_out_ends_the_session_for_a_copied_cookie(app, client, world, li):
    assert web_login(client, li, PASSWORD).status_code == 302
    thief = copy_of(app, client)
    assert signed_in(thief)
    assert post_page_form(client, "/alerts", "/logout").status_code == 302
    assert not signed_in(client)
    assert not signed_in(thief)
    assert_error(thief.get("/api/v1/alerts"), 401)


def test_signing_out_one_browser_leaves_the_others_signed_in(app, world, li):
    office, home = app.test_client(), app.test_client()
    web_login(office, li, PASSWORD)
    web_login(home, li, PASSWORD)
    post_page_form(office, "/alerts", "/logout")
    assert not signed_in(office)
    assert signed_in(home)


def test_signing_in_again_ends_the_earlier_session(app, client, world, li):
    web_login(client, li, PASSWORD)
    earlier = copy_of(app, client)
    web_login(client, "admin", PASSWORD)  # someone else signs in on the same browser
    assert signed_in(client)
    assert not signed_in(earlier)


def test_a_session_survives_a_restart_of_the_server(app, client, world, li):
    web_login(client, li, PASSWORD)

    class SameConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    restarted = create_app(SameConfig).test_client()
    restarted.set_cookie("session", client.get_cookie("session").value)
    assert restarted.get("/alerts").status_code == 200
    post_page_form(client, "/alerts", "/logout")
    assert restarted.get("/alerts").status_code == 302  # ended on every server


def test_changing_ones_password_ends_every_other_session_and_token(app, client, world, li):
    web_login(client, li, PASSWORD)
    other_computer = app.test_client()
    web_login(other_computer, li, PASSWORD)
    thief = copy_of(app, client)  # a copy of this very browser's cookie
    token = bearer(app.test_client(), li)

    response = post_page_form(
        client,
        "/account/password",
        "/account/password",
        current_password=PASSWORD,
        password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert response.status_code == 302
    assert signed_in(client)  # the person who changed it goes on, in a new session
    assert not signed_in(other_computer)
    assert not signed_in(thief)
    assert_error(client.get("/api/v1/alerts", headers=token), 401)
    assert web_login(app.test_client(), li, NEW_PASSWORD).status_code == 302


def test_a_wrong_current_password_changes_nothing(app, client, world, li):
    web_login(client, li, PASSWORD)
    response = post_page_form(
        client,
        "/account/password",
        "/account/password",
        current_password="not-my-password",
        password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert response.status_code == 422
    assert 'id="current_password-error"' in response.text
    assert signed_in(client)
    assert web_login(app.test_client(), li, PASSWORD).status_code == 302


def test_an_administrators_password_reset_ends_every_session_and_token(app, client, world, li):
    web_login(client, li, PASSWORD)
    token = bearer(app.test_client(), li)
    admin = bearer(app.test_client(), "admin")
    response = client.post(
        f"/api/v1/officers/{officer_id(app, li)}/password",
        json={"password": NEW_PASSWORD},
        headers=admin,
    )
    assert response.status_code == 200
    assert response.get_json() == {"tokens_revoked": 1, "sessions_ended": 1}
    assert not signed_in(client)
    assert_error(client.get("/api/v1/alerts", headers=token), 401)


def test_deactivation_ends_every_session_and_token_for_good(app, client, world, li):
    web_login(client, li, PASSWORD)
    token = bearer(app.test_client(), li)
    admin = bearer(app.test_client(), "admin")
    path = f"/api/v1/officers/{officer_id(app, li)}"
    assert client.patch(path, json={"active": False}, headers=admin).status_code == 200
    assert not signed_in(client)
    assert_error(client.get("/api/v1/alerts", headers=token), 401)
    # Reactivating the account does not bring the old session or token back.
    assert client.patch(path, json={"active": True}, headers=admin).status_code == 200
    assert not signed_in(client)
    assert_error(client.get("/api/v1/alerts", headers=token), 401)


def test_an_idle_session_ends(app, client, world, li, at):
    web_login(client, li, PASSWORD)
    at(NOW + dt.timedelta(minutes=59))
    assert signed_in(client)  # a request keeps it alive...
    at(NOW + dt.timedelta(minutes=59 + 59))
    assert signed_in(client)
    at(NOW + dt.timedelta(minutes=59 + 59 + 61))  # ...an hour without one ends it
    response = client.get("/alerts")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    at(NOW + dt.timedelta(minutes=59 + 59 + 62))
    assert not signed_in(client)  # and it stays ended


def test_a_session_ends_after_its_absolute_lifetime_even_when_busy(app, client, world, li, at):
    web_login(client, li, PASSWORD)
    for half_hours in range(1, 24):
        at(NOW + dt.timedelta(minutes=30 * half_hours))
        assert signed_in(client), half_hours
    at(NOW + dt.timedelta(hours=12))
    assert not signed_in(client)


def test_the_lifetimes_are_configurable(app, client, world, li, at, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    web_login(client, li, PASSWORD)
    at(NOW + dt.timedelta(minutes=4))
    assert signed_in(client)
    at(NOW + dt.timedelta(minutes=10))
    assert not signed_in(client)


def test_the_session_cookie_alone_is_refused_after_the_absolute_lifetime(app):
    assert app.permanent_session_lifetime == dt.timedelta(hours=12)


def remember_cookie(app, officer: int) -> str:
    """A remember-me cookie as Flask-Login makes it, signed with the application's secret."""
    from flask_login.utils import _cookie_digest

    with app.test_request_context():
        return f"{officer}|{_cookie_digest(str(officer))}"


def test_flask_logins_remember_cookie_signs_no_one_in(app, client, world, li):
    client.set_cookie("remember_token", remember_cookie(app, officer_id(app, li)))
    assert not signed_in(client)
    assert_error(client.get("/api/v1/alerts"), 401)


def test_the_csrf_token_is_renewed_at_login(app, client, world, li):
    before = csrf_token_of(client.get("/login"))
    web_login(client, li, PASSWORD)
    after = csrf_token_of(client.get("/alerts"))
    assert after != before
    # A token taken before the login (say, planted by another site) no longer works.
    response = client.post("/logout", data={"csrf_token": before})
    assert response.status_code == 400
    assert signed_in(client)
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302


class LaterClock:
    """itsdangerous reads the system clock for CSRF tokens' age: a clock `seconds` ahead."""

    def __init__(self, seconds: int):
        import time

        self.seconds = seconds
        self._time = time

    def time(self) -> float:
        return self._time.time() + self.seconds


def test_the_csrf_token_expires(app, client, world, li, monkeypatch):
    web_login(client, li, PASSWORD)
    token = csrf_token_of(client.get("/alerts"))
    monkeypatch.setattr(itsdangerous.timed, "time", LaterClock(2 * 3600 + 5))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 400
    assert "expired" in response.text or "过期" in response.text
    fresh = csrf_token_of(client.get("/alerts"))
    assert client.post("/logout", data={"csrf_token": fresh}).status_code == 302


def test_only_a_hash_of_the_session_token_is_stored(app, client, world, li):
    from corrections.auth.access import SESSION_TOKEN
    from corrections.auth.models import OfficerSession

    web_login(client, li, PASSWORD)
    with client.session_transaction() as cookie_session:
        token = cookie_session[SESSION_TOKEN]
    with app.app_context():
        stored = db.session.scalars(select(OfficerSession.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
