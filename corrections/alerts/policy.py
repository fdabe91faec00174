"""Pure alert policy: how severe each kind is, and the queue's order."""

from __future__ import annotations

#: Base severity per kind, before the subject's supervision level adjusts it.
BASE_SEVERITY = {
    "missed_checkin": "medium",
    "missed_video": "medium",
    "geofence_exit": "high",
    "exclusion_zone": "high",
    "curfew": "high",
    "impossible_travel": "high",
    "signal_lost": "high",
    "mock_location": "high",
    "device_change": "low",
    "video_rejected": "medium",
    "checkin_request_unanswered": "medium",
    "travel_overdue": "medium",
    "monitoring_order_expiring": "low",
    "deadline": "low",
}
#: Kinds that say the subject may be absconding; under strict supervision they escalate.
ESCALATE_WHEN_STRICT = {
    "geofence_exit",
    "exclusion_zone",
    "signal_lost",
    "mock_location",
    "missed_checkin",
}
ORDER = ("critical", "high", "medium", "low")
#: Queue order: most severe first.
SEVERITY_RANK = {name: rank for rank, name in enumerate(ORDER)}


def severity_for(kind: str, level: str) -> str:
    """The severity of a new alert of `kind` for a subject under `level` supervision."""
    base = BASE_SEVERITY[kind]
    if level == "strict" and kind in ESCALATE_WHEN_STRICT:
        return ORDER[max(0, SEVERITY_RANK[base] - 1)]
    return base
