"""Zones as requests describe them: a circle or a polygon, allowed or excluded."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, field_validator

from corrections.i18n import N_
from corrections.validation import Latitude, Longitude, Schema, text, union_tag

Name = text(120)


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
