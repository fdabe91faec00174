"""The audit log: who read or changed a subject's record, and when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from corrections.extensions import db
from corrections.types import UtcDateTime


class AuditEntry(db.Model):
    """One read or change of personal data; append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject_at", "subject_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: "officer", "subject" (the phone) or "system".
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    #: e.g. "subject.read", "subject.create", "checkin.create", "alert.ack".
    action: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    detail: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
