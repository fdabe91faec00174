"""Who is calling, and what they may touch: decorators for the officer API and the pages."""

from __future__ import annotations

import functools

from flask import current_app, g, request
from flask_babel import gettext
from flask_login import current_user

from corrections import clock
from corrections.actors import Actor
from corrections.auth.models import Officer
from corrections.auth.services import find_token
from corrections.errors import ApiError
from corrections.extensions import csrf, db

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def bearer_token() -> str | None:
    """The token from `Authorization: Bearer ...`, if one was sent."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_officer() -> Officer | None:
    """The officer behind this API request: a bearer token, else the web session."""
    if "api_officer" in g:
        return g.api_officer
    officer = None
    token = bearer_token()
    if token is not None:
        row = find_token(token, clock.now())
        if row is not None and row.officer_id is not None:
            officer = db.session.get(Officer, row.officer_id)
    elif current_user.is_authenticated:
        # A browser session calling the API must prove the call came from our own pages.
        if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        officer = current_user._get_current_object()
    if officer is not None and not officer.active:
        officer = None
    g.api_officer = officer
    return officer


def api_roles(*roles: str):
    """Require an officer (401 otherwise) holding one of `roles` (403 otherwise)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            officer = api_officer()
            if officer is None:
                raise ApiError(401)
            if officer.role not in roles:
                raise ApiError(403, message=gettext("Your role does not allow this."))
            return view(*args, **kwargs)

        return wrapper

    return decorator


#: Roles that work with subjects and alerts (the viewer only watches the wall and reports).
CASEWORK_ROLES = ("admin", "supervisor", "officer")


def in_scope(officer: Officer, office_id: int) -> bool:
    """Whether `officer` may see records of the office `office_id`."""
    scope = officer.scope_office_id
    return scope is None or scope == office_id


def not_found() -> ApiError:
    """The 404 for unknown records and those outside the caller's scope (never reveal existence)."""
    return ApiError(404, message=gettext("No such record."))


def refused(
    record: str, record_id: int | str | None, *, exists: bool, subject_id: int | None = None
) -> ApiError:
    """The 404 for a `record` ("subject", "alert", "office") the caller may not see, or that does
    not exist: the caller is told the same either way, and the audit log (which the error
    handler writes, see corrections.auth.refusals) is told which, and whose record it was."""
    error = not_found()
    error.refusal = {
        "record": record,
        "record_id": record_id,
        "reason": "outside_scope" if exists else "no_such_record",
        "subject_id": subject_id,
    }
    return error


def calling_officer() -> Officer | None:
    """The officer already identified for this request (by a bearer token or the session),
    without checking anything again: for recording who was refused."""
    if "api_officer" in g:
        return g.api_officer
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def officer_actor(officer: Officer) -> Actor:
    """`officer` acting through this request, from the request's client address."""
    return Actor.officer(officer.id, request.remote_addr)


def request_actor() -> Actor:
    """The officer behind this API request, as an actor."""
    return officer_actor(api_officer())
