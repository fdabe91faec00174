"""Chinese map datums back to WGS-84, checked against pairs other projects published."""

from __future__ import annotations

import pytest

from corrections.geo_china import BD09, GCJ02, WGS84, from_wgs84, to_wgs84
from corrections.zones.rules import geodesic_m

#: (WGS-84 lat, lon), (GCJ-02 lat, lon): the test points of googollee/eviltransform,
#: python/test.py (Shanghai, Shenzhen, Beijing).
EVILTRANSFORM_GCJ = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]
#: wandergis/coordtransform, test/app.js, at (39.915, 116.404) in Beijing (the file writes
#: longitude first): read as BD-09 it is this GCJ-02 point, read as GCJ-02 this BD-09 one, read
#: as WGS-84 this GCJ-02 one.
BEIJING = (39.915, 116.404)
COORDTRANSFORM_BD_TO_GCJ = (39.90865673957631, 116.39762729119315)
COORDTRANSFORM_GCJ_TO_BD = (39.92133699351021, 116.41036949371029)
COORDTRANSFORM_WGS_TO_GCJ = (39.91640428150164, 116.41024449916938)


@pytest.mark.parametrize("wgs, gcj", EVILTRANSFORM_GCJ)
def test_gcj02_to_wgs84_lands_on_the_published_point(wgs, gcj):
    assert geodesic_m(to_wgs84(*gcj, GCJ02), wgs) < 0.5
    assert geodesic_m(from_wgs84(*wgs, GCJ02), gcj) < 0.1


def test_the_coordtransform_pairs():
    assert geodesic_m(from_wgs84(*BEIJING, GCJ02), COORDTRANSFORM_WGS_TO_GCJ) < 0.1
    assert geodesic_m(to_wgs84(*COORDTRANSFORM_WGS_TO_GCJ, GCJ02), BEIJING) < 0.5
    # BD-09 is GCJ-02 shifted once more: from BD-09 lands where the published GCJ-02 point does.
    assert geodesic_m(to_wgs84(*BEIJING, BD09), to_wgs84(*COORDTRANSFORM_BD_TO_GCJ, GCJ02)) < 0.5
    gcj = to_wgs84(*COORDTRANSFORM_GCJ_TO_BD, BD09)
    assert geodesic_m(from_wgs84(*gcj, GCJ02), BEIJING) < 0.5


@pytest.mark.parametrize("source", [GCJ02, BD09])
@pytest.mark.parametrize("point", [(24.70, 107.50), (45.75, 126.63), (18.25, 109.5)])
def test_a_round_trip_comes_back_within_a_metre(source, point):
    shown = from_wgs84(*point, source)
    assert geodesic_m(shown, point) > 100  # the maps really do move the point
    assert geodesic_m(to_wgs84(*shown, source), point) < 1.0


def test_wgs84_and_points_outside_china_are_kept_as_typed():
    assert to_wgs84(24.70, 107.50, WGS84) == (24.70, 107.50)
    assert to_wgs84(48.8566, 2.3522, GCJ02) == (48.8566, 2.3522)
    assert to_wgs84(-33.86, 151.2, BD09) == (-33.86, 151.2)
