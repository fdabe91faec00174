"""The alert kinds the zone rules raise: their catalogue entries."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from corrections.alerts.catalogue import AlertKind, escalated_when_strict
from corrections.i18n import distance_text

#: Evidence keys of a judged position, in plain words.
POSITION_LABELS = {
    "lat": _l("Latitude"),
    "lon": _l("Longitude"),
    "accuracy_m": _l("Accuracy claimed by the phone"),
    "accuracy_counted_m": _l("Accuracy counted by the rules"),
    "recorded_at": _l("Recorded at"),
    "checkin_id": _l("Check-in number"),
}


def _metres(value) -> str:
    return "?" if value is None else distance_text(value)


def _geofence_summary(alert, evidence: dict) -> str:
    if evidence.get("source") == "signals":
        return gettext(
            "Tracked %(distance)s outside the allowed zone %(zone)s, confirmed by %(fixes)s "
            "positions in a row (accurate to %(acc)s).",
            distance=_metres(evidence.get("distance_outside_m")),
            zone=evidence.get("nearest_zone", ""),
            fixes=evidence.get("confirmed_by_fixes", "?"),
            acc=_metres(evidence.get("accuracy_counted_m", evidence.get("accuracy_m"))),
        )
    return gettext(
        "Checked in %(distance)s outside the allowed zone %(zone)s (accurate to %(acc)s).",
        distance=_metres(evidence.get("distance_outside_m")),
        zone=evidence.get("nearest_zone", ""),
        acc=_metres(evidence.get("accuracy_counted_m", evidence.get("accuracy_m"))),
    )


def _exclusion_summary(alert, evidence: dict) -> str:
    if evidence.get("source") == "signals":
        return gettext("Tracked inside the exclusion zone %(zone)s.", zone=evidence.get("zone", ""))
    return gettext("Checked in inside the exclusion zone %(zone)s.", zone=evidence.get("zone", ""))


GEOFENCE_EXIT = AlertKind(
    "geofence_exit",
    _l("Left the allowed zone"),
    escalated_when_strict("high"),
    "high",
    summary=_geofence_summary,
    evidence_labels={
        **POSITION_LABELS,
        "nearest_zone": _l("Nearest allowed zone"),
        "distance_outside_m": _l("Distance outside the zone"),
        "margin_m": _l("Beyond the accuracy circle by"),
        "allowed_zones": _l("Allowed zones measured"),
        "zone": _l("Zone"),
        "zone_id": _l("Zone number"),
        "confirmed_by_fixes": _l("Positions in a row wholly outside"),
        "confirm_threshold": _l("Positions needed to confirm"),
        "first_outside_at": _l("First position outside at"),
        "farthest_outside_m": _l("Farthest outside"),
        "fixes": _l("Positions outside"),
    },
    detector="ingest",
)

EXCLUSION_ZONE = AlertKind(
    "exclusion_zone",
    _l("Entered an exclusion zone"),
    escalated_when_strict("high"),
    "high",
    summary=_exclusion_summary,
    evidence_labels={**POSITION_LABELS, "zone": _l("Zone"), "zone_id": _l("Zone number")},
    detector="ingest",
)

KINDS = (GEOFENCE_EXIT, EXCLUSION_ZONE)
