"""Rate limits whose counts every worker and server shares: the `limits` library's moving window,
on Redis when REDIS_URL is set, else on a table of this database (`rate_limit_hits`).

A moving window counts the attempts of the last `window`; once `amount` of them are there, the
next is refused until the oldest ages out (which is what Retry-After says). Process memory is
never used: four gunicorn workers, or two servers, count as one.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItemPerSecond
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Text, bindparam, cast, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from corrections import clock
from corrections.auth.models import RateLimitHit
from corrections.extensions import db

#: Expired rows one hit deletes on the way (the scheduler's prune job removes the rest daily).
PRUNE_BATCH = 200


@dataclass(frozen=True)
class Limit:
    """At most `amount` attempts per `window`, counted per key under the name `name`."""

    name: str
    amount: int
    window: dt.timedelta

    @property
    def item(self) -> RateLimitItemPerSecond:
        """The `limits` item: `amount` per `window` seconds, namespaced by `name`."""
        return RateLimitItemPerSecond(
            self.amount, int(self.window.total_seconds()), namespace=self.name
        )


class DatabaseStorage(Storage, MovingWindowSupport):
    """`limits` storage on the application's database: one row per counted attempt.

    It works in the request's session and commits each hit at once, so a burst of parallel
    requests cannot all pass before any was counted: on PostgreSQL a transaction-level advisory
    lock on the key serialises the hits of one key; on SQLite every transaction already holds
    the write lock (corrections/sqlite.py). Call it before the request changes anything, since
    the commit takes the session's work with it. Time is `corrections.clock`'s, so tests move it.
    Only the moving window is offered; fixed-window counters are not."""

    STORAGE_SCHEME = None

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        now = clock.now()
        _lock(key)
        _prune(now)
        since = now - dt.timedelta(seconds=expiry)
        counted = db.session.scalar(
            select(func.count()).where(RateLimitHit.key == key, RateLimitHit.at > since)
        )
        acquired = amount <= limit and counted + amount <= limit
        if acquired:
            expires = now + dt.timedelta(seconds=expiry)
            db.session.add_all(
                RateLimitHit(key=key, at=now, expires_at=expires) for _ in range(amount)
            )
        db.session.commit()
        return acquired

    def acquire_in_transaction(self, key: str, limit: int, expiry: int) -> bool:
        """Count one attempt in the caller's transaction, without committing: the key's lock
        (PostgreSQL) is held until the caller's commit, so parallel attempts of one key still
        count one after another. One statement counts and adds; expired rows are left to the
        scheduler's prune job."""
        _lock(key)
        added = db.session.connection().execute(_count_and_add(), _row(key, limit, expiry)).first()
        return added is not None

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = clock.now()
        since = now - dt.timedelta(seconds=expiry)
        newest = db.session.scalars(
            select(RateLimitHit.at)
            .where(RateLimitHit.key == key, RateLimitHit.at > since)
            .order_by(RateLimitHit.at.desc())
            .limit(limit)
        ).all()
        if not newest:
            return now.timestamp(), 0
        return clock.as_utc(newest[-1]).timestamp(), len(newest)

    def clear(self, key: str) -> None:
        """Forget the key's attempts, in the caller's transaction."""
        db.session.execute(delete(RateLimitHit).where(RateLimitHit.key == key))

    def reset(self) -> int | None:
        return db.session.execute(delete(RateLimitHit)).rowcount

    def check(self) -> bool:
        return db.session.scalar(select(1)) == 1

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("DatabaseStorage offers the moving window only")

    def get(self, key: str) -> int:
        raise NotImplementedError("DatabaseStorage offers the moving window only")

    def get_expiry(self, key: str) -> float:
        raise NotImplementedError("DatabaseStorage offers the moving window only")


def _lock(key: str) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection().execute(_LOCK, {"key": key})


def _lock_of(key):
    """The expression that takes the advisory lock of a stored key (an SQL text expression):
    the key's hash computed by PostgreSQL (11 and later), so that a statement that learns the
    key from a row it reads can take the same lock (Folded.lock)."""
    return func.pg_advisory_xact_lock(func.hashtextextended(key, 0))


_LOCK = select(_lock_of(bindparam("key", type_=Text)))


def _row(key: str, limit: int, expiry: int) -> dict:
    # The parameters of _count_and_add(), and of a statement that counts the same way.
    now = clock.now()
    return {
        "key": key,
        "now": now,
        "since": now - dt.timedelta(seconds=expiry),
        "expires": now + dt.timedelta(seconds=expiry),
        "limit": limit,
    }


@functools.cache
def _count_and_add():
    # INSERT ... SELECT ... WHERE the count is under the limit: counted and added at once.
    table = RateLimitHit.__table__
    counted = (
        select(func.count())
        .where(table.c.key == bindparam("key"), table.c.at > bindparam("since"))
        .scalar_subquery()
    )
    row = select(
        bindparam("key", type_=table.c.key.type),
        bindparam("now", type_=table.c.at.type),
        bindparam("expires", type_=table.c.at.type),
    ).where(counted < bindparam("limit"))
    return insert(table).from_select(["key", "at", "expires_at"], row).returning(table.c.id)


def _prune(now: dt.datetime, batch: int | None = PRUNE_BATCH) -> int:
    # SKIP LOCKED: rows another worker is deleting are left to it, so pruning never waits.
    expired = (
        select(RateLimitHit.id)
        .where(RateLimitHit.expires_at <= now)
        .with_for_update(skip_locked=True)
    )
    if batch is not None:
        expired = expired.limit(batch)
    ids = db.session.scalars(expired).all()
    if not ids:
        return 0
    db.session.execute(delete(RateLimitHit).where(RateLimitHit.id.in_(ids)))
    return len(ids)


def prune(now: dt.datetime) -> int:
    """Delete every expired count kept in the database (the scheduler's daily prune job)."""
    total = 0
    while removed := _prune(now, batch=5000):
        total += removed
    return total


def init_app(app: Flask) -> None:
    """Choose where the counts live: Redis when REDIS_URL is set, else this database."""
    url = app.config.get("REDIS_URL")
    storage = storage_from_string(url) if url else DatabaseStorage()
    app.extensions["rate_limiter"] = MovingWindowRateLimiter(storage)


def _limiter() -> MovingWindowRateLimiter:
    return current_app.extensions["rate_limiter"]


def hit(limit: Limit, key: str) -> int | None:
    """Count one attempt for `key`; None when it is allowed, else the seconds to wait (and the
    attempt is not counted)."""
    if _limiter().hit(limit.item, key):
        return None
    return retry_after(limit, key)


def hit_in_transaction(limit: Limit, key: str) -> int | None:
    """Like hit(), but on the database the count is written in the caller's transaction and
    commits with it: one commit per request, not two. A request that rolls back takes its count
    with it, so a caller whose refused attempts must count calls hit() again after its
    rollback. On Redis this is hit()."""
    storage = _limiter().storage
    if not isinstance(storage, DatabaseStorage):
        return hit(limit, key)
    item = limit.item
    if storage.acquire_in_transaction(item.key_for(key), item.amount, item.get_expiry()):
        return None
    return retry_after(limit, key)


@dataclass(frozen=True)
class Folded:
    """Attempts of the keys `template.format(who)` that a caller counts inside statements of its
    own, on PostgreSQL with the counts in this database (the check-in's hot path, which learns
    `who` from a row it reads): take the key's advisory lock in an earlier statement of the
    transaction, as the SQL lock_sql() gives (so the counting statement's snapshot sees every
    attempt committed before the lock was granted), then add a row to rate_limit_hits with
    params(who) (key, now, since, expires, limit) only while fewer than `limit` rows of `key`
    are newer than `since`, as hit_in_transaction() does. A refused attempt adds nothing;
    retry_after() says the wait."""

    limit: Limit
    template: str

    def stored_key(self, who) -> str:
        return self.limit.item.key_for(self.template.format(who))

    @staticmethod
    def lock(who):
        """The SQL expression that takes the lock of the key of `who` (a column), the one
        _lock() takes for it; its bound parameters are lock_params()."""
        prefix = bindparam("folded_prefix", type_=Text)
        return _lock_of(
            prefix.concat(cast(who, Text)).concat(bindparam("folded_suffix", type_=Text))
        )

    def lock_params(self) -> dict:
        prefix, suffix = self.stored_key("\x1f").split("\x1f")
        return {"folded_prefix": prefix, "folded_suffix": suffix}

    def params(self, who) -> dict:
        item = self.limit.item
        return _row(self.stored_key(who), item.amount, item.get_expiry())


def folded(limit: Limit, template: str) -> Folded | None:
    """The attempts of `limit` on the keys `template` ("subject:{}") as Folded when the caller
    can count them in its own statements, else None (SQLite, Redis: hit_in_transaction())."""
    if not isinstance(_limiter().storage, DatabaseStorage):
        return None
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    return Folded(limit, template)


def full(limit: Limit, key: str) -> int | None:
    """Without counting: None while `key` may make another attempt, else the seconds to wait."""
    if _limiter().test(limit.item, key):
        return None
    return retry_after(limit, key)


def retry_after(limit: Limit, key: str) -> int:
    """Seconds until the oldest counted attempt of `key` ages out of the window (at least 1)."""
    stats = _limiter().get_window_stats(limit.item, key)
    return max(1, math.ceil(stats.reset_time - clock.now().timestamp()))


def clear(limit: Limit, key: str) -> None:
    """Forget the attempts of `key` (a successful login forgets the account's failures)."""
    _limiter().clear(limit.item, key)
