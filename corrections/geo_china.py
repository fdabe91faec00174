"""Coordinates from Chinese maps back to WGS-84, the datum this system stores and judges in.

A phone's GPS and 天地图 give WGS-84. 高德 (Amap) and 腾讯 (Tencent) maps show GCJ-02, which
shifts a point by a few hundred metres inside China; 百度 (Baidu) adds its own BD-09 shift on top.
A home copied from one of those apps and stored as is would sit several hundred metres off, and
a small zone around it would raise wrong alerts. Outside mainland China both shifts are not
applied by the maps, so a point there is taken as it is.
"""

from __future__ import annotations

import prcoords

WGS84, GCJ02, BD09 = "wgs84", "gcj02", "bd09"
#: The datums a typed coordinate may come from.
SOURCES = (WGS84, GCJ02, BD09)


def to_wgs84(lat: float, lon: float, source: str) -> tuple[float, float]:
    """The WGS-84 point for (lat, lon) read off a map in `source` (one of SOURCES). The inverse
    is found by iteration (prcoords' "bored" functions), to well under a metre."""
    if source == WGS84 or not prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)):
        return lat, lon
    if source == GCJ02:
        point = prcoords.gcj_wgs_bored((lat, lon))
    elif source == BD09:
        point = prcoords.bd_wgs_bored((lat, lon))
    else:
        raise ValueError(f"unknown coordinate source {source!r}")
    return point.lat, point.lon


def from_wgs84(lat: float, lon: float, source: str) -> tuple[float, float]:
    """The point as a map in `source` shows the WGS-84 point (lat, lon); for tests and for
    telling an officer where to look."""
    if source == WGS84 or not prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)):
        return lat, lon
    if source == GCJ02:
        point = prcoords.wgs_gcj((lat, lon))
    elif source == BD09:
        point = prcoords.wgs_bd((lat, lon))
    else:
        raise ValueError(f"unknown coordinate source {source!r}")
    return point.lat, point.lon
