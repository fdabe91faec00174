"""The maps of the case file: one subject (zones, home, recent check-ins, their office) and one
alert (the fix and its accuracy, the zone it broke, home, the last check-in, the nearest office).

The map component itself is `corrections.maps`; this module chooses what to draw and words each
mark in the reader's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from flask_babel import gettext
from sqlalchemy import select

from corrections import clock
from corrections.alerts.catalogue import kind as catalogue_kind
from corrections.extensions import db
from corrections.i18n import distance_text
from corrections.maps import MapData
from corrections.offices.models import Office
from corrections.zones.rules import geodesic_m

#: How far around a position the nearest office is looked for (degrees; about 55 km north to
#: south): a township office is a few kilometres away, and the box keeps the candidates few.
NEAR_OFFICE_DEGREES = 0.5


def _when(at: dt.datetime | str | None) -> str:
    if isinstance(at, str):
        try:
            at = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            return ""
    at = clock.as_utc(at)
    return at.astimezone(clock.local_zone()).strftime("%Y-%m-%d %H:%M") if at else ""


def _accuracy(accuracy_m: float | None) -> str:
    if accuracy_m is None:
        return ""
    return gettext("Accurate to %(distance)s", distance=distance_text(accuracy_m))


def _kind_label(kind: str) -> str:
    try:
        return str(catalogue_kind(kind).label)
    except KeyError:
        return kind


def checkin_lines(checkin, title: str | None = None) -> list[str]:
    """What a tap on a check-in shows: when, accepted or why flagged, how accurate."""
    if checkin.status == "flagged":
        reasons = gettext(", ").join(_kind_label(f) for f in checkin.flags or [])
        result = gettext("Flagged: %(reasons)s", reasons=reasons) if reasons else gettext("Flagged")
    else:
        result = gettext("Accepted")
    lines = [title] if title else []
    return [*lines, _when(checkin.recorded_at), result, _accuracy(checkin.accuracy_m)]


def _add_zones(data: MapData, zones: Iterable, broken: set | None = None) -> None:
    broken = broken or set()
    for z in zones:
        data.add_zone(
            kind=z.kind,
            name=z.name,
            lat=z.lat,
            lon=z.lon,
            radius_m=z.radius_m,
            polygon=z.polygon,
            broken=z.id in broken or z.name in broken,
        )


def from_home(subject, checkins: Sequence) -> dict[int, float]:
    """Metres from the home to each check-in that has a position: how a timeline says where."""
    if subject.home_lat is None:
        return {}
    home = (subject.home_lat, subject.home_lon)
    return {c.id: geodesic_m(home, (c.lat, c.lon)) for c in checkins if c.lat is not None}


def signal_lines(signal) -> list[str]:
    """What a tap on a background position shows: when, what the rules saw, how accurate."""
    reasons = gettext(", ").join(_signal_flag_label(f) for f in signal.flags or [])
    result = gettext("Flagged: %(reasons)s", reasons=reasons) if reasons else ""
    return [
        gettext("Background position"),
        _when(signal.recorded_at),
        result,
        _accuracy(signal.accuracy_m),
    ]


def _signal_flag_label(flag: str) -> str:
    labels = {
        "outside": gettext("outside the allowed zones"),
        "late": gettext("arrived late"),
        "inaccurate": gettext("too inaccurate"),
        "no_accuracy": gettext("no accuracy given"),
        "repeated_coordinates": gettext("identical coordinates repeated"),
    }
    return labels.get(flag) or _kind_label(flag)


def subject_map(
    subject, zones: Sequence, checkins: Sequence, *, since: dt.datetime, signals: Sequence = ()
) -> MapData:
    """One subject's map: zones, home, office and their movements since `since` (check-ins and
    background positions in time order, joined as a track, newest drawn on top), each with its
    local day. A plain background position draws no accuracy circle (hundreds would hide the
    map); a flagged one does."""
    data = MapData(track=True)
    data.add_home(subject.home_lat, subject.home_lon, gettext("Home"))
    _add_zones(data, zones)
    zone = clock.local_zone()
    moves = [(clock.as_utc(c.recorded_at), 0, c) for c in checkins]
    moves += [(clock.as_utc(s.recorded_at), 1, s) for s in signals]
    for at, is_signal, item in sorted(moves, key=lambda m: (m[0], m[1])):
        if at < since:
            continue
        flagged = bool(item.flags) if is_signal else item.status == "flagged"
        data.add_point(
            item.lat,
            item.lon,
            status="flagged" if flagged else "accepted",
            lines=signal_lines(item) if is_signal else checkin_lines(item),
            accuracy_m=item.accuracy_m if (flagged or not is_signal) else None,
            day=at.astimezone(zone).date().isoformat(),
        )
    if not data.points and checkins:
        # Nothing lately: the last position there is, so the map still says where.
        last = checkins[0]
        data.add_point(
            last.lat,
            last.lon,
            status=last.status,
            lines=checkin_lines(last, gettext("Last check-in")),
            accuracy_m=last.accuracy_m,
        )
    office = subject.office
    data.add_office(office.name, office.lat, office.lon)
    return data


def alert_map(alert, subject, zones: Sequence, last_checkin) -> MapData:
    """An alert's map: where it was raised (the fix, its accuracy circle), the zone it broke,
    home, the last check-in when the alert has no fix of its own, and the nearest office."""
    evidence = alert.evidence or {}
    data = MapData()
    data.add_home(subject.home_lat, subject.home_lon, gettext("Home"))
    broken = {evidence.get(k) for k in ("nearest_zone", "zone", "zone_id")} - {None}
    _add_zones(data, zones, broken)
    fix = evidence.get("to") or evidence
    reference = None
    if isinstance(evidence.get("from"), dict) and _has_position(evidence["from"]):
        earlier = evidence["from"]
        data.add_point(
            earlier["lat"],
            earlier["lon"],
            status="accepted",
            accuracy_m=earlier.get("accuracy_m"),
            lines=[
                gettext("The position before"),
                _when(earlier.get("recorded_at")),
                _accuracy(earlier.get("accuracy_m")),
            ],
        )
    for outside in evidence.get("fixes") or []:
        # The positions that confirmed an exit from background tracking.
        if isinstance(outside, dict) and _has_position(outside) and outside is not fix:
            data.add_point(
                outside["lat"],
                outside["lon"],
                status="flagged",
                accuracy_m=outside.get("accuracy_m"),
                lines=[
                    gettext("Background position"),
                    _when(outside.get("recorded_at")),
                    _accuracy(outside.get("accuracy_m")),
                ],
            )
    if _has_position(fix):
        lines = [
            gettext("Where the alert was raised"),
            _when(fix.get("recorded_at")),
            _accuracy(fix.get("accuracy_m")),
        ]
        if evidence.get("distance_outside_m"):
            lines.append(
                gettext(
                    "%(distance)s outside %(zone)s",
                    distance=distance_text(evidence["distance_outside_m"]),
                    zone=evidence.get("nearest_zone", ""),
                )
            )
        data.add_point(
            fix["lat"],
            fix["lon"],
            status="flagged",
            accuracy_m=fix.get("accuracy_m"),
            lines=lines,
            focus=True,
        )
        reference = (fix["lat"], fix["lon"], "fix")
    elif last_checkin is not None and last_checkin.lat is not None:
        data.add_point(
            last_checkin.lat,
            last_checkin.lon,
            status=last_checkin.status,
            accuracy_m=last_checkin.accuracy_m,
            lines=checkin_lines(last_checkin, gettext("Last check-in")),
            focus=True,
        )
        reference = (last_checkin.lat, last_checkin.lon, "last")
    elif subject.home_lat is not None:
        reference = (subject.home_lat, subject.home_lon, "home")
    _add_offices(data, subject.office, reference)
    return data


def _has_position(fix: dict) -> bool:
    return isinstance(fix.get("lat"), int | float) and isinstance(fix.get("lon"), int | float)


def _away(which: str, meters: float) -> str:
    distance = distance_text(meters)
    if which == "fix":
        return gettext("%(distance)s from where the alert was raised", distance=distance)
    if which == "last":
        return gettext("%(distance)s from the last check-in", distance=distance)
    return gettext("%(distance)s from home", distance=distance)


def _add_offices(data: MapData, own: Office, reference: tuple | None) -> None:
    """The subject's own office and, if another is nearer to the reference point (the fix, the
    last check-in or the home), that one too, each with how far it is."""
    offices = [own]
    if reference is not None:
        lat, lon, _ = reference
        d = NEAR_OFFICE_DEGREES
        near = db.session.scalars(
            select(Office)
            .where(Office.lat.between(lat - d, lat + d), Office.lon.between(lon - d, lon + d))
            .limit(50)
        ).all()
        nearest = min(near, key=lambda o: geodesic_m((lat, lon), (o.lat, o.lon)), default=None)
        if nearest is not None and nearest.id != own.id:
            offices.append(nearest)
    for office in offices:
        lines = []
        if office is not own:
            lines.append(gettext("The nearest judicial office"))
        else:
            lines.append(gettext("The person's judicial office"))
        if reference is not None:
            lat, lon, which = reference
            lines.append(_away(which, geodesic_m((lat, lon), (office.lat, office.lon))))
        data.add_office(office.name, office.lat, office.lon, lines=lines)


def enrol_map(offices: Iterable[Office]) -> MapData:
    """The enrolment form's map: the offices the officer may enrol into, with their areas."""
    data = MapData()
    for office in offices:
        data.add_office(
            office.name, office.lat, office.lon, code=office.code, zone=office.standard_zone
        )
    return data


def enrol_editor(form) -> dict:
    """What map.js needs to draw into the enrolment form: the boxes each shape fills, and the
    words it says while the officer draws."""
    return {
        "home": {"lat": form.home_lat.id, "lon": form.home_lon.id},
        "circles": [
            {
                "lat": row.form.lat.id,
                "lon": row.form.lon.id,
                "radius_m": row.form.radius_m.id,
                "name": row.form.name.id,
            }
            for row in form.zones
        ],
        "polygon": form.polygon.id,
        "polygon_name": form.polygon_name.id,
        "source": form.coord_source.id,
        "office": form.office_code.id,
        "standard": form.use_office_zone.id,
        "status": "map-status",
        "messages": {
            "home": gettext("Click or tap the home on the map."),
            "home_done": gettext("The home is placed. Drag it to move it."),
            "circle": gettext("Click or tap the centre of the area, then its edge."),
            "circle_done": gettext(
                "Circle %(n)s is drawn. Drag its centre or its edge to change it; "
                "give it a name below."
            ),
            "circles_full": gettext(
                "All three circles are used. Remove one first, or draw an area by its corners."
            ),
            "circle_name": gettext("Area %(n)s"),
            "polygon": gettext(
                "Click or tap each corner in turn; click the first corner again to finish."
            ),
            "polygon_done": gettext("The area is drawn. Drag a corner to change it."),
            "polygon_name": gettext("Area by corners"),
            "here_wait": gettext("Finding where this device is…"),
            "here_done": gettext(
                "The home is placed where this device is (accurate to about %(m)s m). "
                "Drag it if it is off."
            ),
            "here_failed": gettext(
                "This device could not tell where it is. Place the home on the map instead."
            ),
            "remove": gettext("Click or tap the shape to remove."),
            "removed": gettext("Removed."),
            "source_changed": gettext(
                "The map gives GPS coordinates, so 'Where the coordinates come from' is now GPS. "
                "Check any coordinates you typed from another map."
            ),
        },
    }
