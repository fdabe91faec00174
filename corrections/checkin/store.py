"""The check-in's reads and writes on the hot path (docs/architecture.md, "The check-in's hot
path").

A check-in reads what it is judged against (zones in force, plan versions, the previous fix),
for a phone together with the phone's token and subject, and then writes the report, its audit
entry and the late meeting of windows already counted as missed. On PostgreSQL each side is one
statement, built once: the read also takes the judgement lock (shared) and, when given, the
lock of the subject's rate-limit key, so the write that follows sees everything committed
before the locks were granted; the write is one statement of data-modifying CTEs that also
counts the rate limit. On SQLite (development, small installs; every writing transaction is
serialised there anyway) the same steps are the plain statements of each feature.

Both return the same values, and the tests run on both engines.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Integer, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import aggregate_order_by

from corrections.audit.services import write as write_audit
from corrections.auth import limiter
from corrections.checkin import curfew as curfew_rules
from corrections.checkin import plans as plan_versions
from corrections.checkin import windows
from corrections.checkin.models import WINDOW_KINDS, Checkin, CheckinPlan, MissedWindow, WindowShape
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.subjects.services import (
    LIVE_PHONE_TOKEN,
    PhoneToken,
    live_phone_token,
    phone_token_of,
    phone_token_params,
)
from corrections.types import UtcDateTime
from corrections.zones import rules as zone_rules
from corrections.zones.models import Zone
from corrections.zones.services import (
    SHAPE_COLUMNS,
    ShapeRow,
    in_force_between,
    shape_of,
    zones_in_force,
)

#: An arbitrary constant naming the PostgreSQL advisory lock that orders check-ins and the
#: sweep's judgement: a check-in holds it shared while it is written, a batch of the sweep holds
#: it exclusively while it judges, so a window is never judged missed while a check-in inside it
#: is being written (each batch is short: phones wait a fraction of a second at most).
JUDGEMENT_LOCK_ID = 7_301_146


@dataclass(frozen=True)
class Context:
    """What one check-in is judged against."""

    zones: list[zone_rules.ZoneShape]
    terms: list[windows.PlanTerms]
    curfews: list[curfew_rules.CurfewVersion]
    previous: zone_rules.Fix | None


@dataclass(frozen=True)
class MetWindow:
    """A window already counted as missed that a check-in met late, and its alert."""

    alert_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime


def on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def judgement_lock(*, shared: bool) -> None:
    """Take the judgement lock for the rest of the transaction (PostgreSQL; SQLite serialises
    every writing transaction anyway)."""
    if not on_postgresql():
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    db.session.execute(text(f"SELECT {function}(:id)"), {"id": JUDGEMENT_LOCK_ID})


def read_context(
    subject_id: int, day: dt.date, before: dt.datetime, *, folded: limiter.Folded | None = None
) -> Context:
    """The zones in force on local `day`, the plan versions and the latest fix taken before
    `before`; on PostgreSQL in one statement that also takes the judgement lock (shared) and,
    with `folded`, the lock of the subject's rate-limit key, held from here to the commit."""
    if not on_postgresql():
        terms, curfews = plan_versions.schedule_for(subject_id)
        return Context(
            zones_in_force(subject_id, day), terms, curfews, previous_fix(subject_id, before)
        )
    params = {"subject": subject_id, **_context_params(day, before, folded)}
    row = db.session.connection().execute(_pg_context(False, folded is not None), params).one()
    return _context_of(row)


def read_for_token(
    token: str,
    now: dt.datetime,
    day: dt.date,
    before: dt.datetime,
    *,
    folded: limiter.Folded | None = None,
) -> tuple[PhoneToken, Context] | None:
    """The live phone token presented with its subject's facts and, as read_context() reads
    them, what a check-in of that subject is judged against; None for no live token. On
    PostgreSQL one statement (the token's own joined to the context's, locks included)."""
    if not on_postgresql():
        found = live_phone_token(token, now)
        if found is None:
            return None
        return found, read_context(found.subject.id, day, before)
    params = {**phone_token_params(token, now), **_context_params(day, before, folded)}
    row = db.session.connection().execute(_pg_context(True, folded is not None), params).first()
    if row is None:
        return None
    return phone_token_of(row), _context_of(row)


def _context_params(day: dt.date, before: dt.datetime, folded: limiter.Folded | None) -> dict:
    params = {"judgement": JUDGEMENT_LOCK_ID, "day": day, "before": before}
    if folded is not None:
        params.update(folded.lock_params())
    return params


def _context_of(row) -> Context:
    zones = [shape_of(ShapeRow(*z)) for z in row.zones or ()]
    terms, curfews = plan_versions.schedule_of(
        [(*p[:8], _instant(p[8]), _instant(p[9])) for p in row.plans or ()]
    )
    previous = None
    if row.previous is not None:
        lat, lon, accuracy, at = row.previous
        previous = zone_rules.Fix(lat, lon, accuracy or 0.0, _instant(at))
    return Context(zones, terms, curfews, previous)


def _instant(value: str | None) -> dt.datetime | None:
    # A timestamptz inside JSON is ISO 8601 text with the session's offset.
    return None if value is None else dt.datetime.fromisoformat(value).astimezone(dt.UTC)


@cache
def _pg_context(by_token: bool, folded: bool):
    # One row: the subject's (found by id, or by a live token joined to it), its locks, and
    # the context as JSON arrays. The scalar subqueries read from the statement's snapshot;
    # the write that follows takes a new one, after the locks were granted.
    zones = (
        select(func.json_agg(aggregate_order_by(func.json_build_array(*SHAPE_COLUMNS), Zone.id)))
        .where(Zone.subject_id == Subject.id, in_force_between(bindparam("day"), bindparam("day")))
        .scalar_subquery()
    )
    plans = (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(*plan_versions.SCHEDULE_COLUMNS),
                    *plan_versions.SCHEDULE_ORDER,
                )
            )
        )
        .select_from(CheckinPlan)
        .join(WindowShape, WindowShape.id == CheckinPlan.shape_id)
        .where(CheckinPlan.subject_id == Subject.id)
        .scalar_subquery()
    )
    previous = _latest_fix(Subject.id, func.json_build_array(*FIX_COLUMNS)).scalar_subquery()
    columns = [func.pg_advisory_xact_lock_shared(bindparam("judgement")).label("judged")]
    if folded:
        columns.append(limiter.Folded.lock(Subject.id).label("keyed"))
    columns += [zones.label("zones"), plans.label("plans"), previous.label("previous")]
    if by_token:
        return LIVE_PHONE_TOKEN.add_columns(*columns)
    return select(*columns).where(Subject.id == bindparam("subject"))


def previous_fix(subject_id: int, before: dt.datetime) -> zone_rules.Fix | None:
    """The subject's latest position taken before `before`."""
    row = (
        db.session.connection()
        .execute(_previous_fix(), {"subject": subject_id, "before": before})
        .first()
    )
    if row is None:
        return None
    return zone_rules.Fix(row.lat, row.lon, row.accuracy_m or 0.0, row.recorded_at)


#: A fix as previous_fix() and the PostgreSQL read take it.
FIX_COLUMNS = (Checkin.lat, Checkin.lon, Checkin.accuracy_m, Checkin.recorded_at)


def _latest_fix(subject, *what):
    # `what` of the subject's latest check-in with a position taken before :before.
    return (
        select(*what)
        .where(
            Checkin.subject_id == subject,
            Checkin.lat.is_not(None),
            Checkin.recorded_at < bindparam("before", type_=UtcDateTime()),
        )
        .order_by(Checkin.recorded_at.desc())
        .limit(1)
    )


@cache
def _previous_fix():
    return _latest_fix(bindparam("subject"), *FIX_COLUMNS)


#: The columns a check-in is stored with (all of them but its id).
STORED = (
    "subject_id",
    "client_id",
    "kind",
    "lat",
    "lon",
    "accuracy_m",
    "recorded_at",
    "received_at",
    "status",
    "flags",
    "mock_location",
    "battery_pct",
    "device_id",
)


@dataclass(frozen=True)
class Written:
    """The new check-in's id (None when nothing was written: the subject already sent this
    client_id, or the attempt was not counted), the missed windows it met late, and whether
    the attempt given to write() was counted (its rate limit was not full)."""

    checkin_id: int | None
    met: Sequence[MetWindow]
    counted: bool = True


def write(values: dict, audit: dict, *, attempt: dict | None = None) -> Written:
    """Store a new check-in (`values`: the STORED columns) unless the subject already sent its
    client_id; with it, its audit entry (`audit`: action, actor, at) and the late meeting of
    windows already counted as missed that it lies in (for the kinds that meet windows).
    PostgreSQL only, `attempt`: a rate-limit attempt (limiter.Folded's params) counted in the
    same statement, its lock taken by read_context(); nothing is written when it is refused."""
    if not on_postgresql():
        if attempt is not None:
            raise ValueError("attempts are counted in the statement on PostgreSQL only")
        return _write_generic(values, audit)
    params = pg_write_params(values, audit, attempt)
    row_sets = db.session.connection().execute(_pg_write(attempt is not None), params).all()
    first = row_sets[0]
    if first.id is None:
        return Written(None, (), counted=bool(first.counted))
    met = [MetWindow(r.alert_id, r.starts_at, r.ends_at) for r in row_sets if r.starts_at]
    return Written(first.id, met)


def pg_write_params(values: dict, audit: dict, attempt: dict | None) -> dict:
    """The parameters of write()'s PostgreSQL statement."""
    actor = audit["actor"]
    params = {
        **values,
        "flags": json.dumps(values["flags"]),
        "meets": values["kind"] in WINDOW_KINDS,
        "action": audit["action"],
        "at": audit["at"],
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "ip": actor.ip,
    }
    if attempt is not None:
        params.update({f"attempt_{name}": value for name, value in attempt.items()})
    return params


def _write_generic(values: dict, audit: dict) -> Written:
    checkin_id = (
        db.session.connection()
        .execute(_insert_checkin(db.session.get_bind().dialect.name), values)
        .scalar()
    )
    if checkin_id is None:
        return Written(None, ())
    write_audit(
        audit["action"],
        audit["actor"],
        audit["at"],
        subject_id=values["subject_id"],
        detail={
            "checkin_id": checkin_id,
            "kind": values["kind"],
            "device_id": values["device_id"],
        },
    )
    met = ()
    if values["kind"] in WINDOW_KINDS:
        met = [
            MetWindow(*row)
            for row in db.session.connection().execute(
                _meet_missed(),
                {
                    "checkin": checkin_id,
                    "subject": values["subject_id"],
                    "at": values["recorded_at"],
                },
            )
        ]
    return Written(checkin_id, met)


@cache
def _insert_checkin(dialect: str):
    # ON CONFLICT DO NOTHING: a retry (or the same retry racing us) stores nothing, without a
    # savepoint; the row is not added to the session.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(Checkin)
        .values({name: bindparam(name) for name in STORED})
        .on_conflict_do_nothing(index_elements=["subject_id", "client_id"])
        .returning(Checkin.id)
    )


@cache
def _meet_missed():
    return (
        update(MissedWindow)
        .where(
            MissedWindow.subject_id == bindparam("subject"),
            MissedWindow.met_checkin_id.is_(None),
            MissedWindow.starts_at <= bindparam("at"),
            MissedWindow.ends_at > bindparam("at"),
        )
        .values(met_checkin_id=bindparam("checkin"))
        .returning(MissedWindow.alert_id, MissedWindow.starts_at, MissedWindow.ends_at)
    )


def _pg_type(name: str) -> str:
    column = Checkin.__table__.c[name]
    # A foreign key's type is its target's (it reads as NullType until that table is known).
    kind = next(iter(column.foreign_keys)).column.type if column.foreign_keys else column.type
    return kind.compile(dialect=postgresql.dialect())


@cache
def _pg_write(counts_attempt: bool):
    # The audit entry and its subject link are the ones audit.services.write() stores (its
    # detail built in SQL from the new id); `meets` false leaves the missed windows alone. With
    # `counts_attempt`, the rate limit's row is added first, as limiter.hit_in_transaction()
    # adds it, and the check-in only when it was. Always at least one row: `counted` (1 or 0)
    # with the new id (null when nothing was written) and each window met late.
    columns = ", ".join(STORED)
    # Each value cast to its column's type: inside a SELECT, an untyped parameter (a None, a
    # string) would be taken for text.
    values = ", ".join(f"CAST(:{name} AS {_pg_type(name)})" for name in STORED)
    hit = (
        """
        hit AS (
            INSERT INTO rate_limit_hits (key, at, expires_at)
            SELECT CAST(:attempt_key AS text), :attempt_now, :attempt_expires
             WHERE (SELECT count(*) FROM rate_limit_hits
                     WHERE key = CAST(:attempt_key AS text) AND at > :attempt_since)
                   < CAST(:attempt_limit AS integer)
            RETURNING id
        ),"""
        if counts_attempt
        else ""
    )
    counted = "(SELECT count(*) FROM hit)" if counts_attempt else "1"
    source = f"SELECT {values} FROM hit" if counts_attempt else f"VALUES ({values})"
    statement = text(
        f"""
        WITH {hit} new AS (
            INSERT INTO checkins ({columns}) {source}
            ON CONFLICT (subject_id, client_id) DO NOTHING
            RETURNING id, kind, device_id
        ), entry AS (
            INSERT INTO audit_log (at, actor_kind, actor_id, action, subject_id, detail, ip)
            SELECT :at, :actor_kind, CAST(:actor_id AS integer), :action, :subject_id,
                   json_build_object('checkin_id', new.id, 'kind', new.kind,
                                     'device_id', new.device_id),
                   CAST(:ip AS text)
              FROM new
            RETURNING id
        ), link AS (
            INSERT INTO audit_subjects (entry_id, subject_id)
            SELECT entry.id, :subject_id FROM entry
        ), met AS (
            UPDATE missed_windows m SET met_checkin_id = new.id
              FROM new
             WHERE :meets AND m.subject_id = :subject_id AND m.met_checkin_id IS NULL
               AND m.starts_at <= :recorded_at AND m.ends_at > :recorded_at
            RETURNING m.alert_id, m.starts_at, m.ends_at
        )
        SELECT {counted} AS counted, new.id, met.alert_id, met.starts_at, met.ends_at
          FROM (SELECT 1) AS one LEFT JOIN new ON true LEFT JOIN met ON true
        """
    )
    times = ["at", "recorded_at", "received_at"]
    if counts_attempt:
        times += ["attempt_now", "attempt_expires", "attempt_since"]
    return statement.bindparams(*(bindparam(name, type_=UtcDateTime()) for name in times)).columns(
        counted=Integer, id=Integer, alert_id=Integer, starts_at=UtcDateTime, ends_at=UtcDateTime
    )
