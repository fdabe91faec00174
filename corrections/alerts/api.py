"""Officer API: the alert queue and the steps on an alert."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask_babel import gettext

from corrections import clock
from corrections.alerts import catalogue, services
from corrections.alerts.catalogue import SEVERITIES
from corrections.alerts.models import STATUSES, Alert
from corrections.alerts.policy import REASSIGNING_ROLES
from corrections.alerts.queries import alerts_query
from corrections.alerts.schemas import DismissIn, ReassignIn, ResolveIn
from corrections.api import choice_arg, int_arg, page_args, query_record, text_arg
from corrections.auth.access import (
    CASEWORK_ROLES,
    api_officer,
    api_roles,
    in_scope,
    office_in_scope,
    record_in_scope,
    refused,
    request_actor,
)
from corrections.errors import ApiError
from corrections.extensions import count_rows, db
from corrections.jobs.services import stale_after, sweep_health
from corrections.validation import parse_json

bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1")


def alert_in_scope(alert_id: int) -> Alert:
    """The alert, if the caller may see it; 404 otherwise."""
    return record_in_scope("alert", alert_id, db.session.get(Alert, alert_id), api_officer())


@bp.get("/alerts")
@api_roles(*CASEWORK_ROLES)
def list_alerts():
    """The queue, filtered; most severe first, then oldest; with how fresh the sweep is."""
    officer = api_officer()
    office = office_in_scope(text_arg("office", 32), officer)
    subject_id = None
    if text_arg("subject_id") is not None:
        subject_id = int_arg("subject_id", 0, low=1, high=2**31 - 1)
        known = catalogue.describe_concerns("subject", [subject_id]).get(subject_id)
        if known is None or known.office_id is None or not in_scope(officer, known.office_id):
            exists = known is not None and known.office_id is not None
            raise refused(
                "subject", subject_id, exists=exists, subject_id=subject_id if exists else None
            )
    query = alerts_query(
        officer.scope_office_id,
        status=choice_arg("status", (*STATUSES, "unresolved")),
        kind=choice_arg("kind", catalogue.codes()),
        severity=choice_arg("severity", SEVERITIES),
        subject_id=subject_id,
        office_id=office.id if office else None,
    )
    page, per_page = page_args()
    now = clock.now()
    total = count_rows(query)
    alerts = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    items = services.present(alerts)
    services.audit_list_read(alerts, request_actor(), now, query_record())
    sweep = sweep_health(now, stale_after(current_app.config)).to_dict()
    db.session.commit()
    return jsonify(items=items, total=total, page=page, per_page=per_page, sweep=sweep)


@bp.get("/alerts/<int:alert_id>")
@api_roles(*CASEWORK_ROLES)
def show(alert_id: int):
    """One alert with (a page of) its history."""
    alert = alert_in_scope(alert_id)
    page = int_arg("history_page", 1, low=1, high=1_000_000)
    data = services.alert_with_history(alert, request_actor(), clock.now(), history_page=page)
    db.session.commit()
    return jsonify(data)


def _step(alert: Alert, step: str, note: str | None = None):
    return _answer(
        alert,
        lambda: services.take_step(alert, step, api_officer(), request_actor(), clock.now(), note),
    )


def _answer(alert: Alert, change):
    """Make `change`, then answer with the alert and its history; 409 on a state conflict."""
    try:
        change()
    except services.AlertConflict as conflict:
        db.session.rollback()
        raise ApiError(409, "conflict", str(conflict)) from None
    data = services.alert_page(alert)
    db.session.commit()
    return jsonify(data)


@bp.post("/alerts/<int:alert_id>/ack")
@api_roles(*CASEWORK_ROLES)
def acknowledge(alert_id: int):
    """Take ownership; 409 when another officer owns it."""
    return _step(alert_in_scope(alert_id), "ack")


@bp.post("/alerts/<int:alert_id>/release")
@api_roles(*CASEWORK_ROLES)
def release(alert_id: int):
    """Give the alert back to the queue."""
    return _step(alert_in_scope(alert_id), "release")


@bp.post("/alerts/<int:alert_id>/resolve")
@api_roles(*CASEWORK_ROLES)
def resolve(alert_id: int):
    """Close with a note saying what was done."""
    alert = alert_in_scope(alert_id)  # 404 before the body is read
    data = parse_json(ResolveIn)
    return _step(alert, "resolve", data.note)


@bp.post("/alerts/<int:alert_id>/dismiss")
@api_roles(*CASEWORK_ROLES)
def dismiss(alert_id: int):
    """Close as a false positive, with the reason."""
    alert = alert_in_scope(alert_id)  # 404 before the body is read
    data = parse_json(DismissIn)
    return _step(alert, "dismiss", data.reason)


@bp.post("/alerts/<int:alert_id>/reassign")
@api_roles(*REASSIGNING_ROLES)
def reassign(alert_id: int):
    """Give the alert to another officer of its office (supervisors and admins); 422 when the
    username names no active officer there, 409 when the alert is closed."""
    alert = alert_in_scope(alert_id)  # 404 before the body is read
    data = parse_json(ReassignIn)
    target = services.officer_by_username(data.officer)

    def give():
        if target is None:
            raise services.ReassignTargetInvalid()
        services.reassign(alert, target, api_officer(), request_actor(), clock.now(), data.note)

    try:
        return _answer(alert, give)
    except services.ReassignTargetInvalid:
        db.session.rollback()
        message = gettext("No active officer of this alert's office has this username.")
        raise ApiError(422, "validation_error", message, {"officer": message}) from None
