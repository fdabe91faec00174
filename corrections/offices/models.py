"""Township judicial offices (司法所) and the county bureau's own units."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from corrections import clock
from corrections.extensions import db
from corrections.types import UtcDateTime


class Office(db.Model):
    """A judicial office; subjects, officers and cases belong to one."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short stable code used by the API and the CLI, e.g. "JG01".
    code: Mapped[str] = mapped_column(String(32), unique=True)
    #: Display name, e.g. 金谷乡司法所.
    name: Mapped[str] = mapped_column(String(120))
    #: Where the office stands; the wall map places it here.
    lat: Mapped[float]
    lon: Mapped[float]
    #: The township's own area, which most of its subjects may move in: a zone body without
    #: its kind ({name, lat, lon, radius_m} or {name, polygon}), WGS-84; None until set.
    standard_zone: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)

    @property
    def choice(self) -> tuple[str, str]:
        """(code, name): the office as an option of a filter."""
        return self.code, self.name

    def to_dict(self) -> dict:
        """The office as the API shows it."""
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "lat": self.lat,
            "lon": self.lon,
            "standard_zone": self.standard_zone,
        }
