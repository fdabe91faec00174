"""Monitoring pages beside the subject: the orders on the subject's page (the casefile's page
includes `monitoring/_subject_orders.html`, which asks `monitoring_panel(subject)`), a page of
the subject's orders that shows a refused form again, and the steps: request, approve, end.

Every step calls corrections.monitoring.services, as the JSON API does, and is audited there."""

from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from corrections import clock
from corrections.api import page_arg, query_record, text_arg
from corrections.auth.access import CASEWORK_ROLES, officer_actor, record_in_scope
from corrections.auth.views import page_roles
from corrections.extensions import count_rows, db
from corrections.monitoring import services
from corrections.monitoring.forms import EndForm, OrderForm, read_end, read_order
from corrections.monitoring.grounds import ground_label
from corrections.monitoring.models import STATUSES, MonitoringOrder
from corrections.pages import render_and_commit
from corrections.subjects.models import Subject

bp = Blueprint("monitoring", __name__, template_folder="templates")

PER_PAGE = 50


def state_labels() -> dict[str, str]:
    """What an order's state means to an officer, translated."""
    return {
        "pending": gettext("Waiting for approval"),
        "upcoming": gettext("Approved, starts later"),
        "in_force": gettext("In force now"),
        "over": gettext("Over (its last day has passed)"),
        "ended": gettext("Ended early or withdrawn"),
    }


bp.add_app_template_global(ground_label, "ground_label")


@bp.app_template_global()
def monitoring_panel(subject: Subject, order_form=None, end_form=None, end_order_id=None) -> dict:
    """The subject's orders for a page, with the forms and the buttons the officer may use
    (the read is audited: the page commits after rendering)."""
    today = clock.local_today()
    orders = services.read_orders(subject, officer_actor(current_user), clock.now())
    rows = []
    for order in orders:
        failed = end_form is not None and order.id == end_order_id
        rows.append(
            {
                "order": order,
                "state": services.state_on(order, today),
                "steps": services.allowed_steps(order, current_user, today),
                "end_form": end_form if failed else EndForm(formdata=None),
            }
        )
    form = order_form or OrderForm(formdata=None)
    if order_form is None:
        form.starts_on.data = today.isoformat()
    return {
        "rows": rows,
        "form": form,
        "states": state_labels(),
        "latest_end": services.latest_end(today).isoformat(),
    }


def subject_in_scope(subject_id: int) -> Subject:
    """The subject, if the officer may see it; 404 otherwise (existence never leaks)."""
    return record_in_scope("subject", subject_id, db.session.get(Subject, subject_id), current_user)


def order_in_scope(order_id: int) -> MonitoringOrder:
    """The order, if the officer may see its subject; 404 otherwise."""
    order = db.session.get(MonitoringOrder, order_id)
    return record_in_scope("monitoring_order", order_id, order, current_user)


def _back(subject_id: int):
    return redirect(url_for("subjects.show", subject_id=subject_id, _anchor="monitoring"))


def _page(subject: Subject, status: int = 200, summary=(), anchor=None, **panel_args):
    # A refused form answers its POST; drafts.js puts the orders page's own address back, so
    # F5 reloads the page instead of sending the form again.
    canonical = url_for(".orders", subject_id=subject.id, _anchor=anchor) if anchor else None
    return render_and_commit(
        "monitoring/orders.html",
        status,
        canonical_url=canonical,
        subject=subject,
        monitoring=monitoring_panel(subject, **panel_args),
        summary=list(summary),
    )


def status_filters() -> dict[str, str]:
    """The list's status filter, translated: the stored statuses and "all"."""
    return {
        "pending": gettext("Waiting for approval"),
        "approved": gettext("Approved"),
        "ended": gettext("Ended early or withdrawn"),
        "all": gettext("All"),
    }


@bp.get("/monitoring-orders")
@page_roles(*CASEWORK_ROLES)
def index():
    """The orders in the officer's scope; by default the requests waiting for approval, oldest
    first, with the approve button for those who may."""
    status = text_arg("status") or "pending"
    if status not in status_filters():
        status = "pending"
    query = services.orders_query(
        current_user.scope_office_id, status=status if status in STATUSES else None
    )
    total = count_rows(query)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(page_arg(), pages)
    orders = db.session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    services.audit_list_read(orders, officer_actor(current_user), clock.now(), query_record())
    today = clock.local_today()
    rows = [
        {
            "order": order,
            "state": services.state_on(order, today),
            "steps": services.allowed_steps(order, current_user, today),
        }
        for order in orders
    ]
    return render_and_commit(
        "monitoring/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        chosen=status,
        statuses=status_filters(),
        states=state_labels(),
    )


@bp.get("/subjects/<int:subject_id>/monitoring-orders")
@page_roles(*CASEWORK_ROLES)
def orders(subject_id: int):
    """The subject's monitoring orders, the request form and the steps."""
    return _page(subject_in_scope(subject_id))


@bp.post("/subjects/<int:subject_id>/monitoring-orders")
@page_roles(*CASEWORK_ROLES)
def request_order(subject_id: int):
    """Request an order; a refused form comes back (422) with each problem beside its box."""
    subject = subject_in_scope(subject_id)
    form = OrderForm()
    data, problems = read_order(form)
    if data is not None:
        try:
            services.request_order(
                subject, data, current_user, actor=officer_actor(current_user), now=clock.now()
            )
        except services.OrderRefused as error:
            db.session.rollback()
            problems = {error.field: error.translated()}
    if problems:
        summary = []
        for name, message in problems.items():
            field = form[name]
            field.errors = [message]
            summary.append((field.id, field.label.text, message))
        return _page(subject, 422, summary, "order-form", order_form=form)
    db.session.commit()
    flash(gettext("The request is saved. It waits for the bureau's approval."), "success")
    return _back(subject.id)


@bp.post("/monitoring-orders/<int:order_id>/approve")
@page_roles(*services.APPROVING_ROLES)
def approve(order_id: int):
    """Approve a pending order."""
    order = order_in_scope(order_id)
    try:
        services.approve(order, current_user, actor=officer_actor(current_user), now=clock.now())
    except services.OrderConflict as conflict:
        db.session.rollback()
        flash(gettext("Nothing was changed. %(reason)s", reason=conflict.translated()), "error")
        return _back(order.subject_id)
    db.session.commit()
    flash(gettext("The order is approved."), "success")
    if request.form.get("back") == "list":
        return redirect(url_for(".index"))
    return _back(order.subject_id)


@bp.post("/monitoring-orders/<int:order_id>/end")
@page_roles(*CASEWORK_ROLES)
def end(order_id: int):
    """End an order early or withdraw a request, saying why (required)."""
    order = order_in_scope(order_id)
    subject_id = order.subject_id
    form = EndForm()
    data, problems = read_end(form)
    if problems:
        form.reason.errors = [next(iter(problems.values()))]
        summary = [(f"end-reason-{order.id}", form.reason.label.text, form.reason.errors[0])]
        anchor = f"end-form-{order.id}"
        return _page(order.subject, 422, summary, anchor, end_form=form, end_order_id=order.id)
    try:
        services.end(order, current_user, data, actor=officer_actor(current_user), now=clock.now())
    except services.OrderConflict as conflict:
        db.session.rollback()
        flash(gettext("Nothing was changed. %(reason)s", reason=conflict.translated()), "error")
        return _back(subject_id)
    db.session.commit()
    flash(gettext("The order has ended."), "success")
    return _back(subject_id)
