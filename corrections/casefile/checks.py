"""What an enrolment may have got wrong although every field is valid: warnings the officer
confirms before the subject is enrolled (the form), or reads back (the API). Pure: the body, the
office's seat and a distance in, findings out."""

from __future__ import annotations

from dataclasses import dataclass, field

from corrections.i18n import N_, distance_text, translate
from corrections.zones.rules import ZoneShape, distance_outside_m, geodesic_m

SWAPPED = "coordinates_swapped"
HOME_OUTSIDE = "home_outside_allowed_zones"
ZONE_FAR = "zone_far_from_office"

#: The sentence for each warning (N_ msgids; `params` fill them).
MESSAGES = {
    SWAPPED: N_(
        "latitude and longitude look swapped: the home is %(given)s from the office, but "
        "%(swapped)s if the two numbers are exchanged"
    ),
    HOME_OUTSIDE: N_(
        "the home lies outside every allowed area: the person would be out of bounds at home"
    ),
    ZONE_FAR: N_("this area is %(distance)s from the office"),
}


@dataclass(frozen=True)
class EnrolmentWarning:
    """A finding: its code, the body field it concerns ("home.lat", "zones.1.lat") and the
    distances (metres) its sentence names."""

    code: str
    field: str
    params: dict = field(default_factory=dict)

    def message(self) -> str:
        """The sentence in the reader's language."""
        distances = {name: distance_text(m) for name, m in self.params.items()}
        return translate(MESSAGES[self.code], **distances)

    def to_dict(self) -> dict:
        """As the API shows it."""
        return {"code": self.code, "field": self.field, "message": self.message()}


def _shape(zone) -> ZoneShape:
    polygon = getattr(zone, "polygon", None)
    if polygon is not None:
        return ZoneShape(None, zone.kind, zone.name, polygon=tuple(tuple(c) for c in polygon))
    return ZoneShape(None, zone.kind, zone.name, zone.lat, zone.lon, zone.radius_m)


def enrolment_warnings(
    home: tuple[float, float],
    zones: list,
    office: tuple[float, float],
    *,
    radius_m: float,
) -> list[EnrolmentWarning]:
    """Warnings for an enrolment with its home and zones (WGS-84) at an office seated at
    `office`; `radius_m` is how far from the office a township's places may lie."""
    warnings = []
    from_office = geodesic_m(home, office)
    swapped = (home[1], home[0])
    if from_office > radius_m and abs(swapped[0]) <= 90:
        swapped_from_office = geodesic_m(swapped, office)
        if swapped_from_office <= radius_m:
            params = {"given": from_office, "swapped": swapped_from_office}
            warnings.append(EnrolmentWarning(SWAPPED, "home.lat", params))
    shapes = [_shape(z) for z in zones]
    allowed = [s for s in shapes if s.kind == "allowed"]
    if allowed and all(distance_outside_m(*home, s) > 0 for s in allowed):
        warnings.append(EnrolmentWarning(HOME_OUTSIDE, "home.lat"))
    for index, shape in enumerate(shapes):
        away = distance_outside_m(*office, shape)
        if away > radius_m:
            leaf = "polygon" if shape.polygon is not None else "lat"
            params = {"distance": away}
            warnings.append(EnrolmentWarning(ZONE_FAR, f"zones.{index}.{leaf}", params))
    return warnings
