"""Accounts, passwords, logins and bearer tokens. Every change to an account, every login and
every failed login is audited here, so the pages, the API and the CLI leave the same trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from corrections import clock
from corrections.actors import Actor
from corrections.audit.services import record as audit
from corrections.auth import sessions
from corrections.auth.models import ROLES, ApiToken, Officer
from corrections.auth.passwords import DEFAULT_MIN_LENGTH, PasswordRefused, check_password
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


def password_min_length() -> int:
    """PASSWORD_MIN_LENGTH (default 10)."""
    return current_app.config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH)


def check_new_password(password: str, username: str) -> None:
    """AccountError on the field "password" when the policy refuses it (see passwords.py)."""
    try:
        check_password(password, username, password_min_length())
    except PasswordRefused as refused:
        raise AccountError("password", refused.message, **refused.params) from None


def create_officer(
    username: str,
    password: str,
    role: str,
    office_code: str | None = None,
    *,
    display_name: str | None = None,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> Officer:
    """Create an account; AccountError on a duplicate name, unknown role or office, or a
    password the policy refuses. Audited as `officer.create` (by the system unless `actor`)."""
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
    check_new_password(password, username)
    now = now or clock.now()
    officer = Officer(
        username=username,
        display_name=display_name or None,
        password_hash=hash_secret(password),
        role=role,
        office=office,
        created_at=now,
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
    audit(
        "officer.create",
        actor or Actor.system(),
        now,
        detail={"officer_id": officer.id, "username": username, "role": role},
    )
    return officer


def _username_taken(username: str) -> bool:
    return db.session.scalar(select(Officer.id).where(Officer.username == username)) is not None


def authenticate_officer(username: str, password: str) -> Officer | None:
    """The active officer with this name and password, else None."""
    officer = db.session.scalar(select(Officer).where(Officer.username == username))
    if not check_secret(officer.password_hash if officer else None, password):
        return None
    return officer if officer.active else None


def officer_login(
    username: str, password: str, *, via: str, ip: str | None, now: dt.datetime
) -> Officer | None:
    """Check a login (`via` "web" or "api"); the officer, or None. Both outcomes are audited:
    `officer.login` by the officer, `officer.login_failed` by whoever tried, naming the account
    (its id when it exists) and the address."""
    officer = authenticate_officer(username, password)
    if officer is None:
        known = db.session.scalar(select(Officer.id).where(Officer.username == username))
        audit(
            "officer.login_failed",
            Actor.anonymous(ip),
            now,
            detail={"via": via, "username": username[:64], "officer_id": known},
        )
        return None
    audit("officer.login", Actor.officer(officer.id, ip), now, detail={"via": via})
    return officer


def officer_logout(officer_id: int, *, via: str, ip: str | None, now: dt.datetime) -> None:
    """Audit a sign-out (`via` "web" or "api"); the caller ends the session or token."""
    audit("officer.logout", Actor.officer(officer_id, ip), now, detail={"via": via})


@dataclass(frozen=True)
class SignedOut:
    """What ending an account's access ended."""

    tokens: int
    sessions: int


def sign_out_everywhere(officer: Officer, *, actor: Actor, now: dt.datetime) -> SignedOut:
    """End every web session and revoke every token of the account (audited)."""
    ended = _end_access(officer, now)
    audit(
        "officer.signed_out",
        actor,
        now,
        detail={"officer_id": officer.id, "tokens": ended.tokens, "sessions": ended.sessions},
    )
    return ended


def _end_access(officer: Officer, now: dt.datetime) -> SignedOut:
    return SignedOut(
        tokens=revoke_tokens(now=now, officer_id=officer.id),
        sessions=sessions.end_all(officer.id, now=now),
    )


def set_password(officer: Officer, password: str, *, actor: Actor, now: dt.datetime) -> SignedOut:
    """Give the account a new password (AccountError when the policy refuses it). Every session
    and token of the account ends: whoever held a copy of one is out."""
    check_new_password(password, officer.username)
    officer.password_hash = hash_secret(password)
    ended = _end_access(officer, now)
    audit(
        "officer.password_set",
        actor,
        now,
        detail={"officer_id": officer.id, "tokens": ended.tokens, "sessions": ended.sessions},
    )
    return ended


def change_own_password(
    officer: Officer, current: str, new: str, *, actor: Actor, now: dt.datetime
) -> SignedOut:
    """The officer changes their own password; AccountError on "current_password" when the
    current one is wrong, on "password" when the new one is refused."""
    if not check_secret(officer.password_hash, current):
        raise AccountError("current_password", N_("the current password is not right"))
    if new == current:
        raise AccountError("password", N_("the new password must differ from the current one"))
    return set_password(officer, new, actor=actor, now=now)


def set_active(officer: Officer, active: bool, *, actor: Actor, now: dt.datetime) -> SignedOut:
    """Deactivate (ending every session and token) or reactivate an account (audited)."""
    if actor.kind == "officer" and actor.id == officer.id and not active:
        raise AccountError("active", N_("you cannot deactivate your own account"))
    officer.active = active
    ended = _end_access(officer, now) if not active else SignedOut(0, 0)
    audit(
        "officer.deactivate" if not active else "officer.reactivate",
        actor,
        now,
        detail={"officer_id": officer.id, "tokens": ended.tokens, "sessions": ended.sessions},
    )
    return ended


def update_officer(
    officer: Officer,
    *,
    display_name: str | None,
    office_code: str | None,
    actor: Actor,
    now: dt.datetime,
) -> None:
    """Set the display name and the office (AccountError on an unknown office, or no office for
    an office officer). Audited with what changed."""
    office = None
    if office_code:
        office = db.session.scalar(select(Office).where(Office.code == office_code))
        if office is None:
            raise AccountError("office_code", N_("no office with code %(code)r"), code=office_code)
    if officer.role == "officer" and office is None:
        raise AccountError("office_code", N_("an officer account needs an office"))
    changes = {}
    if (display_name or None) != officer.display_name:
        changes["display_name"] = display_name or None
    if (office.id if office else None) != officer.office_id:
        changes["office_code"] = office.code if office else None
    officer.display_name = display_name or None
    officer.office = office
    if changes:
        audit("officer.update", actor, now, detail={"officer_id": officer.id, **changes})


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def token_digest(token: str) -> str:
    """What is stored of a bearer token: its SHA-256 (a fast hash is enough for 256 random
    bits; a password KDF here would cost every request tens of milliseconds)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    *, now: dt.datetime, lifetime: dt.timedelta, officer_id=None, subject_id=None, device_id=None
) -> tuple[str, ApiToken]:
    """Create a bearer token; the plain token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=token_digest(token),
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
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked or row.expires_at <= now:
        return None
    return row


def revoke_token(token_id: int) -> None:
    """Revoke one token (the caller's own, on logout)."""
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked=True))


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
