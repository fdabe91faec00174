"""The CONTRACT error shape for every JSON endpoint, and HTML error pages for the rest."""

from __future__ import annotations

import logging
import sqlite3
import sys
import traceback

from blinker import Namespace
from flask import Flask, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, StatementError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

#: Sent (sender: the app; keyword arguments `status`, `error`) when a request that matched a route
#: is answered 403 or 404: the caller was refused a record or an action. The audit log listens
#: (corrections.auth.refusals); the core knows no feature.
request_refused = Namespace().signal("request-refused")
#: The statuses that refuse a caller (403: the role; 404: unknown or outside the scope).
REFUSALS = (403, 404)

#: Default code and sentence for each status when a handler gives none.
STATUS_CODES = {
    400: ("malformed_request", lazy_gettext("The request body could not be read.")),
    401: ("unauthorized", lazy_gettext("Sign in first, or send a valid token.")),
    403: ("forbidden", lazy_gettext("Your role does not allow this.")),
    404: ("not_found", lazy_gettext("No such record.")),
    405: ("method_not_allowed", lazy_gettext("This method is not allowed here.")),
    409: ("conflict", lazy_gettext("The record is not in a state that allows this.")),
    413: ("too_large", lazy_gettext("The request is too large.")),
    415: ("unsupported_media_type", lazy_gettext("This content type is not accepted here.")),
    422: ("validation_error", lazy_gettext("Some fields are not valid.")),
    429: ("rate_limited", lazy_gettext("Too many attempts; wait and try again.")),
    500: ("internal_error", lazy_gettext("Something went wrong on our side.")),
    503: ("unavailable", lazy_gettext("The service is briefly unavailable. Try again shortly.")),
}

#: Seconds a client is asked to wait after a 503 (the database connection was lost).
RETRY_AFTER_UNAVAILABLE = 2


class ApiError(Exception):
    """An error in the CONTRACT shape: status, machine code, sentence, per-field messages."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        default_code, default_message = STATUS_CODES.get(status, STATUS_CODES[500])
        self.status = status
        self.code = code or default_code
        self.message = str(message or default_message)
        self.fields = fields
        self.headers = headers or {}
        #: For a refusal: what was asked for (record, record_id, subject_id, reason), for the
        #: audit log only; the response never says more than the status and the sentence.
        self.refusal: dict | None = None
        super().__init__(self.message)


def validation_error(fields: dict[str, str], message: str | None = None) -> ApiError:
    """A 422 naming each bad field."""
    return ApiError(
        422, "validation_error", message or gettext("Some fields are not valid."), fields
    )


#: The paths answered in JSON whatever the client accepts (deploy/nginx answers its own refusals
#: in JSON on these too; tests/test_deploy_nginx.py holds the two together).
JSON_PATH_PREFIXES = ("/api/", "/mobile/v1", "/osmand", "/twilio")
#: Endpoints among the pages that answer only JSON (the queue's refresh, polled by queue.js).
JSON_ENDPOINTS = frozenset({"alerts.refresh"})


def wants_json() -> bool:
    """JSON for the API surfaces and webhooks; HTML pages for everything else."""
    path = request.path
    # /healthz is for machines too (nginx passes it on like any page, so it is not a prefix).
    if path.startswith(JSON_PATH_PREFIXES) or path == "/healthz":
        return True
    if request.endpoint in JSON_ENDPOINTS:
        return True
    return request.accept_mimetypes.best == "application/json"


def error_response(error: ApiError):
    """Render an ApiError as JSON."""
    body = {"error": {"code": error.code, "message": error.message}}
    if error.fields:
        body["error"]["fields"] = {k: str(v) for k, v in error.fields.items()}
    response = jsonify(body)
    response.status_code = error.status
    for key, value in error.headers.items():
        response.headers[key] = value
    return response


def register_errorhandlers(app: Flask) -> None:
    """JSON errors on API paths, friendly pages elsewhere; never a bare 500 trace."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        _refused(error.status, error)
        if wants_json():
            return error_response(error)
        return _html_error(error.status, error.message, error.headers)

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError):
        message = gettext("The form expired or was not sent from this site. Please try again.")
        if wants_json():
            return error_response(ApiError(400, "csrf_failed", message))
        ended = request.endpoint != "auth.login" and not current_user.is_authenticated
        if request.method == "POST" and ended:
            # The session ended while the form was open: sign in again and come back to the
            # form's page, where drafts.js puts back what was typed.
            flash(gettext("Your session had ended. Sign in again; what you typed is kept."), "info")
            return redirect(url_for("auth.login", next=request.path), 303)
        return _html_error(400, message)

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        status = error.code or 500
        _refused(status, error)
        if wants_json():
            return error_response(ApiError(status))
        _code, message = STATUS_CODES.get(status, (None, error.description))
        return _html_error(status, message)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        # The path, never the query string or the body: they hold names and phone numbers.
        log_failure(log, "unhandled error on %s %s", request.method, request.path, error=error)
        from corrections.extensions import db

        db.session.rollback()
        status = 503 if _connection_lost(error) else 500
        headers = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)} if status == 503 else None
        if wants_json():
            return error_response(ApiError(status, headers=headers))
        return _html_error(status, STATUS_CODES[status][1], headers)


def _connection_lost(error: Exception) -> bool:
    # The database connection died under the request (a restart): the pool has already thrown
    # it away, and the same request sent again will get a fresh one.
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _refused(status: int, error: Exception) -> None:
    # An unknown URL (no route matched) refuses nobody anything: scanners and typos.
    if status in REFUSALS and request.url_rule is not None:
        request_refused.send(current_app._get_current_object(), status=status, error=error)


def _html_error(status: int, message, headers: dict[str, str] | None = None):
    # Headers such as Retry-After mean as much on a page as in JSON.
    return render_template("error.html", status=status, message=message), status, headers or {}


# --- failures in logs --------------------------------------------------------------------
# A database error carries the statement's values twice: SQLAlchemy's "[parameters: ...]"
# (hidden by the engine's hide_parameters) and the server's own words, e.g. PostgreSQL's
# DETAIL "Key (id_number)=(450000...) already exists." A log gets neither: only what failed.


def describe(error: BaseException) -> str:
    """One line saying what failed, fit for a log or a job's record. A database error gives
    its type, the driver's error class, SQLSTATE, constraint and table, and the statement
    (with placeholders), never a value; any other error its type and message."""
    if not isinstance(error, StatementError):
        return f"{type(error).__name__}: {error}"
    orig = error.orig
    facts = [type(orig).__name__] if orig is not None else []
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        facts.append(f"SQLSTATE {sqlstate}")
    diag = getattr(orig, "diag", None)
    for label in ("constraint_name", "table_name", "column_name"):
        value = getattr(diag, label, None) if diag is not None else None
        if value:
            facts.append(f"{label.removesuffix('_name')} {value}")
    if isinstance(orig, sqlite3.Error):
        # SQLite's own messages name the constraint or column, never a value.
        facts.append(str(orig))
    statement = " ".join((error.statement or "").split())
    return f"{type(error).__name__}: {', '.join(facts)} [SQL: {statement}]"


def loggable_traceback(error: BaseException) -> str:
    """The traceback of `error` and the errors it came from, each ending in `describe()`: the
    frames, so a failure can be found, without the values a database error carries."""
    chain, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        if isinstance(current, StatementError):
            break  # its cause is the driver's error, in its own words: describe() summed it up
        if current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    parts = []
    for item in reversed(chain):
        if parts:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(describe(item) + "\n")
    return "".join(parts).rstrip("\n")


def log_failure(
    logger: logging.Logger, message: str, *args, error: BaseException | None = None
) -> None:
    """Log `message` as an error with the traceback of `error` (default: the one being
    handled) as `loggable_traceback` writes it."""
    error = error if error is not None else sys.exc_info()[1]
    if error is None:
        logger.error(message, *args)
        return
    logger.error(message + "\n%s", *args, loggable_traceback(error))
