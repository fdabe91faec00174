"""The one source of "now". Tests and `alerts sweep --at` move it; nothing else reads the time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import current_app

_override: Callable[[], dt.datetime] | None = None


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    if _override is not None:
        return _override()
    return dt.datetime.now(dt.UTC)


def set_now(value: dt.datetime | None) -> None:
    """Freeze the clock at `value` (aware), or return to the system clock with None."""
    global _override
    if value is None:
        _override = None
        return
    if value.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    frozen = value.astimezone(dt.UTC)
    _override = lambda: frozen  # noqa: E731


def local_zone() -> ZoneInfo:
    """The configured TIMEZONE for windows, curfews and reports."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_today() -> dt.date:
    """Today's date in TIMEZONE."""
    return now().astimezone(local_zone()).date()


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Attach UTC to a naive value read back from the database (SQLite drops the offset)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def isoformat(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing Z, as every API response writes times."""
    value = as_utc(value)
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")
