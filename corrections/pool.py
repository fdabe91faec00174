"""Pooled database connections are checked only after they sat idle.

SQLAlchemy's `pool_pre_ping` sends a round trip before every request. Under load a web worker's
connection is never idle, and on the check-in's hot path that round trip was a fifth of the
time a worker waited for the database (docs/performance.md). Here a connection that sat in the
pool for more than DATABASE_PING_AFTER_IDLE_SECONDS (10 by default) is pinged when it is taken
out; a dead one is replaced at once (DisconnectionError makes the pool retry with a fresh
connection), so a database restarted at night costs nobody anything. A restart under load costs
each worker the one request whose connection died under it: that request is answered 503 with
Retry-After (corrections.errors), and phones send again.
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

IDLE_SINCE = "idle_since"


def configure(engine: Engine, ping_after_idle_seconds: float) -> None:
    """Ping connections idle longer than `ping_after_idle_seconds` when taken from the pool."""

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record):
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, proxy):
        since = record.info.pop(IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= ping_after_idle_seconds:
            return  # new, or in steady use
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the idle connection is gone") from error
        if not alive:
            raise DisconnectionError("the idle connection is gone")
