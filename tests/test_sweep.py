"""The missed-check-in sweep: window edges, local time, grace, catch-up, batches, idempotence,
late uploads, records entered late, plan changes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.models import Alert, AlertEvent
from corrections.checkin import plans
from corrections.checkin.models import Checkin, MissedWindow, WindowShape
from corrections.checkin.services import LocationReport, record_location_checkin
from corrections.checkin.settings import CheckinSettings
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.sweep import run_sweep
from tests.factories import SEAT

UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def sweep(app, when: str, *, closed: bool = False) -> dict:
    """The missed-check-in detector's counts of a sweep at `when`; how many rhythm windows it
    closed (judged, whether anyone was due) only when `closed`."""
    clock.set_now(utc(when))
    with app.app_context():
        found = run_sweep(utc(when))["missed_checkin"]
    if not closed:
        del found["windows_closed"]
    return found


def check_in(
    app,
    subject_id: int,
    when: str,
    client_id: str | None = None,
    kind="location",
    lat=SEAT[0],
    received: str | None = None,
):
    """A check-in recorded at `when` (local time with offset), received then or at `received`."""
    recorded = utc(when)
    arrived = utc(received) if received else recorded
    clock.set_now(arrived)
    with app.app_context():
        subject = db.session.get(Subject, subject_id)
        report = LocationReport(client_id or f"c-{when}", lat, SEAT[1], 20.0, recorded)
        result = record_location_checkin(
            subject,
            report,
            kind=kind,
            device_id="d",
            actor=Actor.subject(subject_id, None),
            now=arrived,
            settings=CheckinSettings.from_config(app.config),
        )
        db.session.commit()
        window = result.window
        return (window.start, window.end) if window else None


def missed_alerts(app) -> list[Alert]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Alert).where(Alert.kind == "missed_checkin").order_by(Alert.id)
            )
        )


def history(app, alert_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AlertEvent.action)
                .where(AlertEvent.alert_id == alert_id)
                .order_by(AlertEvent.id)
            )
        )


def daily(world, *, entered: str | None = None, **overrides) -> int:
    """A subject checking in daily 08:00-20:00, entered at noon the day before supervision
    starts unless `entered` says when (so every window of the supervision is due)."""
    body = dict(supervision_start="2026-11-27", supervision_end="2027-11-26")
    body.update(overrides)
    start = dt.date.fromisoformat(body["supervision_start"])
    entered = entered or f"{start - dt.timedelta(days=1)}T12:00:00+08:00"
    return world.subject(enrolled_at=utc(entered), **body)["id"]


NOTHING = {"windows_missed": 0, "opened": 0, "bumped": 0}


# --- window edges and local time ------------------------------------------------------------


def test_a_window_is_judged_only_once_its_grace_has_passed(app, world):
    daily(world, supervision_start="2026-11-28")
    assert sweep(app, "2026-11-28T20:00:00+08:00") == NOTHING
    assert sweep(app, "2026-11-28T20:14:59+08:00") == NOTHING  # CHECKIN_GRACE_MINUTES = 15
    assert missed_alerts(app) == []
    result = sweep(app, "2026-11-28T20:15:00+08:00")
    assert result == {"windows_missed": 1, "opened": 1, "bumped": 0}


def test_a_checkin_sent_at_the_last_minute_that_arrives_late_meets_its_window(app, world):
    # Recorded 19:59, received 20:03, after the 20:01 sweep: it is in before the window is
    # judged, so the window is met and no alert opens.
    subject = daily(world, supervision_start="2026-11-28")
    sweep(app, "2026-11-28T20:01:00+08:00")
    window = check_in(
        app, subject, "2026-11-28T19:59:00+08:00", received="2026-11-28T20:03:00+08:00"
    )
    assert window == (utc("2026-11-28T08:00:00+08:00"), utc("2026-11-28T20:00:00+08:00"))
    sweep(app, "2026-11-28T20:16:00+08:00")
    assert missed_alerts(app) == []


def test_checkin_at_window_start_meets_it_and_at_window_end_does_not(app, world):
    early = daily(world, supervision_start="2026-11-28")
    late = daily(world, supervision_start="2026-11-28")
    check_in(app, early, "2026-11-28T08:00:00+08:00")
    assert check_in(app, late, "2026-11-28T20:00:00+08:00") is None
    sweep(app, "2026-11-28T20:30:00+08:00")
    assert [a.subject_id for a in missed_alerts(app)] == [late]


def test_windows_are_local_time_not_utc(app, world):
    subject = daily(world, supervision_start="2026-11-28")
    # 07:30 in Shanghai is 23:30 UTC the day before: too early for the 08:00 window.
    check_in(app, subject, "2026-11-27T23:30:00+00:00")
    sweep(app, "2026-11-28T12:15:01+00:00")  # 20:15:01 local
    assert [a.subject_id for a in missed_alerts(app)] == [subject]


def test_flagged_checkin_still_meets_the_window(app, world):
    subject = daily(world, supervision_start="2026-11-28")
    check_in(app, subject, "2026-11-28T09:00:00+08:00", lat=SEAT[0] + 1)  # 110 km away
    sweep(app, "2026-11-28T21:00:00+08:00")
    assert missed_alerts(app) == []
    with app.app_context():
        assert db.session.scalar(select(Alert.kind)) == "geofence_exit"


def test_background_signal_never_meets_a_window(app, world):
    subject = daily(world, supervision_start="2026-11-28")
    assert check_in(app, subject, "2026-11-28T09:00:00+08:00", kind="signal") is None
    sweep(app, "2026-11-28T21:00:00+08:00")
    assert [a.subject_id for a in missed_alerts(app)] == [subject]


# --- idempotence and catch-up ---------------------------------------------------------------


def test_sweep_is_idempotent(app, world):
    daily(world, supervision_start="2026-11-26")
    first = sweep(app, "2026-11-28T21:00:00+08:00", closed=True)
    second = sweep(app, "2026-11-28T21:00:00+08:00", closed=True)
    third = sweep(app, "2026-11-28T21:05:00+08:00", closed=True)
    # Entered on the 25th at noon: the 25th's (nobody due), 26th's, 27th's and 28th's windows
    # close; each day judged is its own step, so the alert opens on the first and is bumped.
    assert first == {"windows_closed": 4, "windows_missed": 3, "opened": 1, "bumped": 2}
    assert second == third == {**NOTHING, "windows_closed": 0}
    (alert,) = missed_alerts(app)
    assert alert.occurrences == 3


def test_catch_up_after_downtime_counts_each_missed_window_once(app, world):
    subject = daily(world, supervision_start="2026-11-20")
    sweep(app, "2026-11-21T21:00:00+08:00")  # 2 windows missed
    check_in(app, subject, "2026-11-23T10:00:00+08:00")
    # Down for days; back on the 27th evening: 22, 24, 25, 26, 27 missed, 23 met.
    result = sweep(app, "2026-11-27T21:00:00+08:00")
    assert result == {"windows_missed": 5, "opened": 0, "bumped": 5}
    (alert,) = missed_alerts(app)
    assert alert.occurrences == 7
    assert alert.last_seen_at == utc("2026-11-27T21:00:00+08:00")
    # Each day judged bumped the alert once; the repeats fold into one step of the history.
    assert history(app, alert.id) == ["opened", "repeated"]
    with app.app_context():
        step = db.session.scalars(select(AlertEvent).where(AlertEvent.action == "repeated")).one()
        assert step.count == 6


def test_a_catch_up_works_in_batches_and_each_batch_is_its_own_transaction(app, world, monkeypatch):
    subjects = [daily(world, supervision_start="2026-11-25") for _ in range(5)]
    check_in(app, subjects[1], "2026-11-26T09:00:00+08:00")
    app.config["SWEEP_BATCH_SIZE"] = 2
    commits = []
    monkeypatch.setattr(db.session, "commit", _counting(db.session.commit, commits))
    try:
        result = sweep(app, "2026-11-27T21:00:00+08:00")
    finally:
        app.config["SWEEP_BATCH_SIZE"] = 50_000
    # 3 days, 5 subjects: 14 missed (one check-in), every subject alerted once.
    assert result["windows_missed"] == 14 and result["opened"] == 5
    assert sorted(a.occurrences for a in missed_alerts(app)) == [2, 3, 3, 3, 3]
    # 3 batches (2 + 2 + 1 subjects) for each of 3 days, and one commit per day judged.
    assert len(commits) >= 3 * 3 + 3


def _counting(commit, calls: list):
    def counted():
        calls.append(1)
        return commit()

    return counted


def test_an_idle_sweep_reads_one_small_table_and_writes_nothing(app, world):
    daily(world, supervision_start="2026-11-01", entered="2026-10-31T12:00:00+08:00")
    sweep(app, "2026-11-28T21:00:00+08:00")
    with app.app_context():
        windows_before = db.session.scalar(select(func.count()).select_from(MissedWindow))
        shape = db.session.scalar(select(WindowShape))
        assert shape.judged_until == utc("2026-11-28T20:00:00+08:00")
        assert shape.next_judgement_at == utc("2026-11-29T20:15:00+08:00")
    assert sweep(app, "2026-11-29T10:00:00+08:00") == NOTHING
    result = sweep(app, "2026-11-29T21:00:00+08:00", closed=True)
    assert result == {"windows_closed": 1, "windows_missed": 1, "opened": 0, "bumped": 1}
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(MissedWindow)) == windows_before + 1
        )
        assert db.session.scalar(select(func.count()).select_from(Checkin)) == 0


def test_met_windows_are_not_stored(app, world):
    subject = daily(world, supervision_start="2026-11-27")
    check_in(app, subject, "2026-11-27T09:00:00+08:00")
    sweep(app, "2026-11-28T21:00:00+08:00")
    with app.app_context():
        starts = db.session.scalars(select(MissedWindow.starts_at)).all()
    assert starts == [utc("2026-11-28T08:00:00+08:00")]


# --- who is due -----------------------------------------------------------------------------


def test_a_record_entered_late_has_no_past_misses(app, world):
    # Entered today (10:00 on the 28th) with a supervision that began in January: nothing is
    # due before the record existed, and today's window had already begun.
    subject = daily(world, supervision_start="2026-01-05", entered="2026-11-28T10:00:00+08:00")
    assert sweep(app, "2026-11-28T21:00:00+08:00")["windows_missed"] == 0
    assert missed_alerts(app) == []
    result = sweep(app, "2026-11-29T21:00:00+08:00")
    assert result["windows_missed"] == 1
    assert [(a.subject_id, a.occurrences) for a in missed_alerts(app)] == [(subject, 1)]


def test_a_record_entered_as_far_back_as_2000_is_one_short_sweep(app, world):
    daily(world, supervision_start="2000-01-01", entered="2026-11-28T07:00:00+08:00")
    assert sweep(app, "2026-11-28T21:00:00+08:00")["windows_missed"] == 1  # today's only


def test_windows_due_from_the_first_day_up_to_but_not_on_the_last(app, world):
    # CONTRACT: a window is due when it starts on or after supervision_start and ends before
    # supervision_end; the last day (release) has none.
    subject = daily(world, supervision_start="2026-11-24", supervision_end="2026-11-26")
    pending = daily(world, supervision_start="2026-12-01", entered="2026-11-23T12:00:00+08:00")
    sweep(app, "2026-11-28T21:00:00+08:00")
    alerts = missed_alerts(app)
    assert [(a.subject_id, a.occurrences) for a in alerts] == [(subject, 2)]  # the 24th and 25th
    assert pending not in [a.subject_id for a in alerts]


def test_supervision_of_one_day_has_no_window(app, world):
    daily(world, supervision_start="2026-11-26", supervision_end="2026-11-26")
    sweep(app, "2026-11-28T21:00:00+08:00")
    assert missed_alerts(app) == []


def test_window_crossing_into_the_last_day_is_not_due(app, world):
    subject = world.subject(
        enrolled_at=utc("2026-11-24T12:00:00+08:00"),
        supervision_start="2026-11-25",
        supervision_end="2026-11-27",
        checkin={"every_days": 1, "window_start": "22:00", "window_end": "01:00"},
    )["id"]
    sweep(app, "2026-11-28T21:00:00+08:00")
    with app.app_context():
        starts = db.session.scalars(
            select(MissedWindow.starts_at).where(MissedWindow.subject_id == subject)
        ).all()
    # The 25th's window ends at 01:00 on the 26th; the 26th's would end on the 27th, the last day.
    assert starts == [utc("2026-11-25T22:00:00+08:00")]


def test_every_three_days(app, world):
    world.subject(
        enrolled_at=utc("2026-11-19T12:00:00+08:00"),
        supervision_start="2026-11-20",
        checkin={"every_days": 3, "window_start": "09:00", "window_end": "17:00"},
    )
    sweep(app, "2026-11-28T18:00:00+08:00")
    (alert,) = missed_alerts(app)
    assert alert.occurrences == 3  # 20th, 23rd, 26th


def test_after_resolution_new_misses_open_a_new_alert(app, world):
    daily(world, supervision_start="2026-11-27")
    sweep(app, "2026-11-27T21:00:00+08:00")
    with app.app_context():
        alert = db.session.scalar(select(Alert))
        alert.status = "resolved"
        db.session.commit()
    sweep(app, "2026-11-28T21:00:00+08:00")
    alerts = missed_alerts(app)
    assert [(a.status, a.occurrences) for a in alerts] == [("resolved", 1), ("open", 1)]


def test_strict_supervision_raises_higher_severity(app, world):
    daily(world, supervision_start="2026-11-28", level="strict")
    daily(world, supervision_start="2026-11-28", level="lenient")
    sweep(app, "2026-11-28T21:00:00+08:00")
    assert sorted(a.severity for a in missed_alerts(app)) == ["high", "medium"]


# --- late uploads ---------------------------------------------------------------------------


def test_late_upload_recorded_inside_window_meets_it_if_it_arrives_before_the_sweep(app, world):
    subject = daily(world, supervision_start="2026-11-28")
    check_in(app, subject, "2026-11-28T10:00:00+08:00", received="2026-11-28T20:10:00+08:00")
    sweep(app, "2026-11-28T20:15:00+08:00")
    assert missed_alerts(app) == []


def test_a_late_upload_after_the_window_was_counted_missed_meets_it_late(app, world):
    subject = daily(world, supervision_start="2026-11-27")
    sweep(app, "2026-11-28T21:00:00+08:00")  # the 27th and the 28th missed
    (alert,) = missed_alerts(app)
    assert (alert.occurrences, alert.status) == (2, "open")

    # The phone was offline: its check-in of the 27th arrives on the 29th.
    window = check_in(
        app, subject, "2026-11-27T09:30:00+08:00", received="2026-11-29T07:00:00+08:00"
    )
    assert window == (utc("2026-11-27T08:00:00+08:00"), utc("2026-11-27T20:00:00+08:00"))
    (alert,) = missed_alerts(app)
    assert alert.status == "open"  # the 28th is still unmet
    assert history(app, alert.id) == ["opened", "repeated", "met_late"]
    with app.app_context():
        step = db.session.scalar(select(AlertEvent).where(AlertEvent.action == "met_late"))
        assert step.actor_id is None
        assert step.detail["window"] == {
            "start": "2026-11-27T00:00:00Z",
            "end": "2026-11-27T12:00:00Z",
        }
        assert step.detail["recorded_at"] == "2026-11-27T01:30:00Z"
        assert step.detail["received_at"] == "2026-11-28T23:00:00Z"

    # And the 28th's: none of its windows is left unmet, so the alert closes by itself.
    check_in(app, subject, "2026-11-28T19:00:00+08:00", received="2026-11-29T07:05:00+08:00")
    (alert,) = missed_alerts(app)
    assert (alert.status, alert.closed_at) == ("resolved", utc("2026-11-29T07:05:00+08:00"))
    assert history(app, alert.id) == [
        "opened",
        "repeated",
        "met_late",
        "met_late",
        "auto_resolved",
    ]
    # The windows say how they were met; a later sweep counts nothing again.
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(MissedWindow)
                .where(MissedWindow.met_checkin_id.is_(None))
            )
            == 0
        )
    assert sweep(app, "2026-11-29T10:00:00+08:00") == NOTHING


def test_a_second_checkin_in_a_window_met_late_changes_nothing(app, world):
    subject = daily(world, supervision_start="2026-11-28")
    sweep(app, "2026-11-28T21:00:00+08:00")
    check_in(app, subject, "2026-11-28T09:00:00+08:00", "a", received="2026-11-28T22:00:00+08:00")
    check_in(app, subject, "2026-11-28T10:00:00+08:00", "b", received="2026-11-28T22:01:00+08:00")
    (alert,) = missed_alerts(app)
    assert history(app, alert.id) == ["opened", "met_late", "auto_resolved"]


def test_a_late_upload_on_an_alert_an_officer_closed_only_notes_it(app, world):
    subject = daily(world, supervision_start="2026-11-28")
    sweep(app, "2026-11-28T21:00:00+08:00")
    with app.app_context():
        alert = db.session.scalar(select(Alert))
        alert.status, alert.closed_at = "dismissed", utc("2026-11-28T21:30:00+08:00")
        db.session.commit()
    check_in(app, subject, "2026-11-28T09:00:00+08:00", received="2026-11-28T22:00:00+08:00")
    (alert,) = missed_alerts(app)
    assert alert.status == "dismissed"
    assert history(app, alert.id) == ["opened", "met_late"]


# --- plan changes ---------------------------------------------------------------------------


def change_plan(app, subject_id: int, effective_on: str, when: str, **rhythm):
    clock.set_now(utc(when))
    spec = plans.PlanSpec(
        every_days=rhythm.get("every_days", 1),
        window_start_min=rhythm.get("start", 9 * 60),
        window_end_min=rhythm.get("end", 12 * 60),
    )
    with app.app_context():
        plan = plans.change_plan(
            subject_id,
            spec,
            dt.date.fromisoformat(effective_on),
            actor=Actor.system(),
            now=utc(when),
            grace=dt.timedelta(minutes=15),
        )
        db.session.commit()
        return plan.id


def test_a_plan_change_never_reaches_back_to_days_already_judged(app, world):
    subject = daily(world, supervision_start="2026-11-20")
    sweep(app, "2026-11-27T21:00:00+08:00")  # 20th to 27th missed under 08:00-20:00
    # On the 28th at 15:00 the office changes the plan to 09:00-12:00, from today.
    change_plan(app, subject, "2026-11-28", "2026-11-28T15:00:00+08:00")
    sweep(app, "2026-11-28T21:00:00+08:00")
    with app.app_context():
        windows = db.session.scalars(select(MissedWindow).order_by(MissedWindow.starts_at)).all()
    # Nothing new before the change: the 28th's 08:00 window had begun, so the old version
    # still judges it (missed); today's 09:00-12:00 window had closed before the change was
    # even made, so the new one does not reach back to it.
    assert len(windows) == 9
    assert windows[-1].starts_at == utc("2026-11-28T08:00:00+08:00")
    assert len({w.plan_id for w in windows}) == 1
    sweep(app, "2026-11-29T21:00:00+08:00")
    with app.app_context():
        last = db.session.scalars(select(MissedWindow).order_by(MissedWindow.starts_at)).all()[-1]
    assert (last.starts_at, last.ends_at) == (
        utc("2026-11-29T09:00:00+08:00"),
        utc("2026-11-29T12:00:00+08:00"),
    )


def test_a_plan_change_from_a_later_day_keeps_the_old_rhythm_until_then(app, world):
    subject = daily(world, supervision_start="2026-11-27")
    change_plan(app, subject, "2026-11-30", "2026-11-28T10:00:00+08:00", every_days=2)
    sweep(app, "2026-12-03T21:00:00+08:00")
    with app.app_context():
        days = [
            w.starts_at.astimezone(clock.local_zone()).strftime("%d %H:%M")
            for w in db.session.scalars(select(MissedWindow).order_by(MissedWindow.starts_at))
        ]
    assert days == ["27 08:00", "28 08:00", "29 08:00", "30 09:00", "02 09:00"]


def test_a_plan_change_may_not_name_a_past_day(app, world):
    subject = daily(world, supervision_start="2026-11-27")
    with pytest.raises(plans.PlanError) as refused:
        change_plan(app, subject, "2026-11-27", "2026-11-28T10:00:00+08:00")
    assert refused.value.field == "effective_on"


def test_a_plan_starting_before_its_rhythm_was_last_judged_has_those_windows_not_due(app, world):
    # A drill swept as far as the 30th; a record entered afterwards "on the 28th" (the clock set
    # back) joins that rhythm: the sweep will never judge its windows up to the 30th, so they
    # are not due, and the phone is told the next window is the 1st.
    daily(world, supervision_start="2026-11-20")
    sweep(app, "2026-11-30T21:00:00+08:00")
    late = daily(world, supervision_start="2026-11-28", entered="2026-11-28T07:00:00+08:00")
    with app.app_context():
        subject = db.session.get(Subject, late)
        from corrections.checkin.services import next_window_for

        upcoming = next_window_for(subject, utc("2026-11-28T07:00:00+08:00"))
    assert upcoming.start == utc("2026-12-01T08:00:00+08:00")
    sweep(app, "2026-12-01T21:00:00+08:00")
    assert [(a.subject_id, a.occurrences) for a in missed_alerts(app) if a.subject_id == late] == [
        (late, 1)
    ]
