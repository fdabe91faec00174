"""The officer pages through the test client: login with CSRF, scope, the alert steps, enrolment."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.models import Alert, AlertEvent
from corrections.alerts.services import acknowledge, close
from corrections.audit.models import AuditEntry
from corrections.auth.models import Officer
from corrections.checkin.plans import plans_of
from corrections.checkin.services import LocationReport
from corrections.extensions import db
from corrections.maps import MapData
from corrections.subjects.models import Subject
from corrections.zones.services import zones_of
from tests.factories import PASSWORD, SEAT, raise_for, record_checkin

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, next_path: str | None = None):
    """Sign in through the login form, as a person would."""
    page = client.get("/login")
    url = "/login" if next_path is None else f"/login?next={quote(next_path)}"
    return client.post(
        url,
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
    )


def post_form(client, page_url: str, action: str, **fields):
    """Open `page_url`, then submit `action` with the page's CSRF token and `fields`."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(action, data={"csrf_token": csrf_token(page.text), **fields})


def open_alert(app, subject_id: int, kind: str = "geofence_exit", at: dt.datetime | None = None):
    """Open an alert through the alerts service; returns its id."""
    with app.app_context():
        evidence = {
            "nearest_zone": "县城",
            "distance_outside_m": 1200.0,
            "accuracy_m": 30.0,
            "recorded_at": "2026-11-28T01:58:00Z",
        }
        alert = raise_for(subject_id, kind, evidence, at or clock.now())
        db.session.commit()
        return alert.id


def alert_row(app, alert_id: int) -> Alert:
    """The alert as stored, with its history (oldest first) as `.history`."""
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        alert.owner  # noqa: B018 - load before the session closes
        history = list(
            db.session.scalars(
                select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
            )
        )
        db.session.expunge_all()
        alert.history = history
        return alert


def officer_named(username: str) -> Officer:
    """The account, inside the caller's app context."""
    return db.session.scalar(select(Officer).where(Officer.username == username))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def officer_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Officer.id).where(Officer.username == username))


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def county(world):
    """Two offices, an officer in each, a subject in each."""
    world.office(code="T02", name="金谷乡司法所", lat=24.9, lon=107.7)
    world.officer("li", office_code="T01")
    world.officer("wang", office_code="T01")
    world.officer("zhao", office_code="T02")
    mine = world.subject(name="王小明")
    theirs = world.subject(name="欧阳建华", office_code="T02")
    return {"mine": mine["id"], "theirs": theirs["id"], "world": world}


# --- login, headers, roles ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/alerts?status=open", "/alerts/1", "/subjects", "/subjects/1", "/subjects/new"]
)
def test_pages_without_login_redirect_to_login_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={quote(path, safe='')}"


def test_login_form_returns_to_the_page_asked_for(browser, county):
    response = login(browser, "li", next_path="/subjects?status=active")
    assert response.status_code == 302
    assert response.headers["Location"] == "/subjects?status=active"
    assert "王小明" in browser.get(response.headers["Location"]).text


def test_login_ignores_a_next_pointing_to_another_site(browser, county):
    response = login(browser, "li", next_path="//evil.example/steal")
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_wrong_password_says_so_and_keeps_the_person_out(browser, county):
    response = login(browser, "li", password="wrong")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert browser.get("/alerts").status_code == 302


def test_login_without_csrf_token_is_refused(browser, county):
    response = browser.post("/login", data={"username": "li", "password": PASSWORD})
    assert response.status_code == 400
    assert browser.get("/alerts").status_code == 302


def test_logout_ends_the_session(browser, county):
    login(browser, "li")
    response = post_form(browser, "/alerts", "/logout")
    assert response.status_code == 302
    assert browser.get("/alerts").status_code == 302


def test_pages_are_chinese_by_default_and_switch_to_english(client, county):
    assert '<html lang="zh-CN">' in client.get("/login").text
    response = client.get("/lang/en?next=/login")
    assert response.headers["Location"] == "/login"
    assert '<html lang="en">' in client.get("/login").text


def test_every_page_carries_csp_and_nosniff_and_no_inline_script_or_style(browser, county, app):
    alert_id = open_alert(app, county["mine"])
    login(browser, "li")
    pages = [
        "/alerts",
        f"/alerts/{alert_id}",
        "/subjects",
        f"/subjects/{county['mine']}",
        "/subjects/new",
    ]
    for path in pages + ["/login"]:
        response = browser.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert re.search(r"frame-ancestors '(none|self)'", csp), path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        html = response.text
        # Under this CSP an inline script or style would silently not work in the browser.
        # A JSON data block (the maps' data) is never run, so it is no inline script.
        assert not re.search(r'<script(?![^>]*\b(src=|type="application/json"))', html), path
        assert "<style" not in html and not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


@pytest.mark.parametrize(
    "path", ["/alerts", "/alerts/{alert}", "/subjects", "/subjects/{subject}", "/subjects/new"]
)
def test_viewer_gets_403_on_casework_pages(browser, county, app, path):
    alert_id = open_alert(app, county["mine"])
    county["world"].officer("wall", role="viewer")
    login(browser, "wall")
    response = browser.get(path.format(alert=alert_id, subject=county["mine"]))
    assert response.status_code == 403
    assert "王小明" not in response.text


def test_viewer_cannot_acknowledge_by_posting(browser, county, app):
    alert_id = open_alert(app, county["mine"])
    county["world"].officer("wall", role="viewer")
    login(browser, "wall")
    token = csrf_token(browser.get("/").text)  # the sign-out form on the welcome page
    response = browser.post(f"/alerts/{alert_id}/ack", data={"csrf_token": token})
    assert response.status_code == 403
    assert alert_row(app, alert_id).status == "open"


# --- the alert queue ------------------------------------------------------------------------


def test_officer_sees_only_their_own_office_in_the_queue(browser, county, app):
    open_alert(app, county["mine"])
    theirs = open_alert(app, county["theirs"])
    login(browser, "li")
    page = browser.get("/alerts").text
    assert "王小明" in page
    assert "欧阳建华" not in page
    assert "金谷乡司法所" not in page  # not even offered as a filter
    assert browser.get(f"/alerts/{theirs}").status_code == 404
    assert browser.get("/alerts?office=T02").status_code == 404
    assert browser.get("/alerts/999999").status_code == 404


def test_admin_sees_every_office_and_can_filter_by_one(browser, county, app):
    open_alert(app, county["mine"])
    open_alert(app, county["theirs"])
    login(browser, "admin")
    page = browser.get("/alerts").text
    assert "王小明" in page and "欧阳建华" in page
    only_t02 = browser.get("/alerts?office=T02").text
    assert "欧阳建华" in only_t02 and "王小明" not in only_t02


def test_queue_is_sorted_by_severity_then_age_and_hides_closed_alerts(browser, county, app, at):
    world = county["world"]
    strict = world.subject(name="严管甲", level="strict")["id"]
    older = world.subject(name="较早乙")["id"]
    newer = world.subject(name="较晚丙")["id"]
    closed = world.subject(name="已结丁")["id"]
    at("2026-11-28T00:00:00Z")
    open_alert(app, older, kind="device_change")  # low
    open_alert(app, closed)
    at("2026-11-28T01:00:00Z")
    open_alert(app, newer, kind="device_change")  # low, an hour younger
    open_alert(app, strict)  # geofence_exit under strict supervision: critical, and youngest
    at("2026-11-28T01:30:00Z")
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.subject_id == closed))
        li = officer_named("li")
        close(alert, li, Actor.officer(li.id, None), clock.now(), "resolved", "done")
        db.session.commit()
    login(browser, "li")
    page = browser.get("/alerts").text
    names = [
        n
        for n in re.findall(r'class="person"[^>]*>([^<>]+)<', page)
        if n in ("严管甲", "较早乙", "较晚丙", "已结丁")
    ]
    assert names == ["严管甲", "较早乙", "较晚丙"]
    assert "Critical" in page and "Low" in page
    resolved = browser.get("/alerts?status=resolved").text
    assert "已结丁" in resolved and "严管甲" not in resolved


def test_queue_row_shows_kind_local_time_age_occurrences_and_owner(browser, county, app, at):
    at("2026-11-28T01:00:00Z")
    alert_id = open_alert(app, county["mine"])
    open_alert(app, county["mine"])  # the same condition again: one alert, two occurrences
    with app.app_context():
        wang = officer_named("wang")
        acknowledge(
            db.session.get(Alert, alert_id), wang, Actor.officer(wang.id, None), clock.now()
        )
        db.session.commit()
    at("2026-11-28T03:30:00Z")
    login(browser, "li")
    page = browser.get("/alerts").text
    row = page[page.index("王小明") - 1500 : page.index("王小明") + 1500]
    assert "Left the allowed zone" in row
    assert "1.2\u00a0km outside the allowed zone 县城" in row
    assert "2026-11-28 09:00" in row  # 01:00 UTC is 09:00 in Asia/Shanghai
    assert "2 hours 30 minutes ago" in row
    assert re.search(r'class="num"><span class="table-only">2<', row)
    assert "wang" in row


def test_queue_filters_by_kind_and_severity(browser, county, app):
    world = county["world"]
    other = world.subject(name="李四")["id"]
    open_alert(app, county["mine"], kind="geofence_exit")
    open_alert(app, other, kind="device_change")
    login(browser, "li")
    by_kind = browser.get("/alerts?kind=device_change").text
    assert "李四" in by_kind and "王小明" not in by_kind
    by_severity = browser.get("/alerts?severity=high").text
    assert "王小明" in by_severity and "李四" not in by_severity


# --- working an alert -----------------------------------------------------------------------


def test_acknowledge_then_resolve_with_a_note_through_the_forms(browser, county, app):
    alert_id = open_alert(app, county["mine"])
    login(browser, "li")
    page = f"/alerts/{alert_id}"
    detail = browser.get(page).text
    assert "县城" in detail and "1.2\u00a0km" in detail  # the evidence is shown

    response = post_form(browser, page, f"/alerts/{alert_id}/ack")
    assert response.status_code == 302
    shown = browser.get(response.headers["Location"]).text
    assert "You are now handling this alert" in shown
    assert alert_row(app, alert_id).owner.username == "li"

    response = post_form(browser, page, f"/alerts/{alert_id}/resolve", note="打电话核实,已返回")
    assert response.status_code == 302
    assert "Alert resolved" in browser.get(response.headers["Location"]).text
    alert = alert_row(app, alert_id)
    assert alert.status == "resolved"
    assert [e.action for e in alert.history] == ["opened", "acknowledged", "resolved"]
    assert alert.history[-1].note == "打电话核实,已返回"
    history = browser.get(page).text
    assert "打电话核实,已返回" in history and "This alert is closed" in history
    assert audit_actions(app).count("alert.read") >= 3
    assert "alert.ack" in audit_actions(app) and "alert.resolve" in audit_actions(app)


def test_resolve_without_a_note_is_refused_next_to_the_box(browser, county, app):
    alert_id = open_alert(app, county["mine"])
    login(browser, "li")
    response = post_form(browser, f"/alerts/{alert_id}", f"/alerts/{alert_id}/resolve", note="   ")
    # The page again at the failed form; it takes the alert's own address (drafts.js), so F5
    # reloads it rather than resending.
    assert response.status_code == 422
    page = response.text
    assert f'data-canonical-url="/alerts/{alert_id}#resolve-form"' in page
    assert 'id="note-error"' in page
    assert "The note is required" in page
    assert re.search(
        r'<textarea[^>]*autofocus[^>]*name="note"|<textarea[^>]*name="note"[^>]*autofocus', page
    )
    assert 'role="alert">Nothing was saved.' in page  # the banner at the top
    assert alert_row(app, alert_id).status == "open"
    assert "alert.resolve" not in audit_actions(app)


def test_a_refused_note_comes_back_in_its_box_and_the_language_switch_stays_on_get(
    browser, county, app
):
    alert_id = open_alert(app, county["mine"])
    login(browser, "li")
    page = post_form(
        browser, f"/alerts/{alert_id}", f"/alerts/{alert_id}/resolve", note="已电话\x00核实"
    ).text
    assert "已电话\x00核实" not in page and "已电话" in page  # what was typed, as typed
    switched = browser.get(f"/lang/en?next=/alerts/{alert_id}/resolve")
    assert switched.headers["Location"].endswith(f"/alerts/{alert_id}")  # not the POST address
    assert browser.get(switched.headers["Location"]).status_code == 200


def test_a_note_the_api_would_refuse_is_refused_next_to_the_box_with_the_reason(
    browser, county, app
):
    alert_id = open_alert(app, county["mine"])
    login(browser, "li")
    page = f"/alerts/{alert_id}"
    response = post_form(browser, page, f"/alerts/{alert_id}/resolve", note="已处理\x00")
    assert response.status_code == 422
    shown_page = response.text
    shown = re.search(r'id="note-error"[^>]*>(.*?)<', shown_page, re.S).group(1).strip()
    assert shown == "What did you do: must not contain control characters", shown
    refused = post_form(browser, page, f"/alerts/{alert_id}/dismiss", reason="x" * 5000)
    assert refused.status_code == 422
    refused_page = refused.text
    reason = re.search(r'id="reason-error"[^>]*>(.*?)<', refused_page, re.S).group(1).strip()
    assert re.fullmatch(r"[A-Z][^?:]+: \S.*", reason), reason
    assert alert_row(app, alert_id).status == "open"
    assert "alert.resolve" not in audit_actions(app) and "alert.dismiss" not in audit_actions(app)


def test_dismiss_needs_a_reason_and_then_closes_as_false_alarm(browser, county, app):
    alert_id = open_alert(app, county["mine"])
    login(browser, "li")
    page = f"/alerts/{alert_id}"
    refused = post_form(browser, page, f"/alerts/{alert_id}/dismiss", reason="")
    assert refused.status_code == 422
    assert "The reason is required" in refused.text
    assert alert_row(app, alert_id).status == "open"

    done = post_form(browser, page, f"/alerts/{alert_id}/dismiss", reason="定位漂移,人在家中")
    assert done.status_code == 302
    alert = alert_row(app, alert_id)
    assert alert.status == "dismissed"
    assert alert.history[-1].note == "定位漂移,人在家中"
    assert "alert.dismiss" in audit_actions(app)


def test_release_gives_the_alert_back_to_the_queue(browser, county, app):
    alert_id = open_alert(app, county["mine"])
    login(browser, "li")
    post_form(browser, f"/alerts/{alert_id}", f"/alerts/{alert_id}/ack")
    response = post_form(browser, f"/alerts/{alert_id}", f"/alerts/{alert_id}/release")
    assert "back in the open queue" in browser.get(response.headers["Location"]).text
    alert = alert_row(app, alert_id)
    assert alert.status == "open" and alert.owner is None


def test_another_officers_alert_gives_a_friendly_conflict_message(browser, county, app):
    alert_id = open_alert(app, county["mine"])
    login(browser, "li")
    page = f"/alerts/{alert_id}"
    token = csrf_token(browser.get(page).text)
    # wang takes it after li opened the page
    with app.app_context():
        wang = officer_named("wang")
        acknowledge(
            db.session.get(Alert, alert_id), wang, Actor.officer(wang.id, None), clock.now()
        )
        db.session.commit()

    for action, fields in (
        ("ack", {}),
        ("resolve", {"note": "已处理"}),
        ("dismiss", {"reason": "误报"}),
    ):
        response = browser.post(
            f"/alerts/{alert_id}/{action}",
            data={"csrf_token": token, **fields},
            follow_redirects=True,
        )
        assert response.status_code == 200, action
        assert "Another officer (wang) has taken this alert" in response.text, action
        assert "Nothing was changed" in response.text
    alert = alert_row(app, alert_id)
    assert alert.status == "acknowledged" and alert.owner.username == "wang"
    assert [e.action for e in alert.history] == ["opened", "acknowledged"]


def test_a_step_without_csrf_token_changes_nothing(browser, county, app):
    alert_id = open_alert(app, county["mine"])
    login(browser, "li")
    response = browser.post(f"/alerts/{alert_id}/ack")
    assert response.status_code == 400
    assert alert_row(app, alert_id).status == "open"


def test_officer_cannot_work_another_offices_alert(browser, county, app):
    theirs = open_alert(app, county["theirs"])
    login(browser, "li")
    token = csrf_token(browser.get("/alerts").text)
    response = browser.post(f"/alerts/{theirs}/ack", data={"csrf_token": token})
    assert response.status_code == 404
    assert alert_row(app, theirs).status == "open"


# --- subjects -------------------------------------------------------------------------------


def test_subject_list_is_scoped_searchable_and_paged(browser, county, app):
    world = county["world"]
    for n in range(25):
        world.subject(name=f"测试{n:02d}")
    login(browser, "li")
    first = browser.get("/subjects").text
    assert "欧阳建华" not in first
    assert "26 people" in first and "Page 1 of 2" in first
    assert "王小明" in browser.get("/subjects?q=王").text
    assert "测试05" not in browser.get("/subjects?q=王").text
    assert browser.get("/subjects?office=T02").status_code == 404
    assert "Nobody matches" in browser.get("/subjects?status=ended").text


def test_subject_page_shows_person_masked_id_plan_map_and_newest_checkin_first(
    browser, county, app, at
):
    subject_id = county["mine"]
    for client_id, lat, minute in (("a", SEAT[0], 10), ("b", 25.0, 40)):
        when = dt.datetime(2026, 11, 28, 1, minute, tzinfo=dt.UTC)
        record_checkin(app, subject_id, LocationReport(client_id, lat, SEAT[1], 20.0, when))
    login(browser, "li")
    page = browser.get(f"/subjects/{subject_id}").text
    assert "王小明" in page
    with app.app_context():
        raw_id = db.session.get(Subject, subject_id).id_number
    assert "4500**********1234" in page and raw_id not in page
    assert "Probation (缓刑)" in page and "Normal supervision (普管)" in page
    assert "08:00 – 20:00" in page
    drawn = map_data(page, "subject-map")
    assert [z["kind"] for z in drawn["zones"]] == ["allowed"]
    assert [p["status"] for p in drawn["points"]] == ["accepted", "flagged"]  # newest on top
    assert drawn["points"][1]["lines"][:3] == [
        "Check-in",
        "2026-11-28 09:40",
        "Flagged: Left the allowed zone",
    ]
    assert [p["source"] for p in drawn["points"]] == ["checkin", "checkin"]
    assert drawn["home"]["lat"] == pytest.approx(SEAT[0])
    # Where, as a person says it: no bare coordinates in the zone list or the timeline.
    assert "Circle round the home, radius 5.0\u00a0km" in page
    assert (
        "33.2\u00a0km from home (accurate to 20\u00a0m)" in page and ">0\u00a0m from home" in page
    )
    assert "24.70000" not in page and "107.50000" not in page
    timeline = page[page.index("Check-ins, newest first") :]
    assert timeline.index("2026-11-28 09:40") < timeline.index("2026-11-28 09:10")
    assert "Left the allowed zone" in page  # its open alert
    # The timeline's newest check-ins and the map's week are two reads, each audited; the
    # monitoring orders it shows (none here) are a read of their own.
    assert audit_actions(app)[-5:] == [
        "subject.read",
        "subject.checkins.read",
        "subject.checkins.read",
        "subject.signals.read",
        "monitoring_order.list",
    ]


def map_data(page: str, map_id: str) -> dict:
    """The data a page hands to its map (static/map.js draws it)."""
    found = re.search(rf'<script type="application/json" id="{map_id}-data">(.*?)</script>', page)
    assert found, f"no map {map_id} on the page"
    return json.loads(found.group(1))


def test_officer_gets_404_for_another_offices_subject(browser, county):
    login(browser, "li")
    assert browser.get(f"/subjects/{county['theirs']}").status_code == 404
    assert browser.get("/subjects/999999").status_code == 404


# --- enrolment ------------------------------------------------------------------------------


def enrol_fields(**overrides) -> dict:
    fields = {
        "name": "陈大文",
        "phone": "１３９ ００００ ０１２３",  # full-width digits, as some input methods type them
        "pin": "2468",
        "office_code": "T01",
        "category": "parole",
        "level": "strict",
        "supervision_start": "2026/11/20",
        "supervision_end": "2027-11-19",
        "id_number": "45000019900101123x",
        "home_lat": "24.70",
        "home_lon": "107.50",
        "every_days": "2",
        "window_start": "8:00",
        "window_end": "20:00",
        "video_every_days": "",
        "zones-0-kind": "allowed",
        "zones-0-name": "县城",
        "zones-0-lat": "",
        "zones-0-lon": "",
        "zones-0-radius_m": "5000",
        "zones-1-kind": "exclusion",
        "zones-1-name": "",
        "zones-1-lat": "",
        "zones-1-lon": "",
        "zones-1-radius_m": "",
        "polygon_kind": "exclusion",
        "polygon_name": "网吧一条街",
        "polygon": "24.705, 107.505\n24.705，107.512\n24.71 107.512\n\n24.71,107.505\n",
    }
    fields.update(overrides)
    return fields


def test_enrol_form_creates_the_subject_with_plan_and_zones(browser, county, app):
    login(browser, "li")
    response = post_form(browser, "/subjects/new", "/subjects/new", **enrol_fields())
    assert response.status_code == 302, response.text
    page = browser.get(response.headers["Location"]).text
    assert "陈大文 is enrolled" in page
    with app.app_context():
        subject = db.session.scalar(select(Subject).where(Subject.name == "陈大文"))
        assert subject.phone == "+8613900000123"
        assert subject.category == "parole" and subject.level == "strict"
        assert subject.supervision_start == dt.date(2026, 11, 20)
        assert subject.id_number == "45000019900101123X"
        [plan] = plans_of([subject.id])[subject.id]
        assert (plan.every_days, plan.window_start) == (2, "08:00")
        circle, polygon = zones_of([subject.id])[subject.id]
        assert (circle.name, circle.lat, circle.lon, circle.radius_m) == (
            "县城",
            24.70,
            107.50,
            5000,
        )
        assert polygon.kind == "exclusion" and len(polygon.polygon) == 4
        assert response.headers["Location"] == f"/subjects/{subject.id}"
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "subject.create", AuditEntry.subject_id == subject.id
            )
        )
        audited = (entry.actor_kind, entry.actor_id)
    assert audited == ("officer", officer_id(app, "li"))


def test_enrol_form_with_mistakes_stores_nothing_and_names_each_field(browser, county, app):
    subjects_before = count(app, Subject)
    enrolments_before = audit_actions(app).count("subject.create")
    login(browser, "li")
    response = post_form(
        browser,
        "/subjects/new",
        "/subjects/new",
        **enrol_fields(
            name="",
            home_lat="北纬24度",
            supervision_end="2026-11-01",
            **{"zones-0-radius_m": "-5", "polygon": "24.705, 107.505\nnot a corner"},
        ),
    )
    assert response.status_code == 422
    html = response.text
    assert "Nothing was saved" in html
    for field_id in ("name", "home_lat", "supervision_end", "zones-0-radius_m", "polygon"):
        assert f'id="{field_id}-error"' in html, field_id
    assert re.search(r'id="home_lat-error">must be a number<', html)
    assert "Line 2" in html
    assert 'value="北纬24度"' in html and 'value="107.50"' in html  # what was typed stays
    assert not re.search(r'id="zones-0-l(at|on)-error"', html)  # the home's problem, named once
    assert count(app, Subject) == subjects_before
    assert audit_actions(app).count("subject.create") == enrolments_before


def test_officer_cannot_enrol_into_another_office(browser, county, app):
    subjects_before = count(app, Subject)
    login(browser, "li")
    form = browser.get("/subjects/new").text
    assert "金谷乡司法所" not in form  # only their own office is offered
    response = post_form(
        browser, "/subjects/new", "/subjects/new", **enrol_fields(office_code="T02")
    )
    assert response.status_code == 422
    assert "only enrol subjects in your own office" in response.text
    assert count(app, Subject) == subjects_before


def test_enrol_form_refuses_a_phone_already_registered(browser, county, app):
    login(browser, "li")
    first = post_form(browser, "/subjects/new", "/subjects/new", **enrol_fields())
    assert first.status_code == 302
    again = post_form(browser, "/subjects/new", "/subjects/new", **enrol_fields(name="另一个人"))
    assert again.status_code == 422
    assert 'id="phone-error"' in again.text
    assert count(app, Subject) == 3  # the two from the county fixture and the first enrolment


# --- the map --------------------------------------------------------------------------------


def test_nothing_to_draw_gives_no_map():
    assert MapData().is_empty()
