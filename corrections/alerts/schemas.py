"""Request schemas for working alerts."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from corrections.validation import Schema


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Text = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_not_blank)]


class ResolveIn(Schema):
    """Resolving takes a note saying what was done."""

    note: Text


class DismissIn(Schema):
    """Dismissing (a false positive) takes the reason."""

    reason: Text
