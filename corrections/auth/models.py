"""Officer accounts, their signed-in browsers, API tokens, and the rate limiter's counts."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from corrections import clock
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.types import UtcDateTime

ROLES = ("admin", "supervisor", "officer", "viewer")
#: Roles that see every office.
COUNTY_ROLES = ("admin", "supervisor", "viewer")


class Officer(UserMixin, db.Model):
    """A staff account: admin, supervisor, office officer or wall viewer."""

    __tablename__ = "officers"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'supervisor', 'officer', 'viewer')", name="role"),
        CheckConstraint("role != 'officer' OR office_id IS NOT NULL", name="officer_has_office"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: The name shown on the pages (e.g. 李建国); the username when empty.
    display_name: Mapped[str | None] = mapped_column(String(64))
    #: werkzeug scrypt hash; the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    #: The office an `officer` works in; null for county-level roles.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)

    office: Mapped[Office | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.active

    @property
    def shown_name(self) -> str:
        """The display name, or the username when the account has none."""
        return self.display_name or self.username

    @property
    def scope_office_id(self) -> int | None:
        """The one office this account is limited to, or None for county-wide roles."""
        return None if self.role in COUNTY_ROLES else self.office_id

    def to_dict(self) -> dict:
        """The account as the API shows it (never the hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "office_code": self.office.code if self.office else None,
            "active": self.active,
        }


class ApiToken(db.Model):
    """A bearer token for an officer's API client or a subject's phone; only its hash is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("(officer_id IS NULL) != (subject_id IS NULL)", name="exactly_one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token; a database leak does not leak usable tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    #: The phone that logged in, for a subject's token.
    device_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class OfficerSession(db.Model):
    """One signed-in browser. The session cookie carries its token; the server decides whether it
    still lives, so signing out, a password change or a deactivation ends it for any copy of the
    cookie, and it ends by itself when idle or old (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS)."""

    __tablename__ = "officer_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token in the cookie; a database leak gives no usable session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: The last request seen (updated at most once a minute).
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: When it was ended (sign-out, password change, deactivation, expiry); null while it lives.
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: The client address that signed in.
    ip: Mapped[str | None] = mapped_column(String(64))


class RateLimitHit(db.Model):
    """One counted attempt of a rate limit (failed logins, check-ins). Kept in the database so
    every worker and server sees the same counts (Redis holds them instead when REDIS_URL is
    set); rows are deleted once they expire."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The limit and who is counted, e.g. "LIMITER/login-account/officer:li/10/900/second".
    key: Mapped[str] = mapped_column(String(255))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: When this attempt stops counting (at + the limit's window).
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
