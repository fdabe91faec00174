"""Tracking devices: the id a Traccar Client or OsmAnd app reports, bound by an officer to the
subject who carries it (`PUT /api/v1/subjects/{id}/tracking-device`). A device belongs to one
subject at a time and a subject has one device; binding again replaces the earlier binding."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from corrections import clock
from corrections.actors import Actor
from corrections.audit.services import record as audit
from corrections.auth.access import (
    CASEWORK_ROLES,
    api_officer,
    api_roles,
    record_in_scope,
    request_actor,
)
from corrections.extensions import db
from corrections.signals.osmand import DEVICE_ID_MAX
from corrections.subjects.models import Subject
from corrections.types import UtcDateTime
from corrections.validation import Schema, parse_json, text


class TrackingDevice(db.Model):
    """Which subject a tracking app's device id stands for."""

    __tablename__ = "tracking_devices"

    #: The id the app sends as `id`, `deviceid` or `device_id` (Traccar's "identifier").
    device_id: Mapped[str] = mapped_column(String(DEVICE_ID_MAX), primary_key=True)
    #: The subject carrying it; one device per subject.
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), unique=True)
    bound_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: The officer who bound it.
    bound_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))

    def to_dict(self) -> dict:
        """The binding as the API shows it."""
        return {
            "device_id": self.device_id,
            "subject_id": self.subject_id,
            "bound_at": self.bound_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        }


def bind_device(subject: Subject, device_id: str, *, actor: Actor, now: dt.datetime):
    """Bind `device_id` to `subject`, replacing the subject's earlier device and the device's
    earlier subject; audited with both, so a move of a phone between people is on record."""
    earlier = db.session.get(TrackingDevice, device_id)
    moved_from = earlier.subject_id if earlier and earlier.subject_id != subject.id else None
    db.session.execute(
        delete(TrackingDevice).where(
            (TrackingDevice.device_id == device_id) | (TrackingDevice.subject_id == subject.id)
        )
    )
    binding = TrackingDevice(
        device_id=device_id,
        subject_id=subject.id,
        bound_at=now,
        bound_by=actor.id if actor.kind == "officer" else None,
    )
    db.session.add(binding)
    audit(
        "subject.tracking_device.bind",
        actor,
        now,
        subject_id=subject.id,
        shown=[moved_from] if moved_from else (),
        detail={"device_id": device_id, "moved_from_subject": moved_from},
    )
    db.session.flush()
    return binding


def subject_for_device(device_id: str) -> int | None:
    """The subject a device id is bound to, or None."""
    return db.session.scalar(
        select(TrackingDevice.subject_id).where(TrackingDevice.device_id == device_id)
    )


class DeviceIn(Schema):
    """The device id a tracking app reports."""

    device_id: text(DEVICE_ID_MAX)


bp = Blueprint("tracking_devices_api", __name__, url_prefix="/api/v1")


@bp.put("/subjects/<int:subject_id>/tracking-device")
@api_roles(*CASEWORK_ROLES)
def put_tracking_device(subject_id: int):
    """Bind the id the subject's Traccar Client or OsmAnd app reports (CONTRACT)."""
    officer = api_officer()
    subject = record_in_scope("subject", subject_id, db.session.get(Subject, subject_id), officer)
    data = parse_json(DeviceIn)
    binding = bind_device(subject, data.device_id, actor=request_actor(), now=clock.now())
    body = binding.to_dict()
    db.session.commit()
    return jsonify(body)
