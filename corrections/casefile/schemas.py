"""The enrolment request: the person, their check-in plan and their zones in one body (shared
by the API, the web form and the demo loader)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from corrections import geo_china
from corrections.checkin.schemas import CheckinPlanIn
from corrections.i18n import N_
from corrections.phones import normalize_phone
from corrections.subjects.services import Person
from corrections.validation import Latitude, Longitude, Schema, optional, text
from corrections.zones.schemas import ZoneIn

#: Supervision dates: late records and enrolment ahead are fine, year 1 or 9999 is a typo (and
#: would overflow the window arithmetic).
SupervisionDate = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2099, 12, 31))]


SWAPPED_LATITUDE = N_(
    "latitude and longitude look swapped: a latitude lies between -90 and 90, so the first "
    "number must be the smaller one (e.g. 24.70, 107.50)"
)


class PointIn(Schema):
    """A place: latitude and longitude in degrees (WGS 84)."""

    lat: Latitude
    lon: Longitude

    @model_validator(mode="before")
    @classmethod
    def _not_swapped(cls, value):
        # 107.5, 24.7 for a home at 24.7N 107.5E: "must be at most 90" would not say why.
        if isinstance(value, dict):
            lat, lon = value.get("lat"), value.get("lon")
            numbers = all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)
            )
            if numbers and 90 < abs(lat) <= 180 and abs(lon) <= 90:
                raise ValueError(SWAPPED_LATITUDE)
        return value


def _valid_phone(value: str) -> str:
    normalized = normalize_phone(value, strict=True)
    if normalized is None:
        raise ValueError(N_("is not a valid phone number"))
    return normalized


class EmergencyContactIn(Schema):
    """Whom to call when the person cannot be reached: a number, and whose it is (optional)."""

    name: optional(text(64)) = None
    phone: text(32, min_length=5, digits=True)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return _valid_phone(value)


class SubjectIn(Schema):
    """Everything needed to enrol a subject: the person, the plan and the zones."""

    name: text(64)
    phone: text(32, min_length=5, digits=True)
    pin: text(8, pattern=r"^[0-9]{4,8}$", digits=True, wanted=N_("must be 4 to 8 digits"))
    office_code: text(32)
    category: Literal["control", "probation", "parole", "medical_parole"]
    level: Literal["strict", "normal", "lenient"]
    supervision_start: SupervisionDate
    supervision_end: SupervisionDate
    id_number: optional(
        text(
            18,
            pattern=r"^[0-9]{17}[0-9Xx]$",
            digits=True,
            wanted=N_("must be 18 characters: 17 digits, then a digit or X"),
        )
    ) = None
    home: PointIn
    zones: Annotated[list[ZoneIn], Field(max_length=50)] = []
    checkin: CheckinPlanIn
    emergency_contact: EmergencyContactIn | None = None
    #: Where the coordinates were read: GPS or 天地图 (wgs84), 高德 or 腾讯 (gcj02), 百度 (bd09).
    #: Every coordinate of the body is turned into WGS-84 before anything else sees it.
    coord_source: Literal["wgs84", "gcj02", "bd09"] = "wgs84"

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return _valid_phone(value)

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

    @model_validator(mode="after")
    def _to_wgs84(self) -> SubjectIn:
        source = self.coord_source
        if source == geo_china.WGS84:
            return self
        self.home.lat, self.home.lon = geo_china.to_wgs84(self.home.lat, self.home.lon, source)
        for zone in self.zones:
            if hasattr(zone, "polygon"):
                zone.polygon = [geo_china.to_wgs84(lat, lon, source) for lat, lon in zone.polygon]
            else:
                zone.lat, zone.lon = geo_china.to_wgs84(zone.lat, zone.lon, source)
        self.coord_source = geo_china.WGS84
        return self

    def person(self) -> Person:
        """The person's part."""
        return Person(
            name=self.name,
            phone=self.phone,
            pin=self.pin,
            category=self.category,
            level=self.level,
            supervision_start=self.supervision_start,
            supervision_end=self.supervision_end,
            id_number=self.id_number,
            home_lat=self.home.lat,
            home_lon=self.home.lon,
            emergency_contact_name=self.emergency_contact.name if self.emergency_contact else None,
            emergency_contact_phone=self.emergency_contact.phone
            if self.emergency_contact
            else None,
        )
