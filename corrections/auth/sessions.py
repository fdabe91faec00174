"""Officers' web sessions, kept on the server.

The signed session cookie carries a random token; the `officer_sessions` row it names decides
whether the session lives. So signing out, a password change or a deactivation ends it for
every copy of the cookie, on every worker and server, and across restarts; and a session ends
by itself after `idle` without a request or `absolute` after its login.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update

from corrections.auth.models import OfficerSession
from corrections.extensions import db

#: A session's last request is written at most this often (not on every request).
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class SessionSettings:
    """How long a session lives without a request (`idle`) and at most (`absolute`)."""

    idle: dt.timedelta
    absolute: dt.timedelta

    @classmethod
    def from_config(cls, config) -> SessionSettings:
        """From SESSION_IDLE_MINUTES and SESSION_MAX_HOURS."""
        return cls(
            idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            absolute=dt.timedelta(hours=config["SESSION_MAX_HOURS"]),
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(officer_id: int, *, now: dt.datetime, ip: str | None) -> str:
    """Open a session for the officer; the token for the cookie (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        OfficerSession(
            token_hash=_digest(token),
            officer_id=officer_id,
            created_at=now,
            last_seen_at=now,
            ip=ip,
        )
    )
    db.session.flush()
    return token


def live(token: str, *, now: dt.datetime, settings: SessionSettings) -> OfficerSession | None:
    """The living session the token names, else None; one found idle or too old is ended, and
    one seen again after a while is marked seen (in the caller's transaction)."""
    row = db.session.scalar(
        select(OfficerSession).where(OfficerSession.token_hash == _digest(token))
    )
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at >= settings.idle or now - row.created_at >= settings.absolute:
        row.ended_at = now
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def end(token: str, *, now: dt.datetime) -> None:
    """End the session the token names (signing out)."""
    db.session.execute(
        update(OfficerSession)
        .where(OfficerSession.token_hash == _digest(token), OfficerSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


def end_all(officer_id: int, *, now: dt.datetime) -> int:
    """End every session of the officer; how many were living."""
    result = db.session.execute(
        update(OfficerSession)
        .where(OfficerSession.officer_id == officer_id, OfficerSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def count_live(officer_ids: list[int], *, now: dt.datetime, settings: SessionSettings) -> dict:
    """{officer id: how many of their sessions live} for the account list."""
    if not officer_ids:
        return {}
    rows = db.session.execute(
        select(OfficerSession.officer_id, db.func.count())
        .where(
            OfficerSession.officer_id.in_(officer_ids),
            OfficerSession.ended_at.is_(None),
            OfficerSession.last_seen_at > now - settings.idle,
            OfficerSession.created_at > now - settings.absolute,
        )
        .group_by(OfficerSession.officer_id)
    ).all()
    return dict(rows)


def prune(now: dt.datetime, settings: SessionSettings, keep: dt.timedelta) -> int:
    """Delete the sessions that ended, or could no longer live, more than `keep` ago."""
    cutoff = now - keep
    result = db.session.execute(
        delete(OfficerSession).where(
            or_(
                OfficerSession.ended_at <= cutoff,
                OfficerSession.last_seen_at <= cutoff - settings.idle,
                OfficerSession.created_at <= cutoff - settings.absolute,
            )
        )
    )
    return result.rowcount or 0
