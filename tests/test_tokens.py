"""Bearer tokens can be ended: by their holder (`POST /api/v1/auth/logout`,
`POST /mobile/v1/auth/logout`), by a password change, and by an administrator (an officer's) or
the subject's office (a lost or stolen phone)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from corrections.audit.models import AuditEntry
from corrections.auth.models import Officer
from corrections.extensions import db
from tests.api_support import assert_error, csrf_token_of, web_login
from tests.factories import PASSWORD, bearer, phone_login

NEW_PASSWORD = "a-brand-new-secret-7"


def officer_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Officer.id).where(Officer.username == username))


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_logout_revokes_the_calling_token_only(app, client, world):
    first = bearer(client, "admin")
    second = bearer(client, "admin")
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    assert_error(client.get("/api/v1/offices", headers=first), 401)
    assert_error(client.post("/api/v1/auth/logout", headers=first), 401)
    assert client.get("/api/v1/offices", headers=second).status_code == 200
    assert "officer.logout" in actions(app)


def test_logout_without_a_token_is_401(client, world):
    assert_error(client.post("/api/v1/auth/logout"), 401)


def test_logout_from_a_web_session_ends_it_and_needs_the_csrf_token(app, client, world):
    web_login(client, "admin", PASSWORD)
    assert_error(client.post("/api/v1/auth/logout"), 400, code="csrf_failed")
    token = csrf_token_of(client.get("/alerts"))
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": token}).status_code == 204
    assert client.get("/alerts").status_code == 302


def test_changing_ones_password_by_the_api_revokes_every_token(app, client, world):
    world.officer("li")
    calling, other = bearer(client, "li"), bearer(client, "li")
    body = {"current_password": PASSWORD, "password": NEW_PASSWORD}
    response = client.post("/api/v1/auth/password", json=body, headers=calling)
    assert response.status_code == 200
    assert response.get_json()["tokens_revoked"] == 2
    assert_error(client.get("/api/v1/alerts", headers=calling), 401)
    assert_error(client.get("/api/v1/alerts", headers=other), 401)
    assert bearer(client, "li", NEW_PASSWORD)


def test_a_wrong_current_password_by_the_api_is_422_and_changes_nothing(app, client, world):
    world.officer("li")
    headers = bearer(client, "li")
    body = {"current_password": "wrong-one", "password": NEW_PASSWORD}
    response = client.post("/api/v1/auth/password", json=body, headers=headers)
    assert_error(response, 422, field="current_password")
    assert client.get("/api/v1/alerts", headers=headers).status_code == 200


def test_guessing_the_current_password_through_a_stolen_token_is_throttled(app, client, world):
    world.officer("li")
    headers = bearer(client, "li")
    for n in range(10):
        body = {"current_password": f"guess-{n}", "password": NEW_PASSWORD}
        assert_error(client.post("/api/v1/auth/password", json=body, headers=headers), 422)
    body = {"current_password": PASSWORD, "password": NEW_PASSWORD}
    locked = client.post("/api/v1/auth/password", json=body, headers=headers)
    assert_error(locked, 429)
    assert int(locked.headers["Retry-After"]) > 0


def test_an_admin_revokes_an_officers_tokens_and_sessions(app, client, world):
    world.officer("li")
    token = bearer(app.test_client(), "li")
    browser = app.test_client()
    web_login(browser, "li", PASSWORD)
    admin = bearer(client, "admin")
    response = client.post(f"/api/v1/officers/{officer_id(app, 'li')}/revoke-tokens", headers=admin)
    assert response.status_code == 200
    assert response.get_json() == {"tokens_revoked": 1, "sessions_ended": 1}
    assert_error(client.get("/api/v1/alerts", headers=token), 401)
    assert browser.get("/alerts").status_code == 302
    assert bearer(client, "li")  # the password still works
    assert "officer.signed_out" in actions(app)


@pytest.mark.parametrize("role", ["supervisor", "officer", "viewer"])
def test_only_an_admin_administers_accounts(app, client, world, role):
    world.officer("someone", role=role)
    world.officer("li")
    headers = bearer(client, "someone")
    target = officer_id(app, "li")
    for method, path, body in [
        ("GET", "/api/v1/officers", None),
        ("PATCH", f"/api/v1/officers/{target}", {"active": False}),
        ("POST", f"/api/v1/officers/{target}/password", {"password": NEW_PASSWORD}),
        ("POST", f"/api/v1/officers/{target}/revoke-tokens", None),
    ]:
        assert_error(client.open(path, method=method, json=body, headers=headers), 403)
    assert bearer(client, "li")


def test_an_unknown_account_is_404(client, world, admin):
    assert_error(client.post("/api/v1/officers/9999/revoke-tokens", headers=admin), 404)
    assert_error(client.patch("/api/v1/officers/9999", json={}, headers=admin), 404)


def test_an_admin_cannot_deactivate_their_own_account(app, client, world, admin):
    response = client.patch(
        f"/api/v1/officers/{officer_id(app, 'admin')}", json={"active": False}, headers=admin
    )
    assert_error(response, 409)
    assert client.get("/api/v1/offices", headers=admin).status_code == 200


def test_an_admin_sets_display_name_and_office(app, client, world, admin):
    world.office(code="T02", name="金谷乡司法所")
    world.officer("li")
    path = f"/api/v1/officers/{officer_id(app, 'li')}"
    response = client.patch(
        path, json={"display_name": "李建国", "office_code": "T02"}, headers=admin
    )
    assert response.status_code == 200
    assert response.get_json()["display_name"] == "李建国"
    assert response.get_json()["office_code"] == "T02"
    assert_error(
        client.patch(path, json={"office_code": "NOPE"}, headers=admin), 422, field="office_code"
    )
    assert_error(
        client.patch(path, json={"office_code": None}, headers=admin), 422, field="office_code"
    )
    listed = client.get("/api/v1/officers", headers=admin).get_json()["items"]
    assert {o["username"]: o["office_code"] for o in listed}["li"] == "T02"


# --- the subject's phone --------------------------------------------------------------------


def test_a_phone_signs_itself_out(app, client, world):
    subject = world.subject()
    phone = phone_login(client, subject["phone"])
    assert client.post("/mobile/v1/auth/logout", headers=phone).status_code == 204
    assert_error(client.get("/mobile/v1/me", headers=phone), 401)
    assert "subject.logout" in actions(app)


def test_the_office_signs_a_lost_phone_out(app, client, world):
    world.officer("li")
    subject = world.subject()
    phone = phone_login(client, subject["phone"])
    headers = bearer(client, "li")
    response = client.post(f"/api/v1/subjects/{subject['id']}/revoke-tokens", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"tokens_revoked": 1}
    assert_error(client.get("/mobile/v1/me", headers=phone), 401)
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "subject.tokens_revoked")
        )
        assert (entry.actor_kind, entry.subject_id) == ("officer", subject["id"])


def test_another_offices_officer_cannot_sign_a_phone_out(app, client, world):
    world.office(code="T02", name="金谷乡司法所")
    world.officer("zhao", office_code="T02")
    subject = world.subject()
    phone = phone_login(client, subject["phone"])
    headers = bearer(client, "zhao")
    assert_error(
        client.post(f"/api/v1/subjects/{subject['id']}/revoke-tokens", headers=headers), 404
    )
    assert client.get("/mobile/v1/me", headers=phone).status_code == 200
