"""Token authentication for the subject's phone."""

from __future__ import annotations

import functools

from flask import g
from sqlalchemy import bindparam, select

from corrections import clock
from corrections.auth.access import bearer_token
from corrections.auth.models import ApiToken
from corrections.auth.services import token_digest
from corrections.errors import ApiError
from corrections.extensions import db
from corrections.subjects.models import Subject, SubjectFacts
from mobile_api.errors import not_in_supervision


def subject_required(view):
    """Require a subject's bearer token (401 otherwise) whose supervision has not ended (403
    not_in_supervision); sets g.subject (SubjectFacts: the ORM Subject is loaded by the views
    that show more), g.device_id and g.token_id."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        row = _live_token(token) if token else None
        if row is None:
            raise ApiError(401)
        subject = SubjectFacts(*row[2:])
        if subject.status_on(clock.local_today()) == "ended":
            raise not_in_supervision()
        g.subject = subject
        g.device_id = row.device_id
        g.token_id = row.id
        return view(*args, **kwargs)

    return wrapper


def _live_token(token: str):
    """The live phone token presented (id, device id) and its subject's facts, in one Core
    statement built once (every phone request's first)."""
    return (
        db.session.connection()
        .execute(_LIVE_TOKEN, {"digest": token_digest(token), "now": clock.now()})
        .first()
    )


_LIVE_TOKEN = (
    select(
        ApiToken.id,
        ApiToken.device_id,
        Subject.id,
        Subject.office_id,
        Subject.level,
        Subject.supervision_start,
        Subject.supervision_end,
        Subject.home_lat,
        Subject.home_lon,
    )
    .join(Subject, Subject.id == ApiToken.subject_id)
    .where(
        ApiToken.token_hash == bindparam("digest"),
        ApiToken.revoked.is_(False),
        ApiToken.expires_at > bindparam("now"),
    )
)
