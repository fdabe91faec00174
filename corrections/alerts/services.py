"""Opening, bumping and working alerts. The request or the job owns the transaction."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from corrections import clock
from corrections.alerts.models import UNRESOLVED, Alert, AlertEvent
from corrections.alerts.policy import severity_for
from corrections.audit.services import record as audit
from corrections.auth.models import Officer
from corrections.extensions import db
from corrections.masking import mask_name
from corrections.subjects.models import Subject


class AlertConflict(Exception):
    """The alert is not in a state that allows this step (409)."""


def open_alert_for(subject_id: int, kind: str) -> Alert | None:
    """The unresolved alert of this kind for this subject, if any."""
    return db.session.scalar(
        select(Alert).where(
            Alert.subject_id == subject_id, Alert.kind == kind, Alert.status.in_(UNRESOLVED)
        )
    )


def raise_alert(
    subject: Subject, kind: str, evidence: dict, at: dt.datetime, occurrences: int = 1
) -> Alert:
    """Open an alert, or bump the unresolved one of the same kind (one per subject and kind)."""
    existing = open_alert_for(subject.id, kind)
    if existing is not None:
        return _bump(existing, evidence, at, occurrences)
    alert = Alert(
        subject_id=subject.id,
        office_id=subject.office_id,
        kind=kind,
        severity=severity_for(kind, subject.level),
        status="open",
        opened_at=at,
        last_seen_at=at,
        occurrences=occurrences,
        evidence=evidence,
    )
    try:
        with db.session.begin_nested():
            db.session.add(alert)
            db.session.flush()
    except IntegrityError:
        # Another request opened it a moment ago: the unique index chose; bump theirs.
        existing = open_alert_for(subject.id, kind)
        return _bump(existing, evidence, at, occurrences)
    db.session.add(AlertEvent(alert_id=alert.id, at=at, action="opened"))
    return alert


def _bump(alert: Alert, evidence: dict, at: dt.datetime, occurrences: int) -> Alert:
    db.session.execute(
        update(Alert)
        .where(Alert.id == alert.id)
        .values(occurrences=Alert.occurrences + occurrences, last_seen_at=at, evidence=evidence)
    )
    db.session.add(AlertEvent(alert_id=alert.id, at=at, action="repeated"))
    db.session.refresh(alert)
    return alert


def _step(
    alert: Alert,
    officer: Officer,
    at: dt.datetime,
    *,
    where,
    values: dict,
    action: str,
    note: str | None = None,
) -> Alert:
    """Move the alert with one conditional UPDATE (so racing officers cannot both win), then
    record the step in its history and the audit log; AlertConflict when the condition failed."""
    result = db.session.execute(
        update(Alert)
        .where(Alert.id == alert.id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(alert)
        raise AlertConflict(_conflict_message(alert))
    db.session.add(
        AlertEvent(alert_id=alert.id, at=at, actor_id=officer.id, action=action, note=note)
    )
    audit(
        AUDIT_ACTIONS[action],
        actor_kind="officer",
        actor_id=officer.id,
        subject_id=alert.subject_id,
        detail={"alert_id": alert.id},
    )
    db.session.refresh(alert)
    return alert


#: History action → audit-log action.
AUDIT_ACTIONS = {
    "acknowledged": "alert.ack",
    "released": "alert.release",
    "resolved": "alert.resolve",
    "dismissed": "alert.dismiss",
}


def _unresolved_and_free_or(officer: Officer):
    return (
        Alert.status.in_(UNRESOLVED),
        (Alert.owner_id.is_(None)) | (Alert.owner_id == officer.id),
    )


def acknowledge(alert: Alert, officer: Officer, at: dt.datetime, note: str | None = None) -> Alert:
    """Take ownership. Atomic: of two officers acknowledging at once exactly one wins."""
    return _step(
        alert,
        officer,
        at,
        where=_unresolved_and_free_or(officer),
        values={"status": "acknowledged", "owner_id": officer.id},
        action="acknowledged",
        note=note,
    )


def release(alert: Alert, officer: Officer, at: dt.datetime) -> Alert:
    """Give up ownership; the alert goes back to the open queue. An office officer may release
    only their own; a supervisor or admin may release anyone's."""
    where = [Alert.status == "acknowledged"]
    if officer.role == "officer":
        where.append(Alert.owner_id == officer.id)
    return _step(
        alert,
        officer,
        at,
        where=where,
        values={"status": "open", "owner_id": None},
        action="released",
    )


def close(alert: Alert, officer: Officer, at: dt.datetime, to: str, note: str) -> Alert:
    """Resolve (with a note) or dismiss as a false positive (with a reason). The owner, or anyone
    when nobody owns it, may close; an alert owned by another officer is a conflict."""
    if to not in ("resolved", "dismissed"):
        raise ValueError(to)
    return _step(
        alert,
        officer,
        at,
        where=_unresolved_and_free_or(officer),
        values={"status": to, "owner_id": officer.id, "closed_at": at},
        action=to,
        note=note,
    )


def _conflict_message(alert: Alert) -> str:
    if alert.status in ("resolved", "dismissed"):
        return gettext("This alert is already closed.")
    if alert.owner_id is not None:
        return gettext(
            "Another officer (%(name)s) has taken this alert.", name=alert.owner.username
        )
    return gettext("This alert is not acknowledged.")


def describe(alert: Alert) -> str:
    """One sentence for the queue, in the reader's language."""
    ev = alert.evidence or {}
    kind = alert.kind
    if kind == "missed_checkin":
        return gettext("Missed %(n)s check-in window(s).", n=alert.occurrences)
    if kind == "geofence_exit":
        return gettext(
            "Checked in %(m)s m outside the allowed zone %(zone)s (accuracy %(acc)s m).",
            m=_metres(ev.get("distance_outside_m")),
            zone=ev.get("nearest_zone", ""),
            acc=_metres(ev.get("accuracy_m")),
        )
    if kind == "exclusion_zone":
        return gettext("Checked in inside the exclusion zone %(zone)s.", zone=ev.get("zone", ""))
    if kind == "impossible_travel":
        return gettext(
            "Moved %(km)s km at %(kmh)s km/h between two positions.",
            km=round((ev.get("distance_m") or 0) / 1000, 1),
            kmh=ev.get("speed_kmh") or "∞",
        )
    if kind == "mock_location":
        return gettext("The phone reported a simulated (mock) location.")
    if kind == "device_change":
        return gettext("Logged in from a different phone than last time.")
    return KIND_LABELS().get(kind, kind)


def _metres(value) -> str:
    return "?" if value is None else f"{value:.0f}"


def KIND_LABELS() -> dict[str, str]:  # noqa: N802 - reads like the constant it stands for
    """Translated names of alert kinds, for filters and headings."""
    return {
        "missed_checkin": gettext("Missed check-in"),
        "missed_video": gettext("Missed video check-in"),
        "geofence_exit": gettext("Left the allowed zone"),
        "exclusion_zone": gettext("Entered an exclusion zone"),
        "curfew": gettext("Curfew breach"),
        "impossible_travel": gettext("Impossible travel"),
        "signal_lost": gettext("Signal lost"),
        "mock_location": gettext("Simulated location"),
        "device_change": gettext("New phone"),
        "video_rejected": gettext("Video check-in rejected"),
        "checkin_request_unanswered": gettext("Check-in request unanswered"),
        "travel_overdue": gettext("Overdue from travel"),
        "monitoring_order_expiring": gettext("Monitoring order expiring"),
        "deadline": gettext("Deadline"),
    }


def alert_to_dict(alert: Alert, *, with_history: bool = False, mask: bool = False) -> dict:
    """An alert in the CONTRACT shape; `history` on request; the name masked for the wall."""
    from corrections.checkin.services import missed_windows_evidence

    evidence = dict(alert.evidence or {})
    if alert.kind == "missed_checkin":
        evidence.update(missed_windows_evidence(alert.id))
    data = {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "subject_id": alert.subject_id,
        "subject_name": mask_name(alert.subject.name) if mask else alert.subject.name,
        "office_code": alert.office.code,
        "opened_at": clock.isoformat(alert.opened_at),
        "last_seen_at": clock.isoformat(alert.last_seen_at),
        "occurrences": alert.occurrences,
        "owner": alert.owner.username if alert.owner else None,
        "summary": describe(alert),
        "evidence": evidence,
    }
    if with_history:
        data["history"] = [
            {
                "at": clock.isoformat(event.at),
                "actor": event.actor.username if event.actor else None,
                "action": event.action,
                "note": event.note,
            }
            for event in alert.history
        ]
    return data
