"""Recording check-ins and judging them at once.

Every rule that applies to a deliberate report is judged before the answer returns, so a
flagged check-in has its alert open when the phone hears back. A check-in recorded inside a
window the sweep already counted as missed (a phone that uploads late) marks that window met
late, says so in the alert's history and closes the alert once none of its windows is unmet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.raising import raise_alert
from corrections.alerts.services import close_by_system, record_system_step
from corrections.audit.services import record as audit
from corrections.audit.services import write as write_audit
from corrections.checkin import curfew as curfew_rules
from corrections.checkin import plans as plan_versions
from corrections.checkin import rules, windows
from corrections.checkin.models import WINDOW_KINDS, Checkin, MissedWindow
from corrections.checkin.settings import CheckinSettings
from corrections.extensions import db
from corrections.i18n import N_, FieldProblem
from corrections.subjects.models import Subject
from corrections.zones import rules as zone_rules
from corrections.zones.services import zones_in_force

#: An arbitrary constant naming the PostgreSQL advisory lock that orders check-ins and the
#: sweep's judgement: a check-in holds it shared while it is written, a batch of the sweep holds
#: it exclusively while it judges, so a window is never judged missed while a check-in inside it
#: is being written (each batch is short: phones wait a fraction of a second at most).
JUDGEMENT_LOCK_ID = 7_301_146


class CheckinRejected(FieldProblem):
    """The check-in cannot be stored (422); `field` names the reason."""


class NotInSupervision(Exception):
    """The report falls outside the subject's supervision (403 not_in_supervision)."""


@dataclass(frozen=True)
class LocationReport:
    """What a phone sends for a location check-in."""

    client_id: str
    lat: float
    lon: float
    accuracy_m: float
    recorded_at: dt.datetime
    mock_location: bool | None = None
    battery_pct: int | None = None


@dataclass(frozen=True)
class Recorded:
    """A stored check-in, whether this call stored it, and the window it met (if any)."""

    checkin: Checkin
    created: bool
    window: windows.DueWindow | None


def judgement_lock(*, shared: bool) -> None:
    """Take the judgement lock for the rest of the transaction (PostgreSQL; SQLite serialises
    every writing transaction anyway)."""
    if db.engine.dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    db.session.execute(text(f"SELECT {function}(:id)"), {"id": JUDGEMENT_LOCK_ID})


def find_by_client_id(subject_id: int, client_id: str) -> Checkin | None:
    """The check-in this phone already sent under `client_id`, if any."""
    return db.session.scalar(
        select(Checkin).where(Checkin.subject_id == subject_id, Checkin.client_id == client_id)
    )


def check_recorded_at(recorded_at: dt.datetime, now: dt.datetime, settings: CheckinSettings):
    """Refuse a time too far in the future (clock skew) or too old (stale upload)."""
    if recorded_at > now + settings.max_future:
        raise CheckinRejected("recorded_at", N_("lies in the future"))
    if recorded_at < now - settings.max_age:
        hours = int(settings.max_age.total_seconds() // 3600)
        raise CheckinRejected("recorded_at", N_("is older than %(hours)s hours"), hours=hours)


def check_in_supervision(subject: Subject, recorded_at: dt.datetime) -> None:
    """Refuse a report recorded outside the supervision period (local days, both ends in it)."""
    day = recorded_at.astimezone(clock.local_zone()).date()
    if not subject.supervision_start <= day <= subject.supervision_end:
        raise NotInSupervision()


def previous_fix(subject_id: int, before: dt.datetime) -> zone_rules.Fix | None:
    """The subject's latest position taken before `before`."""
    row = db.session.execute(
        select(Checkin.lat, Checkin.lon, Checkin.accuracy_m, Checkin.recorded_at)
        .where(
            Checkin.subject_id == subject_id,
            Checkin.lat.is_not(None),
            Checkin.recorded_at < before,
        )
        .order_by(Checkin.recorded_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return zone_rules.Fix(row.lat, row.lon, row.accuracy_m or 0.0, row.recorded_at)


def judge(
    subject: Subject,
    report: LocationReport,
    settings: CheckinSettings,
    curfews: Sequence[curfew_rules.CurfewVersion] = (),
) -> list[zone_rules.Finding]:
    """Every rule that applies to one deliberate location report, judged at once; `curfews`
    (the curfew of each of the subject's plan versions) for the curfew."""
    fix = zone_rules.Fix(report.lat, report.lon, report.accuracy_m, report.recorded_at)
    ceiling = settings.accuracy_ceiling_m
    zone = clock.local_zone()
    local_day = report.recorded_at.astimezone(zone).date()
    findings = zone_rules.judge_zones(
        fix, zones_in_force(subject.id, local_day), accuracy_ceiling_m=ceiling
    )
    mock = rules.judge_mock(fix, report.mock_location, ceiling)
    if mock is not None:
        findings.append(mock)
    travel = rules.judge_travel(
        previous_fix(subject.id, report.recorded_at),
        fix,
        max_kmh=settings.impossible_travel_kmh,
        accuracy_ceiling_m=ceiling,
    )
    if travel is not None:
        findings.append(travel)
    breach = curfew_rules.judge_checkin(
        fix,
        home_of(subject),
        curfew_rules.curfew_at(curfews, report.recorded_at),
        radius_m=settings.curfew_home_radius_m,
        ceiling_m=ceiling,
        zone=zone,
    )
    if breach is not None:
        findings.append(breach)
    return findings


def home_of(subject: Subject) -> tuple[float, float] | None:
    """The subject's home as (lat, lon), when recorded."""
    if subject.home_lat is None or subject.home_lon is None:
        return None
    return (subject.home_lat, subject.home_lon)


def record_location_checkin(
    subject: Subject,
    report: LocationReport,
    *,
    kind: str,
    device_id: str | None,
    actor: Actor,
    now: dt.datetime,
    settings: CheckinSettings,
) -> Recorded:
    """Store a location check-in, open its alerts and meet the window it lies in. A retry with
    the same client_id gets the first answer and stores nothing. CheckinRejected (422) for an
    impossible time, NotInSupervision (403) outside the supervision period."""
    try:
        check_recorded_at(report.recorded_at, now, settings)
        check_in_supervision(subject, report.recorded_at)
    except (CheckinRejected, NotInSupervision):
        # A retry of one stored earlier still gets its answer (the phone may retry late).
        existing = find_by_client_id(subject.id, report.client_id)
        if existing is None:
            raise
        return Recorded(existing, False, window_met_by(subject, existing))
    judgement_lock(shared=True)
    terms, curfews = plan_versions.schedule_for(subject.id)
    findings = judge(subject, report, settings, curfews)
    checkin = Checkin(
        subject_id=subject.id,
        client_id=report.client_id,
        kind=kind,
        lat=report.lat,
        lon=report.lon,
        accuracy_m=report.accuracy_m,
        recorded_at=report.recorded_at,
        received_at=now,
        status="flagged" if findings else "accepted",
        flags=[f.kind for f in findings],
        mock_location=report.mock_location,
        battery_pct=report.battery_pct,
        device_id=device_id,
    )
    checkin.id = _insert_new(checkin)
    if checkin.id is None:
        # A retry (or the same retry racing us): the first one stored wins. Rare, so the
        # judgement above is simply thrown away.
        first = find_by_client_id(subject.id, report.client_id)
        return Recorded(first, False, window_met_by(subject, first))
    write_audit(
        "checkin.create",
        actor,
        now,
        subject_id=subject.id,
        detail={"checkin_id": checkin.id, "kind": kind, "device_id": device_id},
    )
    for finding in findings:
        raise_alert(
            finding.kind,
            subject_id=subject.id,
            office_id=subject.office_id,
            level=subject.level,
            evidence={**finding.evidence, "checkin_id": checkin.id},
            at=now,
        )
    if kind in WINDOW_KINDS:
        meet_missed_windows(checkin, now)
    return Recorded(checkin, True, window_met_by(subject, checkin, terms))


#: The columns a check-in is stored with (all of them but its id).
_STORED = (
    "subject_id",
    "client_id",
    "kind",
    "lat",
    "lon",
    "accuracy_m",
    "recorded_at",
    "received_at",
    "status",
    "flags",
    "mock_location",
    "battery_pct",
    "device_id",
)


def _insert_new(checkin: Checkin) -> int | None:
    """Store a new check-in with one INSERT ... ON CONFLICT DO NOTHING; its id, or None when
    the subject already sent this client_id (no savepoint, no unit of work: the row is not
    added to the session)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Checkin)
        .values({name: getattr(checkin, name) for name in _STORED})
        .on_conflict_do_nothing(index_elements=["subject_id", "client_id"])
        .returning(Checkin.id)
    )
    return db.session.execute(statement).scalar()


def _schedule(
    subject: Subject, terms: Sequence[windows.PlanTerms] | None = None
) -> tuple[list[windows.PlanTerms], windows.Supervision]:
    """The subject's plan versions (read unless given) and supervision, as the window
    arithmetic takes them."""
    if terms is None:
        terms = plan_versions.terms_for(subject.id)
    return terms, windows.Supervision(subject.supervision_start, subject.supervision_end)


def window_met_by(
    subject: Subject, checkin: Checkin, terms: Sequence[windows.PlanTerms] | None = None
) -> windows.DueWindow | None:
    """The due window this check-in lies in (the one it met), or None."""
    if checkin.kind not in WINDOW_KINDS:
        return None
    terms, supervision = _schedule(subject, terms)
    return windows.window_containing(terms, supervision, checkin.recorded_at, clock.local_zone())


def meet_missed_windows(checkin: Checkin, now: dt.datetime) -> int:
    """Mark windows already counted as missed that this check-in lies in as met late; note it in
    their alert's history, and close the alert when none of its windows is left unmet."""
    met = db.session.execute(
        update(MissedWindow)
        .where(
            MissedWindow.subject_id == checkin.subject_id,
            MissedWindow.met_checkin_id.is_(None),
            MissedWindow.starts_at <= checkin.recorded_at,
            MissedWindow.ends_at > checkin.recorded_at,
        )
        .values(met_checkin_id=checkin.id)
        .returning(MissedWindow.alert_id, MissedWindow.starts_at, MissedWindow.ends_at)
        .execution_options(synchronize_session=False)
    ).all()
    for alert_id, starts_at, ends_at in met:
        if alert_id is None:
            continue
        record_system_step(
            alert_id,
            "met_late",
            now,
            {
                "window": {"start": clock.isoformat(starts_at), "end": clock.isoformat(ends_at)},
                "checkin_id": checkin.id,
                "recorded_at": clock.isoformat(checkin.recorded_at),
                "received_at": clock.isoformat(checkin.received_at),
            },
        )
        unmet = db.session.scalar(
            select(func.count())
            .select_from(MissedWindow)
            .where(MissedWindow.alert_id == alert_id, MissedWindow.met_checkin_id.is_(None))
        )
        if unmet == 0:
            close_by_system(alert_id, now, {"reason": "all_windows_met"})
    return len(met)


def checkins_of(subject_id: int, limit: int) -> list[Checkin]:
    """The subject's check-ins, newest first."""
    return list(
        db.session.scalars(
            select(Checkin)
            .where(Checkin.subject_id == subject_id)
            .order_by(Checkin.recorded_at.desc(), Checkin.id.desc())
            .limit(limit)
        )
    )


def read_checkins(subject_id: int, limit: int, actor: Actor, at: dt.datetime) -> list[Checkin]:
    """The subject's check-ins for an officer: a read of positions, audited."""
    items = checkins_of(subject_id, limit)
    audit(
        "subject.checkins.read",
        actor,
        at,
        subject_id=subject_id,
        detail={"checkin_ids": [c.id for c in items]},
    )
    return items


def next_window_for(subject: Subject, after: dt.datetime) -> windows.DueWindow | None:
    """The subject's open or next due check-in window."""
    terms, supervision = _schedule(subject)
    return windows.next_window(terms, supervision, after, clock.local_zone())
