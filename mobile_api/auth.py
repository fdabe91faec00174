"""Token authentication for the subject's phone."""

from __future__ import annotations

import functools

from flask import g
from sqlalchemy import select

from corrections import clock
from corrections.auth.access import bearer_token
from corrections.auth.models import ApiToken
from corrections.auth.services import token_digest
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
        found = _live_token(token) if token else None
        if found is None:
            raise ApiError(401)
        row, subject = found
        if subject.status_on(clock.local_today()) == "ended":
            raise not_in_supervision()
        g.subject = subject
        g.device_id = row.device_id
        g.token = row
        return view(*args, **kwargs)

    return wrapper


def _live_token(token: str) -> tuple[ApiToken, Subject] | None:
    """The live phone token presented and its subject, in one statement (the hot paths' first)."""
    found = db.session.execute(
        select(ApiToken, Subject)
        .join(Subject, Subject.id == ApiToken.subject_id)
        .where(
            ApiToken.token_hash == token_digest(token),
            ApiToken.revoked.is_(False),
            ApiToken.expires_at > clock.now(),
        )
    ).first()
    return None if found is None else (found[0], found[1])
