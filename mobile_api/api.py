"""/mobile/v1: what a subject's phone calls. Every write is idempotent (phones retry)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, g, jsonify
from flask_babel import gettext

from corrections import clock
from corrections.alerts.services import raise_alert
from corrections.api import int_arg
from corrections.audit.services import record as audit
from corrections.auth import services as auth_services
from corrections.auth import throttle
from corrections.checkin import services as checkin
from corrections.errors import ApiError, validation_error
from corrections.extensions import db
from corrections.phones import normalize_phone
from corrections.subjects.models import Subject
from corrections.validation import parse_json
from mobile_api.auth import subject_required
from mobile_api.openapi import ROUTES, document, route
from mobile_api.schemas import CheckinIn, CheckinOut, LoginIn, LoginOut

bp = Blueprint("mobile_api", __name__, url_prefix="/mobile/v1")


@bp.post("/auth/login")
@route(ROUTES, "post", "/auth/login", LoginIn, LoginOut, public=True)
def login():
    """Log the phone in with the subject's number and PIN."""
    data = parse_json(LoginIn)
    now = clock.now()
    phone = normalize_phone(data.phone) or data.phone
    key = f"phone:{phone}"
    throttle.attempt(key, now)
    subject = db.session.query(Subject).filter_by(phone=phone).one_or_none()
    if not auth_services.check_secret(subject.pin_hash if subject else None, data.pin):
        raise ApiError(401, "invalid_credentials", gettext("Wrong phone number or PIN."))
    throttle.succeeded(key)
    if subject.device_id is not None and subject.device_id != data.device_id:
        raise_alert(
            subject,
            "device_change",
            {"previous_device_id": subject.device_id, "device_id": data.device_id},
            now,
        )
    subject.device_id = data.device_id
    token, row = auth_services.issue_token(
        now=now,
        lifetime=dt.timedelta(days=current_app.config["MOBILE_TOKEN_DAYS"]),
        subject_id=subject.id,
        device_id=data.device_id,
    )
    audit(
        "subject.login",
        actor_kind="subject",
        actor_id=subject.id,
        subject_id=subject.id,
        detail={"device_id": data.device_id},
    )
    db.session.commit()
    return jsonify(token=token, expires_at=clock.isoformat(row.expires_at), subject_id=subject.id)


@bp.get("/me")
@subject_required
@route(ROUTES, "get", "/me", None, None)
def me():
    """The subject's own profile, plan, next window, zones and open check-in requests."""
    subject: Subject = g.subject
    now = clock.now()
    window = checkin.next_window_for(subject, now)
    audit("subject.read", actor_kind="subject", actor_id=subject.id, subject_id=subject.id)
    db.session.commit()
    return jsonify(
        subject_id=subject.id,
        name=subject.name,
        office={"code": subject.office.code, "name": subject.office.name},
        category=subject.category,
        level=subject.level,
        status=subject.status_on(clock.local_today()),
        supervision_start=subject.supervision_start.isoformat(),
        supervision_end=subject.supervision_end.isoformat(),
        plan=subject.plan.to_dict() if subject.plan else None,
        next_window={"start": clock.isoformat(window[0]), "end": clock.isoformat(window[1])}
        if window
        else None,
        zones=[z.to_dict() for z in subject.zones],
        checkin_requests=[],
        timezone=current_app.config["TIMEZONE"],
    )


@bp.post("/checkins")
@subject_required
@route(ROUTES, "post", "/checkins", CheckinIn, CheckinOut)
def post_checkin():
    """A location check-in, judged at once; the same client_id again returns the first answer."""
    subject: Subject = g.subject
    data = parse_json(CheckinIn)
    report = checkin.LocationReport(**data.model_dump())
    try:
        row, created = checkin.record_location_checkin(
            subject, report, kind="location", device_id=g.device_id, now=clock.now()
        )
    except checkin.CheckinRejected as error:
        db.session.rollback()
        raise validation_error({error.field: error.translated()}) from None
    db.session.commit()
    body = {"id": row.id, "status": row.status, "flags": list(row.flags or [])}
    return jsonify(body), 201 if created else 200


@bp.get("/checkins")
@subject_required
@route(ROUTES, "get", "/checkins", None, None)
def list_checkins():
    """The caller's own check-ins, newest first."""
    limit = int_arg("limit", 50, low=1, high=500)
    items = checkin.checkins_of(g.subject.id, limit)
    return jsonify(items=[c.to_dict() for c in items])


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document, generated from the schemas that validate requests."""
    return jsonify(document(ROUTES))
