"""Request schemas for accounts and tokens."""

from __future__ import annotations

from typing import Literal

from corrections.validation import Schema, optional, text


class TokenIn(Schema):
    """Username and password for an API token."""

    username: text(64)
    password: text(256, strip=False)


class OfficerIn(Schema):
    """A new officer account."""

    username: text(64, pattern=r"^[A-Za-z0-9_.-]{2,64}$")
    password: text(256, min_length=8, strip=False)
    role: Literal["admin", "supervisor", "officer", "viewer"]
    office_code: optional(text(32)) = None
