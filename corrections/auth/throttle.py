"""Login throttling as the request sees it: 429 with Retry-After once a key has failed too often."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext

from corrections.auth import services
from corrections.errors import ApiError
from corrections.extensions import db


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def throttled_for(key: str, now: dt.datetime) -> int | None:
    """Seconds to wait before `key` may try again, or None."""
    return services.retry_after_seconds(
        key, now, current_app.config["LOGIN_MAX_FAILURES"], _window()
    )


def _too_many(wait: int) -> ApiError:
    return ApiError(
        429,
        message=gettext(
            "Too many failed attempts. Try again in %(minutes)s minute(s).", minutes=-(-wait // 60)
        ),
        headers={"Retry-After": str(wait)},
    )


def attempt(key: str, now: dt.datetime) -> None:
    """Count one login try for `key` before its secret is checked; 429 with Retry-After when
    it would go over the limit. The try is counted as a failure until `succeeded(key)`.

    Counting first (in its own commit) is what keeps parallel guesses honest: checking the
    count and recording the failure afterwards let every request of a burst pass the check
    before any of them was recorded."""
    window = _window()
    claimed = services.record_failure(key, now, window)
    db.session.commit()
    if services.failures_since(key, now - window) <= current_app.config["LOGIN_MAX_FAILURES"]:
        return
    services.forget_failure(claimed.id)  # a refused try was no guess
    db.session.commit()
    raise _too_many(throttled_for(key, now) or 1)


def succeeded(key: str) -> None:
    """The secret was right: forget the key's failures (in the caller's transaction)."""
    services.clear_failures(key)
