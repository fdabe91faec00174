"""Enrolment that refuses a person enrolled twice, records an emergency contact, finds a number
however it is typed, and says in words what a box wants."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from corrections.extensions import db
from corrections.subjects.models import Subject
from tests.api_support import assert_error
from tests.factories import subject_body
from tests.test_alert_page import page_as
from tests.test_pages import enrol_fields, login, open_alert, post_form

ID_NUMBER = "450000198807071234"


def enrol(client, headers, **overrides):
    return client.post("/api/v1/subjects", json=subject_body(**overrides), headers=headers)


def subjects(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Subject))


@pytest.fixture
def browser(client, world):
    world.officer("li", office_code="T01")
    client.set_cookie("lang", "en")
    return client


# --- one person, one record -------------------------------------------------------------------


def test_a_resident_id_already_enrolled_is_a_409_naming_the_field(app, client, admin):
    assert enrol(client, admin, id_number=ID_NUMBER).status_code == 201
    before = subjects(app)
    again = enrol(client, admin, id_number=ID_NUMBER.lower(), name="另一个人")
    error = assert_error(again, 409, "duplicate", field="id_number")
    assert error["fields"]["id_number"] == "该身份证号已登记在其他矫正对象名下"
    assert subjects(app) == before


def test_many_subjects_may_have_no_resident_id(client, admin):
    for _ in range(3):
        assert enrol(client, admin, id_number=None).status_code == 201


def test_the_database_refuses_a_second_record_with_the_same_id(app, world):
    """The constraint itself, for the race the service's check cannot see."""
    from sqlalchemy.exc import IntegrityError

    first = world.subject(id_number=ID_NUMBER)
    with app.app_context():
        other = db.session.get(Subject, world.subject()["id"])
        other.id_number = ID_NUMBER
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(Subject, first["id"]).id_number == ID_NUMBER


def test_the_form_names_a_resident_id_already_enrolled_beside_its_box(app, browser):
    login(browser, "li")
    first = post_form(browser, "/subjects/new", "/subjects/new", **enrol_fields())
    assert first.status_code == 302
    before = subjects(app)
    again = post_form(
        browser,
        "/subjects/new",
        "/subjects/new",
        **enrol_fields(name="另一个人", phone="139 0000 0999"),
    )
    assert again.status_code == 422
    assert re.search(r'id="id_number-error">[^<]*already enrolled', again.text)
    assert 'value="另一个人"' in again.text  # what was typed stays
    assert subjects(app) == before


# --- the emergency contact -------------------------------------------------------------------


def test_the_api_takes_and_shows_an_emergency_contact(client, admin):
    contact = {"name": "王大妈", "phone": "138-0000-1111"}
    created = enrol(client, admin, emergency_contact=contact)
    assert created.status_code == 201, created.get_json()
    shown = client.get(f"/api/v1/subjects/{created.get_json()['id']}", headers=admin).get_json()
    assert shown["emergency_contact"] == {"name": "王大妈", "phone": "+8613800001111"}
    plain = enrol(client, admin).get_json()
    assert plain["emergency_contact"] is None


@pytest.mark.parametrize(
    "contact, field",
    [
        ({"name": "王大妈", "phone": "12"}, "emergency_contact.phone"),
        ({"name": "王大妈"}, "emergency_contact.phone"),
        ({"phone": "13800001111", "name": "x" * 65}, "emergency_contact.name"),
    ],
)
def test_a_bad_emergency_contact_is_a_422_naming_it(app, client, admin, contact, field):
    before = subjects(app)
    assert_error(enrol(client, admin, emergency_contact=contact), 422, field=field)
    assert subjects(app) == before


def test_the_form_records_the_contact_and_the_pages_show_it_to_dial(app, browser):
    login(browser, "li")
    response = post_form(
        browser,
        "/subjects/new",
        "/subjects/new",
        **enrol_fields(emergency_contact_name="陈父", emergency_contact_phone="+86 138 0000 2222"),
    )
    assert response.status_code == 302, response.text
    page = browser.get(response.headers["Location"]).text
    assert '陈父 <a class="tel" href="tel:+8613800002222">138 0000 2222</a>' in page
    subject_id = int(response.headers["Location"].rsplit("/", 1)[1])
    alert_id = open_alert(app, subject_id)
    panel = page_as(app, "li", alert_id)
    panel = panel[panel.index('class="card person-panel"') :]
    assert "Emergency contact" in panel
    assert '<a class="tel" href="tel:+8613800002222">138 0000 2222</a>' in panel


def test_the_form_names_a_bad_contact_number_beside_its_box(browser):
    login(browser, "li")
    response = post_form(
        browser, "/subjects/new", "/subjects/new", **enrol_fields(emergency_contact_phone="12")
    )
    assert response.status_code == 422
    assert 'id="emergency_contact_phone-error"' in response.text


# --- finding a number however it is typed --------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "+8613900000001",
        "139 0000 0001",
        "139-0000-0001",
        "+86 139 0000 0001",
        "0086 139 0000 0001",
        "008613900000001",
        "8613900000001",
        "0000 0001",
    ],
)
def test_a_phone_is_found_however_it_is_written(client, admin, typed):
    wanted = enrol(client, admin, phone="+8613900000001").get_json()["id"]
    enrol(client, admin, phone="+8613700000002")
    found = client.get("/api/v1/subjects", query_string={"q": typed}, headers=admin).get_json()
    assert [s["id"] for s in found["items"]] == [wanted]


def test_the_subject_list_page_finds_a_phone_written_with_dashes(client, admin, browser, world):
    world.subject(name="张三", phone="+8613900000001")
    world.subject(name="李四", phone="+8613700000002")
    login(browser, "li")
    page = browser.get("/subjects", query_string={"q": "139-0000-0001"}).text
    assert "张三" in page and "李四" not in page


# --- what a box wants, in words ----------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, english, chinese",
    [
        ("pin", "12", "must be 4 to 8 digits", "须为 4 至 8 位数字"),
        ("pin", "12ab", "must be 4 to 8 digits", "须为 4 至 8 位数字"),
        ("id_number", "12345", "must be 18 characters", "须为 18 位"),
    ],
)
def test_validation_says_what_is_wanted(client, admin, field, value, english, chinese):
    chinese_error = assert_error(enrol(client, admin, **{field: value}), 422, field=field)
    assert chinese in chinese_error["fields"][field]  # Chinese unless English was chosen
    client.set_cookie("lang", "en")
    error = assert_error(enrol(client, admin, **{field: value}), 422, field=field)
    assert english in error["fields"][field]


# --- coordinates copied from Chinese maps -----------------------------------------------------

#: wandergis/coordtransform, test/app.js: WGS-84 (39.915, 116.404) shows on 高德 and 腾讯 maps at
#: (39.91640428150164, 116.41024449916938).
WGS_POINT = (39.915, 116.404)
GCJ_POINT = (39.91640428150164, 116.41024449916938)


def test_the_api_turns_gcj02_coordinates_into_wgs84_before_storing(client, admin):
    from corrections.zones.rules import geodesic_m

    polygon = [
        [GCJ_POINT[0] + dlat, GCJ_POINT[1] + dlon]
        for dlat, dlon in ((0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01))
    ]
    zones = [
        {
            "kind": "allowed",
            "name": "村",
            "lat": GCJ_POINT[0],
            "lon": GCJ_POINT[1],
            "radius_m": 1000,
        },
        {"kind": "exclusion", "name": "网吧", "polygon": polygon},
    ]
    created = enrol(
        client,
        admin,
        coord_source="gcj02",
        home={"lat": GCJ_POINT[0], "lon": GCJ_POINT[1]},
        zones=zones,
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    home = (body["home"]["lat"], body["home"]["lon"])
    assert geodesic_m(home, WGS_POINT) < 1
    circle, square = body["zones"]
    assert geodesic_m((circle["lat"], circle["lon"]), WGS_POINT) < 1
    assert geodesic_m(tuple(square["polygon"][0]), WGS_POINT) < 1
    assert "coord_source" not in body


def test_wgs84_is_the_default_and_an_unknown_source_is_a_422(app, client, admin):
    plain = enrol(client, admin, home={"lat": GCJ_POINT[0], "lon": GCJ_POINT[1]}).get_json()
    assert (plain["home"]["lat"], plain["home"]["lon"]) == GCJ_POINT
    before = subjects(app)
    assert_error(enrol(client, admin, coord_source="google"), 422, field="coord_source")
    assert subjects(app) == before


def test_the_form_converts_the_home_circles_and_corners_from_baidu(app, browser):
    from corrections.geo_china import BD09, from_wgs84
    from corrections.zones.rules import geodesic_m
    from corrections.zones.services import zones_of

    home = (24.70, 107.50)
    shown = from_wgs84(*home, BD09)
    corners = [
        from_wgs84(home[0] + a, home[1] + b, BD09)
        for a, b in ((0.005, 0.005), (0.005, 0.012), (0.01, 0.012), (0.01, 0.005))
    ]
    login(browser, "li")
    response = post_form(
        browser,
        "/subjects/new",
        "/subjects/new",
        **enrol_fields(
            coord_source="bd09",
            home_lat=f"{shown[0]:.7f}",
            home_lon=f"{shown[1]:.7f}",
            polygon="\n".join(f"{lat:.7f}, {lon:.7f}" for lat, lon in corners),
            **{
                "zones-1-lat": f"{shown[0]:.7f}",
                "zones-1-lon": f"{shown[1]:.7f}",
                "zones-1-radius_m": "300",
                "zones-1-name": "家门口",
            },
        ),
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        subject = db.session.scalar(select(Subject).where(Subject.name == "陈大文"))
        assert geodesic_m((subject.home_lat, subject.home_lon), home) < 1
        centred, typed, polygon = zones_of([subject.id])[subject.id]
        assert geodesic_m((centred.lat, centred.lon), home) < 1  # centred on the converted home
        assert geodesic_m((typed.lat, typed.lon), home) < 1
        assert geodesic_m(tuple(polygon.polygon[0]), (home[0] + 0.005, home[1] + 0.005)) < 1


def test_the_form_offers_the_sources_with_gps_first(browser):
    login(browser, "li")
    page = browser.get("/subjects/new").text
    select_html = page[page.index('name="coord_source"') :]
    select_html = select_html[: select_html.index("</select>")]
    assert re.findall(r'value="(\w+)"', select_html) == ["wgs84", "gcj02", "bd09"]
    assert re.search(r'value="wgs84" selected', select_html) or 'selected value="wgs84"' in (
        select_html
    )


# --- warnings the officer confirms -------------------------------------------------------------
# The office T01 sits at the county seat, 24.70N 107.50E (tests.factories.SEAT).


def test_the_api_reads_back_warnings_and_enrols_anyway(client, admin):
    far = {"kind": "allowed", "name": "省城", "lat": 22.8, "lon": 108.3, "radius_m": 2000}
    body = enrol(client, admin, home={"lat": 24.75, "lon": 107.55}, zones=[far])
    assert body.status_code == 201
    warnings = body.get_json()["warnings"]
    assert [(w["code"], w["field"]) for w in warnings] == [
        ("home_outside_allowed_zones", "home.lat"),
        ("zone_far_from_office", "zones.0.lat"),
    ]
    assert all(w["message"] for w in warnings)
    assert enrol(client, admin).get_json()["warnings"] == []


def test_a_swapped_home_that_would_be_near_the_office_is_a_warning(client, admin):
    # 24.7N 107.5E swapped into valid numbers is impossible (107.5 is no latitude); near the
    # equator and the prime meridian both orders are valid.
    from corrections.casefile.checks import SWAPPED, enrolment_warnings

    office = (5.0, 40.0)
    found = enrolment_warnings((40.0, 5.01), [], office, radius_m=30_000)
    assert [w.code for w in found] == [SWAPPED]
    assert enrolment_warnings((5.01, 40.0), [], office, radius_m=30_000) == []
    assert enrolment_warnings((40.0, 8.0), [], office, radius_m=30_000) == []  # far either way


def test_an_impossible_latitude_that_is_a_swap_says_so(app, client, admin):
    before = subjects(app)
    error = assert_error(enrol(client, admin, home={"lat": 107.5, "lon": 24.7}), 422, field="home")
    assert "纬度和经度" in error["fields"]["home"]
    assert subjects(app) == before
    client.set_cookie("lang", "en")
    error = enrol(client, admin, home={"lat": 107.5, "lon": 24.7}).get_json()["error"]
    assert "latitude and longitude look swapped" in error["fields"]["home"]


def test_the_form_shows_the_warnings_keeps_the_typing_and_enrols_once_confirmed(app, browser):
    login(browser, "li")
    fields = enrol_fields(
        name="远方人",
        **{"zones-0-lat": "22.8", "zones-0-lon": "108.3", "zones-0-radius_m": "2000"},
    )
    before = subjects(app)
    shown = post_form(browser, "/subjects/new", "/subjects/new", **fields)
    assert shown.status_code == 422  # held back, as any submission that stores nothing
    html = shown.text
    banner = html[
        html.index('id="warnings"') : html.index("</section>", html.index('id="warnings"'))
    ]
    assert "outside every allowed area" in banner
    assert "from the office" in banner and "km" in banner
    assert 'href="#zones-0-lat"' in banner and 'href="#home_lat"' in banner
    assert 'name="confirm_warnings"' in banner and "I have checked, enrol anyway" in banner
    assert 'value="远方人"' in html and 'value="22.8"' in html
    assert subjects(app) == before
    confirmed = post_form(browser, "/subjects/new", "/subjects/new", **fields, confirm_warnings="y")
    assert confirmed.status_code == 302, confirmed.text
    assert subjects(app) == before + 1


def test_the_form_says_an_impossible_latitude_looks_swapped(browser):
    login(browser, "li")
    response = post_form(
        browser, "/subjects/new", "/subjects/new", **enrol_fields(home_lat="107.5", home_lon="24.7")
    )
    assert response.status_code == 422
    assert re.search(r'id="home_lat-error">latitude and longitude look swapped', response.text)


# --- the office's standard zone ----------------------------------------------------------------

TOWNSHIP = {"kind": "allowed", "name": "测试乡辖区", "lat": 24.70, "lon": 107.50, "radius_m": 5000}


def test_an_admin_sets_an_offices_standard_zone(client, admin):
    created = client.post(
        "/api/v1/offices",
        json={
            "code": "T09",
            "name": "九乡司法所",
            "lat": 24.8,
            "lon": 107.6,
            "standard_zone": {**TOWNSHIP, "lat": 24.8, "lon": 107.6},
        },
        headers=admin,
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["standard_zone"]["radius_m"] == 5000
    polygon = {
        "kind": "allowed",
        "name": "城区",
        "polygon": [[24.69, 107.49], [24.69, 107.51], [24.71, 107.51], [24.71, 107.49]],
    }
    changed = client.put("/api/v1/offices/T01/standard-zone", json={"zone": polygon}, headers=admin)
    assert changed.status_code == 200
    assert changed.get_json()["standard_zone"] == {k: v for k, v in polygon.items() if k != "kind"}
    assert_error(
        client.put(
            "/api/v1/offices/T01/standard-zone",
            json={"zone": {**TOWNSHIP, "kind": "exclusion"}},
            headers=admin,
        ),
        422,
        field="zone.kind",
    )
    assert (
        client.put(
            "/api/v1/offices/NOPE/standard-zone", json={"zone": None}, headers=admin
        ).status_code
        == 404
    )


def test_only_an_admin_sets_a_standard_zone(client, world):
    from tests.factories import bearer

    world.officer("li2", office_code="T01")
    response = client.put(
        "/api/v1/offices/T01/standard-zone", json={"zone": TOWNSHIP}, headers=bearer(client, "li2")
    )
    assert_error(response, 403)


def test_the_form_adds_the_offices_standard_zone_without_javascript(app, client, admin, browser):
    from corrections.zones.services import zones_of

    login(browser, "li")
    refused = post_form(
        browser, "/subjects/new", "/subjects/new", **enrol_fields(use_office_zone="y")
    )
    assert refused.status_code == 422
    assert 'id="use_office_zone-error">This office has no standard area yet.' in refused.text
    client.put("/api/v1/offices/T01/standard-zone", json={"zone": TOWNSHIP}, headers=admin)
    login(browser, "li")
    response = post_form(
        browser,
        "/subjects/new",
        "/subjects/new",
        **enrol_fields(
            use_office_zone="y",
            coord_source="gcj02",
            home_lat="24.7",
            home_lon="107.5",
            polygon="",
            polygon_name="",
        ),
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        subject = db.session.scalar(select(Subject).where(Subject.name == "陈大文"))
        standard = [z for z in zones_of([subject.id])[subject.id] if z.name == "测试乡辖区"]
    [zone] = standard
    from corrections.zones.rules import geodesic_m

    # The office's zone is stored in WGS-84 and stays where it is whatever the typed datum.
    assert zone.kind == "allowed" and zone.radius_m == 5000
    assert geodesic_m((zone.lat, zone.lon), (24.70, 107.50)) < 1
