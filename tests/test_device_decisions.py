"""After a device_change an officer decides about the new phone: refused, it is signed out and
its logins are turned away (403 device_refused); approved, a refusal is lifted. Audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from corrections.alerts.models import Alert
from corrections.audit.models import AuditEntry
from corrections.extensions import db
from tests.api_support import assert_error, csrf_token_of
from tests.factories import bearer
from tests.test_mobile import login
from tests.test_pages import login as login_page


@pytest.fixture
def changed(app, client, world):
    """王小明 signed in on phone-1, then on phone-2 (a device_change); officer li of T01."""
    world.officer("li", office_code="T01")
    person = world.subject(name="王小明")
    assert login(client, person["phone"], device_id="phone-1").status_code == 200
    assert login(client, person["phone"], device_id="phone-2").status_code == 200
    return person


def decide(client, headers, subject_id, step, body):
    return client.post(f"/api/v1/subjects/{subject_id}/device/{step}", json=body, headers=headers)


def actions(app, subject_id):
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject_id == subject_id)
            .order_by(AuditEntry.id)
        ).all()


def test_a_refused_phone_is_signed_out_and_turned_away_until_approved(app, client, changed):
    officer = bearer(client, "li")
    token = login(client, changed["phone"], device_id="phone-2").get_json()["token"]
    phone = {"Authorization": f"Bearer {token}"}
    assert client.get("/mobile/v1/me", headers=phone).status_code == 200
    body = {"device_id": "phone-2", "reason": "本人称手机被他人拿走"}
    answer = decide(client, officer, changed["id"], "refuse", body)
    assert answer.status_code == 200 and answer.get_json()["tokens_revoked"] >= 1
    assert client.get("/mobile/v1/me", headers=phone).status_code == 401
    assert_error(login(client, changed["phone"], device_id="phone-2"), 403, "device_refused")
    # The person's own phone signs in again, and that is no new device_change.
    assert login(client, changed["phone"], device_id="phone-1").status_code == 200
    approved = decide(client, officer, changed["id"], "approve", {"device_id": "phone-2"})
    assert approved.get_json()["refusal_lifted"] is True
    assert login(client, changed["phone"], device_id="phone-2").status_code == 200
    done = actions(app, changed["id"])
    assert "subject.device_refused" in done and "subject.login_refused_device" in done
    assert done.index("subject.device_approved") > done.index("subject.login_refused_device")


def test_refusing_a_phone_not_signed_in_revokes_nothing(app, client, changed):
    officer = bearer(client, "li")
    body = {"device_id": "phone-9", "reason": "不是本人的手机"}
    answer = decide(client, officer, changed["id"], "refuse", body)
    assert answer.get_json()["tokens_revoked"] == 0
    assert login(client, changed["phone"], device_id="phone-2").status_code == 200
    assert_error(login(client, changed["phone"], device_id="phone-9"), 403, "device_refused")


def test_decisions_check_scope_and_input(app, client, world, changed):
    world.office(code="T02", name="北山司法所")
    world.officer("zhao", office_code="T02")
    other = bearer(client, "zhao")
    assert (
        decide(client, other, changed["id"], "approve", {"device_id": "phone-2"}).status_code == 404
    )
    officer = bearer(client, "li")
    assert_error(decide(client, officer, changed["id"], "refuse", {"device_id": "phone-2"}), 422)
    assert_error(decide(client, officer, changed["id"], "approve", {}), 422)
    assert login(client, changed["phone"], device_id="phone-2").status_code == 200


def test_the_alert_page_asks_about_the_new_phone_and_the_answer_is_kept(
    app, client, browser, changed
):
    with app.app_context():
        alert_id = db.session.scalars(
            select(Alert.id).where(Alert.subject_id == changed["id"], Alert.kind == "device_change")
        ).one()
    login_page(browser, "li")
    response = browser.get(f"/alerts/{alert_id}")
    page = response.text
    assert "Is the new phone the person" in page and 'value="phone-2"' in page
    form = {"csrf_token": csrf_token_of(response), "device_id": "phone-2", "alert_id": alert_id}
    again = browser.post(f"/subjects/{changed['id']}/device/refuse", data={**form, "reason": " "})
    assert again.status_code == 422 and "The reason is required" in again.text
    assert 'id="refuse-reason"' in again.text and "autofocus" in again.text
    done = browser.post(
        f"/subjects/{changed['id']}/device/refuse", data={**form, "reason": "邻居的手机"}
    )
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/alerts/{alert_id}#device-decision")
    assert_error(login(client, changed["phone"], device_id="phone-2"), 403, "device_refused")
    shown = browser.get(f"/alerts/{alert_id}").text
    assert "邻居的手机" in shown  # the refusal and its reason, for the next officer
