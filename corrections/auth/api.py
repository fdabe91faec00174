"""Officer API: tokens (issue, sign out) and accounts."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, g, jsonify, request, session
from flask_babel import gettext
from flask_login import logout_user

from corrections import clock
from corrections.auth import services, sessions, throttle
from corrections.auth.access import SESSION_TOKEN, api_officer, api_roles, request_actor
from corrections.auth.schemas import OfficerIn, OwnPasswordIn, TokenIn
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
    throttle.attempt(key, request.remote_addr)
    officer = services.officer_login(
        data.username, data.password, via="api", ip=request.remote_addr, now=now
    )
    if officer is None:
        throttle.failed(request.remote_addr)
        db.session.commit()
        raise ApiError(401, "invalid_credentials", gettext("Wrong username or password."))
    throttle.succeeded(key)
    token, row = services.issue_token(
        now=now,
        lifetime=dt.timedelta(hours=current_app.config["API_TOKEN_HOURS"]),
        officer_id=officer.id,
    )
    db.session.commit()
    return jsonify(token=token, expires_at=clock.isoformat(row.expires_at), role=officer.role)


@bp.post("/auth/logout")
def logout():
    """Sign out: revoke the calling bearer token (or end the calling web session); 204."""
    officer = api_officer()
    if officer is None:
        raise ApiError(401)
    now = clock.now()
    if g.api_token is not None:
        services.revoke_token(g.api_token.id)
        via = "api"
    else:
        token = session.get(SESSION_TOKEN)
        if isinstance(token, str):
            sessions.end(token, now=now)
        via = "web"
    services.officer_logout(officer.id, via=via, ip=request.remote_addr, now=now)
    db.session.commit()
    if via == "web":
        logout_user()
        session.clear()
    return "", 204


@bp.post("/auth/password")
def change_password():
    """Change the caller's own password (any role). Every session and token of the account ends,
    the calling one too: sign in again with the new password."""
    officer = api_officer()
    if officer is None:
        raise ApiError(401)
    data = parse_json(OwnPasswordIn)
    key = f"officer:{officer.username}"
    throttle.attempt(key, request.remote_addr)
    try:
        ended = services.change_own_password(
            officer, data.current_password, data.password, actor=request_actor(), now=clock.now()
        )
    except services.AccountError as error:
        db.session.rollback()
        throttle.checked(key, request.remote_addr, right=error.field != "current_password")
        db.session.commit()
        raise validation_error({error.field: error.translated()}) from None
    throttle.succeeded(key)
    db.session.commit()
    return jsonify(tokens_revoked=ended.tokens, sessions_ended=ended.sessions)


@bp.post("/officers")
@api_roles("admin")
def create_officer():
    """Create an officer account (admin only)."""
    data = parse_json(OfficerIn)
    try:
        officer = services.create_officer(
            data.username,
            data.password,
            data.role,
            data.office_code,
            display_name=data.display_name,
            actor=request_actor(),
            now=clock.now(),
        )
    except services.AccountError as error:
        db.session.rollback()
        if error.field == "username":
            message = error.translated()
            raise ApiError(409, "duplicate", message, {"username": message}) from None
        raise validation_error({error.field: error.translated()}) from None
    db.session.commit()
    return jsonify(officer.to_dict()), 201
