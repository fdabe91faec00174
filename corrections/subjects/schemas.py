"""Request schemas for enrolling subjects (shared by the API, the web form and the demo loader)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Discriminator, Field, ValidationInfo, field_validator

from corrections.checkin.windows import parse_hhmm
from corrections.i18n import N_
from corrections.phones import normalize_phone
from corrections.validation import Schema, text, union_tag

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Name = text(120)
#: Supervision dates: late records and enrolment ahead are fine, year 1 or 9999 is a typo (and
#: would overflow the window arithmetic).
SupervisionDate = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2099, 12, 31))]
HHMM = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")]


class PointIn(Schema):
    """A place: latitude and longitude in degrees (WGS 84)."""

    lat: Latitude
    lon: Longitude


class CircleZoneIn(Schema):
    """A circular zone: centre and radius in metres."""

    kind: Literal["allowed", "exclusion"]
    name: Name
    lat: Latitude
    lon: Longitude
    radius_m: Annotated[float, Field(gt=0, le=200_000)]


class PolygonZoneIn(Schema):
    """A polygon zone: at least three [lat, lon] corners."""

    kind: Literal["allowed", "exclusion"]
    name: Name
    polygon: Annotated[list[tuple[Latitude, Longitude]], Field(min_length=3, max_length=500)]

    @field_validator("polygon")
    @classmethod
    def _valid_shape(cls, value):
        from shapely.geometry import Polygon

        if not Polygon([(lon, lat) for lat, lon in value]).is_valid:
            raise ValueError(N_("the polygon's edges must not cross one another"))
        return value


CIRCLE, POLYGON = union_tag("circle"), union_tag("polygon")


def _zone_shape(value) -> str:
    polygon = "polygon" in value if isinstance(value, dict) else hasattr(value, "polygon")
    return POLYGON.tag if polygon else CIRCLE.tag


ZoneIn = Annotated[
    Annotated[CircleZoneIn, CIRCLE] | Annotated[PolygonZoneIn, POLYGON],
    Discriminator(_zone_shape),
]


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


class SubjectIn(Schema):
    """Everything needed to enrol a subject: the person, the plan and the zones."""

    name: text(64)
    phone: Annotated[str, Field(min_length=5, max_length=32)]
    pin: Annotated[str, Field(pattern=r"^\d{4,8}$")]
    office_code: Annotated[str, Field(min_length=1, max_length=32)]
    category: Literal["control", "probation", "parole", "medical_parole"]
    level: Literal["strict", "normal", "lenient"]
    supervision_start: SupervisionDate
    supervision_end: SupervisionDate
    id_number: Annotated[str, Field(pattern=r"^\d{17}[\dXx]$")] | None = None
    home: PointIn
    zones: Annotated[list[ZoneIn], Field(max_length=50)] = []
    checkin: CheckinPlanIn

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        normalized = normalize_phone(value, strict=True)
        if normalized is None:
            raise ValueError(N_("is not a valid phone number"))
        return normalized

    @field_validator("id_number")
    @classmethod
    def _upper_x(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @field_validator("supervision_end")
    @classmethod
    def _period(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("supervision_start")
        if start is not None and value < start:
            raise ValueError(N_("must not be before supervision_start"))
        return value
