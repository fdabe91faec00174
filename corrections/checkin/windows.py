"""Pure arithmetic of check-in windows: local-time windows every N days, as UTC instants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

EPOCH = dt.date(1970, 1, 1)


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01; plans anchor their rhythm on it."""
    return (day - EPOCH).days


def day_from_number(number: int) -> dt.date:
    """The inverse of day_number."""
    return EPOCH + dt.timedelta(days=number)


def parse_hhmm(value: str) -> int:
    """'08:30' → 510 minutes after midnight; ValueError for anything else."""
    hours, _, minutes = value.partition(":")
    if len(value) != 5 or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(value)
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(value)
    return h * 60 + m


@dataclass(frozen=True)
class WindowShape:
    """A plan's rhythm without the person: every N days, from start to end minute, local time."""

    every_days: int
    start_min: int
    end_min: int

    @property
    def crosses_midnight(self) -> bool:
        return self.end_min <= self.start_min

    def bounds(self, day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The window opening on local `day`, as UTC instants."""
        start = _local(day, self.start_min, zone)
        end_day = day + dt.timedelta(days=1) if self.crosses_midnight else day
        end = _local(end_day, self.end_min, zone)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _local(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))
    # fold=0 and zoneinfo resolve gaps and overlaps the way wall clocks do.
    return naive.replace(tzinfo=zone)


def due_period(start: dt.date, end: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants between which check-in windows are due, UTC: a window is due when it starts on
    or after local midnight of `supervision_start` and ends before local midnight of
    `supervision_end` (CONTRACT). So no window is due on the last day: the day of release, when
    the subject reports to the office in person."""
    first = dt.datetime.combine(start, dt.time(0), tzinfo=zone)
    last = dt.datetime.combine(end, dt.time(0), tzinfo=zone)
    return first.astimezone(dt.UTC), last.astimezone(dt.UTC)


def is_window_day(day: dt.date, anchor_day: int, every_days: int) -> bool:
    """True when a window opens on `day` for a plan anchored at `anchor_day`."""
    offset = day_number(day) - anchor_day
    return offset >= 0 and offset % every_days == 0


def next_window(
    shape: WindowShape,
    anchor_day: int,
    supervision: tuple[dt.datetime, dt.datetime],
    after: dt.datetime,
    zone: ZoneInfo,
) -> tuple[dt.datetime, dt.datetime] | None:
    """The window open at `after`, or the next one to open; None when supervision is over."""
    begin, finish = supervision
    day = max(after.astimezone(zone).date() - dt.timedelta(days=1), day_from_number(anchor_day))
    for _ in range(shape.every_days + 3):
        if is_window_day(day, anchor_day, shape.every_days):
            start, end = shape.bounds(day, zone)
            if end > after and start >= begin and end < finish:
                return start, end
            if start >= finish:
                return None
        day += dt.timedelta(days=1)
    return None
