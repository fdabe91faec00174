"""`GET|POST /osmand`: background positions from the Traccar Client or OsmAnd apps.

They speak Traccar's OsmAnd protocol (signals.osmand reads every shape), authenticate with
nothing but their device id, and retry until they hear 200. The device id must be bound to a
subject by an officer (`PUT /api/v1/subjects/{id}/tracking-device`): an unknown id is 404 and
nothing is stored. One request carries one position; it goes through the same ingest as the
phone app's batches."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request
from flask_babel import gettext

from corrections import clock
from corrections.actors import Actor
from corrections.errors import ApiError, validation_error
from corrections.extensions import db
from corrections.signals import osmand
from corrections.signals import services as signals
from corrections.signals.devices import subject_for_device
from corrections.signals.settings import current as signal_settings
from corrections.subjects.models import Subject

bp = Blueprint("osmand", __name__)


def _body() -> object | None:
    """The JSON body Traccar Client 9 posts, decoded; None for a form or a query string."""
    raw = request.get_data(cache=True)
    if not raw.strip() or request.mimetype != "application/json":
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, message=gettext("The body is not valid JSON.")) from None


def _malformed(error: osmand.Malformed) -> ApiError:
    return ApiError(
        400,
        "malformed_request",
        gettext("The position could not be read."),
        {error.field: error.message},
    )


@bp.route("/osmand", methods=["GET", "POST"])
def report_position():
    """One position from a tracking app: 200 stored (or already stored), 400 malformed, 404
    unknown device, 403 no monitoring order in force."""
    fields = {**request.args.to_dict(), **request.form.to_dict()}
    now = clock.now()
    try:
        position = osmand.parse(fields, _body(), clock.local_zone())
    except osmand.Malformed as error:
        raise _malformed(error) from None
    subject_id = subject_for_device(position.device_id)
    subject = db.session.get(Subject, subject_id) if subject_id is not None else None
    if subject is None:
        raise ApiError(404, "unknown_device", gettext("No subject carries this device."))
    report = signals.Report(
        lat=position.lat,
        lon=position.lon,
        accuracy_m=position.accuracy_m,
        recorded_at=position.recorded_at or now,
        mock_location=position.mock_location,
        speed_kmh=position.speed_kmh,
        battery_pct=position.battery_pct,
    )
    try:
        result = signals.ingest(
            subject,
            [report],
            source="osmand",
            device_id=position.device_id,
            actor=Actor.subject(subject.id, request.remote_addr),
            now=now,
            settings=signal_settings(),
        )
    except signals.PointRefused as error:
        db.session.rollback()
        raise validation_error({"timestamp": error.translated()}) from None
    except signals.NoMonitoringOrder:
        db.session.rollback()
        raise ApiError(
            403,
            "no_monitoring_order",
            gettext("No electronic-monitoring order is in force; nothing was recorded."),
        ) from None
    db.session.commit()
    return jsonify(stored=result.stored, duplicates=result.duplicates)
