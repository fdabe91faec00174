"""The settings the check-in services and the missed-check-in detector work by, read from the
configuration once by the caller and passed in (services never read the app's config)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckinSettings:
    """Limits for reports and windows; see config.py for each one's meaning and default."""

    max_future: dt.timedelta
    max_age: dt.timedelta
    impossible_travel_kmh: float
    accuracy_ceiling_m: float
    grace: dt.timedelta
    sweep_batch_size: int
    per_minute_limit: int = 0
    curfew_home_radius_m: float = 200.0

    @classmethod
    def from_config(cls, config: Mapping) -> CheckinSettings:
        """The settings of an app's config."""
        return cls(
            max_future=dt.timedelta(seconds=config["CHECKIN_MAX_FUTURE_SECONDS"]),
            max_age=dt.timedelta(hours=config["CHECKIN_MAX_AGE_HOURS"]),
            impossible_travel_kmh=float(config["IMPOSSIBLE_TRAVEL_KMH"]),
            accuracy_ceiling_m=float(config["ACCURACY_CEILING_M"]),
            grace=dt.timedelta(minutes=config["CHECKIN_GRACE_MINUTES"]),
            sweep_batch_size=int(config["SWEEP_BATCH_SIZE"]),
            per_minute_limit=int(config.get("CHECKIN_RATE_PER_MINUTE", 0)),
            curfew_home_radius_m=float(config["CURFEW_HOME_RADIUS_M"]),
        )


def current() -> CheckinSettings:
    """The running app's settings (for handlers, the CLI and the scheduler: not for services)."""
    from flask import current_app

    return CheckinSettings.from_config(current_app.config)
