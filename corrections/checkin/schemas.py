"""Check-in plans as requests describe them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from corrections.checkin.windows import parse_hhmm
from corrections.i18n import N_
from corrections.validation import Schema, text

HHMM = text(5, pattern=r"^[0-9]{2}:[0-9]{2}$", digits=True)


class CheckinPlanIn(Schema):
    """Check in every N days inside a local-time window (HH:MM to HH:MM)."""

    every_days: Annotated[int, Field(ge=1, le=90)]
    window_start: HHMM
    window_end: HHMM
    video_every_days: Annotated[int, Field(ge=1, le=90)] | None = None

    @field_validator("window_start", "window_end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            parse_hhmm(value)
        except ValueError:
            raise ValueError(N_("must be a time of day, HH:MM (00:00 to 23:59)")) from None
        return value

    @field_validator("window_end")
    @classmethod
    def _not_empty(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("window_start"):
            raise ValueError(N_("must differ from window_start"))
        return value


class PlanChangeIn(CheckinPlanIn):
    """A new plan from a local day on: today or later (windows already judged keep theirs)."""

    effective_on: dt.date
