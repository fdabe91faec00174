"""Refused requests go to the audit log: an officer asking for another office's record, or for
what their role may not do (corrections.errors sends `request_refused` for every 403 and 404 on
a route). One place, so no view can forget it."""

from __future__ import annotations

import logging

from flask import Flask, request
from sqlalchemy.exc import SQLAlchemyError

from corrections import clock
from corrections.audit.services import record
from corrections.auth.access import calling_officer, officer_actor
from corrections.errors import request_refused
from corrections.extensions import db

log = logging.getLogger(__name__)

#: Query arguments are the caller's to choose: keep enough to see what was asked, no more.
MAX_ARGS, MAX_TEXT = 20, 200


def audit_refusals(app: Flask) -> None:
    """Record every refusal of a signed-in officer on `app` as "access.refused"."""
    request_refused.connect(_record_refusal, app)


def _record_refusal(app: Flask, *, status: int, error: Exception) -> None:
    officer = calling_officer()
    if officer is None:
        return  # nobody signed in: a 401 or a redirect to /login is the answer, not a refusal
    refusal = dict(getattr(error, "refusal", None) or {})
    subject_id = refusal.pop("subject_id", None)
    detail = {
        "status": status,
        "method": request.method,
        "path": _short(request.path),
        "endpoint": request.endpoint,
        "view_args": {k: _short(v) for k, v in (request.view_args or {}).items()},
        "query": {_short(k): _short(v) for k, v in list(request.args.items(multi=True))[:MAX_ARGS]},
        "role": officer.role,
        **refusal,
    }
    actor = officer_actor(officer)
    try:
        # A refused request stores nothing of its own: drop its work, then keep the refusal in
        # a transaction of its own, committed before the answer goes out.
        db.session.rollback()
        record("access.refused", actor, clock.now(), subject_id=subject_id, detail=detail)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record a refused %s %s", request.method, request.path)


def _short(value):
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    return value
