"""Refused requests are audited ("access.refused"): another office's record, an unknown one, a
role's limits; in a transaction of their own, whatever the request itself did."""

from __future__ import annotations

import pytest
from flask_login import current_user
from sqlalchemy import func, select

from config import TestingConfig
from corrections import clock, create_app
from corrections.audit.models import AuditEntry, AuditSubject
from corrections.auth.access import refused
from corrections.auth.views import page_roles
from corrections.extensions import db
from corrections.offices.models import Office
from tests.api_support import AUDIT_TABLES, assert_error, row_counts, web_login
from tests.factories import PASSWORD, bearer, raise_for

ADDRESS = "203.0.113.7"


@pytest.fixture
def county(world):
    """Two offices with an officer and a subject each, an alert on the other office's subject,
    a supervisor and a wall viewer; returns the ids."""
    world.office(code="T02", name="第二司法所", lat=24.9, lon=107.8)
    world.officer("li", office_code="T01")
    world.officer("zhao", office_code="T02")
    world.officer("wall", role="viewer")
    mine = world.subject(name="王小明")["id"]
    theirs = world.subject(name="欧阳建华", office_code="T02")["id"]
    with world.app.app_context():
        alert = raise_for(theirs, "geofence_exit", {"distance_outside_m": 900.0}, clock.now())
        db.session.commit()
        alert_id = alert.id
    return {"mine": mine, "theirs": theirs, "their_alert": alert_id}


@pytest.fixture
def remote(client):
    """The test client, calling from ADDRESS."""
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    return client


def refusals(app) -> list[AuditEntry]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "access.refused")
                .order_by(AuditEntry.id)
            )
        )
        db.session.expunge_all()
        return rows


def officer_id(app, username: str) -> int:
    from corrections.auth.models import Officer

    with app.app_context():
        return db.session.scalar(select(Officer.id).where(Officer.username == username))


def test_another_offices_subject_through_the_api_is_a_404_audited_with_whose_it_was(
    app, remote, county
):
    response = remote.get(f"/api/v1/subjects/{county['theirs']}", headers=bearer(remote, "li"))
    assert_error(response, 404, "not_found")
    [row] = refusals(app)
    assert (row.actor_kind, row.actor_id, row.ip) == ("officer", officer_id(app, "li"), ADDRESS)
    assert row.at == clock.now()
    assert row.subject_id == county["theirs"]
    assert row.detail["reason"] == "outside_scope"
    assert row.detail["record"] == "subject" and row.detail["record_id"] == county["theirs"]
    assert row.detail["path"] == f"/api/v1/subjects/{county['theirs']}"
    assert (row.detail["status"], row.detail["method"], row.detail["role"]) == (
        404,
        "GET",
        "officer",
    )


def test_an_unknown_record_answers_the_same_and_is_audited_as_unknown(app, remote, county):
    headers = bearer(remote, "li")
    outside = remote.get(f"/api/v1/alerts/{county['their_alert']}", headers=headers)
    unknown = remote.get("/api/v1/alerts/999999", headers=headers)
    assert outside.get_json() == unknown.get_json()  # existence never leaks to the caller
    their, nothing = refusals(app)
    assert (their.detail["reason"], their.subject_id) == ("outside_scope", county["theirs"])
    assert (nothing.detail["reason"], nothing.subject_id) == ("no_such_record", None)
    assert nothing.detail["record_id"] == 999999


def test_another_offices_pages_are_refused_and_audited(app, remote, county):
    web_login(remote, "li", PASSWORD)
    assert remote.get(f"/subjects/{county['theirs']}").status_code == 404
    assert remote.get(f"/alerts/{county['their_alert']}").status_code == 404
    assert remote.get("/alerts?office=T02").status_code == 404
    subject, alert, office = refusals(app)
    assert (subject.detail["record"], subject.subject_id) == ("subject", county["theirs"])
    assert (alert.detail["record"], alert.subject_id) == ("alert", county["theirs"])
    assert (office.detail["record"], office.detail["record_id"]) == ("office", "T02")
    assert office.detail["query"] == {"office": "T02"}
    assert {r.ip for r in (subject, alert, office)} == {ADDRESS}


def test_a_refused_step_on_another_offices_alert_changes_nothing_but_is_audited(
    app, remote, county
):
    before = row_counts(app, ignore=AUDIT_TABLES)
    response = remote.post(
        f"/api/v1/alerts/{county['their_alert']}/resolve",
        json={"note": "looked"},
        headers=bearer(remote, "li"),
    )
    assert_error(response, 404)
    assert row_counts(app, ignore=(*AUDIT_TABLES, "api_tokens")) == {
        k: v for k, v in before.items() if k != "api_tokens"
    }
    [row] = refusals(app)
    assert row.detail["endpoint"] == "alerts_api.resolve"
    assert row.detail["view_args"] == {"alert_id": county["their_alert"]}


@pytest.mark.parametrize("path", ["/subjects", "/alerts"])
def test_a_viewer_refused_a_casework_page_is_audited_with_the_role(app, remote, county, path):
    web_login(remote, "wall", PASSWORD)
    assert remote.get(path).status_code == 403
    [row] = refusals(app)
    assert (row.actor_id, row.detail["status"]) == (officer_id(app, "wall"), 403)
    assert row.detail["role"] == "viewer"


def test_a_viewer_refused_the_api_is_audited(app, remote, county):
    assert_error(remote.get("/api/v1/subjects", headers=bearer(remote, "wall")), 403)
    [row] = refusals(app)
    assert row.detail["endpoint"] == "subjects_api.list_subjects"


def test_nobody_signed_in_and_unknown_urls_are_not_refusals(app, remote, county):
    assert_error(remote.get(f"/api/v1/subjects/{county['theirs']}"), 401)
    assert remote.get(f"/subjects/{county['theirs']}").status_code == 302
    web_login(remote, "li", PASSWORD)
    assert remote.get("/no-such-page").status_code == 404
    assert refusals(app) == []


def test_what_the_caller_typed_is_kept_short(app, remote, county):
    web_login(remote, "li", PASSWORD)
    junk = {"office": "T02", **{f"k{i}": "x" * 5000 for i in range(50)}}
    assert remote.get("/alerts", query_string=junk).status_code == 404
    [row] = refusals(app)
    assert len(row.detail["query"]) <= 20
    assert all(len(v) <= 201 for v in row.detail["query"].values())


def test_the_refusal_is_kept_although_the_request_is_rolled_back(database_url, county):
    # A view that has written something and is then refused: its own work is dropped, the
    # refusal stays. (A second app on the same database, with a route made for the purpose.)
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)

    @app.get("/test/half-done/<int:subject_id>")
    @page_roles("officer")
    def half_done(subject_id: int):
        db.session.add(Office(code="ZZ9", name="不该留下", lat=1.0, lon=1.0))
        db.session.flush()
        assert current_user.is_authenticated
        raise refused("subject", subject_id, exists=True, subject_id=subject_id)

    client = app.test_client()
    web_login(client, "li", PASSWORD)
    assert client.get(f"/test/half-done/{county['theirs']}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Office).where(Office.code == "ZZ9")) is None
        [row] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "access.refused"))
        assert row.subject_id == county["theirs"]
        linked = db.session.scalar(
            select(func.count()).select_from(AuditSubject).where(AuditSubject.entry_id == row.id)
        )
        assert linked == 1
        db.session.remove()
