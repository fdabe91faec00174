"""`flask demo load [--if-empty] [--subjects N] [--days N] [--seed N]`"""

from __future__ import annotations

import logging
import os
import time

import click
from flask.cli import AppGroup

from corrections import clock
from corrections.demo import data, services
from corrections.extensions import db

demo_cli = AppGroup("demo", help="The demo county.")


def _progress(items, length: int, label: str):
    with click.progressbar(items, length=length, label=label, show_pos=True) as bar:
        yield from bar


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and say so) when any office exists.")
@click.option(
    "--subjects",
    "n_subjects",
    type=click.IntRange(4, 2000),
    default=100,
    show_default=True,
    help="How many subjects to enrol.",
)
@click.option(
    "--days",
    type=click.IntRange(3, 30),
    default=5,
    show_default=True,
    help="Days of check-in history before now.",
)
@click.option(
    "--seed",
    type=int,
    default=services.DEFAULT_SEED,
    show_default=True,
    help="Random seed: the same seed on the same day loads the same county.",
)
def load(if_empty: bool, n_subjects: int, days: int, seed: int) -> None:
    """Load a fictional county: 14 offices, demo accounts, synthetic subjects and a few days of
    check-ins and alerts. Loading it again does nothing (like the sweep, it is safe to repeat);
    it refuses only when other data would collide with it."""
    if if_empty and services.any_office():
        click.echo("demo load: the database already holds offices; nothing loaded.")
        return
    present = services.demo_present()
    if present is not None:
        click.echo(
            f"demo load: the demo county is already loaded (office {present}); nothing loaded."
        )
        return
    if os.environ.get("APP_ENV") == "production":
        raise click.ClickException(
            "the demo county has published passwords; not loading it in production"
        )
    started = time.monotonic()
    now = clock.now()
    county = services.plan_county(now, n_subjects=n_subjects, days=days, seed=seed)
    # The history runs a sweep per day; their log lines would break the progress bars.
    sweep_log = logging.getLogger("corrections.sweep")
    level = sweep_log.level
    sweep_log.setLevel(logging.WARNING)
    try:
        result = services.load_demo(county, now, seed=seed, progress=_progress)
    except services.DemoRefused as refusal:
        db.session.rollback()
        raise click.ClickException(str(refusal)) from None
    finally:
        sweep_log.setLevel(level)
    seconds = time.monotonic() - started
    alerts = result["alerts_by_status"]
    click.echo(
        f"Loaded the demo county in {seconds:.1f} s: {result['offices']} offices, "
        f"{result['subjects']} subjects, {result['checkins']} check-ins "
        f"({result['flagged_checkins']} flagged), alerts "
        + ", ".join(f"{status} {n}" for status, n in sorted(alerts.items()))
    )
    click.echo(_logins(county))


def _address() -> str:
    """Where the development web server answers: `make run` (deploy/run-dev.sh) serves on $PORT,
    a plain `flask run` on $FLASK_RUN_PORT; both default to 5000."""
    for name in ("PORT", "FLASK_RUN_PORT"):
        port = os.environ.get(name, "").strip()
        if port.isdigit():
            return f"http://127.0.0.1:{int(port)}"
    return "http://127.0.0.1:5000"


def _logins(county) -> str:
    """The demo accounts, to copy from the terminal (they are also in README.md)."""
    first_office = data.OFFICES[0]
    last_officer_office = data.OFFICES[data.OFFICES_WITH_OFFICER - 1]
    tour = county.subjects[0]
    lines = [
        "",
        f"Demo logins ({_address()}/login):",
        f"  admin       / {data.ADMIN_PASSWORD}",
        f"  supervisor  / {data.SUPERVISOR_PASSWORD}",
        f"  viewer      / {data.VIEWER_PASSWORD}",
        f"  {data.officer_username(1)} .. {data.officer_username(data.OFFICES_WITH_OFFICER)}"
        f" / {data.OFFICER_PASSWORD}   ({first_office[0]} {first_office[1]} .. "
        f"{last_officer_office[0]} {last_officer_office[1]})",
        f"Demo phone (mobile API): {tour.phone}, PIN {data.SUBJECT_PIN} "
        f"({tour.body['name']}, {first_office[1]}); every demo subject has PIN {data.SUBJECT_PIN}.",
    ]
    return "\n".join(lines)
