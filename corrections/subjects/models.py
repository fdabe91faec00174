"""People under community corrections, their check-in plans and their zones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from corrections import clock
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.types import UtcDateTime

CATEGORIES = ("control", "probation", "parole", "medical_parole")
LEVELS = ("strict", "normal", "lenient")
ZONE_KINDS = ("allowed", "exclusion")
#: A subject's status follows from the supervision dates and the day it is asked.
STATUSES = ("pending", "active", "ended")


class Subject(db.Model):
    """A person under community corrections (社区矫正对象)."""

    __tablename__ = "subjects"
    __table_args__ = (
        CheckConstraint(
            "category IN ('control', 'probation', 'parole', 'medical_parole')", name="category"
        ),
        CheckConstraint("level IN ('strict', 'normal', 'lenient')", name="level"),
        CheckConstraint("supervision_end >= supervision_start", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    #: E.164 mobile number; the phone logs in with it and SMS/voice check-ins come from it.
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    #: werkzeug hash of the subject's PIN.
    pin_hash: Mapped[str] = mapped_column(String(255))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    #: First and last day of supervision (local dates, both in it). Check-in windows are due
    #: from the first day up to the day before the last (see checkin.windows.due_period).
    supervision_start: Mapped[dt.date] = mapped_column(Date, index=True)
    supervision_end: Mapped[dt.date] = mapped_column(Date, index=True)
    #: 18-character resident ID; never shown unmasked.
    id_number: Mapped[str | None] = mapped_column(String(18))
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    #: The device of the last successful phone login (device_change compares against it).
    device_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)

    office: Mapped[Office] = relationship()
    plan: Mapped[CheckinPlan | None] = relationship(
        back_populates="subject", uselist=False, cascade="all, delete-orphan"
    )
    zones: Mapped[list[Zone]] = relationship(
        back_populates="subject", cascade="all, delete-orphan", order_by="Zone.id"
    )

    def status_on(self, day: dt.date) -> str:
        """pending before supervision starts, active during it, ended after it."""
        if day < self.supervision_start:
            return "pending"
        if day > self.supervision_end:
            return "ended"
        return "active"


class CheckinPlan(db.Model):
    """When a subject must check in: every N days, inside a local-time window."""

    __tablename__ = "checkin_plans"
    __table_args__ = (
        CheckConstraint("every_days >= 1", name="every_days_positive"),
        CheckConstraint("window_start_min BETWEEN 0 AND 1439", name="window_start_range"),
        CheckConstraint("window_end_min BETWEEN 0 AND 1439", name="window_end_range"),
        CheckConstraint("window_start_min != window_end_min", name="window_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), unique=True)
    every_days: Mapped[int] = mapped_column(Integer)
    #: Window bounds in minutes after local midnight; an end before the start crosses midnight.
    window_start_min: Mapped[int] = mapped_column(Integer)
    window_end_min: Mapped[int] = mapped_column(Integer)
    video_every_days: Mapped[int | None] = mapped_column(Integer)
    #: Day number (days since 1970-01-01) of the first window; windows fall every N days from it.
    anchor_day: Mapped[int] = mapped_column(Integer)
    #: The sweep has laid out this plan's windows up to this instant.
    windows_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    subject: Mapped[Subject] = relationship(back_populates="plan")

    @property
    def window_start(self) -> str:
        return _hhmm(self.window_start_min)

    @property
    def window_end(self) -> str:
        return _hhmm(self.window_end_min)

    def to_dict(self) -> dict:
        """The plan as the API shows it."""
        return {
            "every_days": self.every_days,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "video_every_days": self.video_every_days,
        }


class Zone(db.Model):
    """An allowed area (stay inside their union) or an exclusion area (stay out)."""

    __tablename__ = "zones"
    __table_args__ = (
        CheckConstraint("kind IN ('allowed', 'exclusion')", name="kind"),
        CheckConstraint(
            "(polygon IS NULL AND lat IS NOT NULL AND lon IS NOT NULL AND radius_m > 0)"
            " OR (polygon IS NOT NULL AND radius_m IS NULL)",
            name="circle_or_polygon",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    #: Circle centre (or, for a polygon, its centroid, for display).
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    #: [[lat, lon], ...] for a polygon zone.
    polygon: Mapped[list | None] = mapped_column(JSON)
    #: Limits a zone to a date range (a travel permit's destination); null means always.
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)

    subject: Mapped[Subject] = relationship(back_populates="zones")

    def to_dict(self) -> dict:
        """The zone as the API shows it."""
        data = {"id": self.id, "kind": self.kind, "name": self.name}
        if self.polygon is not None:
            data["polygon"] = self.polygon
        else:
            data.update(lat=self.lat, lon=self.lon, radius_m=self.radius_m)
        if self.valid_from or self.valid_to:
            data["valid_from"] = self.valid_from.isoformat() if self.valid_from else None
            data["valid_to"] = self.valid_to.isoformat() if self.valid_to else None
        return data


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
