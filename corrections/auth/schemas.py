"""Request schemas for accounts and tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from corrections.validation import Schema


class TokenIn(Schema):
    """Username and password for an API token."""

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class OfficerIn(Schema):
    """A new officer account."""

    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{2,64}$")]
    password: Annotated[str, Field(min_length=8, max_length=256)]
    role: Literal["admin", "supervisor", "officer", "viewer"]
    office_code: Annotated[str, Field(min_length=1, max_length=32)] | None = None
