"""Pure decisions about one position: zones and travel speed. No database, no clock, no Flask."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from geopy.distance import geodesic
from pyproj import Transformer
from shapely.geometry import Point, Polygon


@dataclass(frozen=True)
class Fix:
    """A position with its accuracy radius (metres) and the time it was taken."""

    lat: float
    lon: float
    accuracy_m: float
    at: dt.datetime


@dataclass(frozen=True)
class ZoneShape:
    """A zone as the rules see it: a circle (centre, radius) or a polygon of (lat, lon)."""

    id: int | None
    kind: str
    name: str
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    polygon: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True)
class Finding:
    """A rule's verdict: the alert kind it calls for and the measurements behind it."""

    kind: str
    evidence: dict = field(default_factory=dict)


@lru_cache(maxsize=256)
def _local_projection(lat: float, lon: float) -> Transformer:
    # Azimuthal equidistant around the fix: distances from the fix are true metres.
    return Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m", always_xy=True
    )


def _polygon_around(fix_lat: float, fix_lon: float, polygon) -> Polygon:
    project = _local_projection(round(fix_lat, 5), round(fix_lon, 5))
    lons = [p[1] for p in polygon]
    lats = [p[0] for p in polygon]
    xs, ys = project.transform(lons, lats)
    return Polygon(list(zip(xs, ys, strict=True)))


def distance_outside_m(lat: float, lon: float, zone: ZoneShape) -> float:
    """Metres from the point to the zone's edge when outside it; 0 when inside or on the edge."""
    if zone.polygon is not None:
        shape = _polygon_around(lat, lon, zone.polygon)
        origin = _origin_offset(lat, lon)
        return 0.0 if shape.covers(origin) else float(shape.distance(origin))
    centre = geodesic((zone.lat, zone.lon), (lat, lon)).meters
    return max(0.0, centre - float(zone.radius_m))


def _origin_offset(lat: float, lon: float) -> Point:
    # The projection is centred on the rounded fix; place the fix itself exactly.
    project = _local_projection(round(lat, 5), round(lon, 5))
    x, y = project.transform(lon, lat)
    return Point(x, y)


def judge_zones(fix: Fix, zones: list[ZoneShape]) -> list[Finding]:
    """geofence_exit when the whole accuracy circle lies outside every allowed zone;
    exclusion_zone when the fix itself lies inside an exclusion zone."""
    findings: list[Finding] = []
    allowed = [z for z in zones if z.kind == "allowed"]
    if allowed:
        measured = [
            {
                "zone": z.name,
                "zone_id": z.id,
                "distance_outside_m": round(distance_outside_m(fix.lat, fix.lon, z), 1),
            }
            for z in allowed
        ]
        nearest = min(measured, key=lambda m: m["distance_outside_m"])
        if nearest["distance_outside_m"] > fix.accuracy_m:
            findings.append(
                Finding(
                    "geofence_exit",
                    {
                        **_fix_evidence(fix),
                        "nearest_zone": nearest["zone"],
                        "distance_outside_m": nearest["distance_outside_m"],
                        "margin_m": round(nearest["distance_outside_m"] - fix.accuracy_m, 1),
                        "allowed_zones": measured,
                    },
                )
            )
    for zone in zones:
        if zone.kind == "exclusion" and distance_outside_m(fix.lat, fix.lon, zone) == 0.0:
            findings.append(
                Finding(
                    "exclusion_zone",
                    {**_fix_evidence(fix), "zone": zone.name, "zone_id": zone.id},
                )
            )
    return findings


def judge_travel(previous: Fix | None, fix: Fix, max_kmh: float) -> Finding | None:
    """impossible_travel when, both accuracy circles discounted, the speed still exceeds max_kmh."""
    if previous is None:
        return None
    seconds = abs((fix.at - previous.at).total_seconds())
    distance = geodesic((previous.lat, previous.lon), (fix.lat, fix.lon)).meters
    discounted = max(0.0, distance - previous.accuracy_m - fix.accuracy_m)
    if discounted == 0.0:
        return None
    kmh = float("inf") if seconds == 0 else discounted / seconds * 3.6
    if kmh <= max_kmh:
        return None
    return Finding(
        "impossible_travel",
        {
            "from": _fix_evidence(previous),
            "to": _fix_evidence(fix),
            "distance_m": round(distance, 1),
            "distance_after_accuracy_m": round(discounted, 1),
            "seconds": seconds,
            "speed_kmh": None if seconds == 0 else round(kmh, 1),
            "limit_kmh": max_kmh,
        },
    )


def _fix_evidence(fix: Fix) -> dict:
    return {
        "lat": fix.lat,
        "lon": fix.lon,
        "accuracy_m": fix.accuracy_m,
        "recorded_at": fix.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }
