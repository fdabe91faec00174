"""Check-ins from phones, SMS and voice, and the windows they must meet."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from corrections import clock
from corrections.extensions import db
from corrections.types import UtcDateTime

KINDS = ("location", "video", "sms", "voice", "signal")
#: Kinds that meet a check-in window; background signals never do.
WINDOW_KINDS = ("location", "video", "sms", "voice")

_UNJUDGED_SQL = "met_checkin_id IS NULL AND alert_id IS NULL"


class Checkin(db.Model):
    """One report from a subject: where they were, when, and what the rules made of it."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("subject_id", "client_id", name="uq_checkins_subject_client"),
        Index("ix_checkins_subject_recorded", "subject_id", "recorded_at"),
        CheckConstraint("kind IN ('location', 'video', 'sms', 'voice', 'signal')", name="kind"),
        CheckConstraint("status IN ('accepted', 'flagged')", name="status"),
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name="lon_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    #: The phone's own id for this report; a retry with the same id stores nothing new.
    client_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    #: When the phone took the fix (for SMS and voice: when the message or call arrived).
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    status: Mapped[str] = mapped_column(String(16))
    #: Alert kinds this check-in raised, e.g. ["geofence_exit"].
    flags: Mapped[list] = mapped_column(JSON, default=list)
    mock_location: Mapped[bool | None] = mapped_column(Boolean)
    battery_pct: Mapped[int | None] = mapped_column(Integer)
    device_id: Mapped[str | None] = mapped_column(String(128))

    def to_dict(self) -> dict:
        """The check-in as the APIs show it."""
        return {
            "id": self.id,
            "client_id": self.client_id,
            "kind": self.kind,
            "status": self.status,
            "flags": list(self.flags or []),
            "lat": self.lat,
            "lon": self.lon,
            "accuracy_m": self.accuracy_m,
            "recorded_at": clock.isoformat(self.recorded_at),
            "received_at": clock.isoformat(self.received_at),
            "mock_location": self.mock_location,
            "battery_pct": self.battery_pct,
        }


class CheckinWindow(db.Model):
    """One due check-in window of one subject, laid out by the sweep once it has closed."""

    __tablename__ = "checkin_windows"
    __table_args__ = (
        UniqueConstraint("subject_id", "starts_at", name="uq_checkin_windows_subject_start"),
        # Only windows the sweep has not judged yet: small whatever the history's size.
        Index(
            "ix_checkin_windows_unjudged",
            "subject_id",
            "ends_at",
            sqlite_where=text(_UNJUDGED_SQL),
            postgresql_where=text(_UNJUDGED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: The first check-in recorded inside the window; null means missed.
    met_checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"))
    #: The missed_checkin alert this miss was counted in (a second sweep does not count it again).
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
