"""The week's track on the subject and alert maps in headless Chromium, at 1366×768 and
768×1024: the day picker's buttons change what is drawn (marks and the line through them), by
click, by keyboard and by touch, say so to screen readers (aria-pressed, a live status line),
and a flagged mark stays on top of everything wherever it is shown. The alert page opens on the
alert's day with its fix emphasised."""

from __future__ import annotations

import datetime as dt

import pytest

from corrections import clock
from corrections.checkin.services import LocationReport
from tests.factories import SEAT, record_checkin
from tests.test_browser import CHROMIUM
from tests.test_forms_browser import SIZES, sign_in
from tests.test_map_browser import (
    OUTSIDE,
    foreign,
    geofence_alert,  # noqa: F401 - a fixture, asked for by name
    on_top_and_clear,
    ready,
    touch_page,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)


def drawn(page, map_id: str) -> dict:
    """What the map draws now: the marks by kind and the points of the track's line."""
    return page.evaluate(
        """(id) => {
          const map = document.getElementById(id).leafletMap;
          const count = (sel) => document.querySelectorAll('#' + id + ' ' + sel).length;
          let line = 0;
          map.eachLayer((l) => { if (l instanceof L.Polyline && !(l instanceof L.Polygon))
            line = Math.max(line, l.getLatLngs().length); });
          return {accepted: count('.map-accepted'), flagged: count('.map-flagged'),
                  focus: count('.map-focus'), line: line};
        }""",
        map_id,
    )


def pressed(page, map_id: str) -> list[str]:
    return page.locator(f'[data-map-days="{map_id}"] [aria-pressed="true"]').all_inner_texts()


@pytest.fixture
def week(app, world, at):
    """王小明's week: an accepted check-in on Thursday, a flagged one (1.2 km outside his
    circle) on Friday, two accepted ones on Saturday morning (today, 10:00)."""
    world.officer("li", office_code="T01")
    subject_id = world.subject(name="王小明")["id"]
    now = clock.now()
    for name, back, where in (
        ("thu", dt.timedelta(days=2), (SEAT[0] + 0.004, SEAT[1])),
        ("fri", dt.timedelta(days=1), OUTSIDE),
        ("sat1", dt.timedelta(hours=2), (SEAT[0] + 0.002, SEAT[1] + 0.003)),
        ("sat2", dt.timedelta(hours=1), (SEAT[0] - 0.003, SEAT[1] + 0.001)),
    ):
        when = at(now - back)
        accuracy = 35.0 if name == "fri" else 15.0
        record_checkin(app, subject_id, LocationReport(name, *where, accuracy, when))
    at(now)
    return subject_id


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_day_picker_changes_what_the_subject_map_draws_and_the_flagged_mark_stays_on_top(
    live_server, open_page, week, size
):
    page = open_page(*size)
    sign_in(page, live_server, f"/subjects/{week}")
    ready(page, "subject-map")
    picker = page.get_by_role("group", name="Which day the map shows")
    buttons = picker.get_by_role("button")
    assert buttons.count() == 8  # all days, and each of the seven
    assert buttons.first.inner_text() == "All days" and pressed(page, "subject-map") == ["All days"]
    assert drawn(page, "subject-map") == {"accepted": 3, "flagged": 1, "focus": 0, "line": 4}
    # No button's words break onto two lines.
    heights = {round(b.bounding_box()["height"]) for b in buttons.all()}
    assert len(heights) == 1, heights

    picker.get_by_role("button", name="Nov 27 (Fri)").click()
    assert pressed(page, "subject-map") == ["Nov 27 (Fri)"]
    assert drawn(page, "subject-map") == {"accepted": 0, "flagged": 1, "focus": 0, "line": 0}
    status = page.locator("#subject-map-day-status")
    assert status.inner_text() == "Nov 27 (Fri): 1 position, 1 flagged"
    assert status.get_attribute("aria-live") == "polite"
    on_top_and_clear(page, "subject-map", ".map-flagged")
    page.locator("#subject-map .map-flagged").click()
    popup = page.locator("#subject-map .leaflet-popup-content")
    popup.wait_for()
    lines = popup.inner_text().splitlines()
    assert lines[:3] == ["Check-in", "2026-11-27 10:00", "Flagged: Left the allowed zone"]
    assert lines[3] == "Accurate to 35 m"

    # The keyboard: the arrow keys step a day, Enter and Space press a button.
    picker.get_by_role("button", name="Nov 27 (Fri)").press("ArrowRight")
    assert pressed(page, "subject-map") == ["Nov 28 (Sat)"]
    assert drawn(page, "subject-map") == {"accepted": 2, "flagged": 0, "focus": 0, "line": 2}
    assert page.evaluate("() => document.activeElement.textContent") == "Nov 28 (Sat)"
    picker.get_by_role("button", name="Nov 26 (Thu)").press("Space")
    assert drawn(page, "subject-map") == {"accepted": 1, "flagged": 0, "focus": 0, "line": 0}
    picker.get_by_role("button", name="Nov 23 (Mon)").press("Enter")
    assert drawn(page, "subject-map") == {"accepted": 0, "flagged": 0, "focus": 0, "line": 0}
    assert status.inner_text() == "Nov 23 (Mon): no positions"
    buttons.first.press("Enter")
    assert drawn(page, "subject-map") == {"accepted": 3, "flagged": 1, "focus": 0, "line": 4}
    on_top_and_clear(page, "subject-map", ".map-flagged")
    assert foreign(page, live_server) == []
    assert page.errors == []


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_alert_map_opens_on_the_alerts_day_with_its_fix_on_top(
    live_server, open_page, request, app, at, size
):
    alert = request.getfixturevalue("geofence_alert")
    now = clock.now()
    earlier = at(now - dt.timedelta(days=3))
    record_checkin(
        app, alert["subject"], LocationReport("wed", SEAT[0], SEAT[1] - 0.01, 20, earlier)
    )
    at(now)
    page = open_page(*size)
    sign_in(page, live_server, f"/alerts/{alert['alert']}")
    ready(page, "alert-map").scroll_into_view_if_needed()
    assert pressed(page, "alert-map") == ["Nov 28 (Sat)"]
    # The day of the alert: the check-in before it and its fix, joined; Wednesday's is hidden.
    assert drawn(page, "alert-map") == {"accepted": 1, "flagged": 1, "focus": 1, "line": 2}
    on_top_and_clear(page, "alert-map", ".map-focus")
    page.get_by_role("button", name="All days").click()
    assert drawn(page, "alert-map") == {"accepted": 2, "flagged": 1, "focus": 1, "line": 3}
    on_top_and_clear(page, "alert-map", ".map-focus")
    page.get_by_role("button", name="Nov 25 (Wed)").click()
    assert drawn(page, "alert-map") == {"accepted": 1, "flagged": 0, "focus": 0, "line": 0}
    assert page.errors == []


def test_the_day_picker_and_the_marks_work_by_touch(live_server, chromium_browser, week):
    with touch_page(chromium_browser, live_server, f"/subjects/{week}", "subject-map") as page:
        page.get_by_role("button", name="Nov 26 (Thu)").tap()
        assert pressed(page, "subject-map") == ["Nov 26 (Thu)"]
        assert drawn(page, "subject-map")["accepted"] == 1
        page.locator("#subject-map .map-accepted").tap()
        popup = page.locator("#subject-map .leaflet-popup-content")
        popup.wait_for()
        assert popup.inner_text().splitlines()[:3] == ["Check-in", "2026-11-26 10:00", "Accepted"]
        assert page.errors == []
