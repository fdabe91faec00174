"""Pure decisions about curfews: the hours of a plan when the subject must be at home.

A curfew is two local clock times; an end before the start crosses midnight (22:00 to 06:00,
the usual case). Each curfew period belongs to the local day it began on (its "night"), so the
hours after midnight count with the evening before and one night raises at most one alert from
background signals. A fix is away from home only when its whole accuracy circle (the claim,
capped at the ceiling) lies farther than the home radius: a poor fix at home is no breach.

No database, no clock, no Flask: the check-in service and the signal rules call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from corrections.checkin.windows import format_hhmm
from corrections.zones.rules import Finding, Fix, fix_evidence, geodesic_m

KIND = "curfew"
#: How many of a night's first fixes away from home the evidence lists.
RUN_EVIDENCE = 10
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Curfew:
    """Local clock times (minutes after midnight) between which the subject must be at home."""

    start_min: int
    end_min: int

    def __post_init__(self):
        if not (0 <= self.start_min < MINUTES_PER_DAY and 0 <= self.end_min < MINUTES_PER_DAY):
            raise ValueError("curfew times must lie within a day")
        if self.start_min == self.end_min:
            raise ValueError("a curfew must not be empty")

    @property
    def crosses_midnight(self) -> bool:
        return self.end_min < self.start_min

    def hours_text(self) -> str:
        """ "22:00–06:00"."""
        return f"{format_hhmm(self.start_min)}–{format_hhmm(self.end_min)}"

    def night_of(self, at: dt.datetime, zone: ZoneInfo) -> dt.date | None:
        """The local day on which the curfew period holding `at` began, or None when `at`
        lies outside the curfew hours."""
        local = at.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if not self.crosses_midnight:
            return local.date() if self.start_min <= minute < self.end_min else None
        if minute >= self.start_min:
            return local.date()
        if minute < self.end_min:
            return local.date() - dt.timedelta(days=1)
        return None

    def bounds(self, night: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The UTC start and end of the curfew period of `night`."""
        start = _at(night, self.start_min, zone)
        end_day = night + dt.timedelta(days=1) if self.crosses_midnight else night
        return start, _at(end_day, self.end_min, zone)


def _at(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(dt.UTC)


@dataclass(frozen=True)
class CurfewVersion:
    """The curfew of one plan version and when that version was in force."""

    curfew: Curfew | None
    effective_from: dt.datetime
    effective_to: dt.datetime | None


def curfew_at(versions: Sequence[CurfewVersion], at: dt.datetime) -> Curfew | None:
    """The curfew of the plan version in force at `at` (none before the first took effect)."""
    for version in versions:
        if version.effective_from <= at and (
            version.effective_to is None or at < version.effective_to
        ):
            return version.curfew
    return None


def away_from_home(
    fix: Fix, home: tuple[float, float], radius_m: float, ceiling_m: float
) -> dict | None:
    """The measurements when the fix's whole accuracy circle lies beyond `radius_m` of home,
    else None."""
    distance = geodesic_m((fix.lat, fix.lon), home)
    counted = fix.counted_accuracy(ceiling_m)
    if distance - counted <= radius_m:
        return None
    return {
        **fix_evidence(fix, ceiling_m),
        "distance_from_home_m": round(distance, 1),
        "margin_m": round(distance - counted - radius_m, 1),
    }


def _finding(curfew: Curfew, night: dt.date, step: dict, radius_m: float, **more) -> Finding:
    return Finding(
        KIND,
        {
            **step,
            "curfew": curfew.hours_text(),
            "night": night.isoformat(),
            "home_radius_m": radius_m,
            **more,
        },
    )


def judge_checkin(
    fix: Fix,
    home: tuple[float, float] | None,
    curfew: Curfew | None,
    *,
    radius_m: float,
    ceiling_m: float,
    zone: ZoneInfo,
) -> Finding | None:
    """A deliberate check-in inside the curfew hours, away from home: a breach at once (the
    subject says themself where they are)."""
    if curfew is None or home is None:
        return None
    night = curfew.night_of(fix.at, zone)
    if night is None:
        return None
    step = away_from_home(fix, home, radius_m, ceiling_m)
    if step is None:
        return None
    return _finding(curfew, night, step, radius_m, source="checkin")


@dataclass(frozen=True)
class CurfewTrack:
    """What the signal rules remember of the current night: the night counted, the run of
    consecutive fixes away from home in it (and the first ones' evidence), whether it raised."""

    night: dt.date | None = None
    away_count: int = 0
    away_run: tuple[dict, ...] = ()
    raised: bool = False


def follow_signal(
    track: CurfewTrack,
    fix: Fix,
    home: tuple[float, float] | None,
    curfew: Curfew | None,
    *,
    confirm_fixes: int,
    radius_m: float,
    ceiling_m: float,
    zone: ZoneInfo,
) -> tuple[CurfewTrack, Finding | None]:
    """One background fix in time order: `confirm_fixes` consecutive fixes away from home in
    one night's curfew hours raise the night's one breach; a fix at home, or outside the hours,
    ends the run (a bad fix is not a night out)."""
    night = curfew.night_of(fix.at, zone) if curfew is not None and home is not None else None
    if night is None:
        return replace(track, away_count=0, away_run=()), None
    if night != track.night:
        track = CurfewTrack(night=night)
    step = away_from_home(fix, home, radius_m, ceiling_m)
    if step is None:
        return replace(track, away_count=0, away_run=()), None
    run = track.away_run + ((step,) if len(track.away_run) < RUN_EVIDENCE else ())
    track = replace(track, away_count=track.away_count + 1, away_run=run)
    if track.raised or track.away_count < confirm_fixes:
        return track, None
    farthest = max(track.away_run, key=lambda s: s["distance_from_home_m"])
    finding = _finding(
        curfew,
        night,
        step,
        radius_m,
        source="signals",
        confirmed_by_fixes=track.away_count,
        confirm_threshold=confirm_fixes,
        first_away_at=track.away_run[0]["recorded_at"],
        farthest_from_home_m=farthest["distance_from_home_m"],
        fixes=list(track.away_run),
    )
    return replace(track, raised=True), finding
