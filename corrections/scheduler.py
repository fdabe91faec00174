"""The scheduler process (`flask scheduler run`). Jobs are data; the web app never starts them.

Each sweep is recorded (`jobs`); a sweep that fails is logged and the next one catches up, but
after `SCHEDULER_MAX_FAILURES` failures in a row the process stops and exits with status 1, so
the supervisor (systemd, see deploy/) restarts it and the operator's monitoring sees it. A
heartbeat job records every `SCHEDULER_HEARTBEAT_SECONDS` that the process is alive; `/healthz`
and `flask scheduler status` read it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import sys
import threading

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import current_app
from flask.cli import AppGroup

from corrections import clock
from corrections.actors import Actor
from corrections.auth import limiter, sessions
from corrections.errors import log_failure
from corrections.extensions import db
from corrections.jobs import services as jobs
from corrections.signals import storage
from corrections.sweep import run_sweep, runner_name

log = logging.getLogger(__name__)
scheduler_cli = AppGroup("scheduler", help="The background job process.")


class SchedulerState:
    """What the jobs of one scheduler process share: its failures in a row, and whether it must
    stop (with which exit status)."""

    def __init__(self, max_failures: int):
        self.max_failures = max_failures
        self.failures = 0
        self.exit_status = 0
        self.stop = threading.Event()
        self.started_at = clock.now()
        #: The running scheduler, which a job that gives up shuts down.
        self.scheduler = None

    def give_up(self) -> None:
        """Stop the process with exit status 1 (from any job's thread)."""
        self.exit_status = 1
        self.stop.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def sweep_job(app, state: SchedulerState) -> None:
    """Run the sweep; on failure log it, and give up after too many failures in a row."""
    with app.app_context():
        try:
            run_sweep(clock.now(), runner=runner_name("scheduler"))
        except Exception:
            db.session.rollback()
            state.failures += 1
            log_failure(
                log, "sweep failed (%s in a row); the next run will catch up", state.failures
            )
            if state.failures >= state.max_failures:
                log.critical(
                    "%s sweeps in a row failed: the scheduler stops (exit status 1)",
                    state.failures,
                )
                state.give_up()
        else:
            state.failures = 0
        finally:
            db.session.remove()


def heartbeat_job(app, state: SchedulerState) -> None:
    """Record that this process is alive."""
    with app.app_context():
        try:
            jobs.beat(socket.gethostname(), os.getpid(), state.started_at, clock.now())
            db.session.commit()
        except Exception:
            db.session.rollback()
            log_failure(log, "could not record the heartbeat")
        finally:
            db.session.remove()


def prune_job(app, state: SchedulerState) -> None:
    """Forget job runs and silent processes older than the retention, expired rate-limit counts
    (failed logins of unknown names too) and web sessions over a day dead."""
    with app.app_context():
        try:
            now = clock.now()
            cutoff = now - dt.timedelta(days=app.config["JOB_RUN_RETENTION_DAYS"])
            runs = jobs.prune_runs(cutoff)
            beats = jobs.prune_beats(cutoff)
            counts = limiter.prune(now)
            settings = sessions.SessionSettings.from_config(app.config)
            dead = sessions.prune(now, settings, keep=dt.timedelta(days=1))
            db.session.commit()
            log.info(
                "pruned %s job runs, %s heartbeats, %s rate-limit counts and %s sessions",
                runs,
                beats,
                counts,
                dead,
            )
        except Exception:
            db.session.rollback()
            log_failure(log, "could not prune job runs")
        finally:
            db.session.remove()


def storage_job(app, state: SchedulerState) -> None:
    """Make the signals' partitions ahead and apply their retention (docs/storage.md)."""
    with app.app_context():
        try:
            settings = storage.StorageSettings.from_config(app.config)
            done = storage.maintain(clock.now(), settings, Actor.system())
            log.info(
                "signal storage: made %s partitions, deleted %s signals recorded before %s",
                len(done.made),
                done.pruned.total,
                clock.isoformat(done.pruned.cutoff),
            )
        except Exception:
            db.session.rollback()
            log_failure(log, "could not maintain the signals' storage; the next run tries again")
        finally:
            db.session.remove()


def jobs_table(app, state: SchedulerState) -> list[dict]:
    """The job table: id, function, trigger."""
    return [
        {
            "id": "sweep",
            "func": sweep_job,
            "args": [app, state],
            "trigger": "interval",
            "seconds": app.config["SWEEP_INTERVAL_SECONDS"],
        },
        {
            "id": "heartbeat",
            "func": heartbeat_job,
            "args": [app, state],
            "trigger": "interval",
            "seconds": app.config["SCHEDULER_HEARTBEAT_SECONDS"],
        },
        {
            "id": "prune",
            "func": prune_job,
            "args": [app, state],
            "trigger": "interval",
            "hours": 24,
        },
        {
            # At start too (a new database has no daily partitions yet), however long the
            # catch-up sweep before the start took.
            "id": "signal_storage",
            "func": storage_job,
            "args": [app, state],
            "trigger": "interval",
            "hours": 6,
            "next_run_time": clock.now(),
            "misfire_grace_time": None,
        },
    ]


def build_scheduler(app, state: SchedulerState) -> BlockingScheduler:
    """A scheduler holding every job; a late run is merged into one, never run twice at once."""
    scheduler = BlockingScheduler(
        timezone=app.config["TIMEZONE"],
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job in jobs_table(app, state):
        spec = dict(job)
        scheduler.add_job(spec.pop("func"), spec.pop("trigger"), id=spec.pop("id"), **spec)
    return scheduler


def run_until_stopped(app, state: SchedulerState, scheduler) -> int:
    """Catch up at once, then run the jobs until stopped; the process's exit status."""
    state.scheduler = scheduler
    heartbeat_job(app, state)
    sweep_job(app, state)  # catch up at once after downtime, then on the interval
    if not state.stop.is_set():
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            log.info("scheduler stopped")
    return state.exit_status


@scheduler_cli.command("run")
def run() -> None:
    """Run the scheduled jobs until stopped (Ctrl-C); exits 1 after repeated sweep failures."""
    app = current_app._get_current_object()
    state = SchedulerState(app.config["SCHEDULER_MAX_FAILURES"])
    scheduler = build_scheduler(app, state)
    log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    sys.exit(run_until_stopped(app, state, scheduler))


@scheduler_cli.command("status")
def status() -> None:
    """Say whether the scheduler is alive and the sweep fresh; exit 1 when either is not."""
    now = clock.now()
    config = current_app.config
    health = jobs.sweep_health(now, jobs.stale_after(config))
    beat = jobs.last_beat()
    silent = dt.timedelta(seconds=config["SCHEDULER_STALE_AFTER_SECONDS"])
    alive = beat is not None and now - beat.beat_at <= silent
    click.echo(
        "scheduler: "
        + (
            f"alive ({beat.host}:{beat.pid}, last beat {clock.isoformat(beat.beat_at)})"
            if alive
            else "SILENT" + (f" since {clock.isoformat(beat.beat_at)}" if beat else " (never seen)")
        )
    )
    click.echo(
        "sweep: "
        + ("STALE" if health.stale else "fresh")
        + f" (last success {clock.isoformat(health.last_success_at) or 'never'})"
    )
    if not alive or health.stale:
        sys.exit(1)
