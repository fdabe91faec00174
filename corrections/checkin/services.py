"""Recording check-ins and judging them at once; laying out the windows they must meet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from corrections import clock
from corrections.alerts.services import raise_alert
from corrections.audit.services import record as audit
from corrections.checkin import rules, windows
from corrections.checkin.models import WINDOW_KINDS, Checkin, CheckinWindow
from corrections.extensions import db
from corrections.i18n import N_, FieldProblem
from corrections.subjects.models import CheckinPlan, Subject, Zone
from corrections.types import UtcDateTime


class CheckinRejected(FieldProblem):
    """The check-in cannot be stored; `field` names the reason."""


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


def find_by_client_id(subject_id: int, client_id: str) -> Checkin | None:
    """The check-in this phone already sent under `client_id`, if any."""
    return db.session.scalar(
        select(Checkin).where(Checkin.subject_id == subject_id, Checkin.client_id == client_id)
    )


def check_recorded_at(recorded_at: dt.datetime, now: dt.datetime) -> None:
    """Refuse a time too far in the future (clock skew) or too old (stale upload)."""
    config = current_app.config
    if recorded_at > now + dt.timedelta(seconds=config["CHECKIN_MAX_FUTURE_SECONDS"]):
        raise CheckinRejected("recorded_at", N_("lies in the future"))
    if recorded_at < now - dt.timedelta(hours=config["CHECKIN_MAX_AGE_HOURS"]):
        raise CheckinRejected(
            "recorded_at",
            N_("is older than %(hours)s hours"),
            hours=config["CHECKIN_MAX_AGE_HOURS"],
        )


def zones_in_force(subject_id: int, day: dt.date) -> list[rules.ZoneShape]:
    """The subject's zones that apply on local `day` (permanent ones and dated ones covering it)."""
    rows = db.session.scalars(
        select(Zone).where(
            Zone.subject_id == subject_id,
            or_(Zone.valid_from.is_(None), Zone.valid_from <= day),
            or_(Zone.valid_to.is_(None), Zone.valid_to >= day),
        )
    ).all()
    return [
        rules.ZoneShape(
            id=z.id,
            kind=z.kind,
            name=z.name,
            lat=z.lat,
            lon=z.lon,
            radius_m=z.radius_m,
            polygon=tuple(tuple(c) for c in z.polygon) if z.polygon else None,
        )
        for z in rows
    ]


def previous_fix(subject_id: int, before: dt.datetime) -> rules.Fix | None:
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
    return rules.Fix(row.lat, row.lon, row.accuracy_m or 0.0, row.recorded_at)


def judge(subject: Subject, report: LocationReport) -> list[rules.Finding]:
    """Every rule that applies to one deliberate location report, judged at once."""
    fix = rules.Fix(report.lat, report.lon, report.accuracy_m, report.recorded_at)
    local_day = report.recorded_at.astimezone(clock.local_zone()).date()
    findings = rules.judge_zones(fix, zones_in_force(subject.id, local_day))
    if report.mock_location:
        findings.append(rules.Finding("mock_location", rules._fix_evidence(fix)))
    travel = rules.judge_travel(
        previous_fix(subject.id, report.recorded_at),
        fix,
        current_app.config["IMPOSSIBLE_TRAVEL_KMH"],
    )
    if travel is not None:
        findings.append(travel)
    return findings


def record_location_checkin(
    subject: Subject, report: LocationReport, *, kind: str, device_id: str | None, now: dt.datetime
) -> tuple[Checkin, bool]:
    """Store a location check-in and open its alerts: (check-in, created); a retry gets the 1st."""
    existing = find_by_client_id(subject.id, report.client_id)
    if existing is not None:
        return existing, False
    check_recorded_at(report.recorded_at, now)
    findings = judge(subject, report)
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
    try:
        with db.session.begin_nested():
            db.session.add(checkin)
            db.session.flush()
    except IntegrityError:
        # The same retry raced us; the first one stored wins.
        return find_by_client_id(subject.id, report.client_id), False
    audit(
        "checkin.create",
        actor_kind="subject",
        actor_id=subject.id,
        subject_id=subject.id,
        detail={"checkin_id": checkin.id},
    )
    for finding in findings:
        raise_alert(subject, finding.kind, {**finding.evidence, "checkin_id": checkin.id}, now)
    return checkin, True


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


def next_window_for(subject: Subject, after: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The subject's open or next check-in window."""
    plan = subject.plan
    if plan is None:
        return None
    zone = clock.local_zone()
    shape = windows.WindowShape(plan.every_days, plan.window_start_min, plan.window_end_min)
    bounds = windows.due_period(subject.supervision_start, subject.supervision_end, zone)
    return windows.next_window(shape, plan.anchor_day, bounds, after, zone)


# --- the sweep's part: windows ------------------------------------------------------------


def lay_out_windows(now: dt.datetime) -> int:
    """Insert every window that has closed by `now` and is not yet laid out (catches up after
    downtime and for subjects enrolled late). Set-based: one INSERT ... SELECT per plan shape and
    day; plans never laid out start from their first day, the others from the last sweep."""
    zone = clock.local_zone()
    today = now.astimezone(zone).date()
    stale = or_(CheckinPlan.windows_until.is_(None), CheckinPlan.windows_until < now)
    is_new = CheckinPlan.windows_until.is_(None)
    groups = db.session.execute(
        select(
            CheckinPlan.every_days,
            CheckinPlan.window_start_min,
            CheckinPlan.window_end_min,
            is_new.label("is_new"),
            func.min(CheckinPlan.windows_until),
            func.min(Subject.supervision_start),
        )
        .join(Subject, Subject.id == CheckinPlan.subject_id)
        .where(stale, Subject.supervision_start <= today)
        .group_by(
            CheckinPlan.every_days, CheckinPlan.window_start_min, CheckinPlan.window_end_min, is_new
        )
    ).all()
    inserted = 0
    for every_days, start_min, end_min, new, oldest_until, earliest_start in groups:
        shape = windows.WindowShape(every_days, start_min, end_min)
        if new:
            day, which = earliest_start, is_new
        else:
            day = max(earliest_start, oldest_until.astimezone(zone).date() - dt.timedelta(days=1))
            which = CheckinPlan.windows_until < now
        closed_any = False
        while day <= today:
            starts_at, ends_at = shape.bounds(day, zone)
            # A window that had closed by the last sweep was laid out by it.
            already_laid = not new and ends_at <= oldest_until
            if ends_at <= now and not already_laid:
                closed_any = True
                inserted += _insert_windows_of_day(shape, day, starts_at, ends_at, which)
            day += dt.timedelta(days=1)
        if closed_any:
            # Plans advance only when one of their windows closed: an idle sweep writes nothing.
            db.session.execute(
                update(CheckinPlan)
                .where(
                    CheckinPlan.every_days == every_days,
                    CheckinPlan.window_start_min == start_min,
                    CheckinPlan.window_end_min == end_min,
                    which,
                    CheckinPlan.subject_id.in_(
                        select(Subject.id).where(Subject.supervision_start <= today)
                    ),
                )
                .values(windows_until=now)
                .execution_options(synchronize_session=False)
            )
    return inserted


def _insert_windows_of_day(shape, day, starts_at, ends_at, which) -> int:
    number = windows.day_number(day)
    # The window must end before local midnight of supervision_end (windows.due_period).
    end_day = day + dt.timedelta(days=1) if shape.crosses_midnight else day
    ends_before_the_last_day = Subject.supervision_end > end_day
    rows = (
        select(CheckinPlan.subject_id, _bind(starts_at), _bind(ends_at))
        .join(Subject, Subject.id == CheckinPlan.subject_id)
        .where(
            CheckinPlan.every_days == shape.every_days,
            CheckinPlan.window_start_min == shape.start_min,
            CheckinPlan.window_end_min == shape.end_min,
            which,
            CheckinPlan.anchor_day <= number,
            (number - CheckinPlan.anchor_day) % CheckinPlan.every_days == 0,
            Subject.supervision_start <= day,
            ends_before_the_last_day,
        )
    )
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(CheckinWindow)
        .from_select(["subject_id", "starts_at", "ends_at"], rows)
        .on_conflict_do_nothing(index_elements=["subject_id", "starts_at"])
        .returning(CheckinWindow.id)
    )
    return len(db.session.scalars(statement).all())


def _bind(value: dt.datetime):
    return literal(value, UtcDateTime)


def meet_windows() -> int:
    """Mark each not-yet-judged window met by the first check-in recorded inside it."""
    inside = and_(
        Checkin.subject_id == CheckinWindow.subject_id,
        Checkin.kind.in_(WINDOW_KINDS),
        Checkin.recorded_at >= CheckinWindow.starts_at,
        Checkin.recorded_at < CheckinWindow.ends_at,
    )
    first_inside = select(func.min(Checkin.id)).where(inside).scalar_subquery()
    result = db.session.execute(
        update(CheckinWindow)
        .where(
            CheckinWindow.met_checkin_id.is_(None),
            CheckinWindow.alert_id.is_(None),
            exists().where(inside),
        )
        .values(met_checkin_id=first_inside)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def missed_windows_evidence(alert_id: int, limit: int = 20) -> dict:
    """The windows a missed_checkin alert counts, newest first, as evidence."""
    rows = db.session.execute(
        select(CheckinWindow.starts_at, CheckinWindow.ends_at)
        .where(CheckinWindow.alert_id == alert_id)
        .order_by(CheckinWindow.starts_at.desc())
        .limit(limit)
    ).all()
    return {
        "missed_windows": [
            {"start": clock.isoformat(r.starts_at), "end": clock.isoformat(r.ends_at)} for r in rows
        ]
    }
