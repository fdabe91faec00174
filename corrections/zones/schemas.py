"""Zones as requests describe them: a circle or a polygon, allowed or excluded."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, field_validator

from corrections.i18n import N_
from corrections.validation import Latitude, Longitude, Schema, text, union_tag
from corrections.zones import rules

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
        # Judged on the ground (in the polygon's own frame), not on a longitude/latitude plane,
        # where a zone across the antimeridian would seem to span the globe.
        problem = rules.polygon_problem(tuple(tuple(c) for c in value))
        if problem is not None:
            raise ValueError(POLYGON_PROBLEMS[problem])
        return value


POLYGON_PROBLEMS = {
    rules.CROSSING: N_("the polygon's edges must not cross one another"),
    rules.NO_AREA: N_(
        "the polygon must enclose an area: at least three corners, not all on one line"
    ),
    # The number is rules.POLYGON_MAX_RADIUS_M (a test holds them together).
    rules.TOO_LARGE: N_(
        "the polygon is too large for a zone: every corner must lie within 200 km of its middle"
    ),
}


CIRCLE, POLYGON = union_tag("circle"), union_tag("polygon")


def _zone_shape(value) -> str:
    polygon = "polygon" in value if isinstance(value, dict) else hasattr(value, "polygon")
    return POLYGON.tag if polygon else CIRCLE.tag


ZoneIn = Annotated[
    Annotated[CircleZoneIn, CIRCLE] | Annotated[PolygonZoneIn, POLYGON],
    Discriminator(_zone_shape),
]
