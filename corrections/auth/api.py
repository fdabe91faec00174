"""Officer API: tokens and accounts."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify
from flask_babel import gettext

from corrections import clock
from corrections.auth import services, throttle
from corrections.auth.access import api_roles
from corrections.auth.schemas import OfficerIn, TokenIn
from corrections.errors import ApiError, validation_error
from corrections.extensions import db
from corrections.validation import parse_json

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")


@bp.post("/auth/token")
def issue_token():
    """Exchange username and password for a bearer token."""
    data = parse_json(TokenIn)
    now = clock.now()
    key = f"officer:{data.username}"
    throttle.attempt(key, now)
    officer = services.authenticate_officer(data.username, data.password)
    if officer is None:
        raise ApiError(401, "invalid_credentials", gettext("Wrong username or password."))
    throttle.succeeded(key)
    token, row = services.issue_token(
        now=now,
        lifetime=dt.timedelta(hours=current_app.config["API_TOKEN_HOURS"]),
        officer_id=officer.id,
    )
    db.session.commit()
    return jsonify(token=token, expires_at=clock.isoformat(row.expires_at), role=officer.role)


@bp.post("/officers")
@api_roles("admin")
def create_officer():
    """Create an officer account (admin only)."""
    data = parse_json(OfficerIn)
    try:
        officer = services.create_officer(data.username, data.password, data.role, data.office_code)
    except services.AccountError as error:
        if error.field == "username":
            message = error.translated()
            raise ApiError(409, "duplicate", message, {"username": message}) from None
        raise validation_error({error.field: error.translated()}) from None
    db.session.commit()
    return jsonify(officer.to_dict()), 201
