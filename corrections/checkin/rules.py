"""Pure decisions about a sequence of positions: travel speed and simulated locations."""

from __future__ import annotations

from corrections.zones.rules import Finding, Fix, fix_evidence, geodesic_m


def judge_travel(
    previous: Fix | None, fix: Fix, *, max_kmh: float, accuracy_ceiling_m: float
) -> Finding | None:
    """impossible_travel when, both accuracy circles discounted (each capped at the ceiling), the
    speed still exceeds max_kmh."""
    if previous is None:
        return None
    seconds = abs((fix.at - previous.at).total_seconds())
    distance = geodesic_m((previous.lat, previous.lon), (fix.lat, fix.lon))
    discounted = max(
        0.0,
        distance
        - previous.counted_accuracy(accuracy_ceiling_m)
        - fix.counted_accuracy(accuracy_ceiling_m),
    )
    if discounted == 0.0:
        return None
    kmh = float("inf") if seconds == 0 else discounted / seconds * 3.6
    if kmh <= max_kmh:
        return None
    return Finding(
        "impossible_travel",
        {
            "from": fix_evidence(previous, accuracy_ceiling_m),
            "to": fix_evidence(fix, accuracy_ceiling_m),
            "distance_m": round(distance, 1),
            "distance_after_accuracy_m": round(discounted, 1),
            "seconds": seconds,
            "speed_kmh": None if seconds == 0 else round(kmh, 1),
            "limit_kmh": max_kmh,
        },
    )


def judge_mock(fix: Fix, mock_location: bool | None, accuracy_ceiling_m: float) -> Finding | None:
    """mock_location when the phone itself says the position is simulated."""
    if not mock_location:
        return None
    return Finding("mock_location", fix_evidence(fix, accuracy_ceiling_m))
