"""The maps of the case file: one subject (zones, home, recent check-ins, their office) and one
alert (the fix and its accuracy, the zone it broke, home, the last check-in, the nearest office).

The map component itself is `corrections.maps`; this module chooses what to draw and words each
mark in the reader's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from flask_babel import gettext
from sqlalchemy import select

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.catalogue import kind as catalogue_kind
from corrections.checkin.services import read_checkins
from corrections.extensions import db
from corrections.i18n import distance_text
from corrections.maps import MapData
from corrections.offices.models import Office
from corrections.signals.services import read_signals
from corrections.zones.rules import geodesic_m

#: How far around a position the nearest office is looked for (degrees; about 55 km north to
#: south): a township office is a few kilometres away, and the box keeps the candidates few.
NEAR_OFFICE_DEGREES = 0.5
#: How many local days a track spans: the last day and the six before it.
TRACK_DAYS = 7
#: The most check-ins a map's week reads (the newest of the span): deliberate check-ins are a
#: few a day, so only a phone gone wrong reaches it, and the page then says so.
TRACK_CHECKINS = 500
#: The most background positions a map's week reads before thinning (the newest of the span):
#: a phone reporting every 5 seconds sends 120,000 a week, so this can cut a week short, and
#: the page then says from when the week is whole.
TRACK_SIGNALS = 20_000


class TrackSpan(NamedTuple):
    """The local days a map's track covers, oldest first, and the instants it starts and ends."""

    days: list[str]
    since: dt.datetime
    until: dt.datetime


def track_span(last_day: dt.date) -> TrackSpan:
    """The week of local days ending on `last_day` (midnight to midnight in TIMEZONE)."""
    zone = clock.local_zone()
    first = last_day - dt.timedelta(days=TRACK_DAYS - 1)
    days = [(first + dt.timedelta(days=n)).isoformat() for n in range(TRACK_DAYS)]

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)

    return TrackSpan(days, midnight(first), midnight(last_day + dt.timedelta(days=1)))


class Track(NamedTuple):
    """What a map's week draws: its check-ins (newest first), its background positions
    (thinned, oldest first), and, when a cap cut the span short, from when it is whole."""

    checkins: list
    signals: list
    complete_from: dt.datetime | None


def read_track(subject_id: int, span: TrackSpan, actor: Actor, at: dt.datetime) -> Track:
    """The check-ins and background positions recorded in the span, one statement each, both
    audited as reads of the subject's positions with the span in their detail."""
    checkins = read_checkins(subject_id, TRACK_CHECKINS, actor, at, span.since, span.until)
    signals = read_signals(subject_id, span.since, actor, at, until=span.until, limit=TRACK_SIGNALS)
    cuts = [clock.as_utc(signals.complete_from)]
    if len(checkins) >= TRACK_CHECKINS:
        cuts.append(clock.as_utc(checkins[-1].recorded_at))
    complete_from = max((c for c in cuts if c is not None), default=None)
    return Track(checkins, signals.signals, complete_from)


def _track_note(track: Track) -> str | None:
    if track.complete_from is None:
        return None
    return gettext(
        "The week has more positions than the map draws: it shows all of them from %(time)s on.",
        time=_when(track.complete_from),
    )


def _instant(at: dt.datetime | str | None) -> dt.datetime | None:
    if isinstance(at, str):
        try:
            at = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            return None
    return clock.as_utc(at)


def _when(at: dt.datetime | str | None) -> str:
    at = _instant(at)
    return at.astimezone(clock.local_zone()).strftime("%Y-%m-%d %H:%M") if at else ""


def _day(at: dt.datetime | str | None) -> str | None:
    at = _instant(at)
    return at.astimezone(clock.local_zone()).date().isoformat() if at else None


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
    """What a tap on a check-in shows: what it is, when, accepted or why flagged, how
    accurate."""
    if checkin.status == "flagged":
        reasons = gettext(", ").join(_kind_label(f) for f in checkin.flags or [])
        result = gettext("Flagged: %(reasons)s", reasons=reasons) if reasons else gettext("Flagged")
    else:
        result = gettext("Accepted")
    return [
        title or gettext("Check-in"),
        _when(checkin.recorded_at),
        result,
        _accuracy(checkin.accuracy_m),
    ]


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


def _moves(checkins: Sequence, signals: Sequence, span: TrackSpan) -> list[tuple]:
    """The check-ins and background positions inside the span, in time order, as
    (instant, where-key, the point's arguments). A plain background position draws no
    accuracy circle (hundreds would hide the map); a flagged one does."""
    moves = []
    for rank, items in enumerate((checkins, signals)):
        for item in items:
            at = clock.as_utc(item.recorded_at)
            if not span.since <= at < span.until:
                continue
            is_signal = rank == 1
            flagged = bool(item.flags) if is_signal else item.status == "flagged"
            point = {
                "lat": item.lat,
                "lon": item.lon,
                "status": "flagged" if flagged else "accepted",
                "lines": signal_lines(item) if is_signal else checkin_lines(item),
                "accuracy_m": item.accuracy_m if (flagged or not is_signal) else None,
                "day": _day(at),
                "source": "signal" if is_signal else "checkin",
            }
            moves.append((at, rank, item.id, _where(item.lat, item.lon, at), point))
    moves.sort(key=lambda m: m[:3])
    return [(at, where, point) for at, _, _, where, point in moves]


def _where(lat: float | None, lon: float | None, at: dt.datetime | None) -> tuple | None:
    """What makes two records of a position the same one (an alert's evidence and the track)."""
    if lat is None or lon is None or at is None:
        return None
    return (round(lat, 6), round(lon, 6), at.replace(microsecond=0))


def subject_map(
    subject, zones: Sequence, last_checkin, *, span: TrackSpan, track: Track
) -> MapData:
    """One subject's map: zones, home, office and their movements over the span (check-ins
    and background positions in time order, joined as a track, newest drawn on top), each
    with its local day for the day picker; the last check-in ever when the span has none."""
    data = MapData(
        track=True, days=list(span.days), note=_track_note(track), whole_from=track.complete_from
    )
    data.add_home(subject.home_lat, subject.home_lon, gettext("Home"))
    _add_zones(data, zones)
    for _, _, point in _moves(track.checkins, track.signals, span):
        data.add_point(**point)
    if not data.points and last_checkin is not None:
        # Nothing lately: the last position there is, so the map still says where.
        data.add_point(
            last_checkin.lat,
            last_checkin.lon,
            status=last_checkin.status,
            lines=checkin_lines(last_checkin, gettext("Last check-in")),
            accuracy_m=last_checkin.accuracy_m,
            source="checkin",
        )
    office = subject.office
    data.add_office(office.name, office.lat, office.lon)
    return data


def alert_day(alert) -> dt.date:
    """The local day an alert is about: its fix's, or the day it was raised."""
    evidence = alert.evidence or {}
    fix = evidence.get("to") if isinstance(evidence.get("to"), dict) else evidence
    at = _instant(fix.get("recorded_at")) if _has_position(fix) else None
    return (at or clock.as_utc(alert.opened_at)).astimezone(clock.local_zone()).date()


def alert_span(alert, today: dt.date) -> TrackSpan:
    """The week an alert's map draws: the last seven days when the alert is among them, else
    the seven days up to the alert's day."""
    day = alert_day(alert)
    return track_span(today if day > today - dt.timedelta(days=TRACK_DAYS) else day)


def alert_map(
    alert,
    subject,
    zones: Sequence,
    last_checkin,
    *,
    span: TrackSpan | None = None,
    track: Track | None = None,
) -> MapData:
    """An alert's map: where it was raised (the fix, its accuracy circle), the zone it broke,
    home, the last check-in when the alert has no fix of its own, the nearest office, and
    with a `span` the week's track of check-ins and background positions around them, shown
    first on the alert's day with the alert's own positions emphasised."""
    evidence = alert.evidence or {}
    data = MapData(
        track=span is not None,
        days=list(span.days) if span else [],
        note=_track_note(track) if track else None,
        whole_from=track.complete_from if track else None,
    )
    data.add_home(subject.home_lat, subject.home_lon, gettext("Home"))
    broken = {evidence.get(k) for k in ("nearest_zone", "zone", "zone_id")} - {None}
    _add_zones(data, zones, broken)
    source = "signal" if evidence.get("source") == "signals" else "checkin"
    fix = evidence.get("to") or evidence
    marks: list[tuple] = []  # (instant, where-key, the point's arguments): the alert's own

    def mark(at, lat, lon, **point) -> None:
        at = _instant(at)
        point.update(lat=lat, lon=lon, day=_day(at), alert=True)
        marks.append((at, _where(lat, lon, at), point))

    reference = None
    if isinstance(evidence.get("from"), dict) and _has_position(evidence["from"]):
        earlier = evidence["from"]
        mark(
            earlier.get("recorded_at"),
            earlier["lat"],
            earlier["lon"],
            status="accepted",
            accuracy_m=earlier.get("accuracy_m"),
            source="checkin",
            lines=[
                gettext("The position before"),
                _when(earlier.get("recorded_at")),
                _accuracy(earlier.get("accuracy_m")),
            ],
        )
    for outside in evidence.get("fixes") or []:
        # The positions that confirmed an exit from background tracking.
        if isinstance(outside, dict) and _has_position(outside) and outside is not fix:
            mark(
                outside.get("recorded_at"),
                outside["lat"],
                outside["lon"],
                status="flagged",
                accuracy_m=outside.get("accuracy_m"),
                source="signal",
                lines=[
                    gettext("Background position"),
                    _when(outside.get("recorded_at")),
                    _accuracy(outside.get("accuracy_m")),
                ],
            )
    if _has_position(fix):
        lines = [
            gettext("Where the alert was raised"),
            gettext("Background position") if source == "signal" else gettext("Check-in"),
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
        mark(
            fix.get("recorded_at"),
            fix["lat"],
            fix["lon"],
            status="flagged",
            accuracy_m=fix.get("accuracy_m"),
            lines=lines,
            focus=True,
            source=source,
        )
        reference = (fix["lat"], fix["lon"], "fix")
    elif last_checkin is not None and last_checkin.lat is not None:
        mark(
            last_checkin.recorded_at,
            last_checkin.lat,
            last_checkin.lon,
            status=last_checkin.status,
            accuracy_m=last_checkin.accuracy_m,
            lines=checkin_lines(last_checkin, gettext("Last check-in")),
            focus=True,
            source="checkin",
        )
        reference = (last_checkin.lat, last_checkin.lon, "last")
    elif subject.home_lat is not None:
        reference = (subject.home_lat, subject.home_lon, "home")
    own = {where for _, where, _ in marks if where is not None}
    drawn = [] if span is None or track is None else _moves(track.checkins, track.signals, span)
    moves = [m for m in drawn if m[1] not in own] + marks
    far_past = dt.datetime.min.replace(tzinfo=dt.UTC)
    # In time order for the line; the alert's own after the track's at the same instant.
    for _, _, point in sorted(moves, key=lambda m: m[0] or far_past):
        data.add_point(**point)
    if span is not None:
        day = alert_day(alert).isoformat()
        data.day = day if day in span.days else None
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
