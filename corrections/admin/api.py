"""Officer API: offices, and the administration of accounts and of phones' sign-ins."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify
from flask_babel import gettext
from sqlalchemy import select

from corrections import clock
from corrections.auth import services as accounts
from corrections.auth.access import (
    CASEWORK_ROLES,
    api_officer,
    api_roles,
    not_found,
    record_in_scope,
    request_actor,
)
from corrections.auth.models import Officer
from corrections.auth.schemas import OfficerChangeIn, PasswordIn
from corrections.errors import ApiError, validation_error
from corrections.extensions import db
from corrections.offices import services
from corrections.offices.models import Office
from corrections.subjects import services as subjects
from corrections.subjects.models import Subject
from corrections.subjects.schemas import DeviceDecisionIn, DeviceRefusalIn
from corrections.validation import Latitude, Longitude, Schema, parse_json, text
from corrections.zones.schemas import ZoneIn

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")


#: What an office code may be made of.
OFFICE_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
OFFICE_CODE = re.compile(OFFICE_PATTERN)


class OfficeIn(Schema):
    """A new office."""

    code: text(32, pattern=OFFICE_PATTERN)
    name: text(120)
    lat: Latitude
    lon: Longitude
    #: The township's area ({kind: "allowed", name, lat, lon, radius_m} or with a polygon).
    standard_zone: ZoneIn | None = None


class StandardZoneIn(Schema):
    """An office's standard zone, or null to clear it."""

    zone: ZoneIn | None


def _standard(zone, field: str) -> dict | None:
    """The zone as stored: its shape and name; its kind is always "allowed"."""
    if zone is None:
        return None
    if zone.kind != "allowed":
        message = gettext("An office's standard area is an allowed area.")
        raise validation_error({f"{field}.kind": message})
    return zone.model_dump(exclude={"kind"}, mode="json")


@bp.post("/offices")
@api_roles("admin")
def create_office():
    """Create an office (admin only)."""
    data = parse_json(OfficeIn)
    zone = _standard(data.standard_zone, "standard_zone")
    now = clock.now()
    try:
        office = services.create_office(
            data.code, data.name, data.lat, data.lon, actor=request_actor(), now=now
        )
    except services.OfficeExists:
        db.session.rollback()
        message = gettext("An office with this code already exists.")
        raise ApiError(409, "duplicate", message, {"code": message}) from None
    if zone is not None:
        services.set_standard_zone(office, zone, actor=request_actor(), now=now)
    db.session.commit()
    return jsonify(office.to_dict()), 201


@bp.put("/offices/<code>/standard-zone")
@api_roles("admin")
def set_standard_zone(code: str):
    """Set or clear an office's standard zone (admin only)."""
    if OFFICE_CODE.fullmatch(code) is None:
        # Not a code at all (control characters, spaces): named, and kept out of the audit log.
        raise validation_error({"code": gettext("Not an office code.")})
    office = services.office_by_code(code)
    if office is None:
        raise not_found()
    data = parse_json(StandardZoneIn)
    zone = _standard(data.zone, "zone")
    services.set_standard_zone(office, zone, actor=request_actor(), now=clock.now())
    db.session.commit()
    return jsonify(office.to_dict())


@bp.get("/offices")
@api_roles(*CASEWORK_ROLES)
def list_offices():
    """Every office (names and places are not personal data)."""
    offices = db.session.scalars(select(Office).order_by(Office.code)).all()
    return jsonify(items=[o.to_dict() for o in offices])


def _account(officer_id: int) -> Officer:
    officer = db.session.get(Officer, officer_id)
    if officer is None:
        raise not_found()
    return officer


def _refused(error: accounts.AccountError) -> ApiError:
    db.session.rollback()
    if error.field == "active":
        return ApiError(409, message=error.translated())
    return validation_error({error.field: error.translated()})


@bp.get("/officers")
@api_roles("admin")
def list_officers():
    """Every account, by username (admin only)."""
    officers = db.session.scalars(select(Officer).order_by(Officer.username)).all()
    return jsonify(items=[o.to_dict() for o in officers])


@bp.patch("/officers/<int:officer_id>")
@api_roles("admin")
def change_officer(officer_id: int):
    """Set an account's display name or office, or (de)activate it; deactivating ends every
    session and token of the account."""
    officer = _account(officer_id)
    data = parse_json(OfficerChangeIn)
    actor, now = request_actor(), clock.now()
    try:
        if "display_name" in data.model_fields_set or "office_code" in data.model_fields_set:
            accounts.update_officer(
                officer,
                display_name=(
                    (data.display_name or "").strip()
                    if "display_name" in data.model_fields_set
                    else officer.display_name
                ),
                office_code=(
                    data.office_code
                    if "office_code" in data.model_fields_set
                    else (officer.office.code if officer.office else None)
                ),
                actor=actor,
                now=now,
            )
        if data.active is not None and data.active != officer.active:
            accounts.set_active(officer, data.active, actor=actor, now=now)
    except accounts.AccountError as error:
        raise _refused(error) from None
    db.session.commit()
    return jsonify(officer.to_dict())


@bp.post("/officers/<int:officer_id>/password")
@api_roles("admin")
def reset_password(officer_id: int):
    """Give an account a new password (admin only); every session and token of it ends."""
    officer = _account(officer_id)
    data = parse_json(PasswordIn)
    try:
        ended = accounts.set_password(
            officer, data.password, actor=request_actor(), now=clock.now()
        )
    except accounts.AccountError as error:
        raise _refused(error) from None
    db.session.commit()
    return jsonify(tokens_revoked=ended.tokens, sessions_ended=ended.sessions)


@bp.post("/officers/<int:officer_id>/revoke-tokens")
@api_roles("admin")
def revoke_officer_tokens(officer_id: int):
    """Sign an account out everywhere: its tokens are revoked and its web sessions end."""
    officer = _account(officer_id)
    ended = accounts.sign_out_everywhere(officer, actor=request_actor(), now=clock.now())
    db.session.commit()
    return jsonify(tokens_revoked=ended.tokens, sessions_ended=ended.sessions)


@bp.post("/subjects/<int:subject_id>/revoke-tokens")
@api_roles(*CASEWORK_ROLES)
def revoke_subject_tokens(subject_id: int):
    """Sign a subject's phone out (lost, stolen or shared): admin, supervisor, or an officer of
    the subject's office."""
    subject = db.session.get(Subject, subject_id)
    record_in_scope("subject", subject_id, subject, api_officer())
    revoked = subjects.sign_out_phone(subject, actor=request_actor(), now=clock.now())
    db.session.commit()
    return jsonify(tokens_revoked=revoked)


@bp.post("/subjects/<int:subject_id>/device/refuse")
@api_roles(*CASEWORK_ROLES)
def refuse_subject_device(subject_id: int):
    """Refuse a phone after a device_change (not the person's, or in someone else's hands): its
    logins are turned away (403 device_refused) and, if it is signed in, it is signed out."""
    officer = api_officer()
    subject = record_in_scope("subject", subject_id, db.session.get(Subject, subject_id), officer)
    data = parse_json(DeviceRefusalIn)
    revoked = subjects.refuse_device(
        subject,
        data.device_id,
        data.reason,
        officer_id=officer.id,
        actor=request_actor(),
        now=clock.now(),
    )
    db.session.commit()
    return jsonify(device_id=data.device_id, refused=True, tokens_revoked=revoked)


@bp.post("/subjects/<int:subject_id>/device/approve")
@api_roles(*CASEWORK_ROLES)
def approve_subject_device(subject_id: int):
    """Approve a phone for a subject (a new phone that is theirs, or one refused before)."""
    subject = record_in_scope(
        "subject", subject_id, db.session.get(Subject, subject_id), api_officer()
    )
    data = parse_json(DeviceDecisionIn)
    lifted = subjects.approve_device(
        subject, data.device_id, actor=request_actor(), now=clock.now()
    )
    db.session.commit()
    return jsonify(device_id=data.device_id, refused=False, refusal_lifted=lifted)
