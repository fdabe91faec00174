"""The map component in a real browser (headless Chromium) at 1366×768 and 768×1024: the flagged
fix of a geofence alert is on top where it is drawn (nothing, not a label nor the scale bar, is
over it), a tap on it shows its time and accuracy, a home and a circle drawn on the enrolment
map are stored where they were drawn (and an area drawn corner by corner), the home can be placed
where the tablet stands, and no map asks anything of another origin.

With SCREENSHOT_DIR=<folder> set, the tests also leave their pictures there (English; the Chinese
ones in docs/screenshots come from tools/screenshots.py)."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from geopy.distance import geodesic
from playwright.sync_api import expect
from sqlalchemy import select

from corrections import clock
from corrections.alerts.models import Alert
from corrections.checkin.services import LocationReport
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.zones.models import Zone
from tests.factories import PASSWORD, SEAT, record_checkin
from tests.test_alert_page import take
from tests.test_browser import CHROMIUM
from tests.test_forms_browser import SIZES, sign_in

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)

#: 6.2 km north of the county seat: outside the 5 km circle of 县城 by about 1.2 km.
OUTSIDE = (SEAT[0] + 0.0558, SEAT[1])


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


@pytest.fixture
def geofence_alert(app, world):
    """王小明 of office T01 checked in 1.2 km outside his allowed circle; officer li holds it.
    A second office lies nearer to where it happened."""
    world.office(code="T02", name="北山司法所", lat=OUTSIDE[0] + 0.01, lon=OUTSIDE[1] + 0.01)
    world.officer("li", office_code="T01")
    subject_id = world.subject(name="王小明")["id"]
    when = clock.now() - dt.timedelta(minutes=20)
    earlier = when - dt.timedelta(hours=3)
    record_checkin(app, subject_id, LocationReport("in", SEAT[0], SEAT[1] + 0.01, 15.0, earlier))
    record_checkin(app, subject_id, LocationReport("out", *OUTSIDE, 35.0, when))
    with app.app_context():
        alert_id = db.session.scalars(
            select(Alert.id).where(Alert.subject_id == subject_id, Alert.kind == "geofence_exit")
        ).one()
    take(app, alert_id, "li")
    return {"alert": alert_id, "subject": subject_id}


def ready(page, map_id: str):
    page.wait_for_selector(f"#{map_id}[data-map-ready]")
    return page.locator(f"#{map_id}")


def foreign(page, base: str) -> list[str]:
    origin = urlsplit(base).netloc
    return [url for _, url in page.requests if urlsplit(url).netloc not in (origin, "")]


def on_top_and_clear(page, map_id: str, selector: str) -> tuple[float, float]:
    """The mark is what the browser hits at its centre (nothing, not a label nor a closed
    popup, is over it), inside the map, clear of the zoom and scale controls; its centre."""
    mark = page.locator(f"#{map_id} {selector}")
    assert mark.count() == 1
    box = mark.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    hit = page.evaluate(
        "([x, y, sel]) => { const e = document.elementFromPoint(x, y);"
        " return (e && e.closest(sel)) ? true : (e ? e.outerHTML.slice(0, 200) : 'none'); }",
        [x, y, selector],
    )
    assert hit is True, f"something is drawn over {selector}: {hit}"
    area = page.locator(f"#{map_id}").bounding_box()
    assert area["x"] < x < area["x"] + area["width"] and area["y"] < y < area["y"] + area["height"]
    for control in (".leaflet-control-scale", ".leaflet-control-zoom"):
        c = page.locator(f"#{map_id} {control}").bounding_box()
        apart = (
            box["x"] > c["x"] + c["width"]
            or box["x"] + box["width"] < c["x"]
            or box["y"] > c["y"] + c["height"]
            or box["y"] + box["height"] < c["y"]
        )
        assert apart, f"{selector} lies under {control}"
    return x, y


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_flagged_fix_is_on_top_on_the_alert_map_and_a_tap_shows_when_and_how_accurate(
    live_server, open_page, geofence_alert, size, app
):
    page = open_page(*size)
    sign_in(page, live_server, f"/alerts/{geofence_alert['alert']}")
    ready(page, "alert-map").scroll_into_view_if_needed()
    x, y = on_top_and_clear(page, "alert-map", ".map-focus")
    # The zone it broke, the home and both offices are labelled on the plain background.
    labels = page.locator("#alert-map .map-label").all_inner_texts()
    assert "县城" in labels and "北山司法所" in labels and "测试乡司法所" in labels
    assert page.locator("#alert-map .map-zone-broken").count() == 1
    shoot(page, f"alert-{size[0]}")
    page.mouse.click(x, y)
    popup = page.locator("#alert-map .leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    with app.app_context():
        local = (clock.now() - dt.timedelta(minutes=20)).astimezone(clock.local_zone())
    assert f"{local:%Y-%m-%d %H:%M}" in text
    assert "Accurate to 35 m" in text and "outside 县城" in text
    assert foreign(page, live_server) == []
    assert page.errors == []


@contextmanager
def touch_page(chromium_browser, base: str, path: str, map_id: str):
    """A tablet's touch screen (768×1024) signed in on the page, its map ready and in view."""
    context = chromium_browser.new_context(
        viewport={"width": 768, "height": 1024}, has_touch=True, is_mobile=True, locale="zh-CN"
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.errors, page.requests = [], []
        sign_in(page, base, path)
        ready(page, map_id).scroll_into_view_if_needed()
        yield page
    finally:
        context.close()


def test_a_tap_on_a_touch_screen_opens_the_check_in(live_server, chromium_browser, geofence_alert):
    path = f"/subjects/{geofence_alert['subject']}"
    with touch_page(chromium_browser, live_server, path, "subject-map") as page:
        flagged = page.locator("#subject-map .map-flagged")
        assert flagged.count() == 1
        flagged.tap()
        popup = page.locator("#subject-map .leaflet-popup-content")
        popup.wait_for()
        assert "Flagged: Left the allowed zone" in popup.inner_text()
        assert "Accurate to 35 m" in popup.inner_text()


def test_the_subject_map_puts_flagged_check_ins_above_labels_and_accepted_ones(
    live_server, open_page, geofence_alert
):
    page = open_page(1366, 768)
    sign_in(page, live_server, f"/subjects/{geofence_alert['subject']}")
    ready(page, "subject-map")
    order = page.evaluate(
        """() => {
          const z = (sel) => Number(getComputedStyle(
              document.querySelector('#subject-map ' + sel).closest('.leaflet-pane')).zIndex);
          return {flagged: z('.map-flagged'), accepted: z('.map-accepted'),
                  label: z('.map-label'), home: z('.map-home')};
        }"""
    )
    assert order["flagged"] > order["label"] > order["accepted"] > order["home"]
    page.locator("#map-heading").scroll_into_view_if_needed()
    shoot(page, "subject-1366")
    page.set_viewport_size({"width": 768, "height": 1024})
    page.locator("#map-heading").scroll_into_view_if_needed()
    shoot(page, "subject-768")
    assert foreign(page, live_server) == []
    assert page.errors == []


def on_map(page, map_id: str, *fractions: tuple[float, float]) -> list[tuple[float, float]]:
    """Whole screen pixels at fractions of the map's width and height, and the coordinates
    under them as Leaflet reads a pointer (inside the border), measured after the page has
    scrolled: a click on a tool button may scroll it."""
    box = page.locator(f"#{map_id}").bounding_box()
    points = [
        (round(box["x"] + box["width"] * fx), round(box["y"] + box["height"] * fy))
        for fx, fy in fractions
    ]
    where = page.evaluate(
        "([id, points]) => { const el = document.getElementById(id);"
        " const r = el.getBoundingClientRect();"
        " return points.map(([x, y]) => {"
        "   const c = el.leafletMap.containerPointToLatLng("
        "     [x - r.left - el.clientLeft, y - r.top - el.clientTop]);"
        "   return [c.lat, c.lng]; }); }",
        [map_id, points],
    )
    return [(p, tuple(w)) for p, w in zip(points, where, strict=True)]


def enrol(page, name: str, phone: str) -> None:
    """Fill in the rest of the form as an officer would, press Enrol, land on the new page."""
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Mobile phone number").fill(phone)
    page.get_by_label("PIN for the phone app (4 to 8 digits)").fill("2468")
    page.get_by_label("Category").select_option("probation")
    page.get_by_label("Supervision level").select_option("normal")
    page.get_by_label("Supervision ends on").fill("2027-11-30")
    page.get_by_role("button", name="Enrol", exact=True).click()
    page.wait_for_url(re.compile(r".*/subjects/\d+$"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_home_and_a_circle_drawn_on_the_enrolment_map_are_stored_where_drawn(
    live_server, open_page, app, world, size
):
    world.officer("li", office_code="T01")
    page = open_page(*size)
    sign_in(page, live_server, "/subjects/new")
    area = ready(page, "enrol-map")
    # Coordinates copied from a Chinese map app first; drawing on the map makes them GPS again.
    page.get_by_label("Where the coordinates come from").select_option("gcj02")
    area.scroll_into_view_if_needed()
    # Away from the office's mark in the middle, which a drawn point would snap to; the home
    # inside the circle, or enrolment would ask to confirm.
    page.locator("[data-map-tool=home]").click()
    [(home_at, home)] = on_map(page, "enrol-map", (0.6, 0.45))
    page.mouse.click(*home_at)
    page.locator("[data-map-tool=circle]").click()
    [(centre, middle), (edge, rim)] = on_map(page, "enrol-map", (0.62, 0.55), (0.72, 0.55))
    page.mouse.click(*centre)
    page.mouse.move(*edge, steps=5)
    page.mouse.click(*edge)
    assert page.get_by_label("Where the coordinates come from").input_value() == "wgs84"
    assert page.locator("#zones-0-name").input_value() == "Area 1"
    shoot(page, f"enrol-{size[0]}")

    enrol(page, "画图测试", "13912345678")
    with app.app_context():
        subject = db.session.scalars(select(Subject).where(Subject.name == "画图测试")).one()
        zone = db.session.scalars(select(Zone).where(Zone.subject_id == subject.id)).one()
        stored_home = (subject.home_lat, subject.home_lon)
        stored_centre, radius = (zone.lat, zone.lon), zone.radius_m
    # Within a metre of where the pointer was: the boxes hold six decimals (about 0.1 m).
    assert geodesic(stored_home, home).meters < 1, (stored_home, home)
    assert geodesic(stored_centre, middle).meters < 1
    drawn_radius = geodesic(middle, rim).meters
    assert math.isclose(radius, drawn_radius, abs_tol=2 + drawn_radius * 0.01)
    assert zone.kind == "allowed" and zone.name == "Area 1"
    assert foreign(page, live_server) == []
    assert page.errors == []


def test_at_a_home_visit_the_home_is_placed_where_the_tablet_is_and_the_scale_reads_in_chinese(
    live_server, chromium_browser, app, world
):
    world.officer("li", office_code="T01")
    visit = (SEAT[0] + 0.004, SEAT[1] - 0.003)
    context = chromium_browser.new_context(
        viewport={"width": 768, "height": 1024},
        geolocation={"latitude": visit[0], "longitude": visit[1], "accuracy": 12},
        permissions=["geolocation"],
        locale="zh-CN",
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server}/login?next=/subjects/new")  # Chinese, the default
        page.fill("#username", "li")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        ready(page, "enrol-map")
        page.locator("[data-map-tool=here]").click()
        expect(page.locator("#home_lat")).not_to_have_value("")
        lat = float(page.locator("#home_lat").input_value())
        lon = float(page.locator("#home_lon").input_value())
        assert geodesic((lat, lon), visit).meters < 1
        assert "12 米" in page.locator("#map-status").inner_text()
        scale = page.locator("#enrol-map .leaflet-control-scale-line").inner_text()
        assert re.fullmatch(r"\d+ (米|公里)", scale), scale
    finally:
        context.close()


def test_an_area_drawn_corner_by_corner_is_stored_with_the_corners_drawn(
    live_server, open_page, app, world
):
    world.officer("li", office_code="T01")
    page = open_page(1366, 768)
    sign_in(page, live_server, "/subjects/new")
    ready(page, "enrol-map").scroll_into_view_if_needed()
    page.locator("[data-map-tool=home]").click()
    [(home_at, _)] = on_map(page, "enrol-map", (0.63, 0.5))
    page.mouse.click(*home_at)
    page.locator("[data-map-tool=polygon]").click()
    corners = on_map(page, "enrol-map", (0.56, 0.38), (0.72, 0.38), (0.72, 0.62), (0.56, 0.62))
    for at, _ in corners:
        page.mouse.click(*at)
    page.mouse.click(*corners[0][0])  # the first corner again closes the area
    expect(page.locator("#polygon")).not_to_have_value("")
    assert page.locator("#polygon_name").input_value() == "Area by corners"
    enrol(page, "多边形测试", "13912345679")
    with app.app_context():
        subject = db.session.scalars(select(Subject).where(Subject.name == "多边形测试")).one()
        zone = db.session.scalars(select(Zone).where(Zone.subject_id == subject.id)).one()
        stored = [tuple(c) for c in zone.polygon]
    assert len(stored) == 4
    for corner, (_, drawn) in zip(stored, corners, strict=True):
        assert geodesic(corner, drawn).meters < 1
    assert page.errors == []


# The week's track and its day picker: tests/test_track_browser.py.
