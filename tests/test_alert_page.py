"""The alert's page as a decision tool: who the person is and how to reach them, where they last
checked in, their other alerts, wording for who reads it, reassignment, and forms that forgive."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.models import Alert
from corrections.alerts.services import acknowledge
from corrections.audit.models import AuditEntry
from corrections.auth.models import Officer
from corrections.checkin.services import LocationReport
from corrections.extensions import db
from corrections.phones import phone_text, tel_href
from tests.factories import SEAT, record_checkin
from tests.test_pages import csrf_token, login, open_alert, post_form


@pytest.fixture
def office(world):
    """Office T01 with officers 李建国 (li) and 王芳 (wang), a supervisor 赵局 (boss), a subject."""
    world.office(code="T02", name="金谷乡司法所", lat=24.9, lon=107.7)
    for username, role, office_code in (
        ("li", "officer", "T01"),
        ("wang", "officer", "T01"),
        ("zhao", "officer", "T02"),
        ("boss", "supervisor", None),
    ):
        world.officer(username, role=role, office_code=office_code)
    names = {"li": "李建国", "wang": "王芳", "boss": "赵局"}
    with world.app.app_context():
        for username, name in names.items():
            db.session.execute(
                update(Officer).where(Officer.username == username).values(display_name=name)
            )
        db.session.commit()
    subject = world.subject(name="王小明", phone="13000000002", category="parole", level="strict")
    return {"subject": subject["id"], "world": world}


def take(app, alert_id: int, username: str) -> None:
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.username == username))
        acknowledge(
            db.session.get(Alert, alert_id), officer, Actor.officer(officer.id, None), clock.now()
        )
        db.session.commit()


def page_as(app, username: str, alert_id: int) -> str:
    """The alert's page (English) as `username` sees it."""
    client = app.test_client()
    client.set_cookie("lang", "en")
    login(client, username)
    return client.get(f"/alerts/{alert_id}").text


# --- who, how to reach them, where they were -------------------------------------------------


def test_phone_numbers_are_grouped_for_reading_and_dial_by_tel():
    assert phone_text("+8613000000002") == "130 0000 0002"
    assert phone_text("+867715551234") == "0771 555 1234"
    assert phone_text("+12025550123") == "+1 202-555-0123"
    assert phone_text(None) == ""
    assert tel_href("+8613000000002") == "tel:+8613000000002"


def test_the_page_says_who_the_person_is_and_how_to_call_them(browser, office, app):
    alert_id = open_alert(app, office["subject"])
    login(browser, "li")
    page = browser.get(f"/alerts/{alert_id}").text
    panel = page[page.index('class="card person-panel"') :]
    assert "Parole" in panel or "假释" in panel
    assert "Strict" in panel or "严管" in panel
    assert '<a class="tel" href="tel:+8613000000002">130 0000 0002</a>' in panel
    # The read of the person's record (phone, position) is audited as such.
    with app.app_context():
        reads = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "subject.read")
        ).all()
    assert any((e.detail or {}).get("alert_id") == alert_id for e in reads)


def test_internal_record_numbers_are_not_shown_as_facts(browser, office, app):
    with app.app_context():
        from tests.factories import raise_for

        evidence = {"zone": "网吧", "zone_id": 4711, "checkin_id": 8123, "lat": 24.7, "lon": 107.5}
        alert_id = raise_for(office["subject"], "exclusion_zone", evidence, clock.now()).id
        db.session.commit()
    login(browser, "li")
    page = browser.get(f"/alerts/{alert_id}").text
    measured = page[page.index('id="evidence"') : page.index('id="history"')]
    assert "网吧" in measured
    assert "4711" not in measured and "8123" not in measured
    assert "Zone number" not in measured and "Check-in number" not in measured


def test_a_missed_checkin_says_when_and_where_the_person_last_checked_in(browser, office, app, at):
    at("2026-11-28T01:00:00Z")
    report = LocationReport(
        client_id="last-1",
        lat=SEAT[0] + 0.0108,  # about 1.2 km north of the home (the office seat)
        lon=SEAT[1],
        accuracy_m=25.0,
        recorded_at=clock.now() - dt.timedelta(minutes=3),
    )
    record_checkin(app, office["subject"], report)
    at("2026-11-29T03:00:00Z")
    alert_id = open_alert(app, office["subject"], kind="missed_checkin")
    login(browser, "li")
    page = browser.get(f"/alerts/{alert_id}").text
    last = page[page.index('id="last-checkin-title"') :]
    assert "2026-11-28 08:57" in last  # local time (Asia/Shanghai)
    assert re.search(r"1\.\d\u00a0km from home", last), last[:600]
    assert "accurate to 25\u00a0m" in last


def test_the_persons_other_alerts_are_listed_open_first(browser, office, app):
    current = open_alert(app, office["subject"], kind="geofence_exit")
    other = open_alert(app, office["subject"], kind="mock_location")
    login(browser, "li")
    page = browser.get(f"/alerts/{current}").text
    related = page[page.index('id="related-title"') :]
    assert f'href="/alerts/{other}"' in related
    assert f'href="/alerts/{current}"' not in related


# --- wording for who reads it, and display names ----------------------------------------------


def test_the_page_speaks_to_the_holder_a_colleague_and_a_supervisor(browser, office, app):
    alert_id = open_alert(app, office["subject"])
    take(app, alert_id, "li")
    login(browser, "li")
    assert "You are handling this alert" in browser.get(f"/alerts/{alert_id}").text
    seen = page_as(app, "wang", alert_id)
    assert "李建国 is handling this alert. Talk to them" in seen
    assert "There is nothing for you to do" in seen
    assert "You can give it to another officer" in page_as(app, "boss", alert_id)


def test_people_appear_by_display_name_not_login_name(browser, office, app):
    alert_id = open_alert(app, office["subject"])
    take(app, alert_id, "li")
    login(browser, "wang")
    page = browser.get(f"/alerts/{alert_id}").text
    history = page[page.index('id="history"') :]
    assert "李建国" in history and ">li<" not in history
    queue = browser.get("/alerts").text
    assert "李建国" in queue


# --- reassignment ------------------------------------------------------------------------------


def test_a_supervisor_gives_an_alert_to_another_officer_of_its_office(browser, office, app):
    alert_id = open_alert(app, office["subject"])
    take(app, alert_id, "li")
    login(browser, "boss")
    page = browser.get(f"/alerts/{alert_id}").text
    form = page[page.index('id="reassign-form"') :]
    form = form[: form.index("</form>")]
    assert '<option value="wang">王芳</option>' in form
    assert 'value="li"' not in form  # the holder is not offered
    assert 'value="zhao"' not in form  # another office's officer is not offered
    response = post_form(
        browser,
        f"/alerts/{alert_id}",
        f"/alerts/{alert_id}/reassign",
        officer="wang",
        note="王芳熟悉家属，今天上门",
    )
    assert response.status_code == 302
    shown = browser.get(response.headers["Location"]).text
    assert "王芳 now handles this alert." in shown
    assert "From 李建国 to 王芳.王芳熟悉家属，今天上门" in shown
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert (alert.status, alert.owner.username) == ("acknowledged", "wang")


def test_an_officer_sees_no_reassign_form_and_cannot_post_one(browser, office, app):
    alert_id = open_alert(app, office["subject"])
    login(browser, "li")
    page = browser.get(f"/alerts/{alert_id}").text
    assert "reassign-form" not in page
    refused = browser.post(
        f"/alerts/{alert_id}/reassign", data={"csrf_token": csrf_token(page), "officer": "wang"}
    )
    assert refused.status_code == 403


def test_reassigning_without_choosing_returns_to_the_form_with_the_problem(browser, office, app):
    alert_id = open_alert(app, office["subject"])
    login(browser, "boss")
    response = post_form(
        browser, f"/alerts/{alert_id}", f"/alerts/{alert_id}/reassign", officer="", note="请处理"
    )
    assert response.status_code == 422
    page = response.text
    assert f'data-canonical-url="/alerts/{alert_id}#reassign-form"' in page
    assert "Choose the officer who should handle it." in page
    assert "请处理" in page  # the note typed comes back
    with app.app_context():
        assert db.session.get(Alert, alert_id).owner_id is None


# --- forms that forgive ------------------------------------------------------------------------


def test_a_note_sent_after_the_session_ended_returns_to_the_alert_after_signing_in(app, office):
    alert_id = open_alert(app, office["subject"])
    client = app.test_client()
    client.set_cookie("lang", "en")
    login(client, "li")
    page = client.get(f"/alerts/{alert_id}").text
    token = csrf_token(page)
    client.delete_cookie("session")  # the session is gone (expired, or signed out elsewhere)
    sent = client.post(f"/alerts/{alert_id}/resolve", data={"csrf_token": token, "note": "x"})
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/login?next=/alerts/{alert_id}/resolve"
    assert "what you typed is kept" in client.get(sent.headers["Location"]).text
    signed_in = login(client, "li", next_path=f"/alerts/{alert_id}/resolve")
    assert signed_in.headers["Location"] == f"/alerts/{alert_id}"  # not a POST-only address
    assert client.get(signed_in.headers["Location"]).status_code == 200


def test_the_page_keeps_drafts_of_its_notes_for_the_browser(browser, office, app):
    alert_id = open_alert(app, office["subject"])
    login(browser, "li")
    page = browser.get(f"/alerts/{alert_id}").text
    assert f'data-draft="alert-{alert_id}-resolve"' in page
    assert '<script src="/static/drafts.js' in page
