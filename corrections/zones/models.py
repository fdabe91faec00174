"""A subject's zones: where they must stay, and where they must not go."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from corrections.extensions import db

ZONE_KINDS = ("allowed", "exclusion")


class Zone(db.Model):
    """An allowed area (stay inside their union) or an exclusion area (stay out)."""

    __tablename__ = "zones"
    __table_args__ = (
        CheckConstraint("kind IN ('allowed', 'exclusion')", name="kind"),
        CheckConstraint(
            "(polygon IS NULL AND lat IS NOT NULL AND lon IS NOT NULL AND radius_m > 0)"
            " OR (polygon IS NOT NULL AND radius_m IS NULL)",
            name="circle_or_polygon",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    #: Circle centre (or, for a polygon, its centroid, for display).
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    #: [[lat, lon], ...] for a polygon zone.
    polygon: Mapped[list | None] = mapped_column(JSON)
    #: Limits a zone to a date range (a travel permit's destination); null means always.
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)

    def to_dict(self, *, geometry: bool = True) -> dict:
        """The zone as the APIs show it; without `geometry` only its kind and name (an
        exclusion zone is often a victim's home: the subject's phone never gets its place)."""
        data = {"id": self.id, "kind": self.kind, "name": self.name}
        if geometry:
            if self.polygon is not None:
                data["polygon"] = self.polygon
            else:
                data.update(lat=self.lat, lon=self.lon, radius_m=self.radius_m)
        if self.valid_from or self.valid_to:
            data["valid_from"] = self.valid_from.isoformat() if self.valid_from else None
            data["valid_to"] = self.valid_to.isoformat() if self.valid_to else None
        return data
