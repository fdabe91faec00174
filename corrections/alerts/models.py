"""Alerts raised by the rules and the sweep, and every step taken on them.

An alert concerns a subject (`subject_id`) or a case record of a case module (`case_type`,
`case_id`: a dispute, a legal-aid application), so module deadlines use the same queue. The
queue never imports the features whose records its alerts concern: the foreign key names the
subjects table, and names come through `catalogue.describe_concerns`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from corrections.alerts.catalogue import SEVERITIES
from corrections.auth.models import Officer
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.types import UtcDateTime

STATUSES = ("open", "acknowledged", "resolved", "dismissed")
UNRESOLVED = ("open", "acknowledged")
#: History steps taken by the system rather than an officer.
SYSTEM_ACTIONS = (
    "opened",
    "repeated",
    "met_late",
    "auto_resolved",
    "back_inside",
    "signal_back",
)
OFFICER_ACTIONS = ("acknowledged", "released", "resolved", "dismissed", "reassigned")

UNRESOLVED_SQL = "status IN ('open', 'acknowledged')"


class Alert(db.Model):
    """Something that did not happen or looks wrong; at most one unresolved per concern and kind."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(f"severity IN {SEVERITIES!r}", name="severity"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint("occurrences >= 1", name="occurrences_positive"),
        CheckConstraint(
            "(subject_id IS NULL) != (case_type IS NULL)"
            " AND (case_type IS NULL) = (case_id IS NULL)",
            name="one_concern",
        ),
        # "One unresolved alert per (subject, kind)" is the database's to keep, as is the same
        # rule for case records.
        Index(
            "uq_alerts_one_unresolved",
            "subject_id",
            "kind",
            unique=True,
            sqlite_where=text(UNRESOLVED_SQL),
            postgresql_where=text(UNRESOLVED_SQL),
        ),
        Index(
            "uq_alerts_one_unresolved_case",
            "case_type",
            "case_id",
            "kind",
            unique=True,
            sqlite_where=text(UNRESOLVED_SQL),
            postgresql_where=text(UNRESOLVED_SQL),
        ),
        Index("ix_alerts_office_status", "office_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The subject the alert concerns (null for a case record's alert).
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    #: The case module's record type ("dispute", "legal_aid_case", ...) and id, for a case alert.
    case_type: Mapped[str | None] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(Integer)
    #: The concern's office when the alert opened; scoping and the queue filter on it.
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    #: The officer who acknowledged it and now owns it.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    #: What was measured: positions, distances; shown to the officer as is. Evidence that lives
    #: in the raising feature's own tables (the missed windows) is added when shown.
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    office: Mapped[Office] = relationship()
    owner: Mapped[Officer | None] = relationship()

    @property
    def concern(self) -> tuple[str, int]:
        """(concern type, id): ("subject", 12) or ("dispute", 7)."""
        if self.subject_id is not None:
            return "subject", self.subject_id
        return self.case_type, self.case_id


class AlertEvent(db.Model):
    """One step in an alert's life. Repeats that follow one another collapse into one row with a
    count, so a flood of identical reports cannot grow the history without limit."""

    __tablename__ = "alert_events"
    __table_args__ = (CheckConstraint("count >= 1", name="count_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    #: When the step was taken (for collapsed repeats: the first of them).
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: The last of collapsed repeats; null for a single step.
    last_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: How many repeats this row stands for (1 for every other step).
    count: Mapped[int] = mapped_column(Integer, default=1)
    #: Null when the system acted (a rule or the sweep).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    action: Mapped[str] = mapped_column(String(16))
    #: The officer's note or reason.
    note: Mapped[str | None] = mapped_column(Text)
    #: Facts of a system step (which window was met late, by which check-in), shown translated.
    detail: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[Officer | None] = relationship()
