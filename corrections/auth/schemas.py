"""Request schemas for accounts and tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from corrections.validation import Schema, text

#: The password policy itself (length, not blank, not the username, not common) is the
#: service's (corrections/auth/passwords.py), so the API, the CLI and the pages agree.
NewPassword = Annotated[str, Field(min_length=1, max_length=256)]


class TokenIn(Schema):
    """Username and password for an API token."""

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class OfficerIn(Schema):
    """A new officer account."""

    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{2,64}$")]
    password: NewPassword
    role: Literal["admin", "supervisor", "officer", "viewer"]
    office_code: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    display_name: text(64) | None = None


class OfficerChangeIn(Schema):
    """What an administrator may change on an account: any of these."""

    display_name: Annotated[str, Field(max_length=64)] | None = None
    office_code: Annotated[str, Field(max_length=32)] | None = None
    active: bool | None = None


class PasswordIn(Schema):
    """A new password for an account (set by an administrator)."""

    password: NewPassword


class OwnPasswordIn(Schema):
    """One's own password change."""

    current_password: Annotated[str, Field(min_length=1, max_length=256)]
    password: NewPassword
