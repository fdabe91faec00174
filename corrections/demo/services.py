"""Loading the demo county through the same services the web, the APIs and the phone use.

The clock is moved to each event's moment so every rule runs as it would have live: a check-in is
judged when it arrives, the sweep lays out windows and opens missed_checkin alerts at the end of
each day, officers work the older alerts in the morning. The clock is given back at the end.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from corrections import clock
from corrections.actors import Actor
from corrections.alerts import services as alerts
from corrections.alerts.models import Alert
from corrections.alerts.queries import alerts_query
from corrections.auth.models import Officer
from corrections.auth.services import create_officer
from corrections.casefile.schemas import SubjectIn
from corrections.casefile.services import enrol
from corrections.checkin.models import Checkin
from corrections.checkin.services import LocationReport, record_location_checkin
from corrections.checkin.settings import CheckinSettings
from corrections.demo import data
from corrections.demo.county import (
    DemoCounty,
    DemoSubject,
    PlannedCheckin,
    build_county,
    standard_zone,
)
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.subjects.models import Subject
from corrections.sweep import run_sweep

DEFAULT_SEED = 2026
#: Officers check the queue at this local time each morning.
MORNING = dt.time(8, 30)
#: The sweep that closes each day: the first after the windows close and their grace runs out.
EVENING_SWEEP = dt.time(20, 20)


class DemoRefused(Exception):
    """The demo cannot be loaded into this database; the message says why."""


def demo_present() -> str | None:
    """The code of a demo office already in the database, or None."""
    codes = [code for code, *_ in data.OFFICES]
    return db.session.scalar(
        select(Office.code).where(Office.code.in_(codes)).order_by(Office.id).limit(1)
    )


def any_office() -> bool:
    """Whether the database holds any office at all (then `--if-empty` leaves it alone)."""
    return db.session.scalar(select(Office.id).limit(1)) is not None


def check_can_load(county: DemoCounty) -> None:
    """Refuse when the demo county, or anything it would collide with, is already there."""
    code = demo_present()
    if code is not None:
        raise DemoRefused(
            f"the demo county is already loaded (office {code} exists); to start over, use an "
            "empty database (default SQLite: delete instance/corrections.sqlite3, "
            "then flask db upgrade)"
        )
    names = [name for name, _, _, _ in data.COUNTY_ACCOUNTS] + [
        data.officer_username(n) for n in range(1, data.OFFICES_WITH_OFFICER + 1)
    ]
    taken = db.session.scalar(select(Officer.username).where(Officer.username.in_(names)).limit(1))
    if taken is not None:
        raise DemoRefused(
            f"an account named {taken!r} exists already; load the demo into an empty database"
        )
    phones = [s.phone for s in county.subjects]
    if db.session.scalar(select(Subject.id).where(Subject.phone.in_(phones)).limit(1)) is not None:
        raise DemoRefused(
            "a demo phone number is already registered; load the demo into an empty database"
        )


@dataclass
class _Event:
    at: dt.datetime
    order: int
    kind: str
    payload: object = None

    def __lt__(self, other: _Event) -> bool:
        return (self.at, self.order) < (other.at, other.order)


def plan_county(now: dt.datetime, *, n_subjects: int, days: int, seed: int) -> DemoCounty:
    """The county to load, as of `now`."""
    zone = clock.local_zone()
    today = now.astimezone(zone).date()
    return build_county(
        seed=seed, n_subjects=n_subjects, today=today, days=days, now=now, zone=zone
    )


def load_demo(
    county: DemoCounty,
    now: dt.datetime,
    *,
    seed: int = DEFAULT_SEED,
    progress: Callable[[Iterator, int, str], Iterator] | None = None,
) -> dict:
    """Write the county and live through its history up to `now`; returns what was made.
    `progress(iterable, length, label)` may wrap each long step (a progress bar). Not one
    transaction: each day's sweep commits, so a failure part-way leaves part of a county."""
    progress = progress or (lambda items, length, label: items)
    check_can_load(county)
    zone = clock.local_zone()
    settings = CheckinSettings.from_config(current_app.config)
    try:
        # Accounts and records were entered the morning before the county went live: the
        # plans take effect then, so that day's window (already open) is not due, the next
        # day's is.
        clock.set_now(_local(county.first_day - dt.timedelta(days=1), dt.time(9, 0), zone))
        workers = _create_offices_and_accounts()
        subjects = {}
        for person in progress(county.subjects, len(county.subjects), "Enrolling subjects"):
            subjects[person.number] = _enrol(person, settings)
        db.session.commit()

        events = _timeline(county, now, zone)
        rng = random.Random(seed + 1)
        worked: set[int] = set()
        absent = {subjects[p.number].id for p in county.subjects if p.behaviour == "absent"}
        for event in progress(events, len(events), "Living through the history"):
            clock.set_now(event.at)
            if event.kind == "checkin":
                person, planned = event.payload
                _check_in(subjects[person.number], planned, settings)
            elif event.kind == "sweep":
                run_sweep(event.at)
            elif event.kind == "morning":
                _work_the_queue(event.at, workers, rng, worked, skip_subjects=absent)
                db.session.commit()
            # Check-ins are committed with the next sweep (run_sweep commits): far fewer commits.
        clock.set_now(now)
        run_sweep(now)
        return summary()
    except Exception:
        db.session.rollback()
        raise
    finally:
        clock.set_now(None)


def _local(day: dt.date, time: dt.time, zone) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=zone).astimezone(dt.UTC)


def _create_offices_and_accounts() -> dict[int, Officer]:
    """The 14 offices, the county accounts and one officer for each of the first ten offices.
    Returns who works each office's alerts: its officer, else the county supervisor."""
    offices = []
    for code, name, lat, lon in data.OFFICES:
        office = Office(
            code=code,
            name=name,
            lat=lat,
            lon=lon,
            standard_zone=standard_zone(code, name, lat, lon),
        )
        db.session.add(office)
        offices.append(office)
    db.session.flush()
    county = {
        role: create_officer(username, password, role, display_name=shown)
        for username, role, password, shown in data.COUNTY_ACCOUNTS
    }
    workers = {}
    for number, office in enumerate(offices, start=1):
        if number <= data.OFFICES_WITH_OFFICER:
            workers[office.id] = create_officer(
                data.officer_username(number),
                data.OFFICER_PASSWORD,
                "officer",
                office.code,
                display_name=data.OFFICER_NAMES[(number - 1) % len(data.OFFICER_NAMES)],
            )
        else:
            workers[office.id] = county["supervisor"]
    return workers


def _enrol(person: DemoSubject, settings: CheckinSettings) -> Subject:
    payload = SubjectIn.from_plain(person.body)
    return enrol(payload, None, actor=Actor.system(), now=clock.now(), grace=settings.grace)


def _timeline(county: DemoCounty, now: dt.datetime, zone) -> list[_Event]:
    events = []
    for person in county.subjects:
        for planned in person.checkins:
            events.append(_Event(planned.received_at, 0, "checkin", (person, planned)))
    day = county.first_day
    while day <= county.today:
        sweep_at = _local(day, EVENING_SWEEP, zone)
        if sweep_at < now:
            events.append(_Event(sweep_at, 1, "sweep"))
        # Officers work the queue each morning up to yesterday; today's alerts are still fresh.
        if county.first_day < day < county.today:
            events.append(_Event(_local(day, MORNING, zone), 2, "morning"))
        day += dt.timedelta(days=1)
    return sorted(events)


def _check_in(subject: Subject, planned: PlannedCheckin, settings: CheckinSettings) -> None:
    report = LocationReport(
        client_id=planned.client_id,
        lat=planned.lat,
        lon=planned.lon,
        accuracy_m=planned.accuracy_m,
        recorded_at=planned.recorded_at,
        battery_pct=planned.battery_pct,
    )
    record_location_checkin(
        subject,
        report,
        kind="location",
        device_id=None,
        actor=Actor.subject(subject.id, None),
        now=clock.now(),
        settings=settings,
    )


def _work_the_queue(
    at: dt.datetime,
    workers: dict[int, Officer],
    rng: random.Random,
    worked: set[int],
    *,
    skip_subjects: set[int],
) -> None:
    """Each unresolved alert opened before this morning is looked at once: most are acknowledged
    and resolved with a note, some only acknowledged, a few dismissed as false positives, some
    left open. The first one ever looked at is resolved, so every county shows a full history.
    Alerts of `skip_subjects` (the absent, whom nobody has reached yet) stay open."""
    pending = (
        db.session.scalars(
            alerts_query(None, status="unresolved")
            .where(Alert.opened_at < at)
            .order_by(None)
            .order_by(Alert.id)
        )
        .unique()
        .all()
    )
    steps: dict[int, int] = {}
    for alert in pending:
        if alert.id in worked or alert.subject_id in skip_subjects:
            continue
        worked.add(alert.id)
        roll = 0.0 if len(worked) == 1 else rng.random()
        if roll >= 0.8:
            continue  # not reached this morning
        officer = workers[alert.office_id]
        steps[officer.id] = steps.get(officer.id, 0) + 1
        ack_at = at + dt.timedelta(minutes=10 * steps[officer.id] + rng.randint(0, 9))
        clock.set_now(ack_at)
        actor = Actor.officer(officer.id, None)
        alerts.acknowledge(alert, officer, actor, ack_at)
        if roll >= 0.65:
            continue  # owned, still being looked into
        done_at = ack_at + dt.timedelta(minutes=rng.randint(15, 120))
        clock.set_now(done_at)
        if roll >= 0.55 and alert.kind in data.DISMISS_REASONS:
            reason = rng.choice(data.DISMISS_REASONS[alert.kind])
            alerts.close(alert, officer, actor, done_at, "dismissed", reason)
        else:
            notes = data.RESOLVE_NOTES.get(alert.kind, ("已核实处理。",))
            alerts.close(alert, officer, actor, done_at, "resolved", rng.choice(notes))


def summary() -> dict:
    """Counts of what the database now holds, for the closing message and the tests."""

    def count(column, *where) -> int:
        return db.session.scalar(select(func.count(column)).where(*where)) or 0

    by_status = dict(
        db.session.execute(select(Alert.status, func.count(Alert.id)).group_by(Alert.status)).all()
    )
    by_kind = dict(
        db.session.execute(select(Alert.kind, func.count(Alert.id)).group_by(Alert.kind)).all()
    )
    return {
        "offices": count(Office.id),
        "officers": count(Officer.id),
        "subjects": count(Subject.id),
        "checkins": count(Checkin.id),
        "flagged_checkins": count(Checkin.id, Checkin.status == "flagged"),
        "alerts_by_status": by_status,
        "alerts_by_kind": by_kind,
    }
