"""Schemas of the subject's phone API; they validate requests and generate /openapi.json."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AwareDatetime, Field, RootModel

from corrections.validation import Latitude, Longitude, Schema, text


class LoginIn(Schema):
    """The subject's phone number, PIN and the phone's own device id."""

    phone: text(32, min_length=5, digits=True)
    pin: text(16, digits=True)
    device_id: text(128)


class LoginOut(Schema):
    """A bearer token for the phone."""

    token: str
    expires_at: dt.datetime
    subject_id: int


#: A phone's own id for a report: retries send it again.
ClientId = text(64, pattern=r"^[\w.:-]+$")
AccuracyM = Annotated[float, Field(ge=0, le=100_000, description="radius of the fix, metres")]


class CheckinIn(Schema):
    """A location check-in; `client_id` makes retries safe."""

    client_id: ClientId
    lat: Latitude
    lon: Longitude
    accuracy_m: AccuracyM
    recorded_at: AwareDatetime
    mock_location: bool | None = None
    battery_pct: Annotated[int, Field(ge=0, le=100)] | None = None


class SignalIn(Schema):
    """One background position; `client_id` (optional) makes retries safe."""

    client_id: ClientId | None = None
    lat: Latitude
    lon: Longitude
    accuracy_m: AccuracyM
    recorded_at: AwareDatetime
    mock_location: bool | None = None
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    speed_kmh: Annotated[float, Field(ge=0, le=2_000)] | None = None


#: The most positions one batch may carry (CONTRACT).
MAX_SIGNALS = 500


class SignalsIn(RootModel[Annotated[list[SignalIn], Field(min_length=1, max_length=MAX_SIGNALS)]]):
    """Up to 500 background positions, in any order."""


class SignalsOut(Schema):
    """How many positions were stored, and how many had been stored before."""

    stored: int
    duplicates: int


class Window(Schema):
    """A check-in window, UTC."""

    start: dt.datetime
    end: dt.datetime


class CheckinOut(Schema):
    """What the rules made of the check-in, and the window it met."""

    id: int
    status: str = Field(description="accepted or flagged")
    flags: list[str]
    window: Window | None = Field(description="the check-in window it met; null when none")


class ErrorBody(Schema):
    """The error shape of every endpoint."""

    code: str
    message: str
    fields: dict[str, str] | None = None


class Error(Schema):
    """{"error": {...}}"""

    error: ErrorBody
