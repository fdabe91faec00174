"""People under community corrections: the person record. Their check-in plans live in
`checkin`, their zones in `zones`; both point here, never the other way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from corrections.extensions import db
from corrections.offices.models import Office
from corrections.types import UtcDateTime

CATEGORIES = ("control", "probation", "parole", "medical_parole")
LEVELS = ("strict", "normal", "lenient")
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
    #: from the first day up to the day before the last (see checkin.windows).
    supervision_start: Mapped[dt.date] = mapped_column(Date, index=True)
    supervision_end: Mapped[dt.date] = mapped_column(Date, index=True)
    #: 18-character resident ID; never shown unmasked. One person is enrolled once: unique
    #: (a record without one is allowed many times over).
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    #: Whom to call when the person cannot be reached (a relative, an employer), and their
    #: number in E.164; both optional, a number may be given without a name.
    emergency_contact_name: Mapped[str | None] = mapped_column(String(64))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(20))
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    #: The device of the last successful phone login (device_change compares against it).
    device_id: Mapped[str | None] = mapped_column(String(128))
    #: The moment the record was entered; the first check-in plan takes effect then.
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    office: Mapped[Office] = relationship(lazy="joined", innerjoin=True)

    def status_on(self, day: dt.date) -> str:
        """pending before supervision starts, active during it, ended after it."""
        return status_on(self.supervision_start, self.supervision_end, day)


def status_on(start: dt.date, end: dt.date, day: dt.date) -> str:
    """A supervision's status on `day`: pending before `start`, active from it to `end` (both
    included), ended after."""
    if day < start:
        return "pending"
    if day > end:
        return "ended"
    return "active"


@dataclass(frozen=True)
class SubjectFacts:
    """What the phone's hot paths need of a subject (check-ins, background positions), read with
    the token in one Core statement: a Subject without the ORM. Pages and the rest load the
    Subject itself."""

    id: int
    office_id: int
    level: str
    supervision_start: dt.date
    supervision_end: dt.date
    home_lat: float | None
    home_lon: float | None

    def status_on(self, day: dt.date) -> str:
        """pending before supervision starts, active during it, ended after it."""
        return status_on(self.supervision_start, self.supervision_end, day)


class RefusedDevice(db.Model):
    """A phone an officer refused for a subject after a `device_change` (not theirs, or in
    someone else's hands): its logins are turned away until an officer approves it."""

    __tablename__ = "refused_devices"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    refused_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: The officer who refused it, and why (shown to the next officer).
    refused_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    reason: Mapped[str] = mapped_column(String(500))
