"""The week a map draws is read for exactly that week: the check-ins and background positions
recorded from its first local midnight to the midnight after its last day, whatever the age of
the alert and however many came after, and the reads are audited with the span."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from corrections import clock
from corrections.audit.models import AuditEntry
from corrections.checkin.models import Checkin
from corrections.checkin.services import LocationReport
from corrections.extensions import db
from corrections.signals.models import Signal
from tests.factories import SEAT, raise_for, record_checkin
from tests.test_maps import day_buttons
from tests.test_pages import login, map_data

#: The alert's fix: 2026-09-28 10:00 in the county (a Monday), two months before "now".
FIX_AT = dt.datetime(2026, 9, 28, 2, 0, tzinfo=dt.UTC)
#: Its week, local midnight to midnight: 2026-09-22 00:00 to 2026-09-29 00:00 (UTC+8).
SINCE = dt.datetime(2026, 9, 21, 16, 0, tzinfo=dt.UTC)
UNTIL = dt.datetime(2026, 9, 28, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def person(app, world):
    """王小明 (T01), under supervision since September, and officer li."""
    world.officer("li", office_code="T01")
    return world.subject(name="王小明", supervision_start="2026-09-01", enrolled_at=SINCE)["id"]


def checkin_at(app, subject_id: int, name: str, when: dt.datetime, at) -> None:
    """A check-in taken and sent at `when` (the clock is moved there and back)."""
    now = clock.now()
    at(when)
    record_checkin(app, subject_id, LocationReport(name, SEAT[0] + 0.001, SEAT[1], 15.0, when))
    at(now)


def signals_at(app, subject_id: int, *moments: dt.datetime, flagged=()) -> None:
    """Background positions stored as ingest stores them (judged, flags written with them)."""
    with app.app_context():
        for n, when in enumerate(moments):
            db.session.add(
                Signal(
                    subject_id=subject_id,
                    client_id=f"s{n}",
                    source="app",
                    lat=SEAT[0] - 0.001 * (n + 1),
                    lon=SEAT[1],
                    accuracy_m=20.0,
                    recorded_at=when,
                    received_at=when,
                    flags=["outside"] if when in flagged else [],
                )
            )
        db.session.commit()


def audited(app, action: str) -> list[dict]:
    with app.app_context():
        return [
            e.detail
            for e in db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        ]


def test_an_old_alerts_map_draws_its_own_week_and_nothing_after(app, browser, person, at):
    # Two in its week, one the day before it began, and 60 after it (one a day since).
    for day in (20, 24, 27):
        checkin_at(app, person, f"sep{day}", dt.datetime(2026, 9, day, 2, tzinfo=dt.UTC), at)
    for n in range(60):
        when = dt.datetime(2026, 9, 29, 2, tzinfo=dt.UTC) + dt.timedelta(days=n)
        checkin_at(app, person, f"later{n}", when, at)
    in_week = (SINCE, dt.datetime(2026, 9, 25, 2, tzinfo=dt.UTC))
    outside = (SINCE - dt.timedelta(seconds=1), UNTIL, UNTIL + dt.timedelta(days=30))
    signals_at(app, person, *in_week, *outside, flagged=(in_week[1],))
    with app.app_context():
        evidence = {
            "nearest_zone": "县城",
            "distance_outside_m": 1200.0,
            "lat": SEAT[0] + 0.06,
            "lon": SEAT[1],
            "accuracy_m": 40.0,
            "recorded_at": clock.isoformat(FIX_AT),
        }
        alert_id = raise_for(person, "geofence_exit", evidence, FIX_AT).id
        db.session.commit()
        week_ids = db.session.scalars(
            select(Checkin.id)
            .where(Checkin.recorded_at >= SINCE, Checkin.recorded_at < UNTIL)
            .order_by(Checkin.recorded_at.desc())
        ).all()
    assert len(week_ids) == 2

    login(browser, "li")
    page = browser.get(f"/alerts/{alert_id}").text
    drawn = map_data(page, "alert-map")
    assert drawn["days"] == [f"2026-09-{d}" for d in range(22, 29)] and drawn["day"] == "2026-09-28"
    assert [(p["day"], p["source"], p["status"], p["alert"]) for p in drawn["points"]] == [
        ("2026-09-22", "signal", "accepted", False),  # at the week's first midnight
        ("2026-09-24", "checkin", "accepted", False),
        ("2026-09-25", "signal", "flagged", False),
        ("2026-09-27", "checkin", "accepted", False),
        ("2026-09-28", "checkin", "flagged", True),  # the alert's own fix
    ]
    assert "more positions than the map draws" not in page
    # The card beside the map still says when the person last checked in: yesterday.
    last = page[page.index('id="last-checkin-title"') :]
    assert "2026-11-27 10:00" in last

    [checkins] = [d for d in audited(app, "subject.checkins.read") if "since" in d]
    assert checkins == {
        "checkin_ids": week_ids,
        "since": "2026-09-21T16:00:00Z",
        "until": "2026-09-28T16:00:00Z",
    }
    [signals] = audited(app, "subject.signals.read")
    assert signals == {
        "since": "2026-09-21T16:00:00Z",
        "until": "2026-09-28T16:00:00Z",
        "count": 2,
    }


def test_the_subject_pages_map_draws_this_week_and_its_timeline_the_newest_50(
    app, browser, person, at
):
    now = clock.now()  # 2026-11-28 10:00 in the county
    checkin_at(app, person, "eight-days-ago", now - dt.timedelta(days=8), at)
    # 60 this week: more than the timeline lists, all of them on the map.
    for n in range(60):
        checkin_at(app, person, f"week{n}", now - dt.timedelta(hours=2 * n + 1), at)
    signals_at(app, person, now - dt.timedelta(days=6, hours=10), now - dt.timedelta(days=8))
    login(browser, "li")
    page = browser.get(f"/subjects/{person}").text
    drawn = map_data(page, "subject-map")
    assert drawn["days"] == [f"2026-11-{d}" for d in range(22, 29)] and drawn["day"] is None
    assert [p["source"] for p in drawn["points"]].count("checkin") == 60
    assert [p["source"] for p in drawn["points"]].count("signal") == 1
    assert drawn["points"][0]["day"] == "2026-11-22"
    timeline = page[page.index('id="checkins-title"') :]
    assert timeline.count("<tr") == 51  # the heading row and the newest 50

    reads = audited(app, "subject.checkins.read")
    timeline_read, map_read = (
        [d for d in reads if "since" not in d],
        [d for d in reads if "since" in d],
    )
    assert len(timeline_read[0]["checkin_ids"]) == 50
    assert len(map_read[0]["checkin_ids"]) == 60
    assert map_read[0]["since"] == "2026-11-21T16:00:00Z"
    assert map_read[0]["until"] == "2026-11-28T16:00:00Z"
    [signals] = audited(app, "subject.signals.read")
    assert (signals["until"], signals["count"]) == ("2026-11-28T16:00:00Z", 1)


def test_when_the_cap_cuts_the_week_short_the_page_says_from_when_it_is_whole(
    app, browser, person, at, monkeypatch
):
    from corrections.casefile import mapping

    monkeypatch.setattr(mapping, "TRACK_CHECKINS", 3)
    monkeypatch.setattr(mapping, "TRACK_SIGNALS", 4)
    now = clock.now()
    for n in range(5):
        checkin_at(app, person, f"c{n}", now - dt.timedelta(days=n), at)
    # Six signals an hour apart yesterday: only the newest four are read.
    yesterday = now - dt.timedelta(days=1)
    signals_at(app, person, *(yesterday - dt.timedelta(hours=h) for h in range(6)))
    login(browser, "li")
    page = browser.get(f"/subjects/{person}").text
    drawn = map_data(page, "subject-map")
    assert [p["source"] for p in drawn["points"]].count("checkin") == 3
    assert [p["source"] for p in drawn["points"]].count("signal") == 4
    # Complete from the later of the two cuts: the oldest signal read (07:00 yesterday).
    assert (
        "The week has more positions than the map draws: it shows all of them from "
        "2026-11-27 07:00 on." in page
    )
    [signals] = audited(app, "subject.signals.read")
    assert signals["count"] == 4 and signals["complete_from"] == "2026-11-26T23:00:00Z"
    # The day picker says which days the map draws only in part.
    summaries = {day: summary for day, _, summary, _ in day_buttons(page, "subject-map")}
    assert summaries[""].endswith("; all drawn from 2026-11-27 07:00 on")
    assert summaries["2026-11-26"] == "Nov 26 (Thu): 1 position, 0 flagged; not all drawn"
    assert summaries["2026-11-27"].endswith("; all drawn from 07:00 on")
    assert "not all drawn" not in summaries["2026-11-28"] + "".join(
        summaries[d] for d in summaries if d and d > "2026-11-27"
    )


def test_an_old_alert_without_a_fix_marks_the_last_checkin_of_its_own_week(
    app, browser, person, at
):
    # A missed check-in two months ago has no position of its own: its map marks the last
    # check-in of the alert's week, not yesterday's (which lies outside the week and would add
    # a day to the picker).
    checkin_at(app, person, "sep24", dt.datetime(2026, 9, 24, 2, tzinfo=dt.UTC), at)
    checkin_at(app, person, "nov27", dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC), at)
    with app.app_context():
        alert_id = raise_for(person, "missed_checkin", {"windows": []}, FIX_AT).id
        db.session.commit()
    login(browser, "li")
    page = browser.get(f"/alerts/{alert_id}").text
    drawn = map_data(page, "alert-map")
    assert drawn["days"] == [f"2026-09-{d}" for d in range(22, 29)]
    assert [(p["day"], p["alert"]) for p in drawn["points"]] == [("2026-09-24", True)]
    # The card still says when the person last checked in: yesterday.
    assert "2026-11-27 10:00" in page[page.index('id="last-checkin-title"') :]
