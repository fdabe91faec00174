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
