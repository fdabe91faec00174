"""Token authentication for the subject's phone."""

from __future__ import annotations

import functools

from flask import g

from corrections import clock
from corrections.auth.access import bearer_token
from corrections.errors import ApiError
from corrections.subjects.services import PhoneToken, live_phone_token
from mobile_api.errors import not_in_supervision


def subject_required(view):
    """Require a subject's bearer token (401 otherwise) whose supervision has not ended (403
    not_in_supervision); see admit()."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        admit(live_phone_token(token, clock.now()) if token else None)
        return view(*args, **kwargs)

    return wrapper


def admit(found: PhoneToken | None) -> None:
    """Let the phone in: 401 without a live token, 403 not_in_supervision once the subject's
    supervision has ended; sets g.subject (SubjectFacts: the views that show more load the
    Subject), g.device_id and g.token_id."""
    if found is None:
        raise ApiError(401)
    if found.subject.status_on(clock.local_today()) == "ended":
        raise not_in_supervision()
    g.subject = found.subject
    g.device_id = found.device_id
    g.token_id = found.token_id
