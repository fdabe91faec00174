"""The signal-lost detector, run by every sweep: a subject under a monitoring order in force
from whom no position has been recorded for longer than their level's timeout (Traccar has one
timeout for every device; here each level has its own, SIGNAL_THRESHOLDS).

One SELECT finds the candidates: orders in force now, joined to the subject and their tracking
state, with no signal-lost alert raised for the current silence, and silent for at least the
shortest timeout of any level. Each candidate's own timeout is then checked against the moment
tracking could have begun (the newest recorded position, else the later of the order's approval
and the start of its first day), so an order that began an hour ago is not "silent for days".
The alert is raised once per silence: the state keeps its id until a position arrives, which
notes "signal back" in its history (signals.services). One short transaction per chunk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from corrections import clock
from corrections.alerts.raising import raise_alert
from corrections.extensions import db
from corrections.monitoring.models import MonitoringOrder
from corrections.monitoring.services import local_day
from corrections.signals.models import TrackingState
from corrections.signals.settings import SignalSettings
from corrections.subjects.models import Subject

KIND = "signal_lost"
#: Alerts raised per transaction.
CHUNK = 500


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), clock.local_zone()).astimezone(dt.UTC)


def _candidates(now: dt.datetime, shortest: dt.timedelta):
    today = local_day(now)
    return (
        select(
            MonitoringOrder.id.label("order_id"),
            MonitoringOrder.starts_on,
            MonitoringOrder.approved_at,
            Subject.id.label("subject_id"),
            Subject.office_id,
            Subject.level,
            TrackingState.last_at,
            TrackingState.last_received_at,
            TrackingState.last_lat,
            TrackingState.last_lon,
        )
        .join(Subject, Subject.id == MonitoringOrder.subject_id)
        .outerjoin(TrackingState, TrackingState.subject_id == MonitoringOrder.subject_id)
        .where(
            MonitoringOrder.status.in_(("approved", "ended")),
            MonitoringOrder.approved_at <= now - shortest,
            (MonitoringOrder.ended_at.is_(None)) | (MonitoringOrder.ended_at > now),
            MonitoringOrder.starts_on <= today,
            MonitoringOrder.ends_on >= today,
            TrackingState.lost_alert_id.is_(None),
            (TrackingState.last_at.is_(None)) | (TrackingState.last_at <= now - shortest),
        )
        .order_by(Subject.id)
    )


def silent_since(row) -> dt.datetime:
    """When the silence began: the newest position, else when tracking could first begin."""
    if row.last_at is not None:
        return row.last_at
    return max(row.approved_at, _start_of(row.starts_on))


def detect_signal_lost(now: dt.datetime, config: Mapping) -> dict:
    """Raise signal_lost for every subject under an order silent beyond their level's timeout."""
    settings = SignalSettings.from_config(config)
    shortest = min(t.signal_lost_after for t in settings.by_level.values())
    due = []
    for row in db.session.execute(_candidates(now, shortest)):
        threshold = settings.of(row.level).signal_lost_after
        since = silent_since(row)
        if now - since >= threshold:
            due.append((row, since, threshold))
    opened = 0
    for first in range(0, len(due), CHUNK):
        for row, since, threshold in due[first : first + CHUNK]:
            evidence = {
                "order_id": row.order_id,
                "since": clock.isoformat(since),
                "last_position_at": clock.isoformat(row.last_at) if row.last_at else None,
                "last_received_at": clock.isoformat(row.last_received_at)
                if row.last_received_at
                else None,
                "silent_hours": round((now - since).total_seconds() / 3600, 1),
                "threshold_hours": round(threshold.total_seconds() / 3600, 1),
            }
            if row.last_lat is not None:
                evidence |= {"lat": row.last_lat, "lon": row.last_lon}
            alert_id = raise_alert(
                KIND,
                subject_id=row.subject_id,
                office_id=row.office_id,
                level=row.level,
                evidence=evidence,
                at=now,
            )
            _mark_lost(row.subject_id, alert_id)
            opened += 1
        db.session.commit()
    db.session.commit()
    return {"silent": len(due), "raised": opened}


def _mark_lost(subject_id: int, alert_id: int) -> None:
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(TrackingState)
        .values(
            subject_id=subject_id,
            outside_count=0,
            inside_count=0,
            repeat_count=0,
            lost_alert_id=alert_id,
        )
        .on_conflict_do_update(index_elements=["subject_id"], set_={"lost_alert_id": alert_id})
    )
