"""`flask alerts sweep [--at ISO8601]`"""

from __future__ import annotations

import datetime as dt
import json

import click
from flask.cli import AppGroup

from corrections import clock
from corrections.alerts.sweep import run_sweep

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
def sweep(at: str | None) -> None:
    """Run every scheduled detector once; safe to repeat."""
    results = run_sweep(_instant(at))
    click.echo(json.dumps(results, ensure_ascii=False, sort_keys=True))
