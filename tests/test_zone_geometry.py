"""Polygon zones anywhere on the Earth: across the antimeridian, near the poles, and judged against
fixes far away (up to the polygon's antipode). Pure rules, schema and storage."""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pytest
from pydantic import ValidationError
from pyproj import Geod

from corrections.maps import MapData
from corrections.zones import rules
from corrections.zones.rules import Fix, ZoneShape, distance_outside_m
from corrections.zones.schemas import PolygonZoneIn

WGS84 = Geod(ellps="WGS84")
T0 = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
judge_zones = functools.partial(rules.judge_zones, accuracy_ceiling_m=2000.0)


def destination(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    """The point `metres` from (lat, lon) on `bearing`, longitude in [-180, 180]."""
    lon2, lat2, _ = WGS84.fwd(lon, lat, bearing, metres)
    return lat2, lon2


def square_around(lat: float, lon: float, half_m: float) -> tuple[tuple[float, float], ...]:
    """A square of side 2 * half_m centred on (lat, lon), corners NE, SE, SW, NW."""
    return tuple(destination(lat, lon, b, half_m * 2**0.5) for b in (45, 135, 225, 315))


def boundary_distance_m(lat: float, lon: float, polygon) -> float:
    """The oracle: the geodesic distance from the point to the polygon's edges, each edge sampled
    every few metres along its geodesic (for the small polygons here, a straight edge in any
    local projection and the geodesic differ by far less than a millimetre)."""
    best = float("inf")
    corners = list(polygon)
    for (lat1, lon1), (lat2, lon2) in zip(corners, corners[1:] + corners[:1], strict=True):
        points = [(lon1, lat1), *WGS84.npts(lon1, lat1, lon2, lat2, 400), (lon2, lat2)]
        lons = np.array([p[0] for p in points])
        lats = np.array([p[1] for p in points])
        _, _, dist = WGS84.inv(np.full(lons.shape, lon), np.full(lats.shape, lat), lons, lats)
        best = min(best, float(dist.min()))
    return best


# --- across the antimeridian (Fiji, Chukotka, the Aleutians) -------------------------------

#: A 2 km square on the antimeridian at Taveuni, Fiji: corners at lon 179.99 and -179.99.
FIJI = (-16.80, 180.0)
FIJI_SQUARE = ((-16.79, 179.99), (-16.79, -179.99), (-16.81, -179.99), (-16.81, 179.99))
FIJI_ZONE = ZoneShape(1, "allowed", "Taveuni", polygon=FIJI_SQUARE)


@pytest.mark.parametrize("lon", [179.995, 180.0, -180.0, -179.995])
def test_a_polygon_across_the_antimeridian_contains_fixes_on_both_sides(lon):
    assert distance_outside_m(-16.80, lon, FIJI_ZONE) == 0.0
    assert judge_zones(Fix(-16.80, lon, 10, T0), [FIJI_ZONE]) == []


@pytest.mark.parametrize("lon", [179.95, -179.95])
def test_outside_a_polygon_across_the_antimeridian_the_distance_is_geodesic(lon):
    measured = distance_outside_m(-16.80, lon, FIJI_ZONE)
    assert measured == pytest.approx(boundary_distance_m(-16.80, lon, FIJI_SQUARE), abs=1.0)
    assert measured == pytest.approx(4260, rel=0.01)  # 0.04 degrees of longitude at 16.8 S


def test_an_exclusion_polygon_across_the_antimeridian_catches_the_fix():
    zone = ZoneShape(2, "exclusion", "码头", polygon=FIJI_SQUARE)
    [finding] = judge_zones(Fix(-16.80, -179.999, 5, T0), [zone])
    assert finding.kind == "exclusion_zone"


def test_a_polygon_around_the_north_pole_is_judged_in_its_own_frame():
    ring = tuple(destination(90.0, 0.0, 180.0 - b, 5000) for b in range(0, 360, 45))
    zone = ZoneShape(3, "allowed", "极点", polygon=ring)
    assert distance_outside_m(89.99, 123.0, zone) == 0.0
    lat, lon = destination(90.0, 0.0, 180.0 - 60, 8000)
    assert distance_outside_m(lat, lon, zone) == pytest.approx(
        boundary_distance_m(lat, lon, ring), abs=1.0
    )


# --- fixes far from the polygon ------------------------------------------------------------

#: A 1 km square around a county seat in Guangxi.
TOWN = (24.70, 107.50)
TOWN_SQUARE = square_around(*TOWN, 500)
TOWN_ZONE = ZoneShape(4, "allowed", "县城", polygon=TOWN_SQUARE)


@pytest.mark.parametrize("metres", [2_000, 50_000, 900_000, 3_000_000, 12_000_000])
@pytest.mark.parametrize("bearing", [0, 75, 200])
def test_a_fix_far_away_is_outside_at_its_geodesic_distance(metres, bearing):
    lat, lon = destination(*TOWN, bearing, metres)
    measured = distance_outside_m(lat, lon, TOWN_ZONE)
    expected = boundary_distance_m(lat, lon, TOWN_SQUARE)
    assert measured == pytest.approx(expected, abs=1.0)
    [finding] = judge_zones(Fix(lat, lon, 50, T0), [TOWN_ZONE])
    assert finding.kind == "geofence_exit"


def test_a_fix_at_the_polygons_antipode_is_outside_by_half_the_earth():
    lat, lon = -TOWN[0], TOWN[1] - 180.0
    measured = distance_outside_m(lat, lon, TOWN_ZONE)
    assert measured == pytest.approx(boundary_distance_m(lat, lon, TOWN_SQUARE), abs=1.0)
    assert 19_900_000 < measured < 20_100_000
    assert [f.kind for f in judge_zones(Fix(lat, lon, 10, T0), [TOWN_ZONE])] == ["geofence_exit"]


def test_an_exclusion_polygon_does_not_catch_a_fix_at_its_antipode():
    zone = ZoneShape(5, "exclusion", "网吧", polygon=TOWN_SQUARE)
    assert judge_zones(Fix(-TOWN[0], TOWN[1] - 180.0, 10, T0), [zone]) == []


def test_near_the_edge_the_distance_is_still_metres():
    lat, lon = destination(*TOWN, 90, 800)  # 300 m east of the east edge
    assert distance_outside_m(lat, lon, TOWN_ZONE) == pytest.approx(300, abs=1.0)
    lat, lon = destination(*TOWN, 90, 450)
    assert distance_outside_m(lat, lon, TOWN_ZONE) == 0.0


# --- the frame: centre and size --------------------------------------------------------------


def test_the_centre_of_a_polygon_across_the_antimeridian_is_on_it():
    frame = rules.polygon_frame(FIJI_SQUARE)
    assert frame.lat == pytest.approx(-16.80, abs=1e-4)
    assert abs(frame.lon) == pytest.approx(180.0, abs=1e-4)
    assert frame.radius_m == pytest.approx(1500, rel=0.05)


def test_the_centre_is_the_middle_of_the_area_not_the_mean_of_the_corners():
    # Many corners bunched on one side pull a corner mean, not the middle of the area.
    lat, lon = TOWN
    corners = [destination(lat, lon, 90 + b, 1000) for b in range(-40, 41, 5)]
    corners += [destination(lat, lon, 270, 1000)]
    frame = rules.polygon_frame(tuple(corners))
    offset = WGS84.inv(lon, lat, frame.lon, frame.lat)[2]
    assert offset < 400  # the corner mean lies about 850 m east


# --- what the schema accepts ---------------------------------------------------------------


def zone_body(polygon) -> dict:
    return {"kind": "allowed", "name": "区域", "polygon": [list(c) for c in polygon]}


def refusal(polygon) -> str:
    with pytest.raises(ValidationError) as caught:
        PolygonZoneIn.from_plain(zone_body(polygon))
    [error] = caught.value.errors()
    return str(error["ctx"]["error"]) if "ctx" in error else error["msg"]


def test_a_polygon_across_the_antimeridian_is_accepted():
    assert PolygonZoneIn.from_plain(zone_body(FIJI_SQUARE)).polygon[1] == (-16.79, -179.99)


def test_a_simple_polygon_that_only_crosses_itself_in_longitude_degrees_is_accepted():
    # Valid on the ground; drawn on a flat longitude/latitude plane its edges cross.
    notched = ((-16.79, 179.995), (-16.79, -179.995), (-16.80, 179.998), (-16.81, -179.995))
    notched += ((-16.81, 179.995),)
    assert len(PolygonZoneIn.from_plain(zone_body(notched)).polygon) == 5


def test_a_polygon_whose_edges_cross_is_refused():
    a, b, c, d = square_around(*TOWN, 500)
    assert "cross" in refusal((a, c, b, d))


def test_a_polygon_without_area_is_refused():
    line = tuple(destination(*TOWN, 90, m) for m in (0, 500, 1000))
    assert "area" in refusal(line)


def test_a_county_sized_polygon_is_accepted_and_a_province_sized_one_refused():
    county = square_around(*TOWN, 100_000)  # 200 km wide: corners 141 km from the centre
    assert PolygonZoneIn.from_plain(zone_body(county))
    province = square_around(*TOWN, 150_000)  # 300 km wide: corners 212 km from the centre
    message = refusal(province)
    assert "too large" in message
    assert str(int(rules.POLYGON_MAX_RADIUS_M / 1000)) in message


def test_a_polygon_round_the_world_is_refused_not_misjudged():
    belt = tuple((10.0, lon) for lon in (-170, -90, -10, 70, 150))
    assert "too large" in refusal(belt)


# --- the map draws it where it is ----------------------------------------------------------


def test_the_map_draws_a_polygon_across_the_antimeridian_as_one_small_shape():
    data = MapData()
    data.add_zone(kind="allowed", name="Taveuni", polygon=[list(c) for c in FIJI_SQUARE])
    data.add_point(-16.80, -179.999, status="accepted", lines=["now"])
    lons = [c[1] for c in data.zones[0]["polygon"]]
    # 0.02 degrees of longitude (2.13 km), not a band of 359.98 degrees round the globe.
    assert max(lons) - min(lons) == pytest.approx(0.02)
    assert min(lons) < data.points[0]["lon"] < max(lons)


# --- storage: the centre kept for display ---------------------------------------------------


def test_a_stored_polygon_across_the_antimeridian_keeps_its_centre_on_it(ctx, world):
    from corrections.extensions import db
    from corrections.zones.services import add_zones

    subject = world.subject()
    [zone] = add_zones(subject["id"], [PolygonZoneIn.from_plain(zone_body(FIJI_SQUARE))])
    db.session.flush()
    assert zone.lat == pytest.approx(-16.80, abs=1e-4)
    assert abs(zone.lon) == pytest.approx(180.0, abs=1e-4)  # not 0: the mean of 179.99 and -179.99
    db.session.rollback()


def test_enrolment_refuses_a_province_sized_polygon_with_a_422_naming_it(client, admin, world):
    from tests.api_support import assert_error, row_counts
    from tests.factories import subject_body

    before = row_counts(world.app, ignore=("login_failures", "api_tokens"))
    body = subject_body(zones=[zone_body(square_around(*TOWN, 150_000))])
    error = assert_error(
        client.post("/api/v1/subjects", json=body, headers=admin), 422, field="zones.0.polygon"
    )
    assert "200 公里" in error["fields"]["zones.0.polygon"]
    assert row_counts(world.app, ignore=("login_failures", "api_tokens")) == before
