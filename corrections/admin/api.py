"""Officer API: offices."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext
from sqlalchemy import select

from corrections import clock
from corrections.auth.access import CASEWORK_ROLES, api_roles, request_actor
from corrections.errors import ApiError
from corrections.extensions import db
from corrections.offices import services
from corrections.offices.models import Office
from corrections.validation import Latitude, Longitude, Schema, parse_json, text

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")


class OfficeIn(Schema):
    """A new office."""

    code: text(32, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: text(120)
    lat: Latitude
    lon: Longitude


@bp.post("/offices")
@api_roles("admin")
def create_office():
    """Create an office (admin only)."""
    data = parse_json(OfficeIn)
    try:
        office = services.create_office(
            data.code, data.name, data.lat, data.lon, actor=request_actor(), now=clock.now()
        )
    except services.OfficeExists:
        db.session.rollback()
        message = gettext("An office with this code already exists.")
        raise ApiError(409, "duplicate", message, {"code": message}) from None
    db.session.commit()
    return jsonify(office.to_dict()), 201


@bp.get("/offices")
@api_roles(*CASEWORK_ROLES)
def list_offices():
    """Every office (names and places are not personal data)."""
    offices = db.session.scalars(select(Office).order_by(Office.code)).all()
    return jsonify(items=[o.to_dict() for o in offices])
