"""The subject as an alert's page shows them: who the person is, how to reach them, where and
when they last checked in, and a map of where it happened. Drawn here, above the queue, because
the queue knows no feature: the composition root hands `subject_panel` to
`catalogue.register_concern`."""

from __future__ import annotations

import datetime as dt

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.catalogue import ConcernPanel
from corrections.audit.services import record as audit
from corrections.casefile.mapping import alert_map, alert_span, from_home, read_track
from corrections.checkin.services import read_checkins
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.subjects.services import refused_devices
from corrections.zones.services import zones_of

TEMPLATE = "subjects/_alert_panel.html"


def subject_panel(alert, actor: Actor, at: dt.datetime) -> ConcernPanel | None:
    """The person an alert concerns, their contacts, their last check-in and the week's track
    on the map; audited as a read of the subject's record (the page shows the phone numbers
    and a position), of their check-ins and of their background positions."""
    subject = db.session.get(Subject, alert.subject_id)
    if subject is None:
        return None
    audit(
        "subject.read",
        actor,
        at,
        subject_id=subject.id,
        detail={"alert_id": alert.id, "shown": "alert_panel"},
    )
    # The card says when they last checked in, whatever the alert's age; the map draws the
    # alert's own week, read for exactly that week.
    [last] = read_checkins(subject.id, 1, actor, at) or [None]
    span = alert_span(alert, at.astimezone(clock.local_zone()).date())
    track = read_track(subject.id, span, actor, at)
    zones = zones_of([subject.id]).get(subject.id, [])
    return ConcernPanel(
        TEMPLATE,
        {
            "subject": subject,
            "status": subject.status_on(clock.local_today()),
            "last_checkin": last,
            "last_from_home_m": from_home(subject, [last]).get(last.id) if last else None,
            "device": _device_decision(alert, subject),
            "map": alert_map(alert, subject, zones, _last_in(track), span=span, track=track),
        },
    )


def _last_in(track):
    # The map of an alert without a position of its own marks the last check-in of the week it
    # draws (newest first), not one from after it.
    return next((c for c in track.checkins if c.lat is not None), None)


def _device_decision(alert, subject: Subject) -> dict | None:
    """For a new phone (device_change): which phone, and whether it was refused already."""
    if alert.kind != "device_change" or not (alert.evidence or {}).get("device_id"):
        return None
    device_id = alert.evidence["device_id"]
    refused = {r.device_id: r for r in refused_devices(subject.id)}
    return {
        "alert_id": alert.id,
        "device_id": device_id,
        "previous": alert.evidence.get("previous_device_id"),
        "refusal": refused.get(device_id),
    }
