"""Window arithmetic: local windows every N days, as UTC instants, and which of them are due."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from corrections.checkin.windows import (
    PlanTerms,
    Supervision,
    WindowShape,
    day_from_number,
    day_number,
    due_windows,
    first_window_day,
    is_due,
    last_window_day,
    next_window,
    parse_hhmm,
    window_containing,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
DAILY = WindowShape(1, 8 * 60, 20 * 60)
NIGHT = WindowShape(1, 22 * 60, 2 * 60)


def n(text: str) -> int:
    return day_number(dt.date.fromisoformat(text))


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def plan(shape=DAILY, anchor="2026-11-20", first=None, last=None) -> PlanTerms:
    return PlanTerms(shape, n(anchor), n(first or anchor), n(last) if last else None)


SUPERVISION = Supervision(dt.date(2026, 11, 20), dt.date(2027, 11, 19))


def test_parse_hhmm():
    assert parse_hhmm("08:30") == 510
    for bad in ("8:30", "24:00", "12:60", "ab:cd", "12-30", "٠٨:٣٠", "０８:３０"):
        with pytest.raises(ValueError):
            parse_hhmm(bad)


def test_local_window_as_utc():
    start, end = DAILY.bounds(n("2026-11-28"), SHANGHAI)
    assert (start, end) == (local("2026-11-28T08:00"), local("2026-11-28T20:00"))


def test_window_across_midnight_ends_next_day():
    start, end = NIGHT.bounds(n("2026-11-28"), SHANGHAI)
    assert (start, end) == (local("2026-11-28T22:00"), local("2026-11-29T02:00"))
    assert NIGHT.end_day(n("2026-11-28")) == n("2026-11-29")


def test_dst_zone_keeps_wall_clock_time():
    berlin = ZoneInfo("Europe/Berlin")
    shape = WindowShape(1, 9 * 60, 10 * 60)
    winter, _ = shape.bounds(n("2026-01-15"), berlin)
    summer, _ = shape.bounds(n("2026-07-15"), berlin)
    assert winter.hour == 8 and summer.hour == 7


def test_every_n_days_from_anchor():
    terms = plan(WindowShape(3, 8 * 60, 20 * 60), anchor="2026-11-01")
    supervision = Supervision(dt.date(2026, 11, 1), dt.date(2027, 1, 1))
    due = [d for d in range(1, 15) if is_due(terms, n(f"2026-11-{d:02d}"), supervision)]
    assert due == [1, 4, 7, 10, 13]
    assert not is_due(terms, n("2026-10-29"), supervision)


def test_no_window_before_the_first_day_of_supervision_or_on_the_last():
    terms = plan(anchor="2026-11-20")
    short = Supervision(dt.date(2026, 11, 20), dt.date(2026, 11, 23))
    due = [
        day_from_number(w.day).day
        for w in due_windows([terms], short, n("2026-11-18"), n("2026-11-25"), SHANGHAI)
    ]
    assert due == [20, 21, 22]  # the 23rd is the release day
    # A night window opening the day before the last ends on the last day: not due.
    night = plan(NIGHT, anchor="2026-11-20")
    nights = due_windows([night], short, n("2026-11-18"), n("2026-11-25"), SHANGHAI)
    assert [day_from_number(w.day).day for w in nights] == [20, 21]


def test_the_first_window_starts_at_or_after_the_plan_took_effect():
    anchor = n("2026-11-20")
    # Entered at 10:00 on the 28th: that day's 08:00 window had begun, the 29th's is the first.
    assert first_window_day(DAILY, anchor, local("2026-11-28T10:00"), SHANGHAI) == n("2026-11-29")
    assert first_window_day(DAILY, anchor, local("2026-11-28T08:00"), SHANGHAI) == n("2026-11-28")
    assert first_window_day(DAILY, anchor, local("2026-11-28T07:59"), SHANGHAI) == n("2026-11-28")
    # Entered long after supervision began, on the rhythm of every 7 days from the anchor.
    weekly = WindowShape(7, 9 * 60, 17 * 60)
    assert first_window_day(weekly, anchor, local("2026-11-28T10:00"), SHANGHAI) == n("2026-12-04")
    # Entered before the anchor: the anchor.
    assert first_window_day(weekly, anchor, local("2026-11-01T10:00"), SHANGHAI) == anchor
    # A night window entered at 23:00: tonight's began at 22:00; tomorrow night's is the first.
    assert first_window_day(NIGHT, anchor, local("2026-11-28T23:00"), SHANGHAI) == n("2026-11-29")


def test_the_last_window_starts_before_the_plan_was_replaced():
    anchor = n("2026-11-20")
    assert last_window_day(DAILY, anchor, local("2026-11-28T10:00"), SHANGHAI) == n("2026-11-28")
    assert last_window_day(DAILY, anchor, local("2026-11-28T08:00"), SHANGHAI) == n("2026-11-27")
    assert last_window_day(DAILY, anchor, local("2026-11-28T00:00"), SHANGHAI) == n("2026-11-27")
    weekly = WindowShape(7, 9 * 60, 17 * 60)
    assert last_window_day(weekly, anchor, local("2026-12-03T10:00"), SHANGHAI) == n("2026-11-27")


def test_a_version_replaced_before_its_first_window_has_none():
    terms = plan(anchor="2026-11-20", first="2026-11-29", last="2026-11-28")
    assert due_windows([terms], SUPERVISION, n("2026-11-20"), n("2026-12-20"), SHANGHAI) == []


def test_versions_take_turns():
    old = plan(anchor="2026-11-20", last="2026-11-24")
    new = plan(WindowShape(2, 9 * 60, 10 * 60), anchor="2026-11-25")
    found = due_windows([old, new], SUPERVISION, n("2026-11-23"), n("2026-11-28"), SHANGHAI)
    assert [(day_from_number(w.day).day, w.plan) for w in found] == [
        (23, 0), (24, 0), (25, 1), (27, 1)
    ]  # fmt: skip


def test_the_window_an_instant_lies_in():
    terms = [plan()]
    inside = window_containing(terms, SUPERVISION, local("2026-11-28T19:59"), SHANGHAI)
    assert (inside.start, inside.end) == (local("2026-11-28T08:00"), local("2026-11-28T20:00"))
    assert window_containing(terms, SUPERVISION, local("2026-11-28T08:00"), SHANGHAI) == inside
    assert window_containing(terms, SUPERVISION, local("2026-11-28T20:00"), SHANGHAI) is None
    night = window_containing([plan(NIGHT)], SUPERVISION, local("2026-11-29T01:00"), SHANGHAI)
    assert night.start == local("2026-11-28T22:00")


def test_next_window_is_the_open_one_then_the_following():
    terms = [plan()]
    during = next_window(terms, SUPERVISION, local("2026-11-28T11:00"), SHANGHAI)
    assert during.start == local("2026-11-28T08:00")
    evening = next_window(terms, SUPERVISION, local("2026-11-28T21:00"), SHANGHAI)
    assert evening.start == local("2026-11-29T08:00")


def test_next_window_none_after_supervision_and_first_before_it():
    weekly = [plan(WindowShape(7, 9 * 60, 17 * 60), anchor="2026-12-10")]
    supervision = Supervision(dt.date(2026, 12, 10), dt.date(2026, 12, 20))
    before = next_window(weekly, supervision, local("2026-11-28T10:00"), SHANGHAI)
    assert before.start == local("2026-12-10T09:00")
    assert next_window(weekly, supervision, local("2026-12-21T10:00"), SHANGHAI) is None


def test_no_next_window_on_the_last_day_of_supervision():
    supervision = Supervision(dt.date(2026, 11, 20), dt.date(2026, 11, 29))
    assert next_window([plan()], supervision, local("2026-11-28T21:00"), SHANGHAI) is None
    morning = next_window([plan()], supervision, local("2026-11-28T09:00"), SHANGHAI)
    assert morning.start == local("2026-11-28T08:00")


def test_next_window_of_a_future_version():
    old = plan(anchor="2026-11-20", last="2026-11-28")
    new = plan(WindowShape(1, 9 * 60, 10 * 60), anchor="2026-11-29")
    found = next_window([old, new], SUPERVISION, local("2026-11-28T21:00"), SHANGHAI)
    assert (found.start, found.plan) == (local("2026-11-29T09:00"), 1)
