"""Background positions (signals) and each subject's tracking state.

Signals are the largest table at national scale (tens of millions of rows a day). Nothing in
them is ever updated: a point is judged once, when it arrives, and its flags are written with it.
Each subject's `TrackingState` carries what the next batch needs (the last fix, the run of fixes
outside, whether an exit is confirmed, the run of identical coordinates, the open signal-lost
alert), so a batch is judged incrementally, never by reading the history back.

On PostgreSQL the table is partitioned by `recorded_at`, one partition a UTC day (see
docs/storage.md), which is why its keys include `recorded_at`: a unique index of a partitioned
table must contain the partition key. The migration makes the primary key (id, recorded_at)
there; the model keeps `id` alone as its identity (the sequence keeps it unique), as SQLite's
plain table has it, and Alembic does not compare primary keys.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from corrections import clock
from corrections.extensions import db
from corrections.types import UtcDateTime

#: Where a signal came from: our phone app (`/mobile/v1/signals`) or a Traccar Client or OsmAnd
#: app (`/osmand`).
SOURCES = ("app", "osmand")
#: The longest client_id a phone may send.
CLIENT_ID_MAX = 64


class Signal(db.Model):
    """One background position, as reported and as the rules marked it (bad fixes are kept)."""

    __tablename__ = "signals"
    __table_args__ = (
        # A point already stored: the same time and place (a retry, or a client that sends
        # no client_id). Also the index every read of a track uses.
        UniqueConstraint(
            "subject_id", "recorded_at", "lat", "lon", name="uq_signals_subject_time_place"
        ),
        Index("ix_signals_subject_client", "subject_id", "client_id"),
        CheckConstraint("source IN ('app', 'osmand')", name="source"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    #: The phone's own id for the point, when it sends one (a retry sends it again).
    client_id: Mapped[str | None] = mapped_column(String(CLIENT_ID_MAX))
    source: Mapped[str] = mapped_column(String(8))
    #: The device that sent it: the app's device id, or the tracking app's bound id.
    device_id: Mapped[str | None] = mapped_column(String(128))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    #: The accuracy the phone claimed (metres); null when the app sent none.
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    mock_location: Mapped[bool | None] = mapped_column(Boolean)
    #: When the phone took the fix; partitions and every time rule go by it.
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: What the rules saw in this point (signals.rules.FLAGS); empty for a plain fix.
    flags: Mapped[list] = mapped_column(JSON, default=list)

    def to_dict(self) -> dict:
        """The signal as the API shows it (a check-in item of kind `signal`)."""
        return {
            "id": self.id,
            "kind": "signal",
            "source": self.source,
            "lat": self.lat,
            "lon": self.lon,
            "accuracy_m": self.accuracy_m,
            "recorded_at": clock.isoformat(self.recorded_at),
            "received_at": clock.isoformat(self.received_at),
            "status": "flagged" if self.flags else "accepted",
            "flags": list(self.flags or []),
        }


class TrackingState(db.Model):
    """What the rules remember of one subject's track between batches."""

    __tablename__ = "tracking_states"
    __table_args__ = (
        CheckConstraint("outside_count >= 0", name="outside_count_positive"),
        CheckConstraint("inside_count >= 0", name="inside_count_positive"),
        CheckConstraint("repeat_count >= 0", name="repeat_count_positive"),
    )

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    #: The latest fix in time order: the sequence rules (travel, runs) continue from it.
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_lon: Mapped[float | None] = mapped_column(Float)
    last_accuracy_m: Mapped[float | None] = mapped_column(Float)
    last_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: When a position last arrived; signal_lost goes by the newest recorded time, this says
    #: when the phone was last heard from at all.
    last_received_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: Consecutive fixes wholly outside every allowed zone, and the evidence of the first ones.
    outside_count: Mapped[int] = mapped_column(Integer, default=0)
    outside_run: Mapped[list] = mapped_column(JSON, default=list)
    #: The geofence_exit alert of a confirmed exit; null while the subject is inside.
    exit_alert_id: Mapped[int | None] = mapped_column(Integer)
    #: Consecutive fixes back inside since the exit was confirmed (it clears at the threshold).
    inside_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Consecutive fixes at exactly the last coordinates, since when, and whether raised.
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    repeat_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    repeat_raised: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The signal_lost alert of the current silence; cleared when a position arrives.
    lost_alert_id: Mapped[int | None] = mapped_column(Integer)
    #: The curfew night (the local day its hours began) the fixes below belong to, the run of
    #: consecutive fixes away from home in it with the first ones' evidence, and whether that
    #: night has raised its one curfew alert.
    curfew_night: Mapped[dt.date | None] = mapped_column(Date)
    curfew_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    curfew_run: Mapped[list | None] = mapped_column(JSON)
    curfew_raised: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
