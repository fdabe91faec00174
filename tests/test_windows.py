"""Window arithmetic: local windows every N days, as UTC instants."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from corrections.checkin.windows import (
    WindowShape,
    day_number,
    due_period,
    is_window_day,
    next_window,
    parse_hhmm,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def test_parse_hhmm():
    assert parse_hhmm("08:30") == 510
    for bad in ("8:30", "24:00", "12:60", "ab:cd", "12-30"):
        with pytest.raises(ValueError):
            parse_hhmm(bad)


def test_local_window_as_utc():
    shape = WindowShape(1, 8 * 60, 20 * 60)
    start, end = shape.bounds(dt.date(2026, 11, 28), SHANGHAI)
    assert start == dt.datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert end == dt.datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_window_across_midnight_ends_next_day():
    shape = WindowShape(1, 22 * 60, 1 * 60)
    start, end = shape.bounds(dt.date(2026, 11, 28), SHANGHAI)
    assert start == dt.datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    assert end == dt.datetime(2026, 11, 28, 17, 0, tzinfo=UTC)


def test_dst_zone_keeps_wall_clock_time():
    berlin = ZoneInfo("Europe/Berlin")
    shape = WindowShape(1, 9 * 60, 10 * 60)
    winter, _ = shape.bounds(dt.date(2026, 1, 15), berlin)
    summer, _ = shape.bounds(dt.date(2026, 7, 15), berlin)
    assert winter.hour == 8 and summer.hour == 7


def test_every_n_days_from_anchor():
    anchor = day_number(dt.date(2026, 11, 1))
    days = [d for d in range(1, 15) if is_window_day(dt.date(2026, 11, d), anchor, 3)]
    assert days == [1, 4, 7, 10, 13]
    assert not is_window_day(dt.date(2026, 10, 29), anchor, 3)


def test_next_window_is_the_open_one_then_the_following():
    shape = WindowShape(1, 8 * 60, 20 * 60)
    anchor = day_number(dt.date(2026, 11, 20))
    bounds = due_period(dt.date(2026, 11, 20), dt.date(2026, 12, 31), SHANGHAI)
    during = dt.datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 11:00 local
    assert next_window(shape, anchor, bounds, during, SHANGHAI)[0] == dt.datetime(
        2026, 11, 28, 0, 0, tzinfo=UTC
    )
    evening = dt.datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # 21:00 local: today's is closed
    assert next_window(shape, anchor, bounds, evening, SHANGHAI)[0] == dt.datetime(
        2026, 11, 29, 0, 0, tzinfo=UTC
    )


def test_next_window_none_after_supervision_and_first_before_it():
    shape = WindowShape(7, 9 * 60, 17 * 60)
    anchor = day_number(dt.date(2026, 12, 10))
    bounds = due_period(dt.date(2026, 12, 10), dt.date(2026, 12, 20), SHANGHAI)
    before = dt.datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert next_window(shape, anchor, bounds, before, SHANGHAI)[0] == dt.datetime(
        2026, 12, 10, 1, 0, tzinfo=UTC
    )
    after = dt.datetime(2026, 12, 21, 2, 0, tzinfo=UTC)
    assert next_window(shape, anchor, bounds, after, SHANGHAI) is None


def test_no_next_window_on_the_last_day_of_supervision():
    shape = WindowShape(1, 8 * 60, 20 * 60)
    anchor = day_number(dt.date(2026, 11, 20))
    bounds = due_period(dt.date(2026, 11, 20), dt.date(2026, 11, 29), SHANGHAI)
    evening = dt.datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # 21:00 on the 28th
    assert next_window(shape, anchor, bounds, evening, SHANGHAI) is None
    morning = dt.datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert next_window(shape, anchor, bounds, morning, SHANGHAI)[0] == dt.datetime(
        2026, 11, 28, 0, 0, tzinfo=UTC
    )
