"""Monitoring orders: requesting, approving and ending them, reading them (audited), and
`in_force`, the one answer to "may this subject's position be tracked now?".

Services take the officer, the actor and the time they act at; the request or the job owns the
transaction. A refused change raises before it writes anything (no audit row either)."""

from __future__ import annotations

import calendar
import datetime as dt

from sqlalchemy import bindparam, select

from corrections import clock
from corrections.actors import Actor
from corrections.audit.services import record as audit
from corrections.auth.models import Officer
from corrections.extensions import db
from corrections.i18n import N_, FieldProblem, translate
from corrections.monitoring.models import MonitoringOrder
from corrections.monitoring.schemas import EndIn, OrderIn
from corrections.subjects.models import Subject

#: At most this many calendar months a term (art. 29); a renewal is a new approval.
MAX_MONTHS = 3
#: Who approves an order: the county bureau (its head's decision, entered by a supervisor).
APPROVING_ROLES = ("supervisor", "admin")


class OrderRefused(FieldProblem):
    """A field of the order is not acceptable (422 naming it)."""


class OrderConflict(Exception):
    """The order is not in a state that allows this step (409); the message is a msgid."""

    def __init__(self, message: str, **params):
        self.message, self.params = message, params
        super().__init__(message % params if params else message)

    def translated(self) -> str:
        """The reason in the reader's language."""
        return translate(self.message, **self.params)


class NotAllowed(Exception):
    """The officer's role does not allow this step (403)."""


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later, or that month's last day when it is
    shorter (31 January + 3 months = 30 April; 30 November + 3 = 28 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_end(starts_on: dt.date) -> dt.date:
    """The last day an order starting on `starts_on` may run to."""
    return add_months(starts_on, MAX_MONTHS)


def local_day(at: dt.datetime) -> dt.date:
    """The local date (TIMEZONE) of the instant `at`."""
    return at.astimezone(clock.local_zone()).date()


def request_order(
    subject: Subject, data: OrderIn, officer: Officer, *, actor: Actor, now: dt.datetime
) -> MonitoringOrder:
    """Record a request for monitoring (pending until approved). The dates may lie in the past
    (an order recorded late) but span at most MAX_MONTHS calendar months, within the subject's
    supervision."""
    # Monitoring is a measure of the supervision: never before it begins or after its last day.
    if data.starts_on < subject.supervision_start:
        raise OrderRefused(
            "starts_on",
            N_("must not be before the supervision begins (%(day)s)"),
            day=subject.supervision_start.isoformat(),
        )
    if data.ends_on > subject.supervision_end:
        raise OrderRefused(
            "ends_on",
            N_("must not be after the supervision's last day (%(day)s)"),
            day=subject.supervision_end.isoformat(),
        )
    if data.ends_on < data.starts_on:
        raise OrderRefused("ends_on", N_("must not be before the first day"))
    limit = latest_end(data.starts_on)
    if data.ends_on > limit:
        raise OrderRefused(
            "ends_on",
            N_("may be at most 3 months after the first day: %(latest)s at the latest"),
            latest=limit.isoformat(),
        )
    order = MonitoringOrder(
        subject_id=subject.id,
        subject=subject,
        ground=data.ground,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        reason=data.reason,
        status="pending",
        created_by=officer.id,
        created_at=now,
    )
    db.session.add(order)
    db.session.flush()
    audit("monitoring_order.create", actor, now, subject_id=subject.id, detail=_facts(order))
    return order


def approve(
    order: MonitoringOrder, officer: Officer, *, actor: Actor, now: dt.datetime
) -> MonitoringOrder:
    """Approve a pending order (a supervisor or an admin). Two approved orders of one subject
    never overlap: a renewal starts after the term in force ends (OrderConflict)."""
    if officer.role not in APPROVING_ROLES:
        raise NotAllowed()
    # One approval at a time per subject, so two overlapping orders are never both approved.
    db.session.execute(select(Subject.id).where(Subject.id == order.subject_id).with_for_update())
    db.session.refresh(order)
    if order.status != "pending":
        raise OrderConflict(N_("Only a pending order can be approved."))
    overlapping = db.session.scalar(
        select(MonitoringOrder).where(
            MonitoringOrder.subject_id == order.subject_id,
            MonitoringOrder.status == "approved",
            MonitoringOrder.id != order.id,
            MonitoringOrder.starts_on <= order.ends_on,
            MonitoringOrder.ends_on >= order.starts_on,
        )
    )
    if overlapping is not None:
        raise OrderConflict(
            N_(
                "Another approved order (%(start)s to %(end)s) covers some of these days; a "
                "renewal starts after it ends, or end it first."
            ),
            start=overlapping.starts_on.isoformat(),
            end=overlapping.ends_on.isoformat(),
        )
    order.status, order.approved_by, order.approved_at = "approved", officer.id, now
    db.session.flush()
    audit("monitoring_order.approve", actor, now, subject_id=order.subject_id, detail=_facts(order))
    return order


def end(
    order: MonitoringOrder, officer: Officer, data: EndIn, *, actor: Actor, now: dt.datetime
) -> MonitoringOrder:
    """End an approved order before its last day, or withdraw a pending request, saying why."""
    if order.status not in ("pending", "approved"):
        raise OrderConflict(N_("This order has already ended."))
    if order.status == "approved" and local_day(now) > order.ends_on:
        raise OrderConflict(N_("This order's last day has passed: it is over already."))
    order.status, order.ended_at, order.ended_by = "ended", now, officer.id
    order.end_reason = data.reason
    db.session.flush()
    audit("monitoring_order.end", actor, now, subject_id=order.subject_id, detail=_facts(order))
    return order


#: in_force's question, built once: every batch of positions asks it.
_IN_FORCE = (
    select(MonitoringOrder)
    .where(
        MonitoringOrder.subject_id == bindparam("subject_id"),
        MonitoringOrder.status.in_(("approved", "ended")),
        MonitoringOrder.approved_at.is_not(None),
        MonitoringOrder.approved_at <= bindparam("at"),
        (MonitoringOrder.ended_at.is_(None)) | (MonitoringOrder.ended_at > bindparam("at")),
        MonitoringOrder.starts_on <= bindparam("day"),
        MonitoringOrder.ends_on >= bindparam("day"),
    )
    .order_by(MonitoringOrder.starts_on)
    .limit(1)
)


def in_force(subject_id: int, at: dt.datetime) -> MonitoringOrder | None:
    """The order under which the subject may be tracked at the instant `at`, or None: approved
    by then, not ended by then, and its dates hold `at`'s local date (TIMEZONE)."""
    return db.session.scalar(_IN_FORCE, {"subject_id": subject_id, "at": at, "day": local_day(at)})


def position_allowed(
    subject_id: int, *, recorded_at: dt.datetime, received_at: dt.datetime
) -> bool:
    """The CONTRACT's rule for a background position: accepted when it arrives while an order
    is in force and its recorded time falls within that order's dates (TIMEZONE)."""
    order = in_force(subject_id, received_at)
    return order is not None and order.covers(local_day(recorded_at))


def orders_of(subject_id: int) -> list[MonitoringOrder]:
    """The subject's orders, newest term first."""
    return list(
        db.session.scalars(
            select(MonitoringOrder)
            .where(MonitoringOrder.subject_id == subject_id)
            .order_by(MonitoringOrder.starts_on.desc(), MonitoringOrder.id.desc())
        )
    )


def orders_query(scope_office_id: int | None, *, status: str | None = None):
    """Orders of the subjects in a scope (None: every office), optionally of one status; the
    oldest pending request first (it has waited longest), else the newest term first."""
    query = select(MonitoringOrder).join(Subject, Subject.id == MonitoringOrder.subject_id)
    if scope_office_id is not None:
        query = query.where(Subject.office_id == scope_office_id)
    if status is not None:
        query = query.where(MonitoringOrder.status == status)
    if status == "pending":
        return query.order_by(MonitoringOrder.created_at, MonitoringOrder.id)
    return query.order_by(MonitoringOrder.starts_on.desc(), MonitoringOrder.id.desc())


def audit_list_read(
    orders: list[MonitoringOrder], actor: Actor, now: dt.datetime, args: dict
) -> None:
    """A list of orders names people and grounds: one audit row naming whom it showed."""
    audit(
        "monitoring_order.list",
        actor,
        now,
        shown=[o.subject_id for o in orders],
        detail={"order_ids": [o.id for o in orders], "args": args},
    )


def read_orders(subject: Subject, actor: Actor, now: dt.datetime) -> list[MonitoringOrder]:
    """The subject's orders for a page or the API, audited as a read."""
    orders = orders_of(subject.id)
    audit(
        "monitoring_order.list",
        actor,
        now,
        subject_id=subject.id,
        detail={"order_ids": [o.id for o in orders]},
    )
    return orders


def read_order(order: MonitoringOrder, actor: Actor, now: dt.datetime) -> MonitoringOrder:
    """One order, audited as a read."""
    audit("monitoring_order.read", actor, now, subject_id=order.subject_id, detail=_facts(order))
    return order


def allowed_steps(order: MonitoringOrder, officer: Officer, today: dt.date) -> frozenset[str]:
    """Which of approve and end `officer` may take on `order` on the local day `today` (the
    pages show exactly these buttons; the services refuse the rest)."""
    steps = set()
    if order.status == "pending":
        steps.add("end")
        if officer.role in APPROVING_ROLES:
            steps.add("approve")
    elif order.status == "approved" and today <= order.ends_on:
        steps.add("end")
    return frozenset(steps)


def state_on(order: MonitoringOrder, today: dt.date) -> str:
    """What an officer needs to know of the order on `today`: pending, upcoming, in_force,
    over (its last day has passed) or ended (early, or withdrawn)."""
    if order.status != "approved":
        return order.status
    if today < order.starts_on:
        return "upcoming"
    return "in_force" if today <= order.ends_on else "over"


def _facts(order: MonitoringOrder) -> dict:
    return {
        "order_id": order.id,
        "ground": order.ground,
        "starts_on": order.starts_on.isoformat(),
        "ends_on": order.ends_on.isoformat(),
        "status": order.status,
    }
