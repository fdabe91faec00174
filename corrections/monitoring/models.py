"""Electronic-monitoring orders (电子定位监管, 社区矫正法 art. 29): continuous location tracking
of a subject is lawful only under an approved order, on one of five grounds, for at most three
months a term; a renewal is a new order, approved again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from corrections import clock
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.types import UtcDateTime

#: The statutory grounds (art. 29), in the law's order.
GROUNDS = (
    "court_prohibition_breach",
    "left_area_without_approval",
    "refused_reporting_after_warning",
    "police_penalty",
    "revocation_pending",
)
#: pending (requested) → approved (by the bureau) → ended (early; a pending request withdrawn
#: ends too). An approved order whose last day has passed stays approved: its dates say it is over.
STATUSES = ("pending", "approved", "ended")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class MonitoringOrder(db.Model):
    """One term of electronic monitoring of a subject, from its request to its end."""

    __tablename__ = "monitoring_orders"
    __table_args__ = (
        CheckConstraint(f"ground IN ({_in(GROUNDS)})", name="ground"),
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
        CheckConstraint("ends_on >= starts_on", name="period_order"),
        CheckConstraint(
            "(status = 'approved') = (approved_at IS NOT NULL AND ended_at IS NULL)",
            name="approval_state",
        ),
        CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL)", name="end_state"),
        Index("ix_monitoring_orders_subject_status", "subject_id", "status"),
        # The expiry detector reads approved orders by their last day.
        Index("ix_monitoring_orders_status_ends_on", "status", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    #: One of GROUNDS.
    ground: Mapped[str] = mapped_column(String(40))
    #: First and last day of monitoring (local dates in TIMEZONE, both in the term).
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    #: Why monitoring is needed, in the officer's words.
    reason: Mapped[str] = mapped_column(Text)
    #: One of STATUSES.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: Who requested it and when.
    created_by: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: The supervisor or admin who approved it, and when (null while pending).
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: Ended before its last day (or withdrawn while pending): when, by whom, why.
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    end_reason: Mapped[str | None] = mapped_column(Text)
    #: When the sweep warned that this order is about to end (once per order).
    expiry_warned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    subject: Mapped[Subject] = relationship(lazy="joined", innerjoin=True)

    @property
    def office_id(self) -> int:
        """The subject's office (an order follows its subject): what scope checks read."""
        return self.subject.office_id

    def covers(self, day: dt.date) -> bool:
        """Whether `day` (a local date) lies within the order's dates."""
        return self.starts_on <= day <= self.ends_on

    def to_dict(self) -> dict:
        """The order as the officer API shows it."""
        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "ground": self.ground,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "reason": self.reason,
            "status": self.status,
            "created_by": self.created_by,
            "created_at": clock.isoformat(self.created_at),
            "approved_by": self.approved_by,
            "approved_at": clock.isoformat(self.approved_at),
            "ended_by": self.ended_by,
            "ended_at": clock.isoformat(self.ended_at),
            "end_reason": self.end_reason,
        }
