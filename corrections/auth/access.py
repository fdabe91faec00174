"""Who is calling, and what they may touch: decorators for the officer API and the pages."""

from __future__ import annotations

import functools

from flask import current_app, g, request, session
from flask_babel import gettext
from flask_login import current_user

from corrections import clock
from corrections.actors import Actor
from corrections.auth import sessions
from corrections.auth.models import Officer
from corrections.auth.services import find_token
from corrections.errors import ApiError
from corrections.extensions import csrf, db
from corrections.offices.models import Office
from corrections.offices.services import office_by_code

#: Where the session cookie keeps the token of the officer's server-side session.
SESSION_TOKEN = "officer_session"

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
    g.api_token = None
    token = bearer_token()
    if token is not None:
        row = find_token(token, clock.now())
        if row is not None and row.officer_id is not None:
            officer = db.session.get(Officer, row.officer_id)
            g.api_token = row
    elif current_user.is_authenticated:
        # A browser session calling the API must prove the call came from our own pages.
        if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        officer = current_user._get_current_object()
    if officer is not None and not officer.active:
        officer = None
    g.api_officer = officer
    return officer


def load_session_officer(officer_id: str) -> Officer | None:
    """Flask-Login's user loader: the officer whose server-side session the cookie names, while
    that session lives and the account is active. Flask-Login's remember cookie carries no
    session token, so it never signs anyone in by itself."""
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str) or not officer_id.isdigit():
        return None
    row = sessions.live(
        token, now=clock.now(), settings=sessions.SessionSettings.from_config(current_app.config)
    )
    if db.session.dirty:
        # Found idle or too old (it ends for good), or seen again after a while: written now,
        # whatever this request does next.
        db.session.commit()
    if row is None or row.officer_id != int(officer_id):
        return None
    officer = db.session.get(Officer, row.officer_id)
    if officer is None or not officer.active:
        return None
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


def record_in_scope(kind: str, record_id: int, record, officer: Officer):
    """`record` (a subject, an alert: anything with an `office_id`) when `officer` may see it;
    else the 404 of an unknown record, on a page as in the API (existence never leaks), with the
    refusal recorded: what was asked for, and whose record it was."""
    if record is None or not in_scope(officer, record.office_id):
        subject_id = None
        if record is not None:
            subject_id = record.id if kind == "subject" else getattr(record, "subject_id", None)
        raise refused(kind, record_id, exists=record is not None, subject_id=subject_id)
    return record


def office_in_scope(code: str | None, officer: Officer) -> Office | None:
    """The office a filter names (None when it names none); 404 when the office is unknown or
    outside `officer`'s scope, like a record outside it (and recorded as a refusal)."""
    if not code:
        return None
    office = office_by_code(code)
    if office is None or not in_scope(officer, office.id):
        raise refused("office", code, exists=office is not None)
    return office


def officer_actor(officer: Officer) -> Actor:
    """`officer` acting through this request, from the request's client address."""
    return Actor.officer(officer.id, request.remote_addr)


def request_actor() -> Actor:
    """The officer behind this API request, as an actor."""
    return officer_actor(api_officer())
