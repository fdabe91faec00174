"""The queue on duty: one group per person (most severe and newest first), the refresh endpoint
the page polls (same scope, filters and audit as the page, with how fresh it is), and both at a
constant number of statements."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from corrections import clock
from corrections.actors import Actor
from corrections.alerts import queries, views
from corrections.alerts.models import Alert
from corrections.alerts.services import close
from corrections.audit.models import AuditEntry, AuditSubject
from corrections.extensions import db
from corrections.sweep import run_sweep
from tests.factories import phone_login
from tests.test_alert_path import counted_statements
from tests.test_pages import login, officer_named, open_alert


@pytest.fixture
def duty(world, at):
    """Office T01 with officer li: 王小明 has three alerts, 李四 one, 严管甲 (strict) one; office
    T02 (officer zhao) has 欧阳建华 with one."""
    world.office(code="T02", name="金谷乡司法所", lat=24.9, lon=107.7)
    world.officer("li", office_code="T01")
    world.officer("zhao", office_code="T02")
    wang = world.subject(name="王小明")["id"]
    li_si = world.subject(name="李四")["id"]
    strict = world.subject(name="严管甲", level="strict")["id"]
    theirs = world.subject(name="欧阳建华", office_code="T02")
    app = world.app
    ids = {}
    at("2026-11-28T00:00:00Z")
    ids["wang_low"] = open_alert(app, wang, kind="device_change")  # low
    at("2026-11-28T00:30:00Z")
    ids["wang_high_old"] = open_alert(app, wang, kind="geofence_exit")  # high
    at("2026-11-28T01:00:00Z")
    ids["wang_high_new"] = open_alert(app, wang, kind="mock_location")  # high
    at("2026-11-28T01:30:00Z")
    ids["li_si"] = open_alert(app, li_si, kind="missed_checkin")  # medium
    at("2026-11-28T01:45:00Z")
    ids["strict"] = open_alert(app, strict, kind="geofence_exit")  # critical when strict
    ids["theirs"] = open_alert(app, theirs["id"])
    at("2026-11-28T02:00:00Z")
    return {
        "ids": ids,
        "subjects": {"wang": wang, "li_si": li_si, "strict": strict},
        "their_phone": theirs["phone"],
    }


def people(html: str) -> list[str]:
    return re.findall(r'class="person"[^>]*>([^<>]+)<', html)


def alert_order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-alert="(\d+)"', html)]


def closed_by_li(app, alert_id: int, to: str) -> None:
    with app.app_context():
        li = officer_named("li")
        alert = db.session.get(Alert, alert_id)
        close(alert, li, Actor.officer(li.id, None), clock.now(), to, "已核实")
        db.session.commit()


def refresh(client, query: str = "", status: int = 200, headers=None):
    response = client.get(f"/alerts/refresh{query}", headers=headers or {})
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_json()


# --- grouping ------------------------------------------------------------------------------


def test_a_persons_alerts_are_one_group_with_the_name_once_most_severe_then_newest(browser, duty):
    login(browser, "li")
    html = browser.get("/alerts").text
    ids = duty["ids"]
    assert people(html) == ["严管甲", "王小明", "李四"]  # worst severity first, then oldest
    assert html.count(">王小明<") == 1
    assert alert_order(html) == [
        ids["strict"],
        ids["wang_high_new"],
        ids["wang_high_old"],
        ids["wang_low"],
        ids["li_si"],
    ]
    assert "5 alerts · concerning 3 people" in html
    group = html[html.index(f'data-group="subject-{duty["subjects"]["wang"]}"') :]
    assert "3 alerts" in group[: group.index("</tr>")]


def test_a_page_holds_whole_groups_and_a_long_group_says_what_it_leaves_out(
    browser, duty, monkeypatch
):
    monkeypatch.setattr(views, "PER_PAGE", 2)
    monkeypatch.setattr(queries, "GROUP_LIMIT", 2)
    login(browser, "li")
    first = browser.get("/alerts").text
    assert people(first) == ["严管甲", "王小明"]
    ids = duty["ids"]
    assert alert_order(first) == [ids["strict"], ids["wang_high_new"], ids["wang_high_old"]]
    assert "1 more, older or less serious alert of this person is not listed here." in first
    assert "Page 1 of 2" in first
    second = browser.get("/alerts?page=2").text
    assert people(second) == ["李四"]
    assert alert_order(second) == [ids["li_si"]]


def test_closed_alerts_are_grouped_too_and_the_status_filter_applies_inside_a_group(
    browser, duty, app
):
    closed_by_li(app, duty["ids"]["wang_low"], "resolved")
    login(browser, "li")
    unresolved = browser.get("/alerts").text
    assert duty["ids"]["wang_low"] not in alert_order(unresolved)
    resolved = browser.get("/alerts?status=resolved").text
    assert people(resolved) == ["王小明"]
    assert alert_order(resolved) == [duty["ids"]["wang_low"]]


# --- the refresh endpoint ------------------------------------------------------------------


def test_refresh_sends_the_list_the_page_shows_with_the_count_and_the_time(browser, duty, at):
    at("2026-11-28T02:05:00Z")  # 10:05 in Asia/Shanghai
    login(browser, "li")
    data = refresh(browser)
    assert people(data["html"]) == ["严管甲", "王小明", "李四"]
    assert "欧阳建华" not in data["html"]
    assert "测试乡司法所" not in data["html"]  # one office: not repeated beside each name
    assert data["updated_text"] == "Updated at 10:05"
    assert data["generated_at"] == "2026-11-28T02:05:00Z"
    assert (data["open_alerts"], data["total"], data["people"]) == (5, 5, 3)
    assert (data["refresh_seconds"], data["stale_after_seconds"]) == (30, 120)
    page = browser.get("/alerts").text
    assert "<title>(5) Alert queue" in page
    assert "Updated at 10:05" in page
    assert 'data-refresh-url="/alerts/refresh"' in page


def test_refresh_keeps_the_filters_but_the_title_counts_the_whole_queue(browser, duty, app):
    closed_by_li(app, duty["ids"]["li_si"], "dismissed")
    login(browser, "li")
    data = refresh(browser, "?kind=device_change")
    assert alert_order(data["html"]) == [duty["ids"]["wang_low"]]
    assert data["total"] == 1
    assert data["open_alerts"] == 4  # every unresolved alert of the office, whatever the filter
    by_severity = refresh(browser, "?severity=high")
    assert alert_order(by_severity["html"]) == [
        duty["ids"]["wang_high_new"],
        duty["ids"]["wang_high_old"],
    ]
    dismissed = refresh(browser, "?status=dismissed")
    assert alert_order(dismissed["html"]) == [duty["ids"]["li_si"]]
    assert "page=2" not in dismissed["html"]


def test_a_new_alert_is_in_the_next_refresh(browser, duty, app, world, at):
    login(browser, "li")
    before = refresh(browser)
    newcomer = world.subject(name="新来戊")["id"]
    at("2026-11-28T02:01:00Z")
    new_id = open_alert(app, newcomer, kind="missed_checkin")
    at("2026-11-28T02:01:30Z")
    after = refresh(browser)
    assert new_id not in alert_order(before["html"]) and new_id in alert_order(after["html"])
    assert after["open_alerts"] == before["open_alerts"] + 1
    assert "just now" in after["html"]
    at("2026-11-28T02:03:30Z")
    assert "2 minutes ago" in refresh(browser)["html"]


def test_refresh_says_when_the_automatic_check_is_stale(browser, duty, app, at):
    login(browser, "li")
    never = refresh(browser)
    assert never["sweep"] == {"last_success_at": None, "stale": True}
    assert "the automatic check has never run" in never["html"]
    with app.app_context():
        run_sweep(clock.now())
        db.session.commit()
    fresh = refresh(browser)
    assert fresh["sweep"] == {"last_success_at": "2026-11-28T02:00:00Z", "stale": False}
    assert "Last automatic check: 10:00." in fresh["html"]
    at("2026-11-28T02:05:01Z")  # SWEEP_STALE_AFTER_SECONDS (300) later
    late = refresh(browser)
    assert late["sweep"]["stale"] is True
    assert "has not run since 2026-11-28 10:00" in late["html"]


def test_someone_who_sees_every_office_sees_the_office_beside_each_name(browser, duty):
    login(browser, "admin")
    html = refresh(browser)["html"]
    assert "测试乡司法所" in html and "金谷乡司法所" in html
    assert people(html)[0] == "严管甲"


def test_refresh_keeps_to_the_officers_office(browser, duty, client):
    login(browser, "zhao")
    data = refresh(browser)
    assert people(data["html"]) == ["欧阳建华"]
    assert data["open_alerts"] == 1
    error = refresh(browser, "?office=T01", status=404)["error"]
    assert error["code"] == "not_found"


def test_refresh_is_refused_without_an_officer_a_subjects_phone_or_the_wall_viewer(
    app, client, duty, world
):
    assert refresh(client, status=401)["error"]["code"] == "unauthorized"
    phone = phone_login(client, duty["their_phone"])
    assert refresh(client, status=401, headers=phone)["error"]["code"] == "unauthorized"
    world.officer("wall", role="viewer")
    login(client, "wall")
    assert refresh(client, status=403)["error"]["code"] == "forbidden"


def test_refresh_is_audited_as_a_list_naming_everyone_shown(browser, duty, app):
    login(browser, "li")
    refresh(browser, "?kind=geofence_exit")
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "alert.list")
        ).one()
        shown = set(
            db.session.scalars(
                select(AuditSubject.subject_id).where(AuditSubject.entry_id == entry.id)
            )
        )
    expected = {duty["subjects"]["wang"], duty["subjects"]["strict"]}
    assert shown == expected
    assert entry.detail["args"] == {"kind": "geofence_exit"}
    assert set(entry.detail["alert_ids"]) == {
        duty["ids"]["wang_high_old"],
        duty["ids"]["strict"],
    }


# --- a constant number of statements -------------------------------------------------------

KINDS = ("geofence_exit", "missed_checkin", "mock_location", "device_change")


def alerts_of(app, world, people_count: int, per_person: int) -> None:
    subjects = [world.subject()["id"] for _ in range(people_count)]
    at = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)
    for subject_id in subjects:
        for kind in KINDS[:per_person]:
            open_alert(app, subject_id, kind=kind, at=at)


def statements(app, client, path: str) -> int:
    with counted_statements(app) as seen:
        response = client.get(path)
        assert response.status_code == 200
    return len(seen)


@pytest.mark.parametrize("path", ["/alerts", "/alerts/refresh", "/alerts/refresh?status=all"])
def test_the_grouped_queue_costs_the_same_statements_for_few_or_many_people(
    app, world, browser, path
):
    login(browser, "admin")
    alerts_of(app, world, 2, 3)
    small = statements(app, browser, path)
    alerts_of(app, world, 20, 3)
    large = statements(app, browser, path)
    assert large == small
    assert small <= 16
