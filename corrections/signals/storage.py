"""Where signals are kept and for how long (docs/storage.md).

On PostgreSQL `signals` is partitioned by range of `recorded_at`, one partition per UTC day named
`signals_pYYYYMMDD`, plus `signals_default` for a point whose day has no partition yet (none is
ever lost). `prepare` makes the partitions from the oldest day a late upload may still hit
(`CHECKIN_MAX_AGE_HOURS` back) to `SIGNAL_PARTITIONS_AHEAD_DAYS` ahead, moving any such point
out of the default partition; `prune` drops whole partitions older than
`SIGNAL_RETENTION_DAYS`. On SQLite the table is plain and `prune` deletes the old rows. Each
step is its own short transaction, so ingest is never held up for long, and each deletion is
written to the audit log in the transaction that deletes, with its row count.

Partitions are attached rather than created inside the parent: ATTACH takes a lock that lets
inserts go on, where CREATE TABLE ... PARTITION OF would stop them. Dropping a partition does
need the table to itself for a moment, so every DDL statement waits at most
`LOCK_TIMEOUT` for its lock and is retried on the next run rather than queueing the phones'
batches behind a long read.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text

from corrections import clock
from corrections.actors import Actor
from corrections.audit.services import record as audit
from corrections.extensions import db
from corrections.signals.models import Signal

log = logging.getLogger(__name__)

PARENT = "signals"
DEFAULT = "signals_default"
#: The managed partitions: one UTC day each. Others (an operator's own) are listed, never touched.
NAME = re.compile(r"^signals_p(\d{8})$")
#: How long one DDL statement waits for its lock before giving up until the next run: while
#: a DROP waits behind a long read, the phones' inserts queue behind the DROP.
LOCK_TIMEOUT = "1s"
#: PostgreSQL's lock_not_available: the lock timeout ran out.
LOCK_NOT_AVAILABLE = "55P03"
#: Rows deleted per transaction on SQLite (and from the default partition).
DELETE_CHUNK = 10_000


@dataclass(frozen=True)
class StorageSettings:
    """How long signals are kept, and which days get a partition (read from the config once by
    the caller, like SignalSettings)."""

    retention_days: int
    ahead_days: int
    #: How long ago a point may have been recorded and still be accepted (a late upload).
    late: dt.timedelta

    @classmethod
    def from_config(cls, config: Mapping) -> StorageSettings:
        """The settings of an app's config."""
        retention_days = int(config["SIGNAL_RETENTION_DAYS"])
        ahead_days = int(config["SIGNAL_PARTITIONS_AHEAD_DAYS"])
        late = dt.timedelta(hours=int(config["CHECKIN_MAX_AGE_HOURS"]))
        if retention_days < 1 or ahead_days < 1:
            raise ValueError(
                "SIGNAL_RETENTION_DAYS and SIGNAL_PARTITIONS_AHEAD_DAYS must be 1 or more"
            )
        if dt.timedelta(days=retention_days) <= late:
            # Pruning would delete points the ingest still accepts as they arrive.
            raise ValueError("SIGNAL_RETENTION_DAYS must be longer than CHECKIN_MAX_AGE_HOURS")
        return cls(retention_days, ahead_days, late)


#: Told of each step of a retention run: the table, the rows it deleted.
Progress = Callable[[str, int], None]


def _silent(table: str, rows: int) -> None:
    pass


@dataclass(frozen=True)
class Partition:
    """One partition of signals (or the whole plain table on SQLite, `day` None)."""

    name: str
    #: The UTC day it holds; None for the default partition, the plain table or a foreign one.
    day: dt.date | None
    #: Rows: counted, or the planner's estimate (`exact` False) after the last ANALYZE.
    rows: int
    exact: bool
    #: Bytes on disk, tables and indexes (None on SQLite).
    size: int | None = None


@dataclass(frozen=True)
class Pruned:
    """What one retention run deleted (or, dry, would delete): the cutoff, each dropped
    partition with its rows, and rows deleted one by one (default partition, SQLite)."""

    cutoff: dt.datetime
    partitions: tuple[tuple[str, int], ...]
    rows_deleted: int
    dry_run: bool

    @property
    def total(self) -> int:
        """Every signal deleted."""
        return sum(rows for _, rows in self.partitions) + self.rows_deleted


def is_partition(name: str) -> bool:
    """Whether a table of this name is a partition of signals (made by the job, not a model)."""
    return name == DEFAULT or NAME.match(name) is not None


def include_name(name: str | None, type_: str, parent_names: Mapping) -> bool:
    """Alembic's filter of reflected names: the partitions are no model's table."""
    return not (type_ == "table" and name is not None and is_partition(name))


def partitioned() -> bool:
    """Whether signals is a partitioned table (PostgreSQL after the migrations)."""
    if db.engine.dialect.name != "postgresql":
        return False
    return bool(
        db.session.scalar(
            text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)").bindparams(
                t=PARENT
            )
        )
    )


def day_start(day: dt.date) -> dt.datetime:
    """Midnight UTC at the start of `day`: the lower bound of its partition."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def partition_name(day: dt.date) -> str:
    """The managed partition of `day`."""
    return f"signals_p{day:%Y%m%d}"


def _day_of(name: str) -> dt.date | None:
    match = NAME.match(name)
    return dt.datetime.strptime(match.group(1), "%Y%m%d").date() if match else None


def _partition_names() -> list[str]:
    return list(
        db.session.scalars(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = to_regclass(:t) ORDER BY c.relname"
            ).bindparams(t=PARENT)
        )
    )


def _count(name: str) -> int:
    return db.session.scalar(text(f'SELECT count(*) FROM "{name}"'))


def partitions(exact: bool = False) -> list[Partition]:
    """Every partition, oldest day first, the default last, with its rows and size; on SQLite
    the plain table as one."""
    if not partitioned():
        rows = db.session.scalar(select(func.count()).select_from(Signal))
        return [Partition(PARENT, None, rows, True)]
    stats = {
        row.relname: row
        for row in db.session.execute(
            text(
                "SELECT c.relname, c.reltuples::bigint AS estimate,"
                " pg_total_relation_size(c.oid) AS size"
                " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = to_regclass(:t)"
            ).bindparams(t=PARENT)
        )
    }
    found = []
    for name, row in stats.items():
        # reltuples is -1 for a table never analysed (PostgreSQL 14 and later).
        rows = _count(name) if exact else max(int(row.estimate), 0)
        found.append(Partition(name, _day_of(name), rows, exact, int(row.size)))
    return sorted(found, key=lambda p: (p.day is None, p.day or dt.date.min, p.name))


def days_to_prepare(now: dt.datetime, ahead_days: int, late: dt.timedelta) -> list[dt.date]:
    """The UTC days that need a partition at `now`: from the oldest a late upload may still be
    recorded on to `ahead_days` ahead."""
    first = (now - late).astimezone(dt.UTC).date()
    last = now.astimezone(dt.UTC).date() + dt.timedelta(days=ahead_days)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _lock_timeout() -> None:
    db.session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))


def _lock_refused(error: Exception) -> bool:
    return getattr(getattr(error, "orig", None), "sqlstate", None) == LOCK_NOT_AVAILABLE


def _bounds(day: dt.date) -> str:
    lower, upper = day_start(day), day_start(day + dt.timedelta(days=1))
    return f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"


def _attach(day: dt.date) -> int:
    """Make and attach the partition of `day` in the current transaction, moving the day's
    points out of the default partition first; how many were moved."""
    name = partition_name(day)
    lower, upper = day_start(day), day_start(day + dt.timedelta(days=1))
    _lock_timeout()
    # Inserts bound for the default partition wait until the commit (a point of this day
    # arriving between the move and the attach would make the attach fail); others go on.
    db.session.execute(text(f'LOCK TABLE "{DEFAULT}" IN SHARE ROW EXCLUSIVE MODE'))
    db.session.execute(
        text(f'CREATE TABLE "{name}" (LIKE "{PARENT}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    )
    window = {"lower": lower, "upper": upper}
    moved = db.session.execute(
        text(
            f'INSERT INTO "{name}" SELECT * FROM "{DEFAULT}"'
            " WHERE recorded_at >= :lower AND recorded_at < :upper"
        ),
        window,
    ).rowcount
    if moved:
        db.session.execute(
            text(f'DELETE FROM "{DEFAULT}" WHERE recorded_at >= :lower AND recorded_at < :upper'),
            window,
        )
    db.session.execute(text(f'ALTER TABLE "{PARENT}" ATTACH PARTITION "{name}" {_bounds(day)}'))
    return moved


#: What _in_own_transaction returns when a partition's step did not happen.
BUSY, FAILED = object(), object()


def _in_own_transaction(name: str, verb: str, step: Callable[[], int]):
    """Run one partition's `step` and commit it; its result, else BUSY when its lock could not
    be had in time (the caller stops: later steps would wait as long) or FAILED (logged; the
    caller goes on). Either way the next run tries again."""
    try:
        result = step()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        if _lock_refused(error):
            log.warning("partition %s: the table is busy; the next run %ss it", name, verb)
            return BUSY
        log.exception("could not %s partition %s; the next run tries again", verb, name)
        return FAILED
    return result


def _drop(name: str, now: dt.datetime, actor: Actor, cutoff: dt.datetime) -> int:
    """Drop a managed partition and audit it, in the current transaction; its rows."""
    _lock_timeout()
    rows = _count(name)
    db.session.execute(text(f'DROP TABLE "{name}"'))
    _audit_prune(now, actor, cutoff, name, _day_of(name), rows)
    return rows


def prepare(now: dt.datetime, ahead_days: int, late: dt.timedelta) -> list[str]:
    """Make every missing partition of `days_to_prepare` (one transaction each; committed);
    the names made. Nothing to do on SQLite. A partition whose lock cannot be had in time is
    left for the next run (its points meanwhile wait safely in the default partition)."""
    if not partitioned():
        return []
    existing = set(_partition_names())
    made = []
    for day in days_to_prepare(now, ahead_days, late):
        name = partition_name(day)
        if name in existing:
            continue
        moved = _in_own_transaction(name, "make", lambda day=day: _attach(day))
        if moved is BUSY:
            break  # every later one would wait as long, holding the inserts up each time
        if moved is FAILED:
            continue
        made.append(name)
        if moved:
            log.warning("partition %s made late: moved %s signals out of %s", name, moved, DEFAULT)
        else:
            log.info("partition %s made", name)
    return made


def retention_cutoff(now: dt.datetime, retention_days: int) -> dt.datetime:
    """Signals recorded before this go: midnight UTC starting the day `retention_days` ago, so
    that both engines delete exactly the same (whole UTC days)."""
    return day_start((now - dt.timedelta(days=retention_days)).astimezone(dt.UTC).date())


def _old_rows(table: str, cutoff: dt.datetime):
    """One chunk of the rows of `table` (the plain table or the default partition) recorded
    before `cutoff`, as a DELETE."""
    if table == PARENT:
        ids = select(Signal.id).where(Signal.recorded_at < cutoff).limit(DELETE_CHUNK)
        return delete(Signal).where(Signal.id.in_(ids)).execution_options(synchronize_session=False)
    return text(
        f'DELETE FROM "{table}" WHERE id IN'
        f' (SELECT id FROM "{table}" WHERE recorded_at < :cutoff LIMIT {DELETE_CHUNK})'
    ).bindparams(cutoff=cutoff)


def _delete_before(
    table: str, cutoff: dt.datetime, now: dt.datetime, actor: Actor, progress: Progress
) -> int:
    """Delete the rows of `table` recorded before `cutoff` in chunks, each committed with its
    audit entry; how many."""
    total = 0
    while chunk := db.session.execute(_old_rows(table, cutoff)).rowcount:
        total += chunk
        _audit_prune(now, actor, cutoff, table, None, chunk)
        db.session.commit()
        progress(table, chunk)
    db.session.rollback()
    return total


def _audit_prune(
    now: dt.datetime,
    actor: Actor,
    cutoff: dt.datetime,
    table: str,
    day: dt.date | None,
    rows: int,
) -> None:
    audit(
        "signals.prune",
        actor,
        now,
        detail={
            "table": table,
            "day": day.isoformat() if day else None,
            "rows": rows,
            "recorded_before": clock.isoformat(cutoff),
        },
    )


def old_partitions(cutoff: dt.datetime) -> list[str]:
    """The managed partitions whose whole day lies before `cutoff`, oldest first."""
    return [
        name
        for name in _partition_names()
        if (day := _day_of(name)) is not None and day_start(day + dt.timedelta(days=1)) <= cutoff
    ]


def prune(
    now: dt.datetime,
    retention_days: int,
    actor: Actor,
    *,
    dry_run: bool = False,
    progress: Progress = _silent,
) -> Pruned:
    """Delete the signals recorded before `retention_cutoff`: drop whole partitions on
    PostgreSQL (and the default partition's old rows), delete rows on SQLite. Each deletion is
    logged and audited with its count in its own transaction (committed). `dry_run` counts and
    deletes nothing. `progress` is told of each partition dropped or chunk of rows deleted."""
    cutoff = retention_cutoff(now, retention_days)
    if not partitioned():
        if dry_run:
            rows = db.session.scalar(
                select(func.count()).select_from(Signal).where(Signal.recorded_at < cutoff)
            )
            return Pruned(cutoff, (), rows, True)
        rows = _delete_before(PARENT, cutoff, now, actor, progress)
        if rows:
            log.info(
                "retention: deleted %s signals recorded before %s", rows, clock.isoformat(cutoff)
            )
        return Pruned(cutoff, (), rows, False)
    dropped = []
    for name in old_partitions(cutoff):
        if dry_run:
            dropped.append((name, _count(name)))
            progress(name, dropped[-1][1])
            continue
        rows = _in_own_transaction(name, "drop", lambda name=name: _drop(name, now, actor, cutoff))
        if rows is BUSY:
            break  # every later one would wait as long, holding the inserts up each time
        if rows is FAILED:
            continue
        log.info("retention: dropped partition %s (%s signals)", name, rows)
        dropped.append((name, rows))
        progress(name, rows)
    if dry_run:
        rows = db.session.scalar(
            text(f'SELECT count(*) FROM "{DEFAULT}" WHERE recorded_at < :cutoff'),
            {"cutoff": cutoff},
        )
    else:
        rows = _delete_before(DEFAULT, cutoff, now, actor, progress)
        if rows:
            log.info(
                "retention: deleted %s signals recorded before %s from %s",
                rows,
                clock.isoformat(cutoff),
                DEFAULT,
            )
    return Pruned(cutoff, tuple(dropped), rows, dry_run)


@dataclass(frozen=True)
class Maintained:
    """What one run of the storage job did."""

    made: list[str]
    pruned: Pruned


def maintain(
    now: dt.datetime, settings: StorageSettings, actor: Actor, progress: Progress = _silent
) -> Maintained:
    """The scheduled job: make the partitions ahead, then apply the retention. Idempotent."""
    made = prepare(now, settings.ahead_days, settings.late)
    pruned = prune(now, settings.retention_days, actor, progress=progress)
    return Maintained(made, pruned)
