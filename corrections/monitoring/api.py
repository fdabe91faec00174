"""Officer API for monitoring orders (CONTRACT "Supervision extras"): request, list, show,
approve (supervisor or admin), end early. Always within the caller's office scope."""

from __future__ import annotations

from flask import Blueprint, jsonify

from corrections import clock
from corrections.api import choice_arg, page_args, query_record
from corrections.auth.access import (
    CASEWORK_ROLES,
    api_officer,
    api_roles,
    record_in_scope,
    request_actor,
)
from corrections.errors import ApiError, validation_error
from corrections.extensions import count_rows, db
from corrections.monitoring import services
from corrections.monitoring.models import STATUSES, MonitoringOrder
from corrections.monitoring.schemas import EndIn, OrderIn
from corrections.subjects.models import Subject
from corrections.validation import parse_json

bp = Blueprint("monitoring_api", __name__, url_prefix="/api/v1")


def subject_in_scope(subject_id: int) -> Subject:
    """The subject, if the caller may see it; 404 otherwise (existence never leaks)."""
    return record_in_scope(
        "subject", subject_id, db.session.get(Subject, subject_id), api_officer()
    )


def order_in_scope(order_id: int) -> MonitoringOrder:
    """The order, if the caller may see its subject; 404 otherwise."""
    return record_in_scope(
        "monitoring_order", order_id, db.session.get(MonitoringOrder, order_id), api_officer()
    )


def _conflict(error: services.OrderConflict) -> ApiError:
    db.session.rollback()
    return ApiError(409, message=error.translated())


@bp.post("/subjects/<int:subject_id>/monitoring-orders")
@api_roles(*CASEWORK_ROLES)
def request_order(subject_id: int):
    """Request an electronic-monitoring order for the subject (pending until approved)."""
    subject = subject_in_scope(subject_id)
    data = parse_json(OrderIn)
    try:
        order = services.request_order(
            subject, data, api_officer(), actor=request_actor(), now=clock.now()
        )
    except services.OrderRefused as error:
        db.session.rollback()
        raise validation_error({error.field: error.translated()}) from None
    db.session.commit()
    return jsonify(order.to_dict()), 201


@bp.get("/subjects/<int:subject_id>/monitoring-orders")
@api_roles(*CASEWORK_ROLES)
def list_orders(subject_id: int):
    """The subject's orders, newest term first."""
    subject = subject_in_scope(subject_id)
    orders = services.read_orders(subject, request_actor(), clock.now())
    items = [o.to_dict() for o in orders]
    db.session.commit()
    return jsonify(items=items)


@bp.get("/monitoring-orders")
@api_roles(*CASEWORK_ROLES)
def list_all():
    """Orders in the caller's scope, `?status=pending` for the requests awaiting approval."""
    officer = api_officer()
    page, per_page = page_args()
    query = services.orders_query(officer.scope_office_id, status=choice_arg("status", STATUSES))
    total = count_rows(query)
    orders = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    services.audit_list_read(orders, request_actor(), clock.now(), query_record())
    items = [
        {**o.to_dict(), "subject_name": o.subject.name, "office_code": o.subject.office.code}
        for o in orders
    ]
    db.session.commit()
    return jsonify(items=items, total=total, page=page, per_page=per_page)


@bp.get("/monitoring-orders/<int:order_id>")
@api_roles(*CASEWORK_ROLES)
def show(order_id: int):
    """One order."""
    order = services.read_order(order_in_scope(order_id), request_actor(), clock.now())
    data = order.to_dict()
    db.session.commit()
    return jsonify(data)


@bp.post("/monitoring-orders/<int:order_id>/approve")
@api_roles(*services.APPROVING_ROLES)
def approve(order_id: int):
    """Approve a pending order (409 if it is not pending or overlaps an approved one)."""
    order = order_in_scope(order_id)
    try:
        services.approve(order, api_officer(), actor=request_actor(), now=clock.now())
    except services.OrderConflict as error:
        raise _conflict(error) from None
    data = order.to_dict()
    db.session.commit()
    return jsonify(data)


@bp.post("/monitoring-orders/<int:order_id>/end")
@api_roles(*CASEWORK_ROLES)
def end(order_id: int):
    """End an approved order early, or withdraw a pending one: `{reason}`."""
    order = order_in_scope(order_id)
    data = parse_json(EndIn)
    try:
        services.end(order, api_officer(), data, actor=request_actor(), now=clock.now())
    except services.OrderConflict as error:
        raise _conflict(error) from None
    result = order.to_dict()
    db.session.commit()
    return jsonify(result)
