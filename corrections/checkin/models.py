"""Check-in plans, check-ins, and the windows that were missed.

A plan is effective-dated: changing it closes the version in force and opens a new one, so a
window is always judged by the version that was in force when it started. Plans that share a
rhythm share a `WindowShape`, whose `judged_until` says up to when the sweep has judged every
window of that rhythm: the sweep's state is one row per rhythm, not one per person.

Only what officers and reports need is stored: windows that were met are not kept (the check-in
that met them is), windows that were missed are (`MissedWindow`), with the alert that counted
them and, when a late upload shows the subject did check in inside, the check-in that met it.
"""

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from corrections import clock
from corrections.checkin.windows import format_hhmm
from corrections.extensions import db
from corrections.types import UtcDateTime

KINDS = ("location", "video", "sms", "voice", "signal")
#: Kinds that meet a check-in window; background signals never do.
WINDOW_KINDS = ("location", "video", "sms", "voice")
#: The same, as SQL (the partial index ix_checkins_window_reports and the sweep share it).
WINDOW_KINDS_SQL = "kind IN ('location', 'video', 'sms', 'voice')"


class WindowShape(db.Model):
    """A rhythm of check-in windows, every N days from a local start to a local end time, and
    how far the sweep has judged the windows of every plan that follows it."""

    __tablename__ = "window_shapes"
    __table_args__ = (
        UniqueConstraint(
            "every_days", "window_start_min", "window_end_min", name="uq_window_shape"
        ),
        CheckConstraint("every_days >= 1", name="every_days_positive"),
        CheckConstraint("window_start_min BETWEEN 0 AND 1439", name="window_start_range"),
        CheckConstraint("window_end_min BETWEEN 0 AND 1439", name="window_end_range"),
        CheckConstraint("window_start_min != window_end_min", name="window_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    every_days: Mapped[int] = mapped_column(Integer)
    #: Window bounds in minutes after local midnight; an end before the start crosses midnight.
    window_start_min: Mapped[int] = mapped_column(Integer)
    window_end_min: Mapped[int] = mapped_column(Integer)
    #: Every window of this rhythm that ended at or before this instant has been judged.
    judged_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: When the next window of this rhythm can be judged (its end plus the grace); an idle
    #: sweep reads only this column.
    next_judgement_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class CheckinPlan(db.Model):
    """One version of when a subject must check in: every N days inside a local-time window."""

    __tablename__ = "checkin_plans"
    __table_args__ = (
        CheckConstraint("video_every_days IS NULL OR video_every_days >= 1", name="video_positive"),
        CheckConstraint("first_day >= anchor_day", name="first_after_anchor"),
        CheckConstraint(
            "(curfew_start_min IS NULL) = (curfew_end_min IS NULL)", name="curfew_both_or_none"
        ),
        CheckConstraint(
            "curfew_start_min IS NULL OR (curfew_start_min BETWEEN 0 AND 1439"
            " AND curfew_end_min BETWEEN 0 AND 1439 AND curfew_start_min != curfew_end_min)",
            name="curfew_range",
        ),
        Index("ix_checkin_plans_shape_subject", "shape_id", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    shape_id: Mapped[int] = mapped_column(ForeignKey("window_shapes.id"))
    video_every_days: Mapped[int | None] = mapped_column(Integer)
    #: Day number (days since 1970-01-01) the rhythm counts from: windows fall every N days from it.
    anchor_day: Mapped[int] = mapped_column(Integer)
    #: The moment this version took effect: at enrolment, the moment the record was created; for
    #: a change, the start of the local day it names (or the moment of the change, if today).
    effective_from: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: When a later version replaced this one; null while it is in force.
    effective_to: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: The local days (day numbers) of this version's first and last window: the first window
    #: that starts at or after `effective_from`, the last that starts before `effective_to`.
    #: Fixed when the version opens and closes, so "is a window due" is integer arithmetic.
    first_day: Mapped[int] = mapped_column(Integer)
    last_day: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: The curfew: local minutes after midnight between which the subject must be at home (an
    #: end before the start crosses midnight); both null for none.
    curfew_start_min: Mapped[int | None] = mapped_column(Integer)
    curfew_end_min: Mapped[int | None] = mapped_column(Integer)

    shape: Mapped[WindowShape] = relationship(lazy="joined", innerjoin=True)

    @property
    def every_days(self) -> int:
        return self.shape.every_days

    @property
    def window_start(self) -> str:
        return format_hhmm(self.shape.window_start_min)

    @property
    def window_end(self) -> str:
        return format_hhmm(self.shape.window_end_min)

    @property
    def curfew_start(self) -> str | None:
        return None if self.curfew_start_min is None else format_hhmm(self.curfew_start_min)

    @property
    def curfew_end(self) -> str | None:
        return None if self.curfew_end_min is None else format_hhmm(self.curfew_end_min)

    def to_dict(self) -> dict:
        """The plan as the API shows it."""
        return {
            "every_days": self.every_days,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "video_every_days": self.video_every_days,
            "curfew_start": self.curfew_start,
            "curfew_end": self.curfew_end,
            "effective_from": clock.isoformat(self.effective_from),
        }


class Checkin(db.Model):
    """One report from a subject: where they were, when, and what the rules made of it."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("subject_id", "client_id", name="uq_checkins_subject_client"),
        Index("ix_checkins_subject_recorded", "subject_id", "recorded_at"),
        # What the sweep asks of every due window, "did a report of a kind that meets windows
        # arrive in it?", answered from the index alone; background signals, which will
        # outnumber everything else, stay out of it.
        Index(
            "ix_checkins_window_reports",
            "subject_id",
            "recorded_at",
            "kind",
            sqlite_where=text(WINDOW_KINDS_SQL),
            postgresql_where=text(WINDOW_KINDS_SQL),
        ),
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
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    #: Alert kinds this check-in raised, e.g. ["geofence_exit"].
    flags: Mapped[list] = mapped_column(JSON, default=list)
    mock_location: Mapped[bool | None] = mapped_column(Boolean)
    battery_pct: Mapped[int | None] = mapped_column(Integer)
    #: The phone it came from (the device id of the token that sent it).
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
            "device_id": self.device_id,
        }


_UNLINKED_SQL = "alert_id IS NULL"


class MissedWindow(db.Model):
    """A due window in which no check-in was recorded by the time it was judged."""

    __tablename__ = "missed_windows"
    __table_args__ = (
        UniqueConstraint("subject_id", "starts_at", name="uq_missed_windows_subject_start"),
        # Windows the sweep has judged but not yet counted in an alert: few, whatever the size
        # of the history.
        Index(
            "ix_missed_windows_unlinked",
            "subject_id",
            sqlite_where=text(_UNLINKED_SQL),
            postgresql_where=text(_UNLINKED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    #: The plan version that made the window due.
    plan_id: Mapped[int] = mapped_column(ForeignKey("checkin_plans.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: When the sweep judged it missed.
    judged_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: The missed_checkin alert this miss is counted in (a later sweep does not count it again).
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    #: A check-in recorded inside the window that arrived after it was judged: met late.
    met_checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"), index=True)
