"""Officer API: offices."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, jsonify
from flask_babel import gettext
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from corrections.auth.access import CASEWORK_ROLES, api_roles
from corrections.errors import ApiError
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.validation import Schema, parse_json, text

bp = Blueprint("offices_api", __name__, url_prefix="/api/v1")


class OfficeIn(Schema):
    """A new office."""

    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    name: text(120)
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


@bp.post("/offices")
@api_roles("admin")
def create_office():
    """Create an office (admin only)."""
    data = parse_json(OfficeIn)
    message = gettext("An office with this code already exists.")
    if db.session.scalar(select(Office.id).where(Office.code == data.code)) is not None:
        raise ApiError(409, "duplicate", message, {"code": message})
    office = Office(code=data.code, name=data.name, lat=data.lat, lon=data.lon)
    try:
        db.session.add(office)
        db.session.commit()
    except IntegrityError:
        # Another request created the code between our check and our insert.
        db.session.rollback()
        raise ApiError(409, "duplicate", message, {"code": message}) from None
    return jsonify(office.to_dict()), 201


@bp.get("/offices")
@api_roles(*CASEWORK_ROLES)
def list_offices():
    """Every office (names and places are not personal data)."""
    offices = db.session.scalars(select(Office).order_by(Office.code)).all()
    return jsonify(items=[o.to_dict() for o in offices])
