"""Pure decisions about one position against a subject's zones. No database, no clock, no Flask."""

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

    def counted_accuracy(self, ceiling_m: float) -> float:
        """The accuracy the rules count: the claim, but never more than `ceiling_m`, so a phone
        cannot switch the geofence off by claiming a huge circle."""
        return min(self.accuracy_m, ceiling_m)


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


def judge_zones(fix: Fix, zones: list[ZoneShape], *, accuracy_ceiling_m: float) -> list[Finding]:
    """geofence_exit when the whole accuracy circle lies outside every allowed zone;
    exclusion_zone when the fix itself lies inside an exclusion zone. The accuracy counted is
    capped at `accuracy_ceiling_m`; the evidence keeps the claim beside what was counted."""
    findings: list[Finding] = []
    accuracy = fix.counted_accuracy(accuracy_ceiling_m)
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
        if nearest["distance_outside_m"] > accuracy:
            findings.append(
                Finding(
                    "geofence_exit",
                    {
                        **fix_evidence(fix, accuracy_ceiling_m),
                        "nearest_zone": nearest["zone"],
                        "distance_outside_m": nearest["distance_outside_m"],
                        "margin_m": round(nearest["distance_outside_m"] - accuracy, 1),
                        "allowed_zones": measured,
                    },
                )
            )
    for zone in zones:
        if zone.kind == "exclusion" and distance_outside_m(fix.lat, fix.lon, zone) == 0.0:
            findings.append(
                Finding(
                    "exclusion_zone",
                    {
                        **fix_evidence(fix, accuracy_ceiling_m),
                        "zone": zone.name,
                        "zone_id": zone.id,
                    },
                )
            )
    return findings


def fix_evidence(fix: Fix, accuracy_ceiling_m: float | None = None) -> dict:
    """The fix as evidence: where, how accurate (claimed, and counted when capped), when."""
    evidence = {
        "lat": fix.lat,
        "lon": fix.lon,
        "accuracy_m": fix.accuracy_m,
        "recorded_at": fix.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }
    if accuracy_ceiling_m is not None and fix.accuracy_m > accuracy_ceiling_m:
        evidence["accuracy_counted_m"] = accuracy_ceiling_m
    return evidence
