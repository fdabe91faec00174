"""The thresholds the signal rules work by, per supervision level, read from the configuration
once by the caller and passed in (services never read the app's config).

Every threshold has one default (the CONTRACT's) and may be set apart for a level with
`SIGNAL_THRESHOLDS` (in the environment as JSON), e.g.
`{"strict": {"signal_lost_hours": 2}, "lenient": {"exit_confirm_fixes": 5}}`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

LEVELS = ("strict", "normal", "lenient")


@dataclass(frozen=True)
class Thresholds:
    """One level's thresholds; see config.py for each one's meaning."""

    exit_confirm_fixes: int = 3
    exit_clear_fixes: int = 3
    signal_lost_hours: float = 6.0
    impossible_travel_kmh: float = 300.0
    repeat_fixes: int = 20
    repeat_minutes: float = 30.0
    curfew_confirm_fixes: int = 3

    @property
    def signal_lost_after(self) -> dt.timedelta:
        return dt.timedelta(hours=self.signal_lost_hours)


class BadThresholds(ValueError):
    """SIGNAL_THRESHOLDS names an unknown level or threshold, or a value out of range."""


@dataclass(frozen=True)
class SignalSettings:
    """The thresholds of each level, and the limits every level shares."""

    by_level: Mapping[str, Thresholds]
    accuracy_ceiling_m: float
    max_future: dt.timedelta
    max_age: dt.timedelta
    max_batch: int = 500
    curfew_home_radius_m: float = 200.0

    def of(self, level: str) -> Thresholds:
        """The thresholds for a subject of `level`."""
        return self.by_level.get(level) or self.by_level["normal"]

    @classmethod
    def from_config(cls, config: Mapping) -> SignalSettings:
        """The settings of an app's config."""
        base = Thresholds(
            exit_confirm_fixes=int(config["GEOFENCE_CONFIRM_FIXES"]),
            exit_clear_fixes=int(config["GEOFENCE_CLEAR_FIXES"]),
            signal_lost_hours=float(config["SIGNAL_LOST_HOURS"]),
            impossible_travel_kmh=float(config["IMPOSSIBLE_TRAVEL_KMH"]),
            repeat_fixes=int(config["REPEATED_FIX_COUNT"]),
            repeat_minutes=float(config["REPEATED_FIX_MINUTES"]),
            curfew_confirm_fixes=int(config["CURFEW_CONFIRM_FIXES"]),
        )
        overrides = config.get("SIGNAL_THRESHOLDS") or {}
        by_level = {level: _apply(base, level, overrides.get(level, {})) for level in LEVELS}
        unknown = set(overrides) - set(LEVELS)
        if unknown:
            raise BadThresholds(f"SIGNAL_THRESHOLDS: unknown level {sorted(unknown)[0]!r}")
        return cls(
            by_level=by_level,
            accuracy_ceiling_m=float(config["ACCURACY_CEILING_M"]),
            max_future=dt.timedelta(seconds=config["CHECKIN_MAX_FUTURE_SECONDS"]),
            max_age=dt.timedelta(hours=config["CHECKIN_MAX_AGE_HOURS"]),
            curfew_home_radius_m=float(config["CURFEW_HOME_RADIUS_M"]),
        )


def _apply(base: Thresholds, level: str, changes: Mapping) -> Thresholds:
    names = {f.name: f.type for f in dataclasses.fields(Thresholds)}
    values = {}
    for name, value in changes.items():
        if name not in names:
            raise BadThresholds(f"SIGNAL_THRESHOLDS[{level!r}]: unknown threshold {name!r}")
        number = float(value)
        if number <= 0:
            raise BadThresholds(f"SIGNAL_THRESHOLDS[{level!r}][{name!r}] must be above 0")
        values[name] = int(number) if names[name] == "int" else number
    return dataclasses.replace(base, **values)


def current() -> SignalSettings:
    """The running app's settings (for handlers and the scheduler: not for services)."""
    from flask import current_app

    return SignalSettings.from_config(current_app.config)
