"""The map component's server side: tile settings and the CSP they widen, the data a page hands
to map.js (what an alert's map shows, the nearest office), and what the enrolment map fills."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from config import TestingConfig
from corrections import clock, create_app
from corrections.checkin.services import LocationReport
from corrections.extensions import db
from corrections.maps import tile_hosts, tile_settings
from tests.factories import SEAT, raise_for, record_checkin
from tests.test_pages import login, map_data

TIANDITU = (
    "http://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk=KEY"
)


def test_no_tile_service_means_the_plain_background_and_images_from_here_only(client):
    assert tile_settings({}) is None and tile_hosts({}) == []
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp


def test_tianditu_subdomains_are_spelled_out_for_the_csp():
    config = {
        "MAP_TILE_URL": TIANDITU,
        "MAP_LABEL_TILE_URL": TIANDITU.replace("vec", "cva"),
        "MAP_TILE_SUBDOMAINS": "01234567",
    }
    hosts = tile_hosts(config)
    assert hosts == [f"http://t{n}.tianditu.gov.cn" for n in range(8)]  # once each
    assert tile_settings(config)["labels_url"].startswith("http://t{s}.tianditu.gov.cn/cva_w")


def test_a_local_tile_server_is_admitted_for_images_and_named_in_the_map_data(database_url):
    class Tiled(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        MAP_TILE_URL = "https://tiles.county.gov.internal:8443/osm/{z}/{x}/{y}.png"
        MAP_TILE_ATTRIBUTION = "© 县自然资源局"

    app = create_app(Tiled)
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    img = re.search(r"img-src ([^;]+);", csp).group(1).split()
    assert img == ["'self'", "data:", "https://tiles.county.gov.internal:8443"]
    assert re.search(r"connect-src 'self';", csp) and "script-src 'self';" in csp
    with app.test_request_context():
        from corrections.maps import MapData

        tiles = MapData().as_dict()["tiles"]
    assert tiles["url"] == Tiled.MAP_TILE_URL and tiles["attribution"] == "© 县自然资源局"


def test_a_tile_url_that_is_no_web_address_widens_nothing():
    assert tile_hosts({"MAP_TILE_URL": "javascript:alert(1)//{z}"}) == []


@pytest.fixture
def county(app, world):
    """王小明 (T01) and a second office T02 5 km north of the seat."""
    world.office(code="T02", name="北山司法所", lat=SEAT[0] + 0.045, lon=SEAT[1])
    world.officer("li", office_code="T01")
    return world.subject(name="王小明")["id"]


def test_a_geofence_alerts_map_shows_the_fix_its_accuracy_the_broken_zone_and_nearest_office(
    browser, app, county
):
    when = clock.now() - dt.timedelta(minutes=5)
    record_checkin(app, county, LocationReport("x", SEAT[0] + 0.06, SEAT[1], 40.0, when))
    login(browser, "li")
    queue = browser.get("/alerts").text
    alert_id = re.search(r'href="/alerts/(\d+)"', queue).group(1)
    drawn = map_data(browser.get(f"/alerts/{alert_id}").text, "alert-map")
    [fix] = [p for p in drawn["points"] if p["focus"]]
    assert fix["status"] == "flagged" and fix["accuracy_m"] == 40.0
    assert fix["lat"] == pytest.approx(SEAT[0] + 0.06)
    assert fix["lines"][0] == "Where the alert was raised"
    assert "Accurate to 40 m" in fix["lines"] and any("outside 县城" in x for x in fix["lines"])
    assert [(z["name"], z["broken"]) for z in drawn["zones"]] == [("县城", True)]
    offices = {o["name"]: o["lines"] for o in drawn["offices"]}
    # The fix is 6.7 km from the seat, 1.7 km from 北山: both shown, each with its distance.
    assert offices["北山司法所"] == [
        "The nearest judicial office",
        "1.7 km from where the alert was raised",
    ]
    assert offices["测试乡司法所"][0] == "The person's judicial office"
    assert drawn["home"]["lat"] == SEAT[0]


def test_a_missed_check_ins_map_shows_the_last_check_in(browser, app, county):
    earlier = clock.now() - dt.timedelta(days=1)
    record_checkin(app, county, LocationReport("y", SEAT[0] + 0.001, SEAT[1], 25.0, earlier))
    with app.app_context():
        alert_id = raise_for(county, "missed_checkin", {}, clock.now()).id
        db.session.commit()
    login(browser, "li")
    drawn = map_data(browser.get(f"/alerts/{alert_id}").text, "alert-map")
    [last] = [p for p in drawn["points"] if p["focus"]]
    assert last["lines"][0] == "Last check-in" and last["status"] == "accepted"
    assert "Accurate to 25 m" in last["lines"]
    assert not any(z["broken"] for z in drawn["zones"])
    # Only the person's own office: the other one is farther from the check-in.
    assert [o["name"] for o in drawn["offices"]] == ["测试乡司法所"]
    assert drawn["offices"][0]["lines"][1] == "111 m from the last check-in"


def test_names_reach_the_map_as_data_never_as_markup(browser, app, world):
    world.officer("li", office_code="T01")
    zone = {
        "kind": "allowed",
        "name": "<img src=x onerror=alert(1)>",
        "lat": SEAT[0],
        "lon": SEAT[1],
    }
    subject_id = world.subject(zones=[{**zone, "radius_m": 3000}])["id"]
    login(browser, "li")
    page = browser.get(f"/subjects/{subject_id}").text
    assert "<img src=x" not in page
    assert map_data(page, "subject-map")["zones"][0]["name"] == zone["name"]


def test_the_enrolment_map_knows_every_box_it_fills_and_the_offices_areas(browser, app, world):
    world.officer("li", office_code="T01")
    login(browser, "li")
    page = browser.get("/subjects/new").text
    drawn = map_data(page, "enrol-map")
    assert [o["code"] for o in drawn["offices"]] == ["T01"]
    spec = json.loads(
        re.search(
            r'<script type="application/json" id="enrol-map-edit">(.*?)</script>', page
        ).group(1)
    )
    ids = [spec["home"]["lat"], spec["home"]["lon"], spec["polygon"], spec["source"]]
    ids += [row[k] for row in spec["circles"] for k in ("lat", "lon", "radius_m", "name")]
    for box in ids:
        assert f'id="{box}"' in page, box
    assert len(spec["circles"]) == 3


# --- the week's track and its day picker ------------------------------------------------------


def day_buttons(page: str, map_id: str) -> list[tuple[str, str, str, str]]:
    """The day picker's buttons: (day, pressed, label, what it shows in words)."""
    found = re.search(
        rf'<div class="map-days" data-map-days="{map_id}" hidden>(.*?)</p>', page, re.S
    )
    assert found, f"no day picker for {map_id}"
    return re.findall(
        r'data-day="([^"]*)" aria-controls="[^"]+" aria-pressed="(true|false)" title="[^"]*"'
        r' data-summary="([^"]*)">([^<]*)</button>',
        found.group(1),
    )


def test_the_alert_map_draws_the_weeks_track_and_opens_on_the_alerts_day(browser, app, county, at):
    now = clock.now()  # 2026-11-28 10:00 in the county, a Saturday
    for name, days, lat in (("old", 8, 0.0), ("tue", 4, 0.002), ("in", 0.1, 0.001)):
        when = at(now - dt.timedelta(days=days))  # each arrived as it was taken
        record_checkin(app, county, LocationReport(name, SEAT[0] + lat, SEAT[1], 15.0, when))
    at(now)
    record_checkin(app, county, LocationReport("out", SEAT[0] + 0.06, SEAT[1], 40.0, now))
    login(browser, "li")
    queue = browser.get("/alerts").text
    alert_id = re.search(r'href="/alerts/(\d+)"', queue).group(1)
    page = browser.get(f"/alerts/{alert_id}").text
    drawn = map_data(page, "alert-map")
    assert drawn["track"] and drawn["day"] == "2026-11-28"
    # The week up to today, oldest first; the check-in of 8 days ago is not in it, and the
    # alert's fix is drawn once, as the alert's (not again as a plain check-in).
    assert drawn["days"] == [f"2026-11-{d}" for d in range(22, 29)]
    assert [(p["day"], p["status"], p["focus"]) for p in drawn["points"]] == [
        ("2026-11-24", "accepted", False),
        ("2026-11-28", "accepted", False),
        ("2026-11-28", "flagged", True),
    ]
    assert [p["source"] for p in drawn["points"]] == ["checkin"] * 3
    fix = drawn["points"][-1]
    assert fix["alert"] and fix["lines"][:2] == ["Where the alert was raised", "Check-in"]
    assert not drawn["points"][0]["alert"]
    buttons = day_buttons(page, "alert-map")
    assert buttons[0] == ("", "false", "7 days: 3 positions, 1 flagged", "All days")
    assert buttons[-1] == (
        "2026-11-28",
        "true",
        "Nov 28 (Sat): 2 positions, 1 flagged",
        "Nov 28 (Sat)",
    )
    assert ("2026-11-23", "false", "Nov 23 (Mon): no positions", "Nov 23 (Mon)") in buttons
    assert "Nov 28 (Sat): 2 positions, 1 flagged</p>" in page  # the status line says so
    with app.app_context():
        from sqlalchemy import select

        from corrections.audit.models import AuditEntry

        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert {"subject.read", "subject.checkins.read", "subject.signals.read"} <= set(actions[-5:])


def test_the_day_picker_speaks_chinese_by_default(client, app, county):
    now = clock.now()
    record_checkin(app, county, LocationReport("a", SEAT[0], SEAT[1], 15.0, now))
    record_checkin(app, county, LocationReport("b", SEAT[0] + 0.06, SEAT[1], 40.0, now))
    login(client, "li")
    page = client.get(f"/subjects/{county}").text
    buttons = day_buttons(page, "subject-map")
    assert [b[3] for b in buttons][:2] == ["全部", "11月22日（周日）"]
    assert buttons[-1][2:] == ("11月28日（周六）：2 个位置，其中异常 1 个", "11月28日（周六）")
    assert buttons[0][1] == "true"  # the subject page opens on the whole week
    drawn = map_data(page, "subject-map")
    # The two came in at the same minute: drawn in the order they arrived, the flagged last.
    assert drawn["points"][-1]["lines"] == ["签到", "2026-11-28 10:00", "异常：越界", "精度 40 米"]


def test_an_old_alerts_map_shows_the_week_up_to_its_day(app):
    from types import SimpleNamespace

    from corrections.casefile.mapping import alert_span

    with app.app_context():
        today = dt.date(2026, 11, 28)
        fix = {"lat": SEAT[0], "lon": SEAT[1], "recorded_at": "2026-11-01T15:30:00Z"}  # 23:30
        old = SimpleNamespace(evidence={"to": fix}, opened_at=clock.now())
        span = alert_span(old, today)
        assert span.days[0] == "2026-10-26" and span.days[-1] == "2026-11-01"
        assert span.until == dt.datetime(2026, 11, 1, 16, 0, tzinfo=dt.UTC)  # midnight there
        recent = SimpleNamespace(evidence={}, opened_at=clock.now() - dt.timedelta(days=3))
        assert alert_span(recent, today).days[-1] == "2026-11-28"
