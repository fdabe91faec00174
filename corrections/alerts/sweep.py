"""The sweep: every scheduled detector, run once as if the clock read `at`. Idempotent.

The missed-check-in detector is set-based SQL over the windows table: it opens or bumps one
alert per subject for all their newly missed windows, then links those windows to the alert,
so a second run finds nothing new to count.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import and_, case, exists, func, insert, literal, select, text, update

from corrections.alerts.models import UNRESOLVED, Alert, AlertEvent
from corrections.alerts.policy import severity_for
from corrections.checkin.models import CheckinWindow
from corrections.checkin.services import lay_out_windows, meet_windows
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.types import UtcDateTime

log = logging.getLogger(__name__)

#: An arbitrary constant naming the sweep's PostgreSQL advisory lock.
SWEEP_LOCK_ID = 7_301_145


def _newly_missed(now: dt.datetime):
    return and_(
        CheckinWindow.met_checkin_id.is_(None),
        CheckinWindow.alert_id.is_(None),
        CheckinWindow.ends_at <= now,
    )


def raise_missed_checkins(now: dt.datetime) -> dict:
    """Open or bump `missed_checkin` for every subject with newly missed windows."""
    missed = _newly_missed(now)
    unresolved_of_subject = and_(Alert.kind == "missed_checkin", Alert.status.in_(UNRESOLVED))
    count_for_alert = (
        select(func.count())
        .where(CheckinWindow.subject_id == Alert.subject_id, missed)
        .scalar_subquery()
    )
    bumped = db.session.scalars(
        update(Alert)
        .where(
            unresolved_of_subject,
            exists().where(CheckinWindow.subject_id == Alert.subject_id, missed),
        )
        .values(occurrences=Alert.occurrences + count_for_alert, last_seen_at=now)
        .returning(Alert.id)
        .execution_options(synchronize_session=False)
    ).all()

    no_open_alert = ~exists().where(
        Alert.subject_id == CheckinWindow.subject_id, unresolved_of_subject
    )
    severity = case(
        (Subject.level == "strict", severity_for("missed_checkin", "strict")),
        else_=severity_for("missed_checkin", "normal"),
    )
    new_rows = (
        select(
            CheckinWindow.subject_id,
            Subject.office_id,
            literal("missed_checkin"),
            severity,
            literal("open"),
            literal(now, UtcDateTime),
            literal(now, UtcDateTime),
            func.count(),
            literal({}, Alert.evidence.type),
        )
        .join(Subject, Subject.id == CheckinWindow.subject_id)
        .where(missed, no_open_alert)
        .group_by(CheckinWindow.subject_id, Subject.office_id, Subject.level)
    )
    opened = db.session.scalars(
        insert(Alert)
        .from_select(
            [
                "subject_id",
                "office_id",
                "kind",
                "severity",
                "status",
                "opened_at",
                "last_seen_at",
                "occurrences",
                "evidence",
            ],
            new_rows,
        )
        .returning(Alert.id)
    ).all()

    events = [{"alert_id": i, "at": now, "action": "repeated"} for i in bumped]
    events += [{"alert_id": i, "at": now, "action": "opened"} for i in opened]
    if events:
        db.session.execute(insert(AlertEvent), events)

    the_alert = (
        select(Alert.id)
        .where(Alert.subject_id == CheckinWindow.subject_id, unresolved_of_subject)
        .scalar_subquery()
    )
    linked = db.session.execute(
        update(CheckinWindow)
        .where(missed)
        .values(alert_id=the_alert)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"opened": len(opened), "bumped": len(bumped), "windows_missed": linked or 0}


def detect_missed_checkins(now: dt.datetime) -> dict:
    """Lay out closed windows, mark the met ones, alert on the missed ones."""
    laid = lay_out_windows(now)
    met = meet_windows()
    result = raise_missed_checkins(now)
    return {"windows_laid_out": laid, "windows_met": met, **result}


#: The detectors one sweep runs, in order: (name, function of `now`).
DETECTORS = [
    ("missed_checkin", detect_missed_checkins),
]


def run_sweep(now: dt.datetime) -> dict:
    """Run every detector once as of `now`, in one transaction; safe to repeat."""
    if db.engine.dialect.name == "postgresql":
        # Two sweeps (the scheduler and a manual one) must not count the same window twice.
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SWEEP_LOCK_ID})
    results = {}
    try:
        for name, detector in DETECTORS:
            results[name] = detector(now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log.info("sweep at %s: %s", now.isoformat(), results)
    return results
