"""Taking in batches of background positions and judging them against the subject's track.

`ingest` is the one way in for `/mobile/v1/signals` and `/osmand`. A batch is refused whole
before anything is written: a point with an impossible time (422 naming its index), or any point
when no monitoring order is in force or the point's day lies outside it (403). Points already
stored (the same client_id, or the same time and place) are counted, not stored again. The
subject's tracking state is locked for the batch (one batch of a subject at a time; other
subjects' batches run alongside), the points are judged from it (signals.rules), stored with
their flags in one statement, and the findings raise alerts through the one alert path: one
raise per kind per batch, counting every point that called for it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import BigInteger, Float, String, any_, bindparam, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.raising import raise_alert
from corrections.alerts.services import record_system_step
from corrections.audit.services import record as audit
from corrections.audit.services import write as audit_now
from corrections.checkin.curfew import CurfewTrack, curfew_at
from corrections.checkin.plans import schedule_for
from corrections.checkin.services import home_of
from corrections.extensions import db
from corrections.i18n import N_, translate
from corrections.monitoring import services as monitoring
from corrections.signals import rules
from corrections.signals.models import Signal, TrackingState
from corrections.signals.settings import SignalSettings
from corrections.subjects.models import Subject
from corrections.types import UtcDateTime
from corrections.zones.rules import Fix
from corrections.zones.services import zones_on_days


@dataclass(frozen=True)
class Report:
    """One background position as a phone or tracking app sent it."""

    lat: float
    lon: float
    accuracy_m: float | None
    recorded_at: dt.datetime
    client_id: str | None = None
    mock_location: bool | None = None
    speed_kmh: float | None = None
    battery_pct: float | None = None


class PointRefused(ValueError):
    """A point of the batch cannot be stored (422): its index, the field, an English msgid."""

    def __init__(self, index: int, field: str, message: str, **params):
        self.index, self.field, self.message, self.params = index, field, message, params
        super().__init__(f"{index}.{field}: {message % params if params else message}")

    def translated(self) -> str:
        """The reason in the reader's language."""
        return translate(self.message, **self.params)


class NoMonitoringOrder(Exception):
    """No order in force covers the point at `index` (None: none in force at all); 403."""

    def __init__(self, index: int | None = None):
        self.index = index
        super().__init__("no monitoring order" if index is None else f"point {index}")


@dataclass(frozen=True)
class Ingested:
    """What a batch did: points stored, duplicates counted, alerts raised (kind → id)."""

    stored: int
    duplicates: int
    alerts: dict[str, int]


def check_times(reports: Sequence[Report], now: dt.datetime, settings: SignalSettings) -> None:
    """Refuse a point recorded too far in the future (clock skew) or too long ago."""
    hours = int(settings.max_age.total_seconds() // 3600)
    for index, report in enumerate(reports):
        if report.recorded_at > now + settings.max_future:
            raise PointRefused(index, "recorded_at", N_("lies in the future"))
        if report.recorded_at < now - settings.max_age:
            raise PointRefused(
                index, "recorded_at", N_("is older than %(hours)s hours"), hours=hours
            )


def check_order(subject_id: int, days: Sequence[dt.date], now: dt.datetime) -> None:
    """The CONTRACT's rule: an order is in force when the batch arrives, and every point's
    local day (`days`, in the batch's order) lies within its dates."""
    order = monitoring.in_force(subject_id, now)
    if order is None:
        raise NoMonitoringOrder()
    for index, day in enumerate(days):
        if not order.covers(day):
            raise NoMonitoringOrder(index)


def _key(lat: float, lon: float, at: dt.datetime) -> tuple:
    return (at.astimezone(dt.UTC), float(lat), float(lon))


_TABLE = Signal.__table__


def _stored_before(dialect: str):
    """The points of one subject recorded since `since` at one of `times` or under one of
    `client_ids`: one array each on PostgreSQL (a fixed statement), an expanding IN elsewhere."""

    def one_of(column, name: str, item):
        if dialect == "postgresql":
            return column == any_(bindparam(name, type_=postgresql.ARRAY(item)))
        return column.in_(bindparam(name, expanding=True))

    return select(_TABLE.c.client_id, _TABLE.c.recorded_at, _TABLE.c.lat, _TABLE.c.lon).where(
        _TABLE.c.subject_id == bindparam("subject_id"),
        _TABLE.c.recorded_at >= bindparam("since"),
        or_(
            one_of(_TABLE.c.recorded_at, "times", UtcDateTime()),
            one_of(_TABLE.c.client_id, "client_ids", String()),
        ),
    )


_STORED_BEFORE = {dialect: _stored_before(dialect) for dialect in ("postgresql", "sqlite")}


def _new_points(
    subject_id: int, reports: Sequence[Report], since: dt.datetime
) -> tuple[list[Report], int]:
    """The reports not stored before (nor twice in this batch), and how many were duplicates.
    Only points recorded since `since` (the oldest the batch may hold) are looked at: on
    PostgreSQL that reads the last days' partitions, not all of them (docs/storage.md)."""
    stored = db.session.execute(
        _STORED_BEFORE[db.engine.dialect.name],
        {
            "subject_id": subject_id,
            "since": since,
            "times": list({r.recorded_at for r in reports}),
            "client_ids": list({r.client_id for r in reports if r.client_id} or {""}),
        },
    ).all()
    seen_ids = {row.client_id for row in stored if row.client_id}
    seen_keys = {_key(row.lat, row.lon, row.recorded_at) for row in stored}
    fresh: list[Report] = []
    for report in reports:
        key = _key(report.lat, report.lon, report.recorded_at)
        if key in seen_keys or (report.client_id and report.client_id in seen_ids):
            continue
        seen_keys.add(key)
        if report.client_id:
            seen_ids.add(report.client_id)
        fresh.append(report)
    return fresh, len(reports) - len(fresh)


_STATE = TrackingState.__table__
_LOCK_STATE = select(_STATE).where(_STATE.c.subject_id == bindparam("subject_id")).with_for_update()
_MAKE_STATE = {
    name: dialect.insert(_STATE)
    .values(subject_id=bindparam("subject_id"), outside_count=0, inside_count=0, repeat_count=0)
    .on_conflict_do_nothing(index_elements=["subject_id"])
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
#: Writes every column of the state back (the columns are the parameters' names).
_SAVE_STATE = update(_STATE).where(_STATE.c.subject_id == bindparam("state_of"))


def _locked_state(subject_id: int) -> SimpleNamespace:
    """The subject's tracking state (its row, to change and `_save`), locked until the
    transaction ends (made on first use). Core, not the ORM: one batch reads and writes it once."""
    row = db.session.execute(_LOCK_STATE, {"subject_id": subject_id}).first()
    if row is None:
        db.session.execute(_MAKE_STATE[db.engine.dialect.name], {"subject_id": subject_id})
        row = db.session.execute(_LOCK_STATE, {"subject_id": subject_id}).one()
    return SimpleNamespace(**row._mapping)


def _save(state: SimpleNamespace) -> None:
    columns = dict(vars(state))
    subject_id = columns.pop("subject_id")
    db.session.execute(_SAVE_STATE, {**columns, "state_of": subject_id})


def track_of(state: SimpleNamespace) -> rules.Track:
    """The stored state (a tracking_states row, as _locked_state reads it) as the rules see it."""
    last = None
    if state.last_at is not None:
        last = Fix(state.last_lat, state.last_lon, state.last_accuracy_m or 0.0, state.last_at)
    return rules.Track(
        last=last,
        outside_count=state.outside_count,
        outside_run=tuple(state.outside_run or ()),
        exit_confirmed=state.exit_alert_id is not None,
        inside_count=state.inside_count,
        repeat_count=state.repeat_count,
        repeat_since=state.repeat_since,
        repeat_raised=state.repeat_raised,
        curfew=CurfewTrack(
            night=state.curfew_night,
            away_count=state.curfew_count or 0,
            away_run=tuple(state.curfew_run or ()),
            raised=bool(state.curfew_raised),
        ),
    )


def _keep(state: SimpleNamespace, track: rules.Track, now: dt.datetime) -> None:
    if track.last is not None:
        state.last_lat, state.last_lon = track.last.lat, track.last.lon
        state.last_accuracy_m, state.last_at = track.last.accuracy_m, track.last.at
    state.last_received_at = now
    state.outside_count, state.outside_run = track.outside_count, list(track.outside_run)
    state.inside_count = track.inside_count
    state.repeat_count, state.repeat_since = track.repeat_count, track.repeat_since
    state.repeat_raised = track.repeat_raised
    state.curfew_night, state.curfew_count = track.curfew.night, track.curfew.away_count
    state.curfew_run, state.curfew_raised = list(track.curfew.away_run), track.curfew.raised


def household_of(subject: Subject, settings: SignalSettings) -> rules.Household:
    """The curfew facts of the subject: home, the curfew of each plan version (one read)."""
    versions = schedule_for(subject.id)[1]
    return rules.Household(
        home_of(subject),
        lambda at: curfew_at(versions, at),
        settings.curfew_home_radius_m,
        clock.local_zone(),
    )


def ingest(
    subject: Subject,
    reports: Sequence[Report],
    *,
    source: str,
    device_id: str | None,
    actor: Actor,
    now: dt.datetime,
    settings: SignalSettings,
) -> Ingested:
    """Store and judge a batch of positions (see the module's docstring). PointRefused (422),
    NoMonitoringOrder (403); the caller commits."""
    check_times(reports, now, settings)
    zone = clock.local_zone()
    days = [r.recorded_at.astimezone(zone).date() for r in reports]
    check_order(subject.id, days, now)
    state = _locked_state(subject.id)
    fresh, duplicates = _new_points(subject.id, reports, now - settings.max_age)
    if not fresh:
        return Ingested(0, duplicates, {})
    by_day = zones_on_days(subject.id, set(days))
    points = [
        rules.Point(r.lat, r.lon, r.accuracy_m, r.recorded_at, r.mock_location) for r in fresh
    ]
    judged = rules.judge_batch(
        track_of(state),
        points,
        lambda at: by_day[at.astimezone(zone).date()],
        settings.of(subject.level),
        settings.accuracy_ceiling_m,
        household_of(subject, settings),
    )
    stored = _store(subject.id, fresh, judged.flags, source, device_id, now)
    ids = {_key(row.lat, row.lon, row.recorded_at): row.id for row in stored}
    alerts = _raise(subject, judged, ids, state, now)
    _keep(state, judged.track, now)
    if state.lost_alert_id is not None:
        newest = max(r.recorded_at for r in fresh)
        record_system_step(
            state.lost_alert_id,
            "signal_back",
            now,
            {"recorded_at": clock.isoformat(newest), "received_at": clock.isoformat(now)},
        )
        state.lost_alert_id = None
    _save(state)
    audit_now(
        "signals.create",
        actor,
        now,
        subject_id=subject.id,
        detail={
            "source": source,
            "device_id": device_id,
            "stored": len(stored),
            "duplicates": duplicates + len(fresh) - len(stored),
            "first_id": min(ids.values(), default=None),
            "flagged": sum(1 for f in judged.flags if f),
        },
    )
    return Ingested(len(stored), duplicates + len(fresh) - len(stored), alerts)


#: What each point of a batch brings to its row, with its PostgreSQL type (the rest is the
#: batch's: subject, source, device, arrival time).
_POINT_COLUMNS = {
    "client_id": "varchar",
    "lat": "float8",
    "lon": "float8",
    "accuracy_m": "float8",
    "speed_kmh": "float8",
    "battery_pct": "float8",
    "mock_location": "boolean",
    "recorded_at": "timestamptz",
    "flags": "json",
}
_BATCH_COLUMNS = ("subject_id", "source", "device_id", "received_at")
#: On PostgreSQL a batch is one fixed statement whatever its size: the points travel as one
#: JSON array (encoded in C; floats as their exact repr) and json_to_recordset makes them rows.
#: A multi-row VALUES costs 13 bind parameters a point to build, compile and send (30 ms of a
#: batch of 100 in SQLAlchemy), and one array parameter a column costs psycopg ~1 ms to quote
#: element by element; this statement is compiled once, and psycopg prepares it on the server
#: after a few uses.
_INSERT_JSON = text(
    f"INSERT INTO signals ({', '.join((*_BATCH_COLUMNS, *_POINT_COLUMNS))})"
    f" SELECT {', '.join(f':{c}' for c in _BATCH_COLUMNS)}, p.*"
    " FROM json_to_recordset(CAST(:points AS json))"
    f" AS p({', '.join(f'{c} {t}' for c, t in _POINT_COLUMNS.items())})"
    " ON CONFLICT DO NOTHING RETURNING id, recorded_at, lat, lon"
).columns(id=BigInteger, recorded_at=UtcDateTime, lat=Float, lon=Float)
#: Elsewhere (SQLite) the same rows go to one Core INSERT executed for many rows (SQLAlchemy
#: sends them as one multi-row statement).
_INSERT_ROWS = (
    sqlite.insert(_TABLE)
    .on_conflict_do_nothing()
    .returning(_TABLE.c.id, _TABLE.c.recorded_at, _TABLE.c.lat, _TABLE.c.lon)
)


def _store(
    subject_id: int,
    fresh: Sequence[Report],
    flags: Sequence[list[str]],
    source: str,
    device_id: str | None,
    now: dt.datetime,
) -> list:
    """Insert the batch's new points with their flags in one statement; the rows stored (id,
    recorded_at, lat, lon), without any a concurrent batch stored first."""
    batch = {"subject_id": subject_id, "source": source, "device_id": device_id, "received_at": now}
    points = [
        {
            "client_id": r.client_id,
            "lat": r.lat,
            "lon": r.lon,
            "accuracy_m": r.accuracy_m,
            "speed_kmh": r.speed_kmh,
            "battery_pct": r.battery_pct,
            "mock_location": r.mock_location,
            "recorded_at": r.recorded_at,
            "flags": f,
        }
        for r, f in zip(fresh, flags, strict=True)
    ]
    if db.engine.dialect.name == "postgresql":
        for point in points:
            point["recorded_at"] = point["recorded_at"].isoformat()
        return db.session.execute(_INSERT_JSON, {**batch, "points": json.dumps(points)}).all()
    return db.session.execute(_INSERT_ROWS, [{**batch, **point} for point in points]).all()


def _raise(subject, judged: rules.Judged, ids: dict, state: SimpleNamespace, now) -> dict:
    """One raise per kind: the last finding's evidence, every finding counted. A confirmed exit
    that cleared is noted on its alert: the one confirmed before this batch, else the one this
    batch confirmed (a batch clears an exit before it can confirm the next)."""
    earlier_exit = state.exit_alert_id
    if judged.cleared is not None and earlier_exit is not None:
        record_system_step(earlier_exit, "back_inside", now, judged.cleared.evidence)
        state.exit_alert_id = None
    counts = Counter(f.kind for f in judged.findings)
    last = {f.kind: f for f in judged.findings}
    alerts: dict[str, int] = {}
    for kind, finding in last.items():
        evidence = dict(finding.evidence)
        if "recorded_at" in evidence and "lat" in evidence:
            at = dt.datetime.fromisoformat(evidence["recorded_at"].replace("Z", "+00:00"))
            signal_id = ids.get(_key(evidence["lat"], evidence["lon"], at))
            if signal_id is not None:
                evidence["signal_id"] = signal_id
        evidence.setdefault("source", "signals")
        alerts[kind] = raise_alert(
            kind,
            subject_id=subject.id,
            office_id=subject.office_id,
            level=subject.level,
            evidence=evidence,
            at=now,
            occurrences=counts[kind],
        )
    if "geofence_exit" in alerts:
        state.exit_alert_id = alerts["geofence_exit"]
        if judged.cleared is not None and earlier_exit is None:
            record_system_step(state.exit_alert_id, "back_inside", now, judged.cleared.evidence)
    if not judged.track.exit_confirmed:
        state.exit_alert_id = None
    return alerts


#: A track shows every flagged position, and of the plain ones one per this many minutes: a
#: phone reporting every minute would otherwise draw 10,000 marks a week.
TRACK_STEP_MINUTES = 10


@dataclass(frozen=True)
class SignalTrack:
    """A map's background positions, thinned, oldest first, and whether the cap cut them."""

    signals: list[Signal]
    #: When the cap was reached: the oldest position read, from which on the span is whole
    #: (older ones in it were not read). None when the span was read whole.
    complete_from: dt.datetime | None = None


def signals_of(
    subject_id: int,
    since: dt.datetime,
    limit: int = 20_000,
    until: dt.datetime | None = None,
) -> SignalTrack:
    """The subject's signals recorded in [since, until) (until: no bound when None), the
    newest `limit` of them, oldest first, thinned for a map: every flagged one, plain ones at
    most one per TRACK_STEP_MINUTES. One statement; on PostgreSQL the bounds on recorded_at
    prune the daily partitions to the span's."""
    query = select(Signal).where(Signal.subject_id == subject_id, Signal.recorded_at >= since)
    if until is not None:
        query = query.where(Signal.recorded_at < until)
    # One more than the cap: whether it cut the span short, without counting the rest.
    newest = db.session.scalars(query.order_by(Signal.recorded_at.desc()).limit(limit + 1)).all()
    complete_from = newest[limit - 1].recorded_at if len(newest) > limit else None
    kept: list[Signal] = []
    last_plain: dt.datetime | None = None
    for signal in reversed(newest[:limit]):
        if not signal.flags:
            if last_plain is not None and signal.recorded_at - last_plain < dt.timedelta(
                minutes=TRACK_STEP_MINUTES
            ):
                continue
            last_plain = signal.recorded_at
        kept.append(signal)
    return SignalTrack(kept, complete_from)


def read_signals(
    subject_id: int,
    since: dt.datetime,
    actor: Actor,
    at: dt.datetime,
    until: dt.datetime | None = None,
    limit: int = 20_000,
) -> SignalTrack:
    """The subject's signals for an officer's map: a read of positions, audited with the span
    asked for, how many were drawn and, when the cap cut it, from when it is whole."""
    track = signals_of(subject_id, since, limit, until)
    detail = {"since": clock.isoformat(since), "count": len(track.signals)}
    if until is not None:
        detail["until"] = clock.isoformat(until)
    if track.complete_from is not None:
        detail["complete_from"] = clock.isoformat(track.complete_from)
    audit("subject.signals.read", actor, at, subject_id=subject_id, detail=detail)
    return track
