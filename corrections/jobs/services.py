"""Recording job runs and heartbeats, and telling how fresh they are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from corrections import clock
from corrections.extensions import db
from corrections.jobs.models import JobRun, SchedulerBeat


def start_run(job: str, as_of: dt.datetime, *, runner: str, now: dt.datetime) -> int:
    """Record that `job` started (the caller commits, so the record survives a crash); its id."""
    run = JobRun(job=job, as_of=as_of, started_at=now, outcome="running", runner=runner)
    db.session.add(run)
    db.session.flush()
    return run.id


def finish_run(
    run_id: int, *, now: dt.datetime, ok: bool, result: dict, error: str | None = None
) -> None:
    """Record how the run ended."""
    db.session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(
            finished_at=now,
            outcome="ok" if ok else "failed",
            result=result,
            error=(error or "")[:2000] or None,
        )
    )


def prune_runs(before: dt.datetime) -> int:
    """Forget runs that started before `before`; how many."""
    return db.session.execute(delete(JobRun).where(JobRun.started_at < before)).rowcount or 0


@dataclass(frozen=True)
class SweepHealth:
    """How fresh the sweep is: its last success, and whether that is too long ago."""

    last_success_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    stale: bool
    stale_after_seconds: int

    def to_dict(self) -> dict:
        return {
            "last_success_at": clock.isoformat(self.last_success_at),
            "last_failure_at": clock.isoformat(self.last_failure_at),
            "stale": self.stale,
            "stale_after_seconds": self.stale_after_seconds,
        }


def stale_after(config: Mapping) -> dt.timedelta:
    """How old the last successful sweep may be before officers are warned."""
    return dt.timedelta(seconds=config["SWEEP_STALE_AFTER_SECONDS"])


def sweep_health(now: dt.datetime, limit: dt.timedelta) -> SweepHealth:
    """The sweep's freshness as of `now`: stale when its last success is older than `limit`
    (two index lookups)."""

    def last(outcome: str):
        return db.session.scalar(
            select(func.max(JobRun.finished_at)).where(
                JobRun.job == "sweep", JobRun.outcome == outcome
            )
        )

    success = last("ok")
    return SweepHealth(
        last_success_at=success,
        last_failure_at=last("failed"),
        stale=success is None or now - success > limit,
        stale_after_seconds=int(limit.total_seconds()),
    )


def beat(host: str, pid: int, started_at: dt.datetime, now: dt.datetime) -> None:
    """Record that the scheduler process (host, pid) is alive at `now`."""
    updated = db.session.execute(
        update(SchedulerBeat)
        .where(SchedulerBeat.host == host, SchedulerBeat.pid == pid)
        .values(beat_at=now)
    ).rowcount
    if not updated:
        db.session.add(SchedulerBeat(host=host, pid=pid, started_at=started_at, beat_at=now))


def last_beat() -> SchedulerBeat | None:
    """The most recent heartbeat of any scheduler process."""
    return db.session.scalar(select(SchedulerBeat).order_by(SchedulerBeat.beat_at.desc()).limit(1))


def prune_beats(before: dt.datetime) -> int:
    """Forget processes not heard from since `before`."""
    return (
        db.session.execute(delete(SchedulerBeat).where(SchedulerBeat.beat_at < before)).rowcount
        or 0
    )
