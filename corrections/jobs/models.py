"""Runs of scheduled jobs and the scheduler's heartbeats."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corrections.extensions import db
from corrections.types import UtcDateTime

OUTCOMES = ("running", "ok", "failed")


class JobRun(db.Model):
    """One run of a scheduled job (the sweep): when, how it ended, and what it found."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint("outcome IN ('running', 'ok', 'failed')", name="outcome"),
        Index("ix_job_runs_job_outcome_finished", "job", "outcome", "finished_at"),
        Index("ix_job_runs_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    #: The instant the job judged as of (`alerts sweep --at`); the run's own times are real.
    as_of: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    #: What each detector found (counts).
    result: Mapped[dict | None] = mapped_column(JSON)
    #: The error's type and message of a failed run (never a traceback with data in it).
    error: Mapped[str | None] = mapped_column(Text)
    #: Which process ran it: "scheduler" or "cli", with host and pid.
    runner: Mapped[str | None] = mapped_column(String(160))


class SchedulerBeat(db.Model):
    """The last sign of life of one scheduler process."""

    __tablename__ = "scheduler_beats"
    __table_args__ = (UniqueConstraint("host", "pid", name="uq_scheduler_beats_host_pid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(120))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    beat_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
