"""The audit log: who read or changed a subject's record, who signed in, who was refused what."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from corrections.extensions import db
from corrections.types import UtcDateTime


class AuditEntry(db.Model):
    """One read or change of personal data, a sign-in, a refusal or an export; append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # The audit page searches by day, by officer and by action, newest first; by person
        # through audit_subjects (every entry's subject is linked there too).
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor_kind", "actor_id", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: "officer", "subject" (the phone) or "system".
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    #: e.g. "subject.read", "subject.create", "checkin.create", "alert.ack", "access.refused".
    action: Mapped[str] = mapped_column(String(40))
    #: The one subject the entry is about, when there is one (lists name theirs in `shown`).
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    #: What was seen or asked for: record ids, filters, the refused path.
    detail: Mapped[dict | None] = mapped_column(JSON)
    #: The client address of the request (None for the scheduler, commands, the demo loader).
    ip: Mapped[str | None] = mapped_column(String(64))

    shown: Mapped[list[AuditSubject]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", lazy="raise"
    )


class AuditSubject(db.Model):
    """A subject whose name or position an entry showed: a list shows many. This is what "who
    has seen this person" searches."""

    __tablename__ = "audit_subjects"
    __table_args__ = (Index("ix_audit_subjects_subject_entry", "subject_id", "entry_id"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)

    entry: Mapped[AuditEntry] = relationship(back_populates="shown")
