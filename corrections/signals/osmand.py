"""The OsmAnd protocol as the open-source tracking apps really send it, read into one position.

A subject under an electronic-monitoring order may run the Traccar Client or OsmAnd for
background tracking instead of our own app. They all speak Traccar's "OsmAnd" protocol, in
three shapes (the Traccar server's OsmAndProtocolDecoder and its tests are the reference):

- **OsmAnd** and scripts: the query string of a GET or POST, `?id=…&lat=…&lon=…&timestamp=…`.
- **Traccar Client 10.x**: the same fields as a flat form body (Unix seconds, `speed` in knots,
  `batt` in percent, `accuracy` in metres, no mock flag).
- **Traccar Client 9.x**: JSON, `{"device_id": …, "location": {"timestamp": ISO 8601,
  "coords": {"latitude", "longitude", "accuracy", "speed" (m/s, negative when unknown)},
  "battery": {"level": 0–1}, "mock": true|false}}`.

The device is `id` or `deviceid`; the position `lat`/`lon` or `location=lat,lon`; the time Unix
seconds, milliseconds (any value above 10^12), ISO 8601, or `yyyy-MM-dd HH:mm:ss` in the
county's local time; absent, the arrival time stands for it. Pure: no database, no request.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

#: Knots to kilometres an hour (Traccar's `speed` unit).
KNOT_KMH = 1.852
#: A Unix time above this is milliseconds (year 33658 in seconds; 1973 in milliseconds).
MILLISECONDS_FROM = 10**12
#: The longest device id we keep (Traccar's own unique ids are at most 128 characters).
DEVICE_ID_MAX = 128


class Malformed(ValueError):
    """A request that is not a position: `field` names the part at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Position:
    """One position as a tracking app reported it, in our units; `recorded_at` is None when the
    app sent no time (the arrival time then stands for it)."""

    device_id: str
    lat: float
    lon: float
    recorded_at: dt.datetime | None
    accuracy_m: float | None = None
    speed_kmh: float | None = None
    battery_pct: float | None = None
    mock_location: bool | None = None


def parse(fields: Mapping[str, str], body: object | None, zone: ZoneInfo) -> Position:
    """The position in a request: `fields` are the query string and form merged (one value
    each), `body` the decoded JSON body or None; `zone` reads a time written without one."""
    if isinstance(body, dict) and isinstance(body.get("location"), dict):
        return _from_json(body, zone)
    if body is not None:
        raise Malformed("body", "a JSON body must hold device_id and location")
    return _from_fields(fields, zone)


def _from_fields(fields: Mapping[str, str], zone: ZoneInfo) -> Position:
    device = _device(fields.get("id") or fields.get("deviceid"))
    if fields.get("location"):
        parts = fields["location"].split(",")
        if len(parts) != 2:
            raise Malformed("location", "must be latitude,longitude")
        lat, lon = _number("lat", parts[0]), _number("lon", parts[1])
    else:
        lat, lon = _number("lat", fields.get("lat")), _number("lon", fields.get("lon"))
    speed = _optional("speed", fields.get("speed"))
    return Position(
        device_id=device,
        lat=_latitude(lat),
        lon=_longitude(lon),
        recorded_at=_time(fields.get("timestamp"), zone),
        accuracy_m=_accuracy(_optional("accuracy", fields.get("accuracy"))),
        speed_kmh=None if speed is None or speed < 0 else speed * KNOT_KMH,
        battery_pct=_percent("batt", _optional("batt", fields.get("batt"))),
        mock_location=_flag("mock", fields.get("mock")),
    )


def _from_json(body: dict, zone: ZoneInfo) -> Position:
    location = body["location"]
    coords = location.get("coords")
    if not isinstance(coords, dict):
        raise Malformed("location.coords", "is missing")
    battery = location.get("battery") if isinstance(location.get("battery"), dict) else {}
    level = _optional("battery.level", battery.get("level"))
    speed = _optional("location.coords.speed", coords.get("speed"))
    mock = location.get("mock")
    if mock is not None and not isinstance(mock, bool):
        raise Malformed("location.mock", "must be true or false")
    return Position(
        device_id=_device(body.get("device_id")),
        lat=_latitude(_number("location.coords.latitude", coords.get("latitude"))),
        lon=_longitude(_number("location.coords.longitude", coords.get("longitude"))),
        recorded_at=_time(location.get("timestamp"), zone),
        accuracy_m=_accuracy(_optional("location.coords.accuracy", coords.get("accuracy"))),
        speed_kmh=None if speed is None or speed < 0 else speed * 3.6,
        battery_pct=_percent("battery.level", None if level is None else level * 100),
        mock_location=mock,
    )


def _device(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Malformed("id", "the device id is missing")
    text = str(value).strip()
    if len(text) > DEVICE_ID_MAX or not text.isprintable():
        raise Malformed("id", "is not a device id")
    return text


def _number(field: str, value) -> float:
    if value is None or value == "":
        raise Malformed(field, "is missing")
    number = _optional(field, value)
    assert number is not None
    return number


def _optional(field: str, value) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Malformed(field, "must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Malformed(field, "must be a number") from None
    if not math.isfinite(number):
        raise Malformed(field, "must be a number")
    return number


def _latitude(value: float) -> float:
    if not -90 <= value <= 90:
        raise Malformed("lat", "must lie between -90 and 90")
    return value


def _longitude(value: float) -> float:
    if not -180 <= value <= 180:
        raise Malformed("lon", "must lie between -180 and 180")
    return value


def _accuracy(value: float | None) -> float | None:
    if value is None or value <= 0:
        return None  # the apps send 0 or -1 when they do not know
    return value


def _percent(field: str, value: float | None) -> float | None:
    if value is None or value < 0:
        return None
    if value > 100:
        raise Malformed(field, "must be a share of the battery")
    return value


def _flag(field: str, value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise Malformed(field, "must be true or false")


def _time(value, zone: ZoneInfo) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _unix(float(value))
    text = str(value).strip()
    try:
        return _unix(float(text))
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Malformed("timestamp", "is not a time") from None
    if moment.tzinfo is None:
        # "2014-06-04 09:10:11" (OsmAnd's own form) is the phone's wall clock: the county's.
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def _unix(seconds: float) -> dt.datetime:
    if not math.isfinite(seconds) or seconds < 0:
        raise Malformed("timestamp", "is not a time")
    if seconds > MILLISECONDS_FROM:
        seconds /= 1000
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise Malformed("timestamp", "is not a time") from None
