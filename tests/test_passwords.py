"""The password policy (every role; the API, the CLI and the pages alike), and the audit of
every login and failed login."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from corrections.audit.models import AuditEntry
from corrections.auth.models import Officer
from corrections.auth.passwords import PasswordRefused, check_password
from corrections.demo import data as demo
from corrections.extensions import db
from tests.api_support import assert_error, row_counts, web_login
from tests.factories import PASSWORD, bearer, phone_login

#: Client address of the test client (Flask's default).
LOCAL = "127.0.0.1"


@pytest.mark.parametrize(
    "password, username",
    [
        (" " * 8, "li"),  # the finding: eight spaces were accepted
        (" " * 12, "li"),
        ("\t\n  \t", "li"),
        ("short-1", "li"),
        ("   padded   ", "li"),  # 6 characters once the spaces around are gone
        ("zhangsan2026", "zhangsan2026"),
        ("ZhangSan2026", "zhangsan2026"),
        ("zhangsan-1", "zhangsan"),  # the username with a few characters added
        ("1234567890", "li"),
        ("qwertyuiop", "li"),
        ("Password123", "li"),
        ("woaini1314", "li"),
        ("x" * 257, "li"),
    ],
)
def test_the_policy_refuses(password, username):
    with pytest.raises(PasswordRefused):
        check_password(password, username)


@pytest.mark.parametrize(
    "password, username",
    [
        (PASSWORD, "admin"),
        ("long-enough", "zhao"),
        (demo.OFFICER_PASSWORD, "officer01"),
        (demo.ADMIN_PASSWORD, "admin"),  # ten characters of its own besides "admin"
        (demo.SUPERVISOR_PASSWORD, "supervisor"),
        (demo.VIEWER_PASSWORD, "viewer"),
        ("长城长江黄河泰山华山", "li"),
    ],
)
def test_the_policy_accepts(password, username):
    check_password(password, username)


ACCOUNT = {"username": "zhao", "role": "officer", "office_code": "T01"}


@pytest.mark.parametrize("password", [" " * 8, "zhao-2026", "1234567890", "abc"])
@pytest.mark.parametrize("role", ["admin", "supervisor", "officer", "viewer"])
def test_the_api_refuses_a_weak_password_for_every_role(client, world, admin, password, role):
    before = row_counts(world.app)
    body = {**ACCOUNT, "role": role, "password": password}
    if role != "officer":
        body.pop("office_code")
    assert_error(client.post("/api/v1/officers", json=body, headers=admin), 422, field="password")
    assert row_counts(world.app) == before


def test_an_administrators_reset_follows_the_policy(app, client, world, admin):
    world.officer("li")
    with app.app_context():
        li = db.session.scalar(select(Officer.id).where(Officer.username == "li"))
    response = client.post(
        f"/api/v1/officers/{li}/password", json={"password": " " * 8}, headers=admin
    )
    assert_error(response, 422, field="password")
    assert bearer(client, "li")  # the old password still works


def test_the_cli_follows_the_policy(app, world):
    runner = app.test_cli_runner()
    for password in (" " * 8, "wu-12345", "1234567890"):
        result = runner.invoke(
            args=["officers", "create", "wu", "--role", "viewer", "--password", password]
        )
        assert result.exit_code != 0, password
        assert "password" in result.output
    with app.app_context():
        assert db.session.scalar(select(Officer).where(Officer.username == "wu")) is None


def test_the_cli_sets_a_new_password_and_ends_sessions(app, client, world):
    headers = bearer(client, "admin")
    result = app.test_cli_runner().invoke(
        args=["officers", "set-password", "admin", "--password", "a-brand-new-secret-7"]
    )
    assert result.exit_code == 0, result.output
    assert_error(client.get("/api/v1/offices", headers=headers), 401)
    assert bearer(client, "admin", "a-brand-new-secret-7")


# --- every login and failed login is audited ------------------------------------------------


def entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()
        db.session.expunge_all()
        return rows


def officer_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Officer.id).where(Officer.username == username))


def test_web_logins_and_failures_are_audited(app, client, world, at):
    web_login(client, "admin", "wrong-password")
    web_login(client, "ghost", "wrong-password")
    web_login(client, "admin", PASSWORD)
    failed = entries(app, "officer.login_failed")
    assert [(e.actor_kind, e.ip, e.detail["via"], e.detail["username"]) for e in failed] == [
        ("anonymous", LOCAL, "web", "admin"),
        ("anonymous", LOCAL, "web", "ghost"),
    ]
    assert [e.detail["officer_id"] for e in failed] == [officer_id(app, "admin"), None]
    (login,) = entries(app, "officer.login")
    assert (login.actor_kind, login.actor_id, login.ip) == (
        "officer",
        officer_id(app, "admin"),
        LOCAL,
    )
    assert login.detail == {"via": "web"} and login.at is not None


def test_api_token_logins_and_failures_are_audited(app, client, world):
    client.post("/api/v1/auth/token", json={"username": "admin", "password": "nope"})
    bearer(client, "admin")
    (failed,) = entries(app, "officer.login_failed")
    assert (failed.detail["via"], failed.ip) == ("api", LOCAL)
    (login,) = entries(app, "officer.login")
    assert (login.actor_id, login.detail) == (officer_id(app, "admin"), {"via": "api"})


def test_phone_logins_and_failures_are_audited(app, client, world):
    subject = world.subject()
    client.post(
        "/mobile/v1/auth/login",
        json={"phone": subject["phone"], "pin": "0000", "device_id": "phone-1"},
    )
    client.post(
        "/mobile/v1/auth/login",
        json={"phone": "+8613911112222", "pin": "0000", "device_id": "phone-1"},
    )
    phone_login(client, subject["phone"])
    failed = entries(app, "subject.login_failed")
    assert [(e.actor_kind, e.subject_id, e.ip) for e in failed] == [
        ("anonymous", subject["id"], LOCAL),
        ("anonymous", None, LOCAL),
    ]
    assert failed[1].detail["phone"] == "+8613911112222"
    (login,) = entries(app, "subject.login")
    assert (login.actor_kind, login.actor_id, login.ip) == ("subject", subject["id"], LOCAL)
