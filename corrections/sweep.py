"""The sweep: every scheduled detector, run once as if the clock read `at`; and
`flask alerts sweep [--at ISO8601]`.

Each detector works in short transactions of its own (never one long one), so the sweep is not
one transaction: it is safe to stop at any point and to repeat. Two sweeps never run at once on
PostgreSQL (a session advisory lock, held on a connection of its own while the sweep runs). Each
run is recorded with its outcome and counts (`jobs`), which is how officers learn that the sweep
is alive.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import socket
from collections.abc import Mapping

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text

from corrections import clock
from corrections.errors import describe
from corrections.extensions import db
from corrections.features import DETECTORS
from corrections.jobs import services as jobs

log = logging.getLogger(__name__)

#: An arbitrary constant naming the sweep's PostgreSQL advisory lock.
SWEEP_LOCK_ID = 7_301_145


@contextlib.contextmanager
def _one_sweep_at_a_time():
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": SWEEP_LOCK_ID})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": SWEEP_LOCK_ID})
            connection.commit()


def runner_name(kind: str) -> str:
    """Who runs a job: "scheduler" or "cli", on which host, as which process."""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}"


def run_sweep(at: dt.datetime, *, config: Mapping | None = None, runner: str | None = None) -> dict:
    """Run every detector once as of `at`; safe to repeat. Records the run; re-raises a
    detector's error after recording it as failed."""
    config = config if config is not None else current_app.config
    runner = runner or runner_name("cli")
    results: dict = {}
    with _one_sweep_at_a_time():
        run_id = jobs.start_run("sweep", at, runner=runner, now=clock.now())
        db.session.commit()
        try:
            for detector in DETECTORS:
                results[detector.name] = detector.run(at, config)
        except Exception as error:
            db.session.rollback()
            jobs.finish_run(
                run_id,
                now=clock.now(),
                ok=False,
                result=results,
                error=describe(error),
            )
            db.session.commit()
            raise
        jobs.finish_run(run_id, now=clock.now(), ok=True, result=results)
        db.session.commit()
    log.info("sweep as of %s: %s", at.isoformat(), results)
    return results


alerts_cli = AppGroup("alerts", help="Alerts and the detectors that raise them.")


def _instant(value: str | None) -> dt.datetime:
    if value is None:
        return clock.now()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-28T10:00:00+08:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.local_zone())
    return parsed.astimezone(dt.UTC)


@alerts_cli.command("sweep")
@click.option(
    "--at",
    "at",
    default=None,
    help="Run as if the clock read this (ISO 8601; no offset means TIMEZONE).",
)
@click.option(
    "--allow-future",
    is_flag=True,
    help="In production, allow --at in the future (it judges windows that have not happened).",
)
def sweep(at: str | None, allow_future: bool) -> None:
    """Run every scheduled detector once; safe to repeat."""
    instant = _instant(at)
    production = current_app.config.get("APP_ENV") == "production"
    if production and instant > clock.now() and not allow_future:
        raise click.UsageError(
            "--at lies in the future: a future sweep judges windows that have not happened yet "
            "and raises missed check-ins for them. Add --allow-future if that is what you want."
        )
    results = run_sweep(instant)
    click.echo(json.dumps(results, ensure_ascii=False, sort_keys=True))
