"""Pure arithmetic of check-in windows: which windows are due, as UTC instants.

`is_due` is the one definition of a due window; the sweep's SQL (`checkin.detector.due_on_day`)
states the same conditions over the plan and subject columns, and a property test holds the two
to each other. A window of a plan version on local day `n` (a day number) is due when:

- the day is one of the plan's rhythm: `(n - anchor_day) % every_days == 0`;
- it lies within the version: `first_day <= n <= last_day` (the first window that starts at or
  after the version took effect, the last that starts before it was replaced): a record entered
  late has no past misses, and a change never reaches back to windows already judged;
- it lies within the supervision: it starts on or after local midnight of `supervision_start`
  and ends before local midnight of `supervision_end` (so no window is due on the release day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

EPOCH = dt.date(1970, 1, 1)
#: How far ahead `next_window` looks for a window (a plan every 90 days, behind a future change).
HORIZON_DAYS = 800


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01; plans anchor their rhythm on it."""
    return (day - EPOCH).days


def day_from_number(number: int) -> dt.date:
    """The inverse of day_number."""
    return EPOCH + dt.timedelta(days=number)


def parse_hhmm(value: str) -> int:
    """'08:30' → 510 minutes after midnight; ValueError for anything else."""
    hours, _, minutes = value.partition(":")
    if len(value) != 5 or not hours.isascii() or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(value)
    if not minutes.isascii():
        raise ValueError(value)
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(value)
    return h * 60 + m


def format_hhmm(minutes: int) -> str:
    """510 → '08:30': the inverse of parse_hhmm."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class WindowShape:
    """A plan's rhythm without the person: every N days, from start to end minute, local time."""

    every_days: int
    start_min: int
    end_min: int

    @property
    def crosses_midnight(self) -> bool:
        return self.end_min <= self.start_min

    def end_day(self, n: int) -> int:
        """The local day (number) on which the window opening on day `n` ends."""
        return n + 1 if self.crosses_midnight else n

    def bounds(self, n: int, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The window opening on local day number `n`, as UTC instants."""
        start = _local(day_from_number(n), self.start_min, zone)
        end = _local(day_from_number(self.end_day(n)), self.end_min, zone)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _local(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))
    # fold=0 and zoneinfo resolve gaps and overlaps the way wall clocks do.
    return naive.replace(tzinfo=zone)


@dataclass(frozen=True)
class PlanTerms:
    """A plan version as the arithmetic sees it."""

    shape: WindowShape
    anchor_day: int
    first_day: int
    last_day: int | None = None


@dataclass(frozen=True)
class Supervision:
    """The first and last local day of supervision."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class DueWindow:
    """A due window: its bounds (UTC), its local day number and the plan version it is due by."""

    start: dt.datetime
    end: dt.datetime
    day: int
    plan: int


def _aligned_up(n: int, anchor_day: int, every_days: int) -> int:
    """The first day of the rhythm on or after `n` (never before the anchor)."""
    n = max(n, anchor_day)
    return n + (-(n - anchor_day)) % every_days


def is_due(terms: PlanTerms, n: int, supervision: Supervision) -> bool:
    """Whether the window of `terms` opening on local day `n` is due (the module's rules)."""
    return (
        terms.first_day <= n
        and (terms.last_day is None or n <= terms.last_day)
        and (n - terms.anchor_day) % terms.shape.every_days == 0
        and day_number(supervision.start) <= n
        and terms.shape.end_day(n) < day_number(supervision.end)
    )


def first_window_day(
    shape: WindowShape, anchor_day: int, effective_from: dt.datetime, zone: ZoneInfo
) -> int:
    """The day of the first window of the rhythm that starts at or after `effective_from`."""
    n = _aligned_up(
        day_number(effective_from.astimezone(zone).date()) - 1, anchor_day, shape.every_days
    )
    while shape.bounds(n, zone)[0] < effective_from:
        n += shape.every_days
    return n


def last_window_day(
    shape: WindowShape, anchor_day: int, effective_to: dt.datetime, zone: ZoneInfo
) -> int:
    """The day of the last window of the rhythm that starts before `effective_to` (it may lie
    before the version's first day: a version replaced before its first window has none)."""
    n = day_number(effective_to.astimezone(zone).date()) + 1
    n -= (n - anchor_day) % shape.every_days
    while shape.bounds(n, zone)[0] >= effective_to:
        n -= shape.every_days
    return n


def due_windows(
    plans: Sequence[PlanTerms], supervision: Supervision, first: int, last: int, zone: ZoneInfo
) -> list[DueWindow]:
    """Every due window opening on local days `first`..`last` (day numbers), by start."""
    found = []
    for index, terms in enumerate(plans):
        n = _aligned_up(first, terms.anchor_day, terms.shape.every_days)
        while n <= last:
            if is_due(terms, n, supervision):
                start, end = terms.shape.bounds(n, zone)
                found.append(DueWindow(start, end, n, index))
            n += terms.shape.every_days
    return sorted(found, key=lambda w: (w.start, w.plan))


def window_containing(
    plans: Sequence[PlanTerms], supervision: Supervision, instant: dt.datetime, zone: ZoneInfo
) -> DueWindow | None:
    """The due window `instant` lies in (start inclusive, end exclusive), if any."""
    today = day_number(instant.astimezone(zone).date())
    for window in due_windows(plans, supervision, today - 1, today, zone):
        if window.start <= instant < window.end:
            return window
    return None


def next_window(
    plans: Sequence[PlanTerms], supervision: Supervision, after: dt.datetime, zone: ZoneInfo
) -> DueWindow | None:
    """The due window open at `after`, or else the next one to open; None when none is left."""
    today = day_number(after.astimezone(zone).date())
    best = None
    for index, terms in enumerate(plans):
        every = terms.shape.every_days
        n = _aligned_up(max(today - 1, terms.first_day), terms.anchor_day, every)
        while n <= today + HORIZON_DAYS:
            if terms.last_day is not None and n > terms.last_day:
                break
            if terms.shape.end_day(n) >= day_number(supervision.end):
                break
            start, end = terms.shape.bounds(n, zone)
            if end > after and is_due(terms, n, supervision):
                if best is None or start < best.start:
                    best = DueWindow(start, end, n, index)
                break
            n += every
    return best
