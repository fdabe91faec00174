"""The scheduler process (`flask scheduler run`). Jobs are data; the web app never starts them."""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import current_app
from flask.cli import AppGroup

from corrections import clock
from corrections.alerts.sweep import run_sweep

log = logging.getLogger(__name__)
scheduler_cli = AppGroup("scheduler", help="The background job process.")


def sweep_job(app) -> None:
    """Run the sweep inside an app context, logging (not dying on) errors."""
    with app.app_context():
        try:
            run_sweep(clock.now())
        except Exception:
            log.exception("sweep failed; the next run will catch up")


def jobs(app) -> list[dict]:
    """The job table: id, function, trigger."""
    return [
        {
            "id": "sweep",
            "func": sweep_job,
            "args": [app],
            "trigger": "interval",
            "seconds": app.config["SWEEP_INTERVAL_SECONDS"],
        },
    ]


def build_scheduler(app) -> BlockingScheduler:
    """A scheduler holding every job; a late run is merged into one, never run twice at once."""
    scheduler = BlockingScheduler(
        timezone=app.config["TIMEZONE"],
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job in jobs(app):
        spec = dict(job)
        scheduler.add_job(spec.pop("func"), spec.pop("trigger"), id=spec.pop("id"), **spec)
    return scheduler


@scheduler_cli.command("run")
def run() -> None:
    """Run the scheduled jobs until stopped (Ctrl-C)."""
    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    sweep_job(app)  # catch up at once after downtime, then on the interval
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
