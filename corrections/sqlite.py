"""Make the embedded SQLite behave like a server database for our purposes.

- foreign keys enforced (SQLite ignores them unless asked), as on PostgreSQL;
- WAL, so pages keep reading while the sweep writes;
- every transaction begins IMMEDIATE, taking the write lock up front: two requests that each read
  and then write (two officers acknowledging one alert) queue behind the busy timeout instead of
  deadlocking into "database is locked". SQLite is for development and small installs; PostgreSQL
  is the production engine.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 15_000


def configure(engine: Engine) -> None:
    """Attach the connection and transaction hooks to a SQLite engine (no-op for others)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
