"""The OsmAnd protocol parser against the requests the real clients send: the Traccar server's
own decoder tests (OsmAndProtocolDecoderTest), Traccar Client 10's flat form and 9's JSON."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from corrections.signals.osmand import Malformed, parse

SHANGHAI = ZoneInfo("Asia/Shanghai")


def query(url: str) -> dict[str, str]:
    """A request line's query string, one value per name, as Flask reads it."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


@pytest.mark.parametrize(
    ("url", "device", "lat", "lon", "when"),
    [
        (
            "/?id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0"
            "&altitude=224.0&speed=0.0",
            "902064",
            42.06288,
            -88.23412,
            dt.datetime(2016, 1, 27, 18, 55, 47, tzinfo=dt.UTC),
        ),
        (
            "/?id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579&hdop=6.0",
            "902064",
            42.06288,
            -88.23412,
            dt.datetime(2015, 9, 12, 14, 38, 6, 579000, tzinfo=dt.UTC),
        ),
        (
            # OsmAnd's own form: a wall-clock time with no zone, read in the county's.
            "/?lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11&altitude=384.7"
            "&speed=0.0&id=353861053849681",
            "353861053849681",
            49.60688,
            6.15788,
            dt.datetime(2014, 6, 4, 1, 10, 11, tzinfo=dt.UTC),
        ),
        (
            "/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0",
            "123456",
            60.0,
            30.0,
            dt.datetime(2013, 8, 22, 13, 14, 27, tzinfo=dt.UTC),
        ),
        (
            "/?lat=60.0&lon=30.0&speed=0.0&heading=0.0&vacc=0&hacc=0&altitude=0&deviceid=123456",
            "123456",
            60.0,
            30.0,
            None,
        ),
        (
            "/?id=123456&timestamp=1377177267&location=60.0,30.0",
            "123456",
            60.0,
            30.0,
            dt.datetime(2013, 8, 22, 13, 14, 27, tzinfo=dt.UTC),
        ),
    ],
)
def test_the_traccar_decoders_own_requests_are_read(url, device, lat, lon, when):
    position = parse(query(url), None, SHANGHAI)
    assert (position.device_id, position.lat, position.lon) == (device, lat, lon)
    assert position.recorded_at == when


def test_traccar_client_10_posts_a_flat_form_in_knots_and_percent():
    form = {
        "id": "865432",
        "timestamp": "1764741600",
        "lat": "24.701234",
        "lon": "107.501234",
        "speed": "10.0",
        "bearing": "90.0",
        "altitude": "210.5",
        "accuracy": "12.5",
        "batt": "76.0",
        "charge": "false",
    }
    position = parse(form, None, SHANGHAI)
    assert position.speed_kmh == pytest.approx(18.52)
    assert position.accuracy_m == 12.5 and position.battery_pct == 76.0
    assert position.mock_location is None  # Traccar Client 10 does not say
    assert position.recorded_at == dt.datetime(2025, 12, 3, 6, 0, tzinfo=dt.UTC)


def test_traccar_client_9_posts_json_with_a_mock_flag_and_a_battery_share():
    body = {
        "location": {
            "event": "motionchange",
            "is_moving": False,
            "uuid": "3b1f0c9e",
            "timestamp": "2026-12-03T01:02:03.456Z",
            "odometer": 0,
            "coords": {
                "latitude": 24.7,
                "longitude": 107.5,
                "accuracy": 8.4,
                "speed": 2.5,
                "heading": -1,
                "altitude": 212,
            },
            "activity": {"type": "still", "confidence": 100},
            "battery": {"is_charging": False, "level": 0.55},
            "extras": {},
            "mock": True,
        },
        "device_id": "865432",
    }
    position = parse({}, body, SHANGHAI)
    assert position.device_id == "865432" and position.mock_location is True
    assert position.speed_kmh == pytest.approx(9.0) and position.battery_pct == pytest.approx(55)
    assert position.recorded_at == dt.datetime(2026, 12, 3, 1, 2, 3, 456000, tzinfo=dt.UTC)
    unknown = {
        **body,
        "location": {
            **body["location"],
            "coords": {"latitude": 1, "longitude": 2, "speed": -1, "accuracy": -1},
        },
    }
    moving = parse({}, unknown, SHANGHAI)
    assert moving.speed_kmh is None and moving.accuracy_m is None


@pytest.mark.parametrize(
    ("fields", "body", "field"),
    [
        ({"timestamp": "1377177267", "lat": "60.0", "lon": "30.0"}, None, "id"),
        ({"id": "1", "lat": "60.0"}, None, "lon"),
        ({"id": "1", "lat": "abc", "lon": "30"}, None, "lat"),
        ({"id": "1", "lat": "NaN", "lon": "30"}, None, "lat"),
        ({"id": "1", "lat": "91", "lon": "30"}, None, "lat"),
        ({"id": "1", "lat": "60", "lon": "-180.5"}, None, "lon"),
        ({"id": "1", "location": "60.0"}, None, "location"),
        ({"id": "1", "lat": "60", "lon": "30", "timestamp": "yesterday"}, None, "timestamp"),
        ({"id": "1", "lat": "60", "lon": "30", "timestamp": "-5"}, None, "timestamp"),
        ({"id": "1", "lat": "60", "lon": "30", "batt": "250"}, None, "batt"),
        ({"id": "1", "lat": "60", "lon": "30", "mock": "perhaps"}, None, "mock"),
        ({"id": "x" * 129, "lat": "60", "lon": "30"}, None, "id"),
        ({}, {"device_id": "1", "location": {"timestamp": 1}}, "location.coords"),
        (
            {},
            {"device_id": "1", "location": {"coords": {"latitude": True, "longitude": 1}}},
            "location.coords.latitude",
        ),
        ({}, [1, 2], "body"),
    ],
)
def test_a_malformed_request_names_what_is_wrong(fields, body, field):
    with pytest.raises(Malformed) as refused:
        parse(fields, body, SHANGHAI)
    assert refused.value.field == field
