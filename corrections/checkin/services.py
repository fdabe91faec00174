"""Recording check-ins and judging them at once.

Every rule that applies to a deliberate report is judged before the answer returns, so a
flagged check-in has its alert open when the phone hears back. A check-in recorded inside a
window the sweep already counted as missed (a phone that uploads late) marks that window met
late, says so in the alert's history and closes the alert once none of its windows is unmet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.raising import raise_alert
from corrections.alerts.services import close_by_system, record_system_step
from corrections.audit.services import record as audit
from corrections.auth import limiter
from corrections.checkin import curfew as curfew_rules
from corrections.checkin import plans as plan_versions
from corrections.checkin import rules, store, windows
from corrections.checkin.models import WINDOW_KINDS, Checkin, MissedWindow
from corrections.checkin.settings import CheckinSettings
from corrections.extensions import db
from corrections.i18n import N_, FieldProblem
from corrections.subjects.models import Subject, SubjectFacts
from corrections.subjects.services import PhoneToken
from corrections.zones import rules as zone_rules


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


def judge(
    subject: Subject, report: LocationReport, settings: CheckinSettings, context: store.Context
) -> list[zone_rules.Finding]:
    """Every rule that applies to one deliberate location report, judged at once against
    `context` (the subject's zones in force, plan versions and previous fix)."""
    fix = zone_rules.Fix(report.lat, report.lon, report.accuracy_m, report.recorded_at)
    ceiling = settings.accuracy_ceiling_m
    findings = zone_rules.judge_zones(fix, context.zones, accuracy_ceiling_m=ceiling)
    mock = rules.judge_mock(fix, report.mock_location, ceiling)
    if mock is not None:
        findings.append(mock)
    travel = rules.judge_travel(
        context.previous, fix, max_kmh=settings.impossible_travel_kmh, accuracy_ceiling_m=ceiling
    )
    if travel is not None:
        findings.append(travel)
    breach = curfew_rules.judge_checkin(
        fix,
        home_of(subject),
        curfew_rules.curfew_at(context.curfews, report.recorded_at),
        radius_m=settings.curfew_home_radius_m,
        ceiling_m=ceiling,
        zone=clock.local_zone(),
    )
    if breach is not None:
        findings.append(breach)
    return findings


def home_of(subject: Subject) -> tuple[float, float] | None:
    """The subject's home as (lat, lon), when recorded."""
    if subject.home_lat is None or subject.home_lon is None:
        return None
    return (subject.home_lat, subject.home_lon)


#: The rate-limit key of a subject's check-ins.
SUBJECT_KEY = "subject:{}"


def record_location_checkin(
    subject: Subject | SubjectFacts,
    report: LocationReport,
    *,
    kind: str,
    device_id: str | None,
    actor: Actor,
    now: dt.datetime,
    settings: CheckinSettings,
    limit: limiter.Limit | None = None,
) -> Recorded:
    """Store a location check-in, open its alerts and meet the window it lies in. A retry with
    the same client_id gets the first answer and stores nothing. CheckinRejected (422) for an
    impossible time, NotInSupervision (403) outside the supervision period. With `limit`, the
    subject's check-ins are counted against it in the same transaction, refused or not:
    TooMany (429) when it is full."""
    folded = None if limit is None else limiter.folded(limit, SUBJECT_KEY)
    rejected = _rejected(subject, report, now, settings, limit)
    if rejected is not None:
        return rejected
    day = report.recorded_at.astimezone(clock.local_zone()).date()
    context = store.read_context(subject.id, day, report.recorded_at, folded=folded)
    return _record(subject, report, context, folded, limit, kind, device_id, actor, now, settings)


def record_phone_checkin(
    token: str,
    report: LocationReport,
    *,
    admit: Callable[[PhoneToken | None], None],
    kind: str,
    ip: str | None,
    now: dt.datetime,
    settings: CheckinSettings,
    limit: limiter.Limit,
) -> Recorded:
    """record_location_checkin() for the phone presenting `token`, resolved by the same read as
    the check-in's context (on PostgreSQL one statement for both): `admit` is given the live
    token found (or None) before anything else and raises to turn the phone away."""
    folded = limiter.folded(limit, SUBJECT_KEY)
    moment = report.recorded_at
    try:
        check_recorded_at(moment, now, settings)
    except CheckinRejected:
        moment = now  # refused below, once the phone is admitted; the read only finds it
    day = moment.astimezone(clock.local_zone()).date()
    found = store.read_for_token(token, now, day, moment, folded=folded)
    admit(None if found is None else found[0])
    phone, context = found
    subject = phone.subject
    rejected = _rejected(subject, report, now, settings, limit)
    if rejected is not None:
        return rejected
    actor = Actor.subject(subject.id, ip)
    return _record(
        subject, report, context, folded, limit, kind, phone.device_id, actor, now, settings
    )


def _rejected(subject, report, now, settings, limit) -> Recorded | None:
    # A time or a day the check-in cannot have: counted all the same (a flood of refused ones
    # is a flood), and raised unless it is a retry of one stored earlier, which gets its answer
    # (the phone may retry late).
    try:
        check_recorded_at(report.recorded_at, now, settings)
        check_in_supervision(subject, report.recorded_at)
    except (CheckinRejected, NotInSupervision):
        if limit is not None:
            count((limit, SUBJECT_KEY.format(subject.id)))
        existing = find_by_client_id(subject.id, report.client_id)
        if existing is None:
            raise
        return Recorded(existing, False, window_met_by(subject, existing))
    return None


def _record(subject, report, context, folded, limit, kind, device_id, actor, now, settings):
    # The check-in judged against its context and written: on PostgreSQL with the rate
    # limit's count in the same statement, elsewhere counted first.
    if limit is not None and folded is None:
        count((limit, SUBJECT_KEY.format(subject.id)))
    findings = judge(subject, report, settings, context)
    values = stored_values(subject.id, report, findings, kind, device_id, now)
    written = store.write(
        values,
        {"action": "checkin.create", "actor": actor, "at": now},
        attempt=None if folded is None else folded.params(subject.id),
    )
    if not written.counted:
        raise TooMany(limiter.retry_after(limit, SUBJECT_KEY.format(subject.id)))
    if written.checkin_id is None:
        # A retry (or the same retry racing us): the first one stored wins. Rare, so the
        # judgement above is simply thrown away.
        first = find_by_client_id(subject.id, report.client_id)
        return Recorded(first, False, window_met_by(subject, first, context.terms))
    checkin = Checkin(id=written.checkin_id, **values)
    for finding in findings:
        raise_alert(
            finding.kind,
            subject_id=subject.id,
            office_id=subject.office_id,
            level=subject.level,
            evidence={**finding.evidence, "checkin_id": checkin.id},
            at=now,
        )
    note_met_late(checkin, written.met, now)
    return Recorded(checkin, True, window_met_by(subject, checkin, context.terms))


def stored_values(subject_id, report, findings, kind, device_id, now) -> dict:
    """The columns a judged location check-in is stored with (store.STORED)."""
    return {
        "subject_id": subject_id,
        "client_id": report.client_id,
        "kind": kind,
        "lat": report.lat,
        "lon": report.lon,
        "accuracy_m": report.accuracy_m,
        "recorded_at": report.recorded_at,
        "received_at": now,
        "status": "flagged" if findings else "accepted",
        "flags": [f.kind for f in findings],
        "mock_location": report.mock_location,
        "battery_pct": report.battery_pct,
        "device_id": device_id,
    }


class TooMany(Exception):
    """The attempt's rate limit is full (429); `wait` is the seconds to wait."""

    def __init__(self, wait: int):
        super().__init__(wait)
        self.wait = wait


def count(attempt: tuple[limiter.Limit, str]) -> None:
    """Count one attempt in the transaction; TooMany when its limit is full."""
    wait = limiter.hit_in_transaction(*attempt)
    if wait is not None:
        raise TooMany(wait)


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


def note_met_late(checkin: Checkin, met: Sequence[store.MetWindow], now: dt.datetime) -> None:
    """For each window already counted as missed that `checkin` met late (store.write() marks
    them): note it in its alert's history, and close the alert when none of its windows is left
    unmet."""
    for window in met:
        if window.alert_id is None:
            continue
        record_system_step(
            window.alert_id,
            "met_late",
            now,
            {
                "window": {
                    "start": clock.isoformat(window.starts_at),
                    "end": clock.isoformat(window.ends_at),
                },
                "checkin_id": checkin.id,
                "recorded_at": clock.isoformat(checkin.recorded_at),
                "received_at": clock.isoformat(checkin.received_at),
            },
        )
        unmet = db.session.scalar(
            select(func.count())
            .select_from(MissedWindow)
            .where(MissedWindow.alert_id == window.alert_id, MissedWindow.met_checkin_id.is_(None))
        )
        if unmet == 0:
            close_by_system(window.alert_id, now, {"reason": "all_windows_met"})


def checkins_of(
    subject_id: int,
    limit: int,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[Checkin]:
    """The subject's check-ins, newest first; with `since` and `until`, only those recorded
    in [since, until) (a map's week: ix_checkins_subject_recorded serves both bounds)."""
    query = select(Checkin).where(Checkin.subject_id == subject_id)
    if since is not None:
        query = query.where(Checkin.recorded_at >= since)
    if until is not None:
        query = query.where(Checkin.recorded_at < until)
    return list(
        db.session.scalars(
            query.order_by(Checkin.recorded_at.desc(), Checkin.id.desc()).limit(limit)
        )
    )


def read_checkins(
    subject_id: int,
    limit: int,
    actor: Actor,
    at: dt.datetime,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[Checkin]:
    """The subject's check-ins for an officer (newest first, within [since, until) when
    given): a read of positions, audited with what was read and the span asked for."""
    items = checkins_of(subject_id, limit, since, until)
    detail: dict = {"checkin_ids": [c.id for c in items]}
    if since is not None:
        detail["since"] = clock.isoformat(since)
    if until is not None:
        detail["until"] = clock.isoformat(until)
    audit("subject.checkins.read", actor, at, subject_id=subject_id, detail=detail)
    return items


def next_window_for(subject: Subject, after: dt.datetime) -> windows.DueWindow | None:
    """The subject's open or next due check-in window."""
    terms, supervision = _schedule(subject)
    return windows.next_window(terms, supervision, after, clock.local_zone())
