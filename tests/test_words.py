"""Times, distances and check-in rhythms as a person writes them, in Chinese and English."""

from __future__ import annotations

import datetime as dt

import pytest

from corrections import clock
from corrections.auth.views import ago
from corrections.i18n import distance_text, how_often, unbroken_units
from corrections.maps import MapData
from tests.api_support import web_login
from tests.factories import PASSWORD, SEAT, phone_login

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def reader(app):
    """Runs a formatter as a reader of the given language would see it."""

    def read(language: str, formatter, *args):
        with app.test_request_context(headers={"Cookie": f"lang={language}"}):
            return formatter(*args)

    return read


@pytest.mark.parametrize(
    ("seconds", "chinese", "english"),
    [
        (0, "刚刚", "just now"),
        (59, "刚刚", "just now"),
        (-30, "刚刚", "just now"),  # a phone's clock a little ahead
        (60, "1分钟前", "1 minute ago"),
        (5 * 60 + 59, "5分钟前", "5 minutes ago"),
        (2 * 3600 + 30 * 60, "2小时30分钟前", "2 hours 30 minutes ago"),
        (3 * 86400 + 3600, "3天1小时前", "3 days 1 hour ago"),
    ],
)
def test_how_long_ago(reader, at, seconds, chinese, english):
    at(NOW)
    moment = NOW - dt.timedelta(seconds=seconds)
    assert reader("zh_CN", ago, moment) == chinese
    assert reader("en", ago, moment) == english


#: (formatter, value, Chinese, English): check-in rhythms, then distances.
WORDED = [
    (how_often, 1, "每天一次", "Once a day"),
    (how_often, 2, "每两天一次", "Every 2 days"),
    (how_often, 3, "每三天一次", "Every 3 days"),
    (how_often, 7, "每周一次", "Once a week"),
    (how_often, 10, "每十天一次", "Every 10 days"),
    (how_often, 14, "每两周一次", "Every 2 weeks"),
    (how_often, 30, "每 30 天一次", "Every 30 days"),
    (distance_text, 0, "0 米", "0 m"),
    (distance_text, 850, "850 米", "850 m"),
    (distance_text, 999.4, "999 米", "999 m"),
    (distance_text, 999.6, "1.0 公里", "1.0 km"),
    (distance_text, 1700, "1.7 公里", "1.7 km"),
    (distance_text, 99_960, "100 公里", "100 km"),
    (distance_text, 1_716_400, "1,716 公里", "1,716 km"),
]


@pytest.mark.parametrize(("formatter", "value", "chinese", "english"), WORDED)
def test_rhythms_and_distances_in_words(reader, formatter, value, chinese, english):
    assert reader("zh_CN", formatter, value) == chinese
    assert reader("en", formatter, value) == english


def test_the_subject_page_words_the_plan_the_zone_and_the_accuracy(app, client, world):
    checkin = {"every_days": 2, "window_start": "08:00", "window_end": "20:00"}
    subject = world.subject(checkin={**checkin, "video_every_days": 7})
    phone = phone_login(client, subject["phone"])
    body = {"client_id": "c-1", "lat": SEAT[0], "lon": SEAT[1], "accuracy_m": 1500}
    body["recorded_at"] = clock.isoformat(clock.now())
    assert client.post("/mobile/v1/checkins", json=body, headers=phone).status_code == 201
    web_login(client, "admin", PASSWORD)
    page = client.get(f"/subjects/{subject['id']}").get_data(as_text=True)
    assert "每两天一次" in page and "每周一次" in page and "每 2 天" not in page
    assert "半径 5.0\u00a0公里" in page  # the zone's 5000\u00a0m radius
    zones = page[page.index("<h3>区域</h3>") :]
    zones = zones[: zones.index("</thead>")]
    assert ">名称<" in zones and "姓名" not in zones
    assert "1.5\u00a0公里" in page and " m)" not in page  # the check-in's accuracy
    client.set_cookie("lang", "en")
    page = client.get(f"/subjects/{subject['id']}").get_data(as_text=True)
    assert "Every 2 days" in page and "Once a week" in page
    assert "radius 5.0\u00a0km" in page and "1.5\u00a0km" in page


def test_the_map_scale_bar_is_in_the_readers_units(reader):
    # map.js writes the bar's figure into these (tests/test_map_browser.py sees 500 米 drawn).
    def units():
        return MapData().as_dict()["units"]

    assert reader("zh_CN", units) == {"m": "%(m)s 米", "km": "%(km)s 公里"}
    assert reader("en", units) == {"m": "%(m)s m", "km": "%(km)s km"}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("在“县城”外 1.2 公里（误差 17 米）", "在“县城”外 1.2\u00a0公里（误差 17\u00a0米）"),
        (
            "Checked in 850 m outside (accurate to 17 m).",
            "Checked in 850\u00a0m outside (accurate to 17\u00a0m).",
        ),
        ("2 more alerts", "2 more alerts"),  # not a distance: left as it is
        ("1,716 km", "1,716\u00a0km"),
    ],
)
def test_a_number_and_its_unit_are_never_split_across_lines(text, shown):
    assert unbroken_units(text) == shown
