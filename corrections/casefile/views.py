"""Subject pages: the list, one subject with a map and the check-in timeline, and enrolment.

Everything is read and written through the subjects, check-in and alerts services (the same ones
the JSON API calls), within the officer's office scope, and audited as the API audits it.
"""

from __future__ import annotations

import math
from collections import Counter

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from corrections import clock
from corrections.alerts import services as alerts
from corrections.alerts.models import Alert
from corrections.alerts.queries import alerts_query
from corrections.api import page_arg, query_record, text_arg
from corrections.auth.access import (
    CASEWORK_ROLES,
    office_in_scope,
    officer_actor,
    record_in_scope,
)
from corrections.auth.views import page_roles
from corrections.casefile import mapping, services
from corrections.casefile.forms import (
    CATEGORY_TERMS,
    LEVEL_TERMS,
    EnrolForm,
    put_errors,
    read_enrolment,
    term,
    warning_list,
)
from corrections.checkin.services import next_window_for, read_checkins
from corrections.checkin.settings import current as checkin_settings
from corrections.extensions import count_rows, db
from corrections.offices.services import offices_in_scope
from corrections.pages import render_and_commit
from corrections.subjects import services as subjects_services
from corrections.subjects.models import STATUSES, Subject
from corrections.subjects.schemas import DeviceDecisionIn, DeviceRefusalIn
from corrections.subjects.services import subjects_query
from corrections.zones.services import zones_of

bp = Blueprint("subjects", __name__, template_folder="templates")

PER_PAGE = 25
#: How many check-ins the timeline lists (the newest); the map draws this week's, read apart.
TIMELINE_LENGTH = 50


def subject_status_labels() -> dict[str, str]:
    """Translated subject statuses."""
    return {
        "pending": gettext("Not started yet"),
        "active": gettext("Under supervision"),
        "ended": gettext("Supervision finished"),
    }


def checkin_kind_labels() -> dict[str, str]:
    """Translated check-in kinds."""
    return {
        "location": gettext("Location"),
        "video": gettext("Video"),
        "sms": gettext("Text message"),
        "voice": gettext("Phone call"),
        "signal": gettext("Background position"),
    }


@bp.app_template_global()
def category_label(code: str) -> str:
    """管制, 缓刑, 假释, 暂予监外执行 (with an English gloss for English readers)."""
    return term(CATEGORY_TERMS, code)


@bp.app_template_global()
def level_label(code: str) -> str:
    """严管, 普管, 宽管 (with an English gloss for English readers)."""
    return term(LEVEL_TERMS, code)


def subject_in_scope(subject_id: int) -> Subject:
    """The subject, if the officer may see it; 404 otherwise (existence never leaks)."""
    return record_in_scope("subject", subject_id, db.session.get(Subject, subject_id), current_user)


@bp.get("/subjects")
@page_roles(*CASEWORK_ROLES)
def index():
    """Subjects in the officer's scope, searched by name or phone, filtered by office and status."""
    scope = current_user.scope_office_id
    office = office_in_scope(text_arg("office"), current_user)
    status = text_arg("status") or ""
    if status not in STATUSES:
        status = ""
    q = (text_arg("q") or "")[:64]
    today = clock.local_today()
    query = subjects_query(
        scope,
        office_id=office.id if office else None,
        status=status or None,
        q=q or None,
        today=today,
    )
    total = count_rows(query)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(page_arg(), pages)
    subjects = db.session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    unresolved = Counter(
        db.session.scalars(
            alerts_query(scope, status="unresolved")
            .where(Alert.subject_id.in_([s.id for s in subjects]))
            .with_only_columns(Alert.subject_id)
        )
    )
    services.read_list(subjects, officer_actor(current_user), clock.now(), query_record())
    filters = {"q": q, "office": office.code if office else "", "status": status}
    return render_and_commit(
        "subjects/index.html",
        subjects=subjects,
        unresolved=unresolved,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        offices=offices_in_scope(scope),
        statuses=subject_status_labels(),
        today=today,
        can_enrol=True,
    )


@bp.get("/subjects/<int:subject_id>")
@page_roles(*CASEWORK_ROLES)
def show(subject_id: int):
    """One subject: the person (resident ID masked), plan, zones, map, check-ins and open alerts."""
    subject = subject_in_scope(subject_id)
    today = clock.local_today()
    now = clock.now()
    actor = officer_actor(current_user)
    person = services.read_file(subject, actor, today, now)
    checkins = read_checkins(subject.id, TIMELINE_LENGTH, actor, now)
    open_alerts = (
        db.session.scalars(
            alerts_query(current_user.scope_office_id, status="unresolved", subject_id=subject.id)
        )
        .unique()
        .all()
    )
    window = next_window_for(subject, now)
    zones = zones_of([subject.id]).get(subject.id, [])
    span = mapping.track_span(today)
    return render_and_commit(
        "subjects/detail.html",
        subject=subject,
        person=person,
        plan=person["checkin"],
        zones=zones,
        checkins=checkins,
        open_alerts=list(zip(open_alerts, alerts.present(open_alerts), strict=True)),
        next_window=window,
        window_open=window is not None and window.start <= now,
        map_data=mapping.subject_map(
            subject,
            zones,
            checkins[0] if checkins else None,
            span=span,
            track=mapping.read_track(subject.id, span, actor, now),
        ),
        from_home=mapping.from_home(subject, checkins),
        statuses=subject_status_labels(),
        checkin_kinds=checkin_kind_labels(),
    )


@bp.route("/subjects/new", methods=["GET", "POST"])
@page_roles(*CASEWORK_ROLES)
def new():
    """Enrol a subject: admins and supervisors in any office, an officer in their own."""
    offices = offices_in_scope(current_user.scope_office_id)
    form = EnrolForm(offices=offices)
    if request.method == "GET":
        form.supervision_start.data = form.supervision_start.data or clock.local_today().isoformat()
        return _enrol_page(form, offices)
    enrolment = read_enrolment(form)
    errors = dict(enrolment.errors)
    subject = None
    if enrolment.data is not None and not form.confirm_warnings.data:
        warnings = services.warnings_for(
            enrolment.data, office_radius_km=current_app.config["ENROL_OFFICE_RADIUS_KM"]
        )
        if warnings:
            # Nothing is wrong for the schema; the officer looks again and confirms. Held back,
            # nothing stored: 422, as every other submission the page sends back.
            listed = warning_list(form, warnings)
            return _enrol_page(form, offices, warnings=listed), 422
    if enrolment.data is not None:
        try:
            subject = services.enrol(
                enrolment.data,
                current_user,
                actor=officer_actor(current_user),
                now=clock.now(),
                grace=checkin_settings().grace,
            )
        except services.EnrolmentForbidden:
            db.session.rollback()
            errors["office_code"] = gettext("You may only enrol subjects in your own office.")
        except services.EnrolmentError as error:
            db.session.rollback()
            errors[_form_field(error.field)] = error.translated()
        except IntegrityError:
            # Someone registered the same phone or ID a moment ago; the unique index decided.
            db.session.rollback()
            errors["phone"] = gettext(
                "This phone number or resident ID number is already registered to a subject."
            )
    if subject is None:
        summary = put_errors(form, errors)
        return _enrol_page(form, offices, summary=summary), 422
    db.session.commit()
    flash(gettext("%(name)s is enrolled.", name=subject.name), "success")
    return redirect(url_for(".show", subject_id=subject.id))


def _enrol_page(form: EnrolForm, offices, *, summary=(), warnings=()) -> str:
    return render_template(
        "subjects/new.html",
        form=form,
        summary=list(summary),
        warnings=list(warnings),
        map_data=mapping.enrol_map(offices),
        map_edit=mapping.enrol_editor(form),
    )


def _form_field(service_field: str) -> str:
    return {"home.lat": "home_lat", "home.lon": "home_lon"}.get(service_field, service_field)


@bp.post("/subjects/<int:subject_id>/device/approve")
@page_roles(*CASEWORK_ROLES)
def approve_device(subject_id: int):
    """The new phone is the person's own (from a device_change alert's page)."""
    subject = subject_in_scope(subject_id)
    data = _device_form(DeviceDecisionIn)
    if data is None:
        return _device_decision_again(subject)
    subjects_services.approve_device(
        subject, data.device_id, actor=officer_actor(current_user), now=clock.now()
    )
    db.session.commit()
    flash(gettext("The new phone is approved."), "success")
    return redirect(_back_to_alert(subject))


@bp.post("/subjects/<int:subject_id>/device/refuse")
@page_roles(*CASEWORK_ROLES)
def refuse_device(subject_id: int):
    """The new phone is not the person's: it is signed out and turned away from now on."""
    subject = subject_in_scope(subject_id)
    data = _device_form(DeviceRefusalIn)
    if data is None:
        return _device_decision_again(subject)
    subjects_services.refuse_device(
        subject,
        data.device_id,
        data.reason,
        officer_id=current_user.id,
        actor=officer_actor(current_user),
        now=clock.now(),
    )
    db.session.commit()
    flash(gettext("The phone is refused and signed out."), "success")
    return redirect(_back_to_alert(subject))


def _device_form(schema):
    """The decision's fields checked by the API's schema, or None if refused."""
    try:
        return schema.from_plain({k: request.form.get(k, "") for k in schema.model_fields})
    except ValidationError:
        return None


def _device_decision_again(subject: Subject):
    """A decision the schema refused: the form again with its problem in view (422), what was
    typed kept. It shows the person's name: audited as a read of their record."""
    services.record_shown(subject, officer_actor(current_user), clock.now(), "device_decision")
    refused = {r.device_id: r for r in subjects_services.refused_devices(subject.id)}
    device_id = request.form.get("device_id", "")
    device = {
        "alert_id": request.form.get("alert_id", type=int),
        "device_id": device_id,
        "refusal": refused.get(device_id),
    }
    return render_and_commit(
        "subjects/device_decision.html",
        422,
        subject=subject,
        device=device,
        problem=gettext("Write why the phone is refused. The reason is required.")
        if "reason" in request.form
        else gettext("This phone cannot be decided on from here."),
        typed_reason=request.form.get("reason", ""),
        back=_back_to_alert(subject),
    )


def _back_to_alert(subject: Subject, fragment: str = "#device-decision") -> str:
    """The alert page the decision was taken on (if it is the subject's), else their page."""
    alert_id = request.form.get("alert_id", type=int)
    alert = db.session.get(Alert, alert_id) if alert_id else None
    if alert is not None and alert.subject_id == subject.id:
        return url_for("alerts.show", alert_id=alert.id) + fragment
    return url_for(".show", subject_id=subject.id)
