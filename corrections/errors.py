"""The CONTRACT error shape for every JSON endpoint, and HTML error pages for the rest."""

from __future__ import annotations

import logging

from blinker import Namespace
from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
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
}


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


def wants_json() -> bool:
    """JSON for the API surfaces and webhooks; HTML pages for everything else."""
    path = request.path
    if path.startswith(JSON_PATH_PREFIXES):
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
        log.exception("unhandled error on %s %s", request.method, request.path)
        from corrections.extensions import db

        db.session.rollback()
        if wants_json():
            return error_response(ApiError(500))
        return _html_error(500, STATUS_CODES[500][1])


def _refused(status: int, error: Exception) -> None:
    # An unknown URL (no route matched) refuses nobody anything: scanners and typos.
    if status in REFUSALS and request.url_rule is not None:
        request_refused.send(current_app._get_current_object(), status=status, error=error)


def _html_error(status: int, message, headers: dict[str, str] | None = None):
    # Headers such as Retry-After mean as much on a page as in JSON.
    return render_template("error.html", status=status, message=message), status, headers or {}
