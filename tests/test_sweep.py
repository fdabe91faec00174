"""The missed-check-in sweep: window edges, local time, catch-up, idempotence."""

import datetime as dt

from sqlalchemy import func, select

from corrections import clock
from corrections.alerts.models import Alert
from corrections.alerts.sweep import run_sweep
from corrections.checkin.models import Checkin, CheckinWindow
from corrections.checkin.services import LocationReport, record_location_checkin
from corrections.extensions import db
from corrections.subjects.models import Subject
from tests.factories import SEAT

UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def sweep(app, when: str) -> dict:
    with app.app_context():
        return run_sweep(utc(when))["missed_checkin"]


def check_in(
    app, subject_id: int, when: str, client_id: str | None = None, kind="location", lat=SEAT[0]
):
    """A check-in recorded at local time `when`, sent at that moment."""
    at = utc(when)
    clock.set_now(at)
    with app.app_context():
        subject = db.session.get(Subject, subject_id)
        report = LocationReport(client_id or f"c-{when}", lat, SEAT[1], 20.0, at)
        record_location_checkin(subject, report, kind=kind, device_id="d", now=at)
        db.session.commit()


def missed_alerts(app) -> list[Alert]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Alert).where(Alert.kind == "missed_checkin").order_by(Alert.id)
            )
        )


def daily(world, **overrides):
    body = dict(supervision_start="2026-11-27", supervision_end="2027-11-26")
    body.update(overrides)
    return world.subject(**body)["id"]


def test_no_alert_before_the_window_closes(app, world):
    daily(world, supervision_start="2026-11-28")
    assert sweep(app, "2026-11-28T19:59:00+08:00")["opened"] == 0
    assert missed_alerts(app) == []
    assert sweep(app, "2026-11-28T20:00:00+08:00")["opened"] == 1


def test_checkin_at_window_start_meets_it_and_at_window_end_does_not(app, world):
    early = daily(world, supervision_start="2026-11-28")
    late = daily(world, supervision_start="2026-11-28")
    check_in(app, early, "2026-11-28T08:00:00+08:00")
    check_in(app, late, "2026-11-28T20:00:00+08:00")
    sweep(app, "2026-11-28T20:30:00+08:00")
    alerts = missed_alerts(app)
    assert [a.subject_id for a in alerts] == [late]


def test_windows_are_local_time_not_utc(app, world):
    subject = daily(world, supervision_start="2026-11-28")
    # 07:30 in Shanghai is 23:30 UTC the day before: too early for the 08:00 window.
    check_in(app, subject, "2026-11-27T23:30:00+00:00")
    sweep(app, "2026-11-28T12:00:01+00:00")  # 20:00:01 local
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
    check_in(app, subject, "2026-11-28T09:00:00+08:00", kind="signal")
    sweep(app, "2026-11-28T21:00:00+08:00")
    assert [a.subject_id for a in missed_alerts(app)] == [subject]


def test_sweep_is_idempotent(app, world):
    daily(world, supervision_start="2026-11-26")
    first = sweep(app, "2026-11-28T21:00:00+08:00")
    second = sweep(app, "2026-11-28T21:00:00+08:00")
    third = sweep(app, "2026-11-28T21:05:00+08:00")
    assert first["opened"] == 1 and first["windows_missed"] == 3
    assert (
        second
        == third
        == {"windows_laid_out": 0, "windows_met": 0, "opened": 0, "bumped": 0, "windows_missed": 0}
    )
    (alert,) = missed_alerts(app)
    assert alert.occurrences == 3


def test_catch_up_after_downtime_counts_each_missed_window_once(app, world):
    subject = daily(world, supervision_start="2026-11-20")
    sweep(app, "2026-11-21T21:00:00+08:00")  # 2 windows missed
    check_in(app, subject, "2026-11-23T10:00:00+08:00")
    # Down for days; back on the 27th evening: 22, 24, 25, 26, 27 missed, 23 met.
    result = sweep(app, "2026-11-27T21:00:00+08:00")
    assert result["bumped"] == 1 and result["windows_missed"] == 5 and result["windows_met"] == 1
    (alert,) = missed_alerts(app)
    assert alert.occurrences == 7
    assert alert.last_seen_at == utc("2026-11-27T21:00:00+08:00")
    with app.app_context():
        history = [e.action for e in db.session.get(Alert, alert.id).history]
    assert history == ["opened", "repeated"]


def test_subject_entered_late_gets_windows_from_supervision_start(app, world):
    daily(world, supervision_start="2026-11-20")
    sweep(app, "2026-11-27T21:00:00+08:00")
    late = daily(world, supervision_start="2026-11-10")
    result = sweep(app, "2026-11-27T21:05:00+08:00")
    assert result["windows_laid_out"] == 18  # 10th to 27th
    alert = [a for a in missed_alerts(app) if a.subject_id == late][0]
    assert alert.occurrences == 18


def test_windows_due_from_the_first_day_up_to_but_not_on_the_last(app, world):
    # CONTRACT: a window is due when it starts on or after supervision_start and ends before
    # supervision_end; the last day (release) has none.
    subject = daily(world, supervision_start="2026-11-24", supervision_end="2026-11-26")
    pending = daily(world, supervision_start="2026-12-01")
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
        supervision_start="2026-11-25",
        supervision_end="2026-11-27",
        checkin={"every_days": 1, "window_start": "22:00", "window_end": "01:00"},
    )["id"]
    sweep(app, "2026-11-28T21:00:00+08:00")
    with app.app_context():
        starts = db.session.scalars(
            select(CheckinWindow.starts_at).where(CheckinWindow.subject_id == subject)
        ).all()
    # The 25th's window ends at 01:00 on the 26th; the 26th's would end on the 27th, the last day.
    assert starts == [utc("2026-11-25T22:00:00+08:00")]


def test_every_three_days(app, world):
    world.subject(
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


def test_late_upload_recorded_inside_window_meets_it_if_it_arrives_before_the_sweep(app, world):
    subject = daily(world, supervision_start="2026-11-28")
    recorded = utc("2026-11-28T10:00:00+08:00")
    clock.set_now(utc("2026-11-28T20:10:00+08:00"))  # phone was offline, uploads after close
    with app.app_context():
        report = LocationReport("offline-1", SEAT[0], SEAT[1], 20.0, recorded)
        record_location_checkin(
            db.session.get(Subject, subject),
            report,
            kind="location",
            device_id="d",
            now=clock.now(),
        )
        db.session.commit()
    sweep(app, "2026-11-28T20:15:00+08:00")
    assert missed_alerts(app) == []


def test_sweep_cost_does_not_depend_on_history_it_already_laid_out(app, world):
    daily(world, supervision_start="2026-11-01")
    sweep(app, "2026-11-28T21:00:00+08:00")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(CheckinWindow))
    result = sweep(app, "2026-11-29T21:00:00+08:00")
    assert result["windows_laid_out"] == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckinWindow)) == before + 1
        assert db.session.scalar(select(func.count()).select_from(Checkin)) == 0
