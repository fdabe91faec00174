"""Request schemas for accounts and tokens."""

from __future__ import annotations

from typing import Literal

from corrections.validation import Schema, optional, text

#: The password policy itself (length, not blank, not the username, not common) is the
#: service's (corrections/auth/passwords.py), so the API, the CLI and the pages agree. A password
#: is taken as typed (not trimmed), but one with nothing visible in it counts as missing.
NewPassword = text(256, strip=False)


class TokenIn(Schema):
    """Username and password for an API token."""

    username: text(64)
    password: text(256, strip=False)


class OfficerIn(Schema):
    """A new officer account."""

    username: text(64, pattern=r"^[A-Za-z0-9_.-]{2,64}$")
    password: NewPassword
    role: Literal["admin", "supervisor", "officer", "viewer"]
    office_code: optional(text(32)) = None
    display_name: optional(text(64)) = None


class OfficerChangeIn(Schema):
    """What an administrator may change on an account: any of these (a blank name or office
    clears it)."""

    display_name: optional(text(64)) = None
    office_code: optional(text(32)) = None
    active: bool | None = None


class PasswordIn(Schema):
    """A new password for an account (set by an administrator)."""

    password: NewPassword


class OwnPasswordIn(Schema):
    """One's own password change."""

    current_password: text(256, strip=False)
    password: NewPassword
