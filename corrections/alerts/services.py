"""Working alerts: the officer's steps, the system's steps, and alerts as the API and pages show
them. The request or the job owns the transaction; every function is told who acts and when."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from flask_babel import gettext
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import selectinload

from corrections import clock
from corrections.actors import Actor
from corrections.alerts import catalogue
from corrections.alerts.models import UNRESOLVED, Alert, AlertEvent
from corrections.alerts.policy import allowed_steps
from corrections.audit.services import record as audit
from corrections.auth.models import Officer
from corrections.extensions import db
from corrections.masking import mask_name


class AlertConflict(Exception):
    """The alert is not in a state that allows this step (409)."""


#: Step -> (history action, audit action).
STEP_ACTIONS = {
    "ack": ("acknowledged", "alert.ack"),
    "release": ("released", "alert.release"),
    "resolve": ("resolved", "alert.resolve"),
    "dismiss": ("dismissed", "alert.dismiss"),
    "reassign": ("reassigned", "alert.reassign"),
}


#: The steps `take_step` takes; reassigning names a second officer (`reassign`).
OWN_STEPS = ("ack", "release", "resolve", "dismiss")


def take_step(
    alert: Alert,
    step: str,
    officer: Officer,
    actor: Actor,
    at: dt.datetime,
    note: str | None = None,
) -> Alert:
    """Take `step` ("ack", "release", "resolve", "dismiss") if `allowed_steps` allows it.

    The change is one UPDATE conditioned on the state the decision was made on, so of two
    officers acting at once exactly one wins and the other gets AlertConflict. Acknowledging an
    alert one already owns changes nothing and is no conflict (a double click)."""
    if step not in OWN_STEPS:
        raise ValueError(f"{step!r} is not taken by take_step (see reassign)")
    if step == "ack" and alert.status == "acknowledged" and alert.owner_id == officer.id:
        return alert
    if step not in allowed_steps(alert, officer):
        raise AlertConflict(_conflict_message(alert))
    values = {
        "ack": {"status": "acknowledged", "owner_id": officer.id},
        "release": {"status": "open", "owner_id": None},
        "resolve": {"status": "resolved", "owner_id": officer.id, "closed_at": at},
        "dismiss": {"status": "dismissed", "owner_id": officer.id, "closed_at": at},
    }[step]
    return _apply(alert, step, values, officer, actor, at, note)


def reassign(
    alert: Alert,
    target: Officer,
    officer: Officer,
    actor: Actor,
    at: dt.datetime,
    note: str | None = None,
) -> Alert:
    """Give an unresolved alert to `target`, an active officer of the alert's office (a
    supervisor's or admin's step, see `allowed_steps`). The history names who had it and who has
    it now; giving it to its owner changes nothing."""
    if "reassign" not in allowed_steps(alert, officer):
        raise AlertConflict(_conflict_message(alert))
    if target.id not in {c.id for c in reassign_candidates(alert)}:
        raise ReassignTargetInvalid()
    if alert.status == "acknowledged" and alert.owner_id == target.id:
        return alert
    detail = {
        "from": alert.owner.shown_name if alert.owner else None,
        "to": target.shown_name,
    }
    values = {"status": "acknowledged", "owner_id": target.id}
    return _apply(alert, "reassign", values, officer, actor, at, note, detail)


class ReassignTargetInvalid(Exception):
    """The officer to give the alert to is not an active officer of its office (422)."""


def officer_by_username(username: str) -> Officer | None:
    """The account with this username, if any."""
    return db.session.scalar(select(Officer).where(Officer.username == username))


def reassign_candidates(alert: Alert) -> list[Officer]:
    """The active officers of the alert's office, by name: whom it may be given to."""
    officers = db.session.scalars(
        select(Officer).where(
            Officer.office_id == alert.office_id,
            Officer.role == "officer",
            Officer.active.is_(True),
        )
    ).all()
    return sorted(officers, key=lambda o: (o.shown_name, o.id))


def _apply(
    alert: Alert,
    step: str,
    values: dict,
    officer: Officer,
    actor: Actor,
    at: dt.datetime,
    note: str | None,
    detail: dict | None = None,
) -> Alert:
    """One UPDATE conditioned on the state the decision was made on, its history step and its
    audit row; AlertConflict when someone else changed the alert first."""
    action, audit_action = STEP_ACTIONS[step]
    seen_owner = (
        Alert.owner_id.is_(None) if alert.owner_id is None else (Alert.owner_id == alert.owner_id)
    )
    result = db.session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status == alert.status, seen_owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(alert)
        raise AlertConflict(_conflict_message(alert))
    db.session.add(
        AlertEvent(
            alert_id=alert.id,
            at=at,
            actor_id=officer.id,
            action=action,
            note=note,
            detail=detail,
        )
    )
    audit_detail = {"alert_id": alert.id}
    if step == "reassign":
        audit_detail["to_officer_id"] = values["owner_id"]
    audit(audit_action, actor, at, subject_id=alert.subject_id, detail=audit_detail)
    db.session.refresh(alert)
    return alert


def acknowledge(alert: Alert, officer: Officer, actor: Actor, at: dt.datetime) -> Alert:
    """Take ownership."""
    return take_step(alert, "ack", officer, actor, at)


def close(
    alert: Alert, officer: Officer, actor: Actor, at: dt.datetime, to: str, note: str
) -> Alert:
    """Resolve (with a note) or dismiss as a false positive (with a reason)."""
    step = {"resolved": "resolve", "dismissed": "dismiss"}[to]
    return take_step(alert, step, officer, actor, at, note)


def _conflict_message(alert: Alert) -> str:
    if alert.status in ("resolved", "dismissed"):
        return gettext("This alert is already closed.")
    if alert.owner_id is not None:
        return gettext(
            "Another officer (%(name)s) has taken this alert.", name=alert.owner.shown_name
        )
    return gettext("This alert is not acknowledged.")


# --- steps the system takes -----------------------------------------------------------------


def record_system_step(alert_id: int, action: str, at: dt.datetime, detail: dict) -> None:
    """Add a system step (no actor) with its facts to the alert's history."""
    db.session.execute(
        insert(AlertEvent).values(alert_id=alert_id, at=at, action=action, detail=detail)
    )


def close_by_system(alert_id: int, at: dt.datetime, detail: dict) -> bool:
    """Resolve an unresolved alert because its condition no longer holds; False if already
    closed. The owner, if any, stays named: they see in the history that the system closed it."""
    result = db.session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.status.in_(UNRESOLVED))
        .values(status="resolved", closed_at=at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    record_system_step(alert_id, "auto_resolved", at, detail)
    return True


# --- alerts as they are shown ----------------------------------------------------------------


def present(alerts: Sequence[Alert], *, mask: bool = False) -> list[dict]:
    """Alerts in the CONTRACT shape, with the concern's name and each kind's own evidence.

    A constant number of statements whatever the number of alerts: one per concern type and one
    per kind with evidence of its own (the owners and offices come eagerly loaded)."""
    by_concern: dict[str, list[int]] = defaultdict(list)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for alert in alerts:
        concern_type, concern_id = alert.concern
        by_concern[concern_type].append(concern_id)
        by_kind[alert.kind].append(alert.id)
    names = {
        concern_type: catalogue.describe_concerns(concern_type, sorted(set(ids)))
        for concern_type, ids in by_concern.items()
    }
    extra: dict[int, dict] = {}
    for kind, ids in by_kind.items():
        loader = catalogue.kind(kind).evidence
        if loader is not None:
            extra.update(loader(ids))
    return [_as_dict(alert, names, extra.get(alert.id, {}), mask) for alert in alerts]


def _as_dict(alert: Alert, names: dict, extra: dict, mask: bool) -> dict:
    concern_type, concern_id = alert.concern
    info = names[concern_type].get(concern_id) or catalogue.ConcernInfo(str(concern_id))
    evidence = {**(alert.evidence or {}), **extra}
    name = mask_name(info.name) if mask and concern_type == "subject" else info.name
    data = {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "subject_id": alert.subject_id,
        "subject_name": name if concern_type == "subject" else None,
        "office_code": alert.office.code,
        "office_name": alert.office.name,
        "opened_at": clock.isoformat(alert.opened_at),
        "last_seen_at": clock.isoformat(alert.last_seen_at),
        "occurrences": alert.occurrences,
        "owner": alert.owner.username if alert.owner else None,
        "owner_name": alert.owner.shown_name if alert.owner else None,
        "summary": catalogue.kind(alert.kind).describe(alert, evidence),
        "evidence": evidence,
        "closed_at": clock.isoformat(alert.closed_at),
    }
    if concern_type != "subject":
        data["case"] = {"type": concern_type, "id": concern_id, "title": info.name}
    data["concern_url"] = info.url
    data["concern_detail"] = None if mask else info.detail
    return data


def alert_to_dict(alert: Alert, *, mask: bool = False) -> dict:
    """One alert as `present` shows it."""
    return present([alert], mask=mask)[0]


#: How many history steps one page holds.
HISTORY_PAGE = 100


def history_of(alert_id: int, page: int = 1, per_page: int | None = None) -> tuple[list, int]:
    """One page of the alert's history, oldest first, and how many steps it has in all."""
    per_page = per_page or HISTORY_PAGE
    total = db.session.scalar(
        select(func.count()).select_from(AlertEvent).where(AlertEvent.alert_id == alert_id)
    )
    events = db.session.scalars(
        select(AlertEvent)
        .where(AlertEvent.alert_id == alert_id)
        .options(selectinload(AlertEvent.actor))
        .order_by(AlertEvent.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(events), total or 0


def event_to_dict(event: AlertEvent) -> dict:
    """A history step in the CONTRACT shape, plus how many repeats it stands for."""
    data = {
        "at": clock.isoformat(event.at),
        "actor": event.actor.username if event.actor else None,
        "action": event.action,
        "note": event.note,
    }
    if event.count > 1:
        data["count"] = event.count
        data["last_at"] = clock.isoformat(event.last_at)
    if event.detail:
        data["detail"] = event.detail
    return data


def alert_with_history(
    alert: Alert, actor: Actor, at: dt.datetime, *, history_page: int = 1
) -> dict:
    """One alert with a page of its history, audited as a read of the subject's record."""
    audit("alert.read", actor, at, subject_id=alert.subject_id, detail={"alert_id": alert.id})
    return alert_page(alert, history_page)


def alert_page(alert: Alert, history_page: int = 1) -> dict:
    """One alert with a page of its history (for the answer to a step, audited as the step)."""
    data = alert_to_dict(alert)
    events, total = history_of(alert.id, history_page)
    data["history"] = [event_to_dict(e) for e in events]
    #: The display names of the officers in this page of history, by username (for pages).
    data["actor_names"] = {e.actor.username: e.actor.shown_name for e in events if e.actor}
    data["history_total"] = total
    data["history_page"] = history_page
    data["history_per_page"] = HISTORY_PAGE
    return data


def audit_list_read(alerts: Sequence[Alert], actor: Actor, at: dt.datetime, args: dict) -> None:
    """A list of alerts shows names and positions: one audit row naming what was shown."""
    subject_ids = sorted({a.subject_id for a in alerts if a.subject_id is not None})
    audit(
        "alert.list",
        actor,
        at,
        shown=subject_ids,
        detail={"alert_ids": [a.id for a in alerts], "subject_ids": subject_ids, "args": args},
    )
