"""Token authentication for the subject's phone."""

from __future__ import annotations

import functools

from flask import g

from corrections import clock
from corrections.auth.access import bearer_token
from corrections.auth.services import find_token
from corrections.errors import ApiError
from corrections.extensions import db
from corrections.subjects.models import Subject
from mobile_api.errors import not_in_supervision


def subject_required(view):
    """Require a subject's bearer token (401 otherwise) whose supervision has not ended (403
    not_in_supervision); sets g.subject, g.device_id and
    g.token (the token's row)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        row = find_token(token, clock.now()) if token else None
        if row is None or row.subject_id is None:
            raise ApiError(401)
        subject = db.session.get(Subject, row.subject_id)
        if subject.status_on(clock.local_today()) == "ended":
            raise not_in_supervision()
        g.subject = subject
        g.device_id = row.device_id
        g.token = row
        return view(*args, **kwargs)

    return wrapper
