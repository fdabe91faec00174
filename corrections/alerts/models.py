"""Alerts raised by the rules and the sweep, and every step taken on them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from corrections.auth.models import Officer
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.subjects.models import Subject
from corrections.types import UtcDateTime

KINDS = (
    "missed_checkin",
    "missed_video",
    "geofence_exit",
    "exclusion_zone",
    "curfew",
    "impossible_travel",
    "signal_lost",
    "mock_location",
    "device_change",
    "video_rejected",
    "checkin_request_unanswered",
    "travel_overdue",
    "monitoring_order_expiring",
    "deadline",
)
SEVERITIES = ("critical", "high", "medium", "low")
STATUSES = ("open", "acknowledged", "resolved", "dismissed")
UNRESOLVED = ("open", "acknowledged")

_UNRESOLVED_SQL = "status IN ('open', 'acknowledged')"


class Alert(db.Model):
    """Something that did not happen or looks wrong; at most one unresolved per subject and kind."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(f"severity IN {SEVERITIES!r}", name="severity"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint("occurrences >= 1", name="occurrences_positive"),
        # The rule "one unresolved alert per (subject, kind)" is the database's to keep.
        Index(
            "uq_alerts_one_unresolved",
            "subject_id",
            "kind",
            unique=True,
            sqlite_where=text(_UNRESOLVED_SQL),
            postgresql_where=text(_UNRESOLVED_SQL),
        ),
        Index("ix_alerts_office_status", "office_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    #: The subject's office when the alert opened; scoping and the queue filter on it.
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    #: The officer who acknowledged it and now owns it.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    #: What was measured: positions, distances, windows; shown to the officer as is.
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    subject: Mapped[Subject] = relationship()
    office: Mapped[Office] = relationship()
    owner: Mapped[Officer | None] = relationship()
    history: Mapped[list[AlertEvent]] = relationship(
        back_populates="alert", order_by="AlertEvent.id", cascade="all, delete-orphan"
    )


class AlertEvent(db.Model):
    """One step in an alert's life: opened, repeated, acknowledged, released, resolved..."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: Null when the system acted (a rule or the sweep).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)

    alert: Mapped[Alert] = relationship(back_populates="history")
    actor: Mapped[Officer | None] = relationship()
