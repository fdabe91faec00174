"""Monitoring orders as the services see them: the 3-month limit, approval and its overlaps,
ending early, `in_force` at the local day's edges, and the expiry detector."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.models import Alert, AlertEvent
from corrections.auth.models import Officer
from corrections.extensions import db
from corrections.monitoring import services
from corrections.monitoring.detector import detect_expiring_orders
from corrections.monitoring.models import MonitoringOrder
from corrections.monitoring.schemas import EndIn, OrderIn
from corrections.subjects.models import Subject
from corrections.sweep import run_sweep

D = dt.date.fromisoformat
CONFIG = {"MONITORING_EXPIRY_WARNING_DAYS": 7}


@pytest.fixture
def people(app, world):
    """Officer li (T01), a supervisor, and a subject of T01."""
    world.officer("li", office_code="T01")
    world.officer("boss", role="supervisor")
    subject = world.subject(
        name="王小明", supervision_start="2026-01-01", supervision_end="2028-12-31"
    )
    return {"subject": subject["id"]}


def officer(username: str) -> Officer:
    return db.session.scalar(select(Officer).where(Officer.username == username))


def actor_of(who: Officer) -> Actor:
    return Actor.officer(who.id, "192.0.2.7")


def order_in(starts_on: str, ends_on: str, ground: str = "police_penalty") -> OrderIn:
    return OrderIn.from_plain(
        {"ground": ground, "starts_on": starts_on, "ends_on": ends_on, "reason": "两次未请假离县"}
    )


def request(subject_id: int, starts_on: str, ends_on: str, **kw) -> MonitoringOrder:
    li = officer("li")
    subject = db.session.get(Subject, subject_id)
    order = services.request_order(
        subject, order_in(starts_on, ends_on, **kw), li, actor=actor_of(li), now=clock.now()
    )
    db.session.commit()
    return order


def approve(order: MonitoringOrder, at: dt.datetime | None = None) -> MonitoringOrder:
    boss = officer("boss")
    services.approve(order, boss, actor=actor_of(boss), now=at or clock.now())
    db.session.commit()
    return order


def end(order: MonitoringOrder, at: dt.datetime) -> MonitoringOrder:
    li = officer("li")
    services.end(order, li, EndIn(reason="已无必要"), actor=actor_of(li), now=at)
    db.session.commit()
    return order


# --- the calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "latest"),
    [
        ("2026-01-31", "2026-04-30"),  # April has 30 days
        ("2026-11-30", "2027-02-28"),  # across the year, into a short February
        ("2027-11-30", "2028-02-29"),  # a leap year's February
        ("2026-02-28", "2026-05-28"),  # the same day, not the month's end
        ("2026-12-15", "2027-03-15"),
        ("2026-10-01", "2027-01-01"),
    ],
)
def test_three_calendar_months_end_on_the_same_day_or_the_months_last(start, latest):
    assert services.latest_end(D(start)) == D(latest)


@pytest.mark.parametrize(
    ("start", "end_on", "ok"),
    [
        ("2026-01-31", "2026-04-30", True),
        ("2026-01-31", "2026-05-01", False),
        ("2026-11-30", "2027-02-28", True),
        ("2026-11-30", "2027-03-01", False),
        ("2026-12-01", "2026-12-01", True),  # one day
    ],
)
def test_an_order_may_run_three_calendar_months_at_most(ctx, people, start, end_on, ok):
    if ok:
        order = request(people["subject"], start, end_on)
        assert order.status == "pending"
        return
    with pytest.raises(services.OrderRefused) as refused:
        request(people["subject"], start, end_on)
    assert refused.value.field == "ends_on"
    assert services.latest_end(D(start)).isoformat() in refused.value.translated()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MonitoringOrder)) == 0


def test_the_last_day_may_not_come_before_the_first(ctx, people):
    with pytest.raises(services.OrderRefused) as refused:
        request(people["subject"], "2026-12-10", "2026-12-09")
    assert refused.value.field == "ends_on"


@pytest.mark.parametrize(
    ("start", "end_on", "field"),
    [("2026-11-19", "2026-12-31", "starts_on"), ("2027-10-01", "2027-11-20", "ends_on")],
)
def test_an_order_lies_within_the_supervision(ctx, people, world, start, end_on, field):
    subject = world.subject(name="李四")["id"]  # supervision 2026-11-20 to 2027-11-19
    with pytest.raises(services.OrderRefused) as refused:
        request(subject, start, end_on)
    assert refused.value.field == field
    assert "2026-11-20" in refused.value.translated() or "2027-11-19" in refused.value.translated()
    db.session.rollback()
    assert request(subject, "2026-11-20", "2027-02-19").status == "pending"
    assert request(subject, "2027-09-01", "2027-11-19").status == "pending"


def test_an_order_recorded_late_may_start_in_the_past(ctx, people):
    order = approve(request(people["subject"], "2026-10-01", "2026-12-31"))
    assert services.in_force(people["subject"], clock.now()) == order


# --- approval --------------------------------------------------------------------------------


def test_only_a_supervisor_or_admin_approves(ctx, people):
    order = request(people["subject"], "2026-11-28", "2027-01-27")
    li = officer("li")
    with pytest.raises(services.NotAllowed):
        services.approve(order, li, actor=actor_of(li), now=clock.now())
    db.session.rollback()
    admin = officer("admin")
    services.approve(order, admin, actor=actor_of(admin), now=clock.now())
    assert (order.status, order.approved_by) == ("approved", admin.id)


def test_an_order_is_approved_once(ctx, people):
    order = approve(request(people["subject"], "2026-11-28", "2027-01-27"))
    with pytest.raises(services.OrderConflict):
        approve(order)


def test_two_approved_orders_of_a_subject_never_overlap(ctx, people):
    approve(request(people["subject"], "2026-11-28", "2027-01-27"))
    overlapping = request(people["subject"], "2027-01-27", "2027-03-31")
    with pytest.raises(services.OrderConflict) as conflict:
        approve(overlapping)
    assert "2027-01-27" in conflict.value.translated()
    db.session.rollback()
    assert db.session.get(MonitoringOrder, overlapping.id).status == "pending"


def test_a_renewal_is_a_new_order_approved_from_the_day_after(ctx, people):
    first = approve(request(people["subject"], "2026-11-28", "2027-01-27"))
    renewal = approve(request(people["subject"], "2027-01-28", "2027-04-27"))
    assert (first.status, renewal.status) == ("approved", "approved")
    evening = dt.datetime(2027, 1, 28, 0, 30, tzinfo=clock.local_zone())
    assert services.in_force(people["subject"], evening) == renewal


def test_an_order_ended_early_no_longer_blocks_a_new_one(ctx, people):
    first = approve(request(people["subject"], "2026-11-28", "2027-01-27"))
    end(first, clock.now())
    again = approve(request(people["subject"], "2026-12-01", "2027-02-28"))
    assert again.status == "approved"


def test_an_order_of_another_subject_does_not_conflict(ctx, people, world):
    other = world.subject(name="李四")["id"]
    approve(request(people["subject"], "2026-11-28", "2027-01-27"))
    assert approve(request(other, "2026-11-28", "2027-01-27")).status == "approved"


# --- ending ------------------------------------------------------------------------------


def test_ending_says_who_when_and_why_and_cannot_be_repeated(ctx, people):
    order = approve(request(people["subject"], "2026-11-28", "2027-01-27"))
    end(order, clock.now())
    assert order.status == "ended"
    assert (order.ended_by, order.ended_at, order.end_reason) == (
        officer("li").id,
        clock.now(),
        "已无必要",
    )
    with pytest.raises(services.OrderConflict):
        end(order, clock.now())


def test_a_pending_request_can_be_withdrawn_and_never_comes_into_force(ctx, people):
    order = end(request(people["subject"], "2026-11-28", "2027-01-27"), clock.now())
    assert order.status == "ended"
    with pytest.raises(services.OrderConflict):
        approve(order)
    assert services.in_force(people["subject"], clock.now()) is None


def test_an_order_past_its_last_day_is_over_and_cannot_be_ended(ctx, people, at):
    order = approve(request(people["subject"], "2026-11-28", "2026-12-05"))
    at("2026-12-06T00:00:00+08:00")
    with pytest.raises(services.OrderConflict):
        end(order, clock.now())
    assert services.state_on(order, D("2026-12-06")) == "over"


# --- in force ------------------------------------------------------------------------------


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=clock.local_zone())


def test_in_force_holds_from_local_midnight_of_the_first_day_to_the_end_of_the_last(ctx, people):
    order = approve(request(people["subject"], "2026-12-01", "2027-02-28"), at=clock.now())
    subject = people["subject"]
    # 2026-12-01 00:00 in Shanghai is 2026-11-30 16:00 UTC: the UTC date would say November.
    assert services.in_force(subject, local("2026-11-30T23:59:59")) is None
    assert services.in_force(subject, local("2026-12-01T00:00:00")) == order
    assert services.in_force(subject, local("2027-02-28T23:59:59")) == order
    assert services.in_force(subject, local("2027-03-01T00:00:00")) is None
    assert services.in_force(subject, dt.datetime(2027, 2, 28, 16, 0, tzinfo=dt.UTC)) is None


def test_in_force_only_once_approved(ctx, people):
    order = request(people["subject"], "2026-11-28", "2027-01-27")
    assert services.in_force(people["subject"], clock.now()) is None
    approve(order, at=local("2026-11-28T15:00:00"))
    assert services.in_force(people["subject"], local("2026-11-28T14:59:59")) is None
    assert services.in_force(people["subject"], local("2026-11-28T15:00:00")) == order


def test_an_order_ended_early_is_in_force_before_its_end_only(ctx, people):
    order = approve(request(people["subject"], "2026-11-28", "2027-01-27"))
    end(order, local("2026-12-10T09:30:00"))
    assert services.in_force(people["subject"], local("2026-12-10T09:29:59")) == order
    assert services.in_force(people["subject"], local("2026-12-10T09:30:00")) is None
    assert services.in_force(people["subject"], local("2026-12-20T12:00:00")) is None


def test_in_force_is_about_one_subject(ctx, people, world):
    other = world.subject(name="李四")["id"]
    approve(request(people["subject"], "2026-11-28", "2027-01-27"))
    assert services.in_force(other, clock.now()) is None


def test_a_position_needs_an_order_in_force_on_arrival_and_its_dates_when_recorded(ctx, people):
    order = approve(request(people["subject"], "2026-11-28", "2026-12-31"))
    subject = people["subject"]

    def allowed(recorded: str, received: str) -> bool:
        return services.position_allowed(
            subject, recorded_at=local(recorded), received_at=local(received)
        )

    assert allowed("2026-11-28T10:00:00", "2026-11-28T10:05:00")
    # Recorded the evening before the first day, uploaded within it: not under the order.
    assert not allowed("2026-11-27T23:59:00", "2026-11-28T10:05:00")
    # Recorded on the last day, arriving after it: the order is no longer in force.
    assert not allowed("2026-12-31T23:00:00", "2027-01-01T00:10:00")
    end(order, local("2026-12-10T12:00:00"))
    assert allowed("2026-12-10T11:00:00", "2026-12-10T11:30:00")
    assert not allowed("2026-12-10T11:00:00", "2026-12-10T12:00:00")


# --- the expiry detector -------------------------------------------------------------------


def expiring_alerts() -> list[Alert]:
    db.session.expire_all()
    return list(db.session.scalars(select(Alert).where(Alert.kind == "monitoring_order_expiring")))


def test_an_order_ending_within_the_warning_days_raises_one_alert_once(ctx, people, at):
    order = approve(
        request(people["subject"], "2026-11-28", "2026-12-31", ground="revocation_pending")
    )
    # 2026-12-24 00:00 local: the last day is 7 days on.
    found = detect_expiring_orders(local("2026-12-23T23:59:00").astimezone(dt.UTC), CONFIG)
    assert found["opened"] == 0 and expiring_alerts() == []
    found = detect_expiring_orders(local("2026-12-24T00:00:00").astimezone(dt.UTC), CONFIG)
    assert found == {"orders_warned": 1, "opened": 1, "bumped": 0}
    (alert,) = expiring_alerts()
    assert (alert.subject_id, alert.status, alert.occurrences) == (people["subject"], "open", 1)
    assert alert.evidence == {
        "order_id": order.id,
        "ground": "revocation_pending",
        "starts_on": "2026-11-28",
        "ends_on": "2026-12-31",
    }
    for moment in ("2026-12-24T00:01:00", "2026-12-30T10:00:00", "2026-12-31T23:00:00"):
        assert detect_expiring_orders(local(moment).astimezone(dt.UTC), CONFIG)["opened"] == 0
    (alert,) = expiring_alerts()
    assert alert.occurrences == 1  # not bumped by every sweep
    steps = db.session.scalar(select(func.count()).where(AlertEvent.alert_id == alert.id))
    assert steps == 1


def test_the_warning_days_are_configurable(ctx, people):
    approve(request(people["subject"], "2026-11-28", "2026-12-31"))
    moment = local("2026-12-20T12:00:00").astimezone(dt.UTC)
    assert detect_expiring_orders(moment, CONFIG)["opened"] == 0
    assert detect_expiring_orders(moment, {"MONITORING_EXPIRY_WARNING_DAYS": 11})["opened"] == 1


def test_no_warning_for_an_order_ended_early_pending_or_renewed(ctx, people, world):
    ended = approve(request(people["subject"], "2026-11-28", "2026-12-03"))
    end(ended, clock.now())
    request(people["subject"], "2026-11-28", "2026-12-02")  # never approved
    renewed_subject = world.subject(name="李四")["id"]
    approve(request(renewed_subject, "2026-11-28", "2026-12-03"))
    approve(request(renewed_subject, "2026-12-04", "2027-03-03"))
    assert detect_expiring_orders(clock.now(), CONFIG)["opened"] == 0
    assert expiring_alerts() == []


def test_no_warning_for_an_order_already_over(ctx, people, at):
    approve(request(people["subject"], "2026-10-01", "2026-11-27"))  # recorded late, over
    assert detect_expiring_orders(clock.now(), CONFIG)["opened"] == 0


def test_the_sweep_runs_the_expiry_detector(ctx, people, app):
    approve(request(people["subject"], "2026-11-28", "2026-12-01"))
    results = run_sweep(clock.now(), config=app.config)
    assert results["monitoring_order_expiring"]["opened"] == 1
    assert run_sweep(clock.now(), config=app.config)["monitoring_order_expiring"]["opened"] == 0
    (alert,) = expiring_alerts()
    assert alert.severity == "low"
