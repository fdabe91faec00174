"""The queue on duty in a real browser (headless Chromium): every row's open control (查看) is
on the screen at 1366×768 and on a 768×1024 tablet, without scrolling sideways; a new alert
raised while the page is open appears after the next refresh, with the count in the tab title,
where the officer was reading; a failed refresh says so; nothing is asked of another origin.

SCREENSHOT_DIR=<folder> saves its pictures there (docs/screenshots: tools/screenshots.py)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from corrections import clock
from corrections.extensions import db
from corrections.sweep import run_sweep
from tests import test_forms_browser as forms_browser
from tests.factories import PASSWORD, raise_for
from tests.test_browser import CHROMIUM

SIZES = forms_browser.SIZES

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)

#: A morning in a township office: (name, level, [(kind, evidence, minutes ago)]).
PEOPLE = [
    (
        "王小明",
        "normal",
        [
            ("geofence_exit", {"nearest_zone": "县城", "distance_outside_m": 2400.0}, 35),
            ("mock_location", {}, 20),
            ("device_change", {}, 95),
        ],
    ),
    (
        "欧阳建华",
        "strict",
        [("exclusion_zone", {"zone": "县第一小学周边"}, 12)],
    ),
    (
        "李秀英",
        "normal",
        [
            ("impossible_travel", {"distance_m": 182000.0, "speed_kmh": 910}, 50),
            ("geofence_exit", {"nearest_zone": "城关镇", "distance_outside_m": 860.0}, 180),
        ],
    ),
    ("张伟", "lenient", [("device_change", {}, 240)]),
    ("陈静", "normal", [("missed_checkin", {}, 300)]),
    (
        "刘洋",
        "normal",
        [("geofence_exit", {"nearest_zone": "县城", "distance_outside_m": 450.0}, 8)],
    ),
]


def raise_at(app, subject_id: int, kind: str, evidence: dict, minutes_ago: int = 0) -> int:
    with app.app_context():
        moment = clock.now() - dt.timedelta(minutes=minutes_ago)
        alert_id = raise_for(subject_id, kind, {"accuracy_m": 25.0, **evidence}, moment).id
        db.session.commit()
        return alert_id


@pytest.fixture
def morning(app, world, monkeypatch):
    """The officer li of office T01 with the alerts of PEOPLE; the queue refreshes every second."""
    monkeypatch.setitem(app.config, "QUEUE_REFRESH_SECONDS", 1)
    world.officer("li", office_code="T01")
    subjects = {}
    for name, level, alerts in PEOPLE:
        subjects[name] = world.subject(name=name, level=level)["id"]
        for kind, evidence, minutes_ago in alerts:
            raise_at(app, subjects[name], kind, evidence, minutes_ago)
    with app.app_context():
        run_sweep(clock.now() - dt.timedelta(minutes=1))  # the automatic check is running
        db.session.commit()
    return subjects


def sign_in_to_queue(page, base: str, path: str = "/alerts") -> None:
    page.goto(f"{base}/login?next={path}")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{path}")


OPEN_CONTROLS = "#queue-list a.button[aria-label]"


def open_control_problems(page) -> list[str]:
    """Each row's 查看, scrolled to (vertically only): what is wrong with it, if anything."""
    return page.evaluate(
        """(selector) => {
          const problems = [];
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth > width) problems.push("scrolls sideways");
          for (const wrap of document.querySelectorAll(".table-wrap")) {
            if (wrap.scrollWidth > wrap.clientWidth) problems.push("the table scrolls sideways");
          }
          for (const link of document.querySelectorAll(selector)) {
            link.scrollIntoView({block: "center", inline: "nearest"});
            const box = link.getBoundingClientRect();
            const name = link.getAttribute("aria-label");
            const says = link.textContent.trim();
            if (says !== "查看") problems.push(name + ": says " + says);
            if (box.left < 0 || box.right > width) problems.push(name + ": outside " + box.right);
            if (box.height > 60) problems.push(name + ": wraps, " + box.height + " px high");
            const x = box.left + box.width / 2, y = box.top + box.height / 2;
            const hit = document.elementFromPoint(x, y);
            if (hit !== link && !link.contains(hit)) problems.push(name + ": covered by " + hit);
          }
          window.scrollTo(0, 0);
          return problems;
        }""",
        OPEN_CONTROLS,
    )


def only_own_origin(page, base: str) -> list[str]:
    return [url for _, url in page.requests if not url.startswith(base + "/")]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_rows_open_control_is_on_screen(morning, live_server, open_page, width, height):
    page = open_page(width, height)
    sign_in_to_queue(page, live_server)
    rows = page.locator(OPEN_CONTROLS)
    assert rows.count() == sum(len(alerts) for _, _, alerts in PEOPLE)
    assert open_control_problems(page) == []
    # The person's name is there once, above their alerts.
    assert page.locator("#queue-list .person", has_text="王小明").count() == 1
    # On the tablet the row is a card whose whole summary opens the alert.
    summary = page.locator(".summary-link", has_text="县第一小学周边")
    box = summary.bounding_box()
    if width < 900:
        assert box["height"] >= 48 and box["width"] >= 300  # far larger than 查看
    summary.click()
    page.wait_for_url(f"{live_server}/alerts/*")
    assert "县第一小学周边" in page.locator("main").inner_text()
    directory = os.environ.get("SCREENSHOT_DIR")
    if directory:
        page.go_back()
        page.wait_for_url(f"{live_server}/alerts")
        page.screenshot(path=str(Path(directory) / f"queue-{width}.png"), full_page=True)
    assert page.errors == []
    assert only_own_origin(page, live_server) == []


def test_a_new_alert_appears_without_a_reload_with_the_count_in_the_title(
    app, world, morning, live_server, open_page
):
    page = open_page(768, 1024)
    sign_in_to_queue(page, live_server)
    assert page.title().startswith("(9) 预警队列")
    assert page.locator("#queue-updated").inner_text() == "更新于 10:00"
    # Read further down: the last person's group stands somewhere on the screen.
    reading = page.locator(f'[data-group="subject-{morning["陈静"]}"]')
    reading.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")
    top_before = reading.bounding_box()["y"]
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    newcomer = world.subject(name="赵新来", level="strict")["id"]
    new_id = raise_at(app, newcomer, "geofence_exit", {"nearest_zone": "县城"})  # critical: on top
    row = page.locator(f'[data-alert="{new_id}"]')
    row.wait_for(timeout=10_000)
    names = page.locator("#queue-list .person").all_inner_texts()
    assert names.index("赵新来") < names.index("陈静")  # the most severe come first
    assert "刚刚" in row.inner_text()
    page.wait_for_function("document.title.startsWith('(10) ')", timeout=5_000)
    assert navigations == []  # no reload
    assert abs(reading.bounding_box()["y"] - top_before) < 2  # still where the officer read
    assert page.locator("#queue-stale").is_hidden()
    assert page.errors == []
    assert only_own_origin(page, live_server) == []


def test_the_refresh_keeps_the_filters(app, world, morning, live_server, open_page):
    page = open_page(1366, 768)
    sign_in_to_queue(page, live_server, "/alerts?kind=device_change")
    someone = world.subject(name="周某")["id"]
    other = world.subject(name="吴某")["id"]
    raise_at(app, someone, "geofence_exit", {"nearest_zone": "县城"})
    wanted = raise_at(app, other, "device_change", {})
    page.locator(f'[data-alert="{wanted}"]').wait_for(timeout=10_000)
    assert page.locator("#queue-list .person", has_text="周某").count() == 0
    assert page.url == f"{live_server}/alerts?kind=device_change"
    assert page.errors == []


def test_a_failing_refresh_shows_the_warning_and_it_clears_once_it_works(
    morning, live_server, open_page
):
    page = open_page(1366, 768)
    sign_in_to_queue(page, live_server)
    assert page.locator("#queue-stale").is_hidden()
    page.route("**/alerts/refresh*", lambda route: route.abort())  # the network is down
    page.locator("#queue-stale").wait_for(state="visible", timeout=5_000)
    assert "未能更新" in page.locator("#queue-stale").inner_text()
    # It stays up while the refreshes fail, past the page's own 5-second check of the age.
    page.evaluate(
        """() => {
          window.hiddenAgain = 0;
          const warning = document.getElementById("queue-stale");
          new MutationObserver(() => { if (warning.hidden) window.hiddenAgain++; })
            .observe(warning, {attributes: true});
        }"""
    )
    page.wait_for_timeout(6_000)
    assert page.evaluate("window.hiddenAgain") == 0
    page.unroute("**/alerts/refresh*")
    page.locator("#queue-stale").wait_for(state="hidden", timeout=5_000)
    assert [e for e in page.errors if "ERR_FAILED" not in e] == []
