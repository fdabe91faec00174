"""`flask signals ...`: where the signals are kept, and their retention (docs/storage.md)."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from corrections import clock
from corrections.actors import Actor
from corrections.signals import storage

signals_cli = AppGroup("signals", help="Background positions: partitions and retention.")


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def _step(table: str, rows: int) -> None:
    click.echo(f"  {table}: {rows:,} signals", err=True)


@signals_cli.command("partitions")
@click.option(
    "--exact", is_flag=True, help="Count the rows (slow on a big table) instead of estimating."
)
def list_partitions(exact: bool) -> None:
    """List the partitions of signals with their rows and size (SQLite: the one table)."""
    found = storage.partitions(exact=exact)
    if not storage.partitioned():
        click.echo(f"signals: a plain table (SQLite), {found[0].rows:,} signals")
        return
    click.echo(f"{'partition':<20} {'day (UTC)':<11} {'rows':>14} {'size':>9}")
    for partition in found:
        rows = f"{partition.rows:,}" if partition.exact else f"~{partition.rows:,}"
        day = partition.day.isoformat() if partition.day else "-"
        click.echo(f"{partition.name:<20} {day:<11} {rows:>14} {_size(partition.size):>9}")
    if not exact:
        click.echo("(~: the planner's estimate after the last ANALYZE; --exact counts)")


@signals_cli.command("prepare")
def prepare() -> None:
    """Make the daily partitions from the oldest day a late upload may hit to the days ahead."""
    settings = storage.StorageSettings.from_config(current_app.config)
    made = storage.prepare(clock.now(), settings.ahead_days, settings.late)
    if not storage.partitioned():
        click.echo("signals is a plain table (SQLite): nothing to prepare")
        return
    click.echo(f"made {len(made)} partitions" + (": " + ", ".join(made) if made else ""))


@signals_cli.command("prune")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option(
    "--retention-days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep this many days instead of SIGNAL_RETENTION_DAYS.",
)
def prune(dry_run: bool, retention_days: int | None) -> None:
    """Delete the signals older than the retention (whole partitions on PostgreSQL); each
    deletion is logged and audited with its count."""
    settings = storage.StorageSettings.from_config(current_app.config)
    days = retention_days or settings.retention_days
    if dt.timedelta(days=days) <= settings.late:
        raise click.BadParameter(
            "keep more days than CHECKIN_MAX_AGE_HOURS: the ingest still accepts such points",
            param_hint="--retention-days",
        )
    if dry_run:
        click.echo("dry run: nothing is deleted", err=True)
    pruned = storage.prune(clock.now(), days, Actor.system(), dry_run=dry_run, progress=_step)
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{verb} {pruned.total:,} signals recorded before {clock.isoformat(pruned.cutoff)}"
        f" (kept {days} days): {len(pruned.partitions)} partitions dropped whole,"
        f" {pruned.rows_deleted:,} rows deleted one by one"
    )
