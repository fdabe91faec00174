"""The expiry detector, run by every sweep: warn once per approved order that ends within
MONITORING_EXPIRY_WARNING_DAYS, so that the office renews it (a new approval) or lets it end.

Set-based: one SELECT finds the orders due a warning (approved, last day within the window, not
warned yet, no later term approved), one pass of the alert path opens or bumps each subject's
`monitoring_order_expiring` alert, one UPDATE marks those orders warned. All in one short
transaction; a sweep run again finds nothing new, and an order is warned about once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import JSON, Integer, and_, exists, func, literal, literal_column, select, update
from sqlalchemy.orm import aliased

from corrections.alerts.raising import raise_alerts
from corrections.extensions import db
from corrections.monitoring.models import MonitoringOrder
from corrections.monitoring.services import local_day
from corrections.subjects.models import Subject

KIND = "monitoring_order_expiring"


def warning_days(config: Mapping) -> int:
    """How many days before an order's last day its office is warned."""
    return int(config.get("MONITORING_EXPIRY_WARNING_DAYS", 7))


def orders_due_a_warning(today: dt.date, days: int):
    """SQL conditions over MonitoringOrder: approved, last day from `today` to `today + days`,
    not warned yet, and no later approved term (a renewal already made needs no warning)."""
    later = aliased(MonitoringOrder)
    return and_(
        MonitoringOrder.status == "approved",
        MonitoringOrder.ends_on >= today,
        MonitoringOrder.ends_on <= today + dt.timedelta(days=days),
        MonitoringOrder.expiry_warned_at.is_(None),
        ~exists().where(
            later.subject_id == MonitoringOrder.subject_id,
            later.status == "approved",
            later.ends_on > MonitoringOrder.ends_on,
        ),
    )


def _evidence():
    """The order's number, ground and dates as a JSON object, built by the database."""
    build = func.json_build_object if db.engine.dialect.name == "postgresql" else func.json_object
    pairs = []
    for key in ("order_id", "ground", "starts_on", "ends_on"):
        # Keys as SQL text constants: PostgreSQL cannot type a bound parameter of a variadic
        # "any" function.
        column = MonitoringOrder.id if key == "order_id" else getattr(MonitoringOrder, key)
        pairs += [literal_column(f"'{key}'"), column]
    return build(*pairs, type_=JSON)


def detect_expiring_orders(now: dt.datetime, config: Mapping) -> dict:
    """Warn about every approved order ending soon (as of `now`); counts of what was done."""
    due = orders_due_a_warning(local_day(now), warning_days(config))
    order_ids = db.session.scalars(select(MonitoringOrder.id).where(due)).all()
    if not order_ids:
        db.session.commit()
        return {"orders_warned": 0, "opened": 0, "bumped": 0}
    chosen = MonitoringOrder.id.in_(order_ids)
    # The alert path takes one row per concern: a subject with two such orders (two short terms
    # ending in the same window) is warned of its first; both count as warned.
    first = (
        select(func.min(MonitoringOrder.id))
        .where(chosen)
        .group_by(MonitoringOrder.subject_id)
        .scalar_subquery()
    )
    source = (
        select(
            MonitoringOrder.subject_id.label("subject_id"),
            Subject.office_id.label("office_id"),
            Subject.level.label("level"),
            literal(1, Integer).label("occurrences"),
            _evidence().label("evidence"),
        )
        .join(Subject, Subject.id == MonitoringOrder.subject_id)
        .where(MonitoringOrder.id.in_(first))
    )
    raised = raise_alerts(KIND, source, now)
    db.session.execute(
        update(MonitoringOrder)
        .where(chosen)
        .values(expiry_warned_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return {
        "orders_warned": len(order_ids),
        "opened": len(raised.opened),
        "bumped": len(raised.bumped),
    }
