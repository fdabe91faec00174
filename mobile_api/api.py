"""/mobile/v1: what a subject's phone calls. Every write is idempotent (phones retry)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext

from corrections import clock
from corrections.actors import Actor
from corrections.api import int_arg
from corrections.audit.services import record as audit
from corrections.auth import limiter, throttle
from corrections.auth import services as accounts
from corrections.auth.access import bearer_token
from corrections.checkin import plans
from corrections.checkin import services as checkin
from corrections.checkin.settings import current as checkin_settings
from corrections.errors import ApiError, validation_error
from corrections.extensions import db
from corrections.phones import normalize_phone
from corrections.signals import services as signals
from corrections.signals.settings import current as signal_settings
from corrections.subjects import services as subjects
from corrections.subjects.models import Subject, SubjectFacts
from corrections.subjects.services import live_phone_token
from corrections.validation import parse_json
from corrections.zones.services import zones_of
from mobile_api.auth import admit, subject_required
from mobile_api.errors import no_monitoring_order, not_in_supervision
from mobile_api.openapi import ROUTES, document, route
from mobile_api.schemas import CheckinIn, CheckinOut, LoginIn, LoginOut, SignalsIn, SignalsOut

bp = Blueprint("mobile_api", __name__, url_prefix="/mobile/v1")


def _actor() -> Actor:
    return Actor.subject(g.subject.id, request.remote_addr)


def _window(window) -> dict | None:
    if window is None:
        return None
    return {"start": clock.isoformat(window.start), "end": clock.isoformat(window.end)}


@bp.post("/auth/login")
@route(ROUTES, "post", "/auth/login", LoginIn, LoginOut, public=True)
def login():
    """Log the phone in with the subject's number and PIN."""
    data = parse_json(LoginIn)
    now = clock.now()
    key = f"phone:{normalize_phone(data.phone) or data.phone}"
    throttle.attempt(key, request.remote_addr)
    try:
        session = subjects.phone_login(
            data.phone,
            data.pin,
            data.device_id,
            now=now,
            today=clock.local_today(),
            ip=request.remote_addr,
            lifetime=dt.timedelta(days=current_app.config["MOBILE_TOKEN_DAYS"]),
        )
    except subjects.WrongSecret:
        throttle.failed(request.remote_addr)
        db.session.commit()  # the failure's audit entry
        raise ApiError(401, "invalid_credentials", gettext("Wrong phone number or PIN.")) from None
    except subjects.NotInSupervision:
        throttle.succeeded(key)  # the PIN was right: not a guess
        db.session.commit()
        raise not_in_supervision() from None
    except subjects.DeviceRefused:
        throttle.succeeded(key)
        db.session.commit()  # the refusal's audit entry
        raise ApiError(
            403,
            "device_refused",
            gettext("This phone is not approved for check-ins. Please contact your office."),
        ) from None
    throttle.succeeded(key)
    db.session.commit()
    return jsonify(
        token=session.token,
        expires_at=clock.isoformat(session.expires_at),
        subject_id=session.subject.id,
    )


@bp.post("/auth/logout")
@subject_required
@route(ROUTES, "post", "/auth/logout", None, None, status=204)
def logout():
    """Sign the phone out: its token stops working; 204."""
    accounts.revoke_token(g.token_id)
    audit("subject.logout", _actor(), clock.now(), subject_id=g.subject.id)
    db.session.commit()
    return "", 204


def checkin_limit() -> limiter.Limit:
    """Check-ins one subject may send per minute (CHECKIN_MAX_PER_MINUTE)."""
    return limiter.Limit(
        "checkins", current_app.config["CHECKIN_MAX_PER_MINUTE"], dt.timedelta(minutes=1)
    )


def too_many_checkins(wait: int) -> ApiError:
    """429 with Retry-After: a flood of check-ins from one subject."""
    return ApiError(
        429,
        message=gettext("Too many check-ins in a short time. Wait a minute and send again."),
        headers={"Retry-After": str(wait)},
    )


@bp.get("/me")
@subject_required
@route(ROUTES, "get", "/me", None, None)
def me():
    """The subject's own profile, plan, next window, zones and open check-in requests. Exclusion
    zones come by name only: the phone never learns where a victim lives."""
    subject = db.session.get(Subject, g.subject.id)
    now = clock.now()
    window = checkin.next_window_for(subject, now)
    plan = plans.plan_in_force(plans.plans_of([subject.id])[subject.id], now)
    zones = zones_of([subject.id]).get(subject.id, [])
    audit("subject.read", _actor(), now, subject_id=subject.id)
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
        plan=plan.to_dict() if plan else None,
        next_window=_window(window),
        zones=[z.to_dict(geometry=z.kind == "allowed") for z in zones],
        checkin_requests=[],
        timezone=current_app.config["TIMEZONE"],
    )


@bp.post("/checkins")
@route(ROUTES, "post", "/checkins", CheckinIn, CheckinOut)
def post_checkin():
    """A location check-in, judged at once; the same client_id again returns the first answer.
    The phone's token is resolved by the check-in's own first read (the hot path), so the body
    is read first; a body that does not parse is answered 401/403 before 422 all the same."""
    token = bearer_token()
    if not token:
        raise ApiError(401)
    now = clock.now()
    try:
        data = parse_json(CheckinIn)
    except ApiError:
        admit(live_phone_token(token, now))
        raise
    report = checkin.LocationReport(**data.model_dump())
    try:
        recorded = checkin.record_phone_checkin(
            token,
            report,
            admit=admit,
            kind="location",
            ip=request.remote_addr,
            now=now,
            settings=checkin_settings(),
            limit=checkin_limit(),
        )
    except checkin.TooMany as error:
        db.session.rollback()
        raise too_many_checkins(error.wait) from None
    except checkin.CheckinRejected as error:
        refused_checkin(g.subject)
        raise validation_error({error.field: error.translated()}) from None
    except checkin.NotInSupervision:
        refused_checkin(g.subject)
        raise not_in_supervision() from None
    row = recorded.checkin
    body = {
        "id": row.id,
        "status": row.status,
        "flags": list(row.flags or []),
        "window": _window(recorded.window),
    }
    db.session.commit()
    return jsonify(body), 201 if recorded.created else 200


def refused_checkin(subject: SubjectFacts) -> None:
    """Roll a refused check-in back, but count it still: a flood of refused ones is a flood."""
    subject_id = subject.id
    db.session.rollback()
    limiter.hit(checkin_limit(), f"subject:{subject_id}")


@bp.get("/checkins")
@subject_required
@route(ROUTES, "get", "/checkins", None, None)
def list_checkins():
    """The caller's own check-ins, newest first. Audited like /me: whoever holds the phone's
    token (a lost phone, someone looking over the subject's shoulder) reads where they were."""
    limit = int_arg("limit", 50, low=1, high=500)
    items = checkin.read_checkins(g.subject.id, limit, _actor(), clock.now())
    db.session.commit()
    return jsonify(items=[c.to_dict() for c in items])


@bp.post("/signals")
@subject_required
@route(ROUTES, "post", "/signals", SignalsIn, SignalsOut, status=200)
def post_signals():
    """Background positions under a monitoring order, up to 500 at once, in any order; points
    stored before count as duplicates. One bad point refuses the batch (422 naming its index)."""
    points = parse_json(SignalsIn).root
    reports = [signals.Report(**p.model_dump()) for p in points]
    try:
        result = signals.ingest(
            g.subject,
            reports,
            source="app",
            device_id=g.device_id,
            actor=_actor(),
            now=clock.now(),
            settings=signal_settings(),
        )
    except signals.PointRefused as error:
        db.session.rollback()
        raise validation_error({f"{error.index}.{error.field}": error.translated()}) from None
    except signals.NoMonitoringOrder as error:
        db.session.rollback()
        raise no_monitoring_order(error.index) from None
    db.session.commit()
    return jsonify(stored=result.stored, duplicates=result.duplicates)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document, generated from the schemas that validate requests."""
    return jsonify(document(ROUTES))
