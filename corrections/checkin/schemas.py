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
    #: The curfew: the subject must be at home from curfew_start to curfew_end (local time; an
    #: end before the start crosses midnight). Both or neither.
    curfew_start: HHMM | None = None
    curfew_end: Annotated[HHMM | None, Field(validate_default=True)] = None

    @field_validator("window_start", "window_end", "curfew_start", "curfew_end")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is None:
            return None
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

    @field_validator("curfew_end")
    @classmethod
    def _curfew_whole(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "curfew_start" not in info.data:
            return value  # curfew_start itself was refused; that error says enough
        start = info.data["curfew_start"]
        if value is None and start is not None:
            raise ValueError(N_("is required when curfew_start is given"))
        if value is not None and start is None:
            raise ValueError(N_("needs curfew_start as well"))
        if value is not None and value == start:
            raise ValueError(N_("must differ from curfew_start"))
        return value


class PlanChangeIn(CheckinPlanIn):
    """A new plan from a local day on: today or later (windows already judged keep theirs)."""

    effective_on: dt.date
