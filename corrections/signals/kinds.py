"""The alert kind background tracking raises itself: a phone under an order that went silent.
(Positions outside a zone, simulated or too fast raise the zone and check-in kinds.)"""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from corrections.alerts.catalogue import AlertKind, escalated_when_strict


def _lost_summary(alert, evidence: dict) -> str:
    hours = evidence.get("silent_hours")
    if hours is None:
        return gettext("No position has arrived from the subject's phone for a long time.")
    if evidence.get("last_position_at") is None:
        return gettext(
            "No position has arrived for %(hours)s hours since monitoring began.", hours=hours
        )
    return gettext("No position has arrived for %(hours)s hours.", hours=hours)


SIGNAL_LOST = AlertKind(
    "signal_lost",
    _l("Signal lost"),
    escalated_when_strict("high"),
    "high",
    summary=_lost_summary,
    evidence_labels={
        "last_position_at": _l("Last position recorded at"),
        "last_received_at": _l("Last heard from at"),
        "since": _l("Silent since"),
        "silent_hours": _l("Hours without a position"),
        "threshold_hours": _l("Hours allowed"),
        "order_id": _l("Order number"),
        "lat": _l("Latitude"),
        "lon": _l("Longitude"),
    },
    detector="signal_lost",
)

KINDS = (SIGNAL_LOST,)
