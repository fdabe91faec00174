"""Officer API: the alert queue and the steps on an alert."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from corrections import clock
from corrections.alerts import services
from corrections.alerts.models import KINDS, SEVERITIES, STATUSES, Alert
from corrections.alerts.queries import alerts_query
from corrections.alerts.schemas import DismissIn, ResolveIn
from corrections.api import choice_arg, int_arg, page_args
from corrections.audit.services import record as audit
from corrections.auth.access import CASEWORK_ROLES, api_officer, api_roles, in_scope, not_found
from corrections.errors import ApiError
from corrections.extensions import count_rows, db
from corrections.subjects.api import office_filter_in_scope, subject_in_scope
from corrections.validation import parse_json

bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1")


def alert_in_scope(alert_id: int) -> Alert:
    """The alert, if the caller may see it; 404 otherwise."""
    alert = db.session.get(Alert, alert_id)
    if alert is None or not in_scope(api_officer(), alert.office_id):
        raise not_found()
    return alert


@bp.get("/alerts")
@api_roles(*CASEWORK_ROLES)
def list_alerts():
    """The queue, filtered; most severe first, then oldest."""
    officer = api_officer()
    office = office_filter_in_scope(request.args.get("office") or None)
    subject_id = None
    if request.args.get("subject_id"):
        subject_id = subject_in_scope(int_arg("subject_id", 0, low=1, high=2**31 - 1)).id
    query = alerts_query(
        officer.scope_office_id,
        status=choice_arg("status", (*STATUSES, "unresolved")),
        kind=choice_arg("kind", KINDS),
        severity=choice_arg("severity", SEVERITIES),
        subject_id=subject_id,
        office_id=office.id if office else None,
    )
    page, per_page = page_args()
    total = count_rows(query)
    alerts = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return jsonify(
        items=[services.alert_to_dict(a) for a in alerts], total=total, page=page, per_page=per_page
    )


@bp.get("/alerts/<int:alert_id>")
@api_roles(*CASEWORK_ROLES)
def show(alert_id: int):
    """One alert with its history."""
    alert = alert_in_scope(alert_id)
    audit(
        "alert.read",
        actor_kind="officer",
        actor_id=api_officer().id,
        subject_id=alert.subject_id,
        detail={"alert_id": alert.id},
    )
    db.session.commit()
    return jsonify(services.alert_to_dict(alert, with_history=True))


def _step(alert: Alert, action, **kwargs):
    try:
        action(alert, api_officer(), clock.now(), **kwargs)
    except services.AlertConflict as conflict:
        db.session.rollback()
        raise ApiError(409, "conflict", str(conflict)) from None
    db.session.commit()
    return jsonify(services.alert_to_dict(alert, with_history=True))


@bp.post("/alerts/<int:alert_id>/ack")
@api_roles(*CASEWORK_ROLES)
def acknowledge(alert_id: int):
    """Take ownership; 409 when another officer owns it."""
    return _step(alert_in_scope(alert_id), services.acknowledge)


@bp.post("/alerts/<int:alert_id>/release")
@api_roles(*CASEWORK_ROLES)
def release(alert_id: int):
    """Give the alert back to the queue."""
    return _step(alert_in_scope(alert_id), services.release)


@bp.post("/alerts/<int:alert_id>/resolve")
@api_roles(*CASEWORK_ROLES)
def resolve(alert_id: int):
    """Close with a note saying what was done."""
    alert = alert_in_scope(alert_id)  # 404 before the body is read
    data = parse_json(ResolveIn)
    return _step(alert, services.close, to="resolved", note=data.note)


@bp.post("/alerts/<int:alert_id>/dismiss")
@api_roles(*CASEWORK_ROLES)
def dismiss(alert_id: int):
    """Close as a false positive, with the reason."""
    alert = alert_in_scope(alert_id)  # 404 before the body is read
    data = parse_json(DismissIn)
    return _step(alert, services.close, to="dismissed", note=data.reason)
