"""Storing a subject's zones and finding the ones in force on a day."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, bindparam, or_, select

from corrections.extensions import db
from corrections.zones import rules
from corrections.zones.models import Zone
from corrections.zones.schemas import PolygonZoneIn


def add_zones(subject_id: int, zones: Iterable) -> list[Zone]:
    """Store zones (CircleZoneIn / PolygonZoneIn) for a subject in the current transaction."""
    rows = [_zone(subject_id, z) for z in zones]
    db.session.add_all(rows)
    return rows


def _zone(subject_id: int, z) -> Zone:
    if isinstance(z, PolygonZoneIn):
        corners = [[lat, lon] for lat, lon in z.polygon]
        # The middle of the area on the ground (a plain mean of longitudes would put a zone
        # across the antimeridian on the other side of the Earth).
        frame = rules.polygon_frame(tuple(tuple(c) for c in corners))
        return Zone(
            subject_id=subject_id,
            kind=z.kind,
            name=z.name,
            polygon=corners,
            lat=frame.lat,
            lon=frame.lon,
        )
    return Zone(
        subject_id=subject_id, kind=z.kind, name=z.name, lat=z.lat, lon=z.lon, radius_m=z.radius_m
    )


def zones_of(subject_ids: Sequence[int]) -> dict[int, list[Zone]]:
    """Every zone of each subject (one statement), in the order they were added."""
    found: dict[int, list[Zone]] = defaultdict(list)
    if not subject_ids:
        return found
    for zone in db.session.scalars(
        select(Zone).where(Zone.subject_id.in_(subject_ids)).order_by(Zone.id)
    ):
        found[zone.subject_id].append(zone)
    return found


#: A zone's columns as the pure rules see it (shape_of() reads a row of them).
SHAPE_COLUMNS = (Zone.id, Zone.kind, Zone.name, Zone.lat, Zone.lon, Zone.radius_m, Zone.polygon)
ShapeRow = namedtuple("ShapeRow", [c.key for c in SHAPE_COLUMNS])


def in_force_between(first, last):
    """The SQL condition of a zone in force on some day from `first` to `last` (dates, or
    expressions of them): permanent, or dated over one of those days."""
    return and_(
        or_(Zone.valid_from.is_(None), Zone.valid_from <= last),
        or_(Zone.valid_to.is_(None), Zone.valid_to >= first),
    )


def zones_in_force(subject_id: int, day: dt.date) -> list[rules.ZoneShape]:
    """The subject's zones that apply on local `day` (permanent ones and dated ones covering it):
    one statement of plain columns, no ORM loading (every check-in asks)."""
    rows = db.session.execute(
        select(*SHAPE_COLUMNS)
        .where(Zone.subject_id == subject_id, in_force_between(day, day))
        .order_by(Zone.id)
    )
    return [shape_of(row) for row in rows]


def shape_of(zone) -> rules.ZoneShape:
    """A stored zone (a Zone, or a row of its columns) as the pure rules see it."""
    return rules.ZoneShape(
        id=zone.id,
        kind=zone.kind,
        name=zone.name,
        lat=zone.lat,
        lon=zone.lon,
        radius_m=zone.radius_m,
        polygon=tuple(tuple(c) for c in zone.polygon) if zone.polygon else None,
    )


#: zones_on_days' question, built once (every batch of background positions asks it): plain
#: columns, no ORM loading.
_ON_DAYS = (
    select(*SHAPE_COLUMNS, Zone.valid_from, Zone.valid_to)
    .where(
        Zone.subject_id == bindparam("subject_id"),
        in_force_between(bindparam("first"), bindparam("last")),
    )
    .order_by(Zone.id)
)


def zones_on_days(subject_id: int, days: set[dt.date]) -> dict[dt.date, list[rules.ZoneShape]]:
    """The subject's zones in force on each of the local `days`, read with one statement (a
    batch of background positions spans a day or two)."""
    rows = db.session.execute(
        _ON_DAYS, {"subject_id": subject_id, "first": min(days), "last": max(days)}
    ).all()
    shapes = [(shape_of(z), z.valid_from, z.valid_to) for z in rows]
    return {
        day: [
            shape
            for shape, start, end in shapes
            if (start is None or start <= day) and (end is None or end >= day)
        ]
        for day in days
    }
