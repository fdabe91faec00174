"""Pure decisions about one position against a subject's zones. No database, no clock, no Flask."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from pyproj import Geod, Transformer
from shapely import segmentize
from shapely.geometry import Point, Polygon
from shapely.ops import nearest_points


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


#: A polygon zone is a village, a town or at most a county: every corner lies within this many
#: metres of the polygon's centre (a circle zone's radius has the same bound). Larger shapes are
#: refused at entry, so the local frame below stays true to within a fraction of a percent.
POLYGON_MAX_RADIUS_M = 200_000.0
#: A smaller polygon encloses no useful area: a phone's fix is rarely better than 10 m.
POLYGON_MIN_AREA_M2 = 100.0
#: Fixes within this many metres beyond the polygon's farthest corner are measured in its frame
#: (distortion there stays below 0.3 %); farther ones along the ellipsoid, edge by edge.
NEAR_FRAME_M = 500_000.0
#: Edge spacing for measuring far fixes: at 500 km and more, sampling every 2 km misses the
#: nearest point of an edge by at most a millimetre.
FAR_SAMPLE_SPACING_M = 2_000.0
FAR_MAX_SAMPLES = 20_000

WGS84 = Geod(ellps="WGS84")


@dataclass(frozen=True)
class PolygonFrame:
    """A polygon in its own azimuthal equidistant frame, centred on the middle of its area.

    Edges are straight lines in this frame (for zones of a county's size, a straight line here
    and the geodesic between two corners differ by less than a metre). Distances and directions
    from the centre are true, so the polygon lies inside the circle of `radius_m` around the
    centre: a fix farther than that is outside, whatever the projection does far away. The frame
    belongs to the polygon, not to the fix, so neither the antimeridian nor a fix on the other
    side of the Earth distorts it."""

    lat: float
    lon: float
    radius_m: float
    shape: Polygon
    to_frame: Transformer = field(repr=False, compare=False)
    from_frame: Transformer = field(repr=False, compare=False)

    def project(self, lat: float, lon: float) -> Point:
        """A position as a point of the frame (metres east and north of the centre)."""
        x, y = self.to_frame.transform(lon, lat)
        return Point(x, y)

    def position(self, point: Point) -> tuple[float, float]:
        """A point of the frame back as (lat, lon), longitude in [-180, 180]."""
        lon, lat = self.from_frame.transform(point.x, point.y)
        return lat, _wrap(lon)


def _wrap(lon: float) -> float:
    return lon if -180.0 <= lon <= 180.0 else (lon + 180.0) % 360.0 - 180.0


@lru_cache(maxsize=64)
def _aeqd(lat: float, lon: float) -> tuple[Transformer, Transformer]:
    crs = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m"
    return (
        Transformer.from_crs("EPSG:4326", crs, always_xy=True),
        Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
    )


def _corner_mean(polygon) -> tuple[float, float] | None:
    # The mean of the corners as unit vectors: no trouble at the antimeridian or the poles.
    lat = np.radians([c[0] for c in polygon])
    lon = np.radians([c[1] for c in polygon])
    x = float((np.cos(lat) * np.cos(lon)).mean())
    y = float((np.cos(lat) * np.sin(lon)).mean())
    z = float(np.sin(lat).mean())
    norm = math.sqrt(x * x + y * y + z * z)
    if norm < 1e-9:
        return None
    return math.degrees(math.asin(z / norm)), math.degrees(math.atan2(y, x))


def _shape_in(lat: float, lon: float, polygon) -> tuple[Polygon, Transformer, Transformer]:
    forward, inverse = _aeqd(round(lat, 7), round(lon, 7))
    xs, ys = forward.transform([c[1] for c in polygon], [c[0] for c in polygon])
    return Polygon(list(zip(xs, ys, strict=True))), forward, inverse


@lru_cache(maxsize=1024)
def polygon_frame(polygon: tuple[tuple[float, float], ...]) -> PolygonFrame:
    """The polygon of (lat, lon) corners in its own frame. Built for any polygon (stored zones
    are judged whatever their size); `polygon_problem` says which ones a new zone may not be."""
    first = _corner_mean(polygon) or (polygon[0][0], polygon[0][1])
    shape, forward, inverse = _shape_in(*first, polygon)
    centre = shape.centroid if shape.is_valid and shape.area > 0 else None
    if centre is not None and not centre.is_empty:
        lon, lat = inverse.transform(centre.x, centre.y)
        lat, lon = lat, _wrap(lon)
        shape, forward, inverse = _shape_in(lat, lon, polygon)
    else:
        lat, lon = first
    radius = max(math.hypot(x, y) for x, y in shape.exterior.coords)
    return PolygonFrame(lat, lon, radius, shape, forward, inverse)


#: What may be wrong with a new polygon zone (polygon_problem).
TOO_LARGE, CROSSING, NO_AREA = "too_large", "crossing", "no_area"


def polygon_problem(polygon: tuple[tuple[float, float], ...]) -> str | None:
    """Why these (lat, lon) corners cannot be a new zone (TOO_LARGE, CROSSING, NO_AREA), or
    None. The size is checked first: in a frame around corners spread over a continent, the
    shape would mean nothing."""
    first = _corner_mean(polygon)
    if first is None or any(geodesic_m(first, c) > 2 * POLYGON_MAX_RADIUS_M for c in polygon):
        return TOO_LARGE
    frame = polygon_frame(polygon)
    if not frame.shape.is_valid:
        return CROSSING
    if frame.shape.area < POLYGON_MIN_AREA_M2:
        return NO_AREA
    if frame.radius_m > POLYGON_MAX_RADIUS_M:
        return TOO_LARGE
    return None


def geodesic_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two (lat, lon) positions along the WGS 84 ellipsoid."""
    return float(WGS84.inv(a[1], a[0], b[1], b[0])[2])


def polygon_distance_outside_m(lat: float, lon: float, frame: PolygonFrame) -> float:
    """Metres along the ellipsoid from the position to the polygon's nearest edge; 0 inside."""
    from_centre = geodesic_m((frame.lat, frame.lon), (lat, lon))
    if from_centre <= frame.radius_m + NEAR_FRAME_M:
        point = frame.project(lat, lon)
        if from_centre <= frame.radius_m and frame.shape.covers(point):
            return 0.0
        # The nearest point of the edge is found in the frame, the distance to it measured on
        # the ellipsoid, so what the evidence says is a true distance.
        nearest, _ = nearest_points(frame.shape.exterior, point)
        return geodesic_m((lat, lon), frame.position(nearest))
    return _far_distance_m(lat, lon, frame)


def _far_distance_m(lat: float, lon: float, frame: PolygonFrame) -> float:
    # Far away (up to the antipode, where no projection around the polygon holds): outside for
    # certain; the distance is the least over the edges sampled along their length.
    edge = frame.shape.exterior
    spacing = max(FAR_SAMPLE_SPACING_M, edge.length / FAR_MAX_SAMPLES)
    xs, ys = np.asarray(segmentize(edge, spacing).coords).T
    lons, lats = frame.from_frame.transform(xs, ys)
    _, _, metres = WGS84.inv(np.full(len(lons), lon), np.full(len(lats), lat), lons, lats)
    return float(np.min(metres))


def distance_outside_m(lat: float, lon: float, zone: ZoneShape) -> float:
    """Metres from the point to the zone's edge when outside it; 0 when inside or on the edge."""
    if zone.polygon is not None:
        return polygon_distance_outside_m(lat, lon, polygon_frame(zone.polygon))
    centre = geodesic_m((zone.lat, zone.lon), (lat, lon))
    return max(0.0, centre - float(zone.radius_m))


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
