"""Zone and travel rules, judged without a database."""

import datetime as dt
import functools

import pytest
from geopy.distance import geodesic

from corrections.checkin import rules as position_rules
from corrections.zones import rules as zone_rules
from corrections.zones.rules import Fix, ZoneShape, distance_outside_m

#: The default ACCURACY_CEILING_M.
CEILING = 2000.0
judge_zones = functools.partial(zone_rules.judge_zones, accuracy_ceiling_m=CEILING)


def judge_travel(previous, fix, max_kmh, ceiling=CEILING):
    return position_rules.judge_travel(previous, fix, max_kmh=max_kmh, accuracy_ceiling_m=ceiling)


T0 = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
CENTRE = (24.70, 107.50)
TOWN = ZoneShape(1, "allowed", "县城", lat=CENTRE[0], lon=CENTRE[1], radius_m=1000)


def point_at(distance_m: float, bearing: float = 90.0) -> tuple[float, float]:
    """The point `distance_m` from CENTRE on `bearing` degrees."""
    p = geodesic(meters=distance_m).destination(CENTRE, bearing)
    return p.latitude, p.longitude


def fix_at(distance_m: float, accuracy_m: float, bearing: float = 90.0, at=T0) -> Fix:
    lat, lon = point_at(distance_m, bearing)
    return Fix(lat, lon, accuracy_m, at)


def test_inside_allowed_circle_is_no_finding():
    assert judge_zones(fix_at(500, 20), [TOWN]) == []


def test_fix_outside_but_accuracy_circle_overlapping_zone_is_not_a_breach():
    # 1100 m from the centre of a 1000 m zone: 100 m outside, but accuracy 150 m reaches inside.
    assert judge_zones(fix_at(1100, 150), [TOWN]) == []


def test_whole_accuracy_circle_outside_is_geofence_exit_with_measurements():
    findings = judge_zones(fix_at(1300, 150), [TOWN])
    assert [f.kind for f in findings] == ["geofence_exit"]
    evidence = findings[0].evidence
    assert evidence["distance_outside_m"] == pytest.approx(300, abs=1)
    assert evidence["margin_m"] == pytest.approx(150, abs=1)
    assert evidence["nearest_zone"] == "县城"


def test_allowed_zones_are_a_union():
    far = ZoneShape(2, "allowed", "工作地", *point_at(5000), radius_m=500)
    assert judge_zones(fix_at(5000, 10), [TOWN, far]) == []


def test_no_allowed_zone_means_no_geofence_rule():
    assert judge_zones(fix_at(90_000, 10), []) == []


def test_exclusion_zone_judged_on_the_fix_itself():
    bar_lat, bar_lon = point_at(600)
    bar = ZoneShape(3, "exclusion", "网吧", lat=bar_lat, lon=bar_lon, radius_m=50)
    inside = judge_zones(fix_at(620, 200), [TOWN, bar])
    assert [f.kind for f in inside] == ["exclusion_zone"]
    assert inside[0].evidence["zone"] == "网吧"
    # 100 m away: the accuracy circle overlaps the bar, but the fix itself is outside.
    assert judge_zones(fix_at(700, 200), [TOWN, bar]) == []


def square(half_m: float) -> tuple[tuple[float, float], ...]:
    corners = [point_at(half_m * 2**0.5, bearing) for bearing in (45, 135, 225, 315)]
    return tuple(corners)


def test_polygon_zone_distance_is_in_metres():
    zone = ZoneShape(4, "allowed", "村", polygon=square(500))
    assert distance_outside_m(*point_at(200), zone) == 0.0
    assert distance_outside_m(*point_at(800), zone) == pytest.approx(300, rel=0.01)


def test_polygon_allowed_zone_respects_accuracy():
    zone = ZoneShape(4, "allowed", "村", polygon=square(500))
    assert judge_zones(fix_at(800, 350), [zone]) == []
    assert [f.kind for f in judge_zones(fix_at(800, 250), [zone])] == ["geofence_exit"]


def test_polygon_exclusion_zone():
    zone = ZoneShape(5, "exclusion", "学校", polygon=square(100))
    assert [f.kind for f in judge_zones(fix_at(50, 500), [zone])] == ["exclusion_zone"]
    assert judge_zones(fix_at(150, 5), [zone]) == []


def test_travel_faster_than_limit_after_discounting_accuracy():
    a = fix_at(0, 50)
    b = fix_at(30_000, 50, at=T0 + dt.timedelta(minutes=5))  # 30 km in 5 min = 360 km/h
    finding = judge_travel(a, b, 300)
    assert finding is not None and finding.kind == "impossible_travel"
    assert finding.evidence["speed_kmh"] == pytest.approx(358.8, abs=0.5)


def test_travel_within_limit_once_accuracy_is_discounted():
    a = fix_at(0, 2000)
    b = fix_at(30_000, 2000, at=T0 + dt.timedelta(minutes=5))  # 26 km in 5 min = 312 km/h raw
    b_slow = fix_at(27_000, 2000, at=T0 + dt.timedelta(minutes=5))  # 23 km → 276 km/h
    assert judge_travel(a, b, 300) is not None
    assert judge_travel(a, b_slow, 300) is None


def test_no_previous_fix_no_travel_finding():
    assert judge_travel(None, fix_at(0, 10), 300) is None


# --- the accuracy ceiling -------------------------------------------------------------------


def test_a_claimed_accuracy_above_the_ceiling_counts_as_the_ceiling():
    # 100 km outside, claiming 100 km accuracy: it would never be outside; it counts as 2 km.
    far = fix_at(101_000, 100_000)
    [finding] = judge_zones(far, [TOWN])
    assert finding.kind == "geofence_exit"
    assert finding.evidence["accuracy_m"] == 100_000  # the claim is kept...
    assert finding.evidence["accuracy_counted_m"] == CEILING  # ...beside what was counted
    assert finding.evidence["margin_m"] == pytest.approx(100_000 - CEILING, abs=1)


def test_below_the_ceiling_the_claim_counts_as_it_is():
    [finding] = judge_zones(fix_at(4000, 1500), [TOWN])  # 3 km outside, 1.5 km accuracy
    assert "accuracy_counted_m" not in finding.evidence
    assert finding.evidence["margin_m"] == pytest.approx(1500, abs=1)
    assert judge_zones(fix_at(2900, 1950), [TOWN]) == []  # 1.9 km outside, within 1.95 km


def test_the_ceiling_is_a_setting():
    coarse = fix_at(6000, 8000)
    assert [f.kind for f in judge_zones(coarse, [TOWN])] == ["geofence_exit"]
    assert zone_rules.judge_zones(coarse, [TOWN], accuracy_ceiling_m=10_000) == []


def test_a_huge_claimed_accuracy_cannot_hide_impossible_travel():
    a = fix_at(0, 50_000)
    b = fix_at(200_000, 50_000, at=T0 + dt.timedelta(minutes=25))  # 200 km in 25 minutes
    finding = judge_travel(a, b, 300)
    assert finding is not None
    assert finding.evidence["distance_after_accuracy_m"] == pytest.approx(196_000, abs=10)
    assert finding.evidence["to"]["accuracy_counted_m"] == CEILING
    # Counted as claimed, 100 km would be left: 240 km/h, within the limit.
    assert judge_travel(a, b, 300, ceiling=100_000) is None


def test_mock_location_is_a_finding_only_when_the_phone_says_so():
    fix = fix_at(0, 10)
    assert position_rules.judge_mock(fix, None, CEILING) is None
    assert position_rules.judge_mock(fix, False, CEILING) is None
    finding = position_rules.judge_mock(fix, True, CEILING)
    assert finding.kind == "mock_location" and finding.evidence["lat"] == fix.lat
