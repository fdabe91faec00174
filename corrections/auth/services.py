"""Accounts, passwords, bearer tokens and login throttling."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from functools import lru_cache

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from corrections.auth.models import ROLES, ApiToken, LoginFailure, Officer
from corrections.extensions import db
from corrections.i18n import N_, FieldProblem
from corrections.offices.models import Office

TAKEN = N_("an account named %(username)r already exists")


class AccountError(FieldProblem):
    """An account cannot be created as asked; `field` names the culprit."""


def hash_secret(secret: str) -> str:
    """Hash a password or PIN for storage."""
    return generate_password_hash(secret, method=_hash_method())


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def check_secret(stored_hash: str | None, secret: str) -> bool:
    """Compare a password or PIN with its stored hash. With no hash (no such account) the same
    work is done against a dummy, so a name or phone number cannot be probed by timing."""
    if stored_hash is None:
        check_password_hash(_dummy_hash(_hash_method()), secret)
        return False
    return check_password_hash(stored_hash, secret)


def create_officer(
    username: str, password: str, role: str, office_code: str | None = None
) -> Officer:
    """Create an account; AccountError on a duplicate name, unknown role or unknown office."""
    if role not in ROLES:
        raise AccountError(
            "role",
            N_("unknown role %(role)r; one of: %(roles)s"),
            role=role,
            roles=", ".join(ROLES),
        )
    if _username_taken(username):
        raise AccountError("username", TAKEN, username=username)
    office = None
    if office_code is not None:
        office = db.session.scalar(select(Office).where(Office.code == office_code))
        if office is None:
            raise AccountError("office_code", N_("no office with code %(code)r"), code=office_code)
    if role == "officer" and office is None:
        raise AccountError("office_code", N_("an officer account needs an office"))
    officer = Officer(
        username=username,
        password_hash=hash_secret(password),
        role=role,
        office=office,
    )
    try:
        with db.session.begin_nested():
            db.session.add(officer)
            db.session.flush()
    except IntegrityError:
        # Another request created the name between our check and our insert.
        if _username_taken(username):
            raise AccountError("username", TAKEN, username=username) from None
        raise
    return officer


def _username_taken(username: str) -> bool:
    return db.session.scalar(select(Officer.id).where(Officer.username == username)) is not None


def authenticate_officer(username: str, password: str) -> Officer | None:
    """The active officer with this name and password, else None."""
    officer = db.session.scalar(select(Officer).where(Officer.username == username))
    if not check_secret(officer.password_hash if officer else None, password):
        return None
    return officer if officer.active else None


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    *, now: dt.datetime, lifetime: dt.timedelta, officer_id=None, subject_id=None, device_id=None
) -> tuple[str, ApiToken]:
    """Create a bearer token; the plain token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=_token_digest(token),
        officer_id=officer_id,
        subject_id=subject_id,
        device_id=device_id,
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(row)
    db.session.flush()
    return token, row


def find_token(token: str, now: dt.datetime) -> ApiToken | None:
    """The live token row for a presented bearer token, else None."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    if row is None or row.revoked or row.expires_at <= now:
        return None
    return row


def revoke_tokens(
    *,
    now: dt.datetime,
    officer_id: int | None = None,
    subject_id: int | None = None,
    keep_id: int | None = None,
) -> int:
    """Revoke every live token of an officer or a subject (but `keep_id`); how many."""
    if (officer_id is None) == (subject_id is None):
        raise ValueError("name exactly one owner")
    owner = ApiToken.officer_id == officer_id if officer_id else ApiToken.subject_id == subject_id
    query = update(ApiToken).where(owner, ApiToken.revoked.is_(False), ApiToken.expires_at > now)
    if keep_id is not None:
        query = query.where(ApiToken.id != keep_id)
    result = db.session.execute(
        query.values(revoked=True).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def retry_after_seconds(key: str, now: dt.datetime, limit: int, window: dt.timedelta) -> int | None:
    """Seconds until `key` may try again, or None when it is under the failure limit."""
    since = now - window
    recent = db.session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.key == key, LoginFailure.at > since)
        .order_by(LoginFailure.at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    # The oldest of the last `limit` failures must age out of the window first.
    free_at = recent[-1] + window
    return max(1, math.ceil((free_at - now).total_seconds()))


def record_failure(key: str, now: dt.datetime, window: dt.timedelta) -> LoginFailure:
    """Remember one failed attempt, pruning the ones too old to matter."""
    db.session.execute(
        delete(LoginFailure).where(LoginFailure.key == key, LoginFailure.at <= now - window)
    )
    row = LoginFailure(key=key, at=now)
    db.session.add(row)
    db.session.flush()
    return row


def failures_since(key: str, since: dt.datetime) -> int:
    """How many failed (or still undecided) attempts `key` has made after `since`."""
    return (
        db.session.scalar(
            select(func.count()).where(LoginFailure.key == key, LoginFailure.at > since)
        )
        or 0
    )


def forget_failure(failure_id: int) -> None:
    """Drop one recorded attempt (one that was refused before its secret was checked)."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.id == failure_id))


def clear_failures(key: str) -> None:
    """Forget failures after a successful login."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == key))
