"""The alert kinds check-ins raise: their catalogue entries, and the missed windows as evidence."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from corrections import clock
from corrections.alerts.catalogue import AlertKind, escalated_when_strict, same
from corrections.checkin.models import Checkin, MissedWindow
from corrections.extensions import db
from corrections.i18n import distance_text
from corrections.zones.kinds import POSITION_LABELS

#: How many missed windows an alert shows as evidence (the newest; `missed_total` counts all).
EVIDENCE_WINDOWS = 20


def missed_windows_evidence(alert_ids: Sequence[int]) -> dict[int, dict]:
    """The newest missed windows of each alert, and whether a late upload met them: one query
    for a whole page of alerts."""
    numbered = (
        select(
            MissedWindow.alert_id,
            MissedWindow.starts_at,
            MissedWindow.ends_at,
            Checkin.recorded_at.label("met_recorded_at"),
            Checkin.received_at.label("met_received_at"),
            func.row_number()
            .over(partition_by=MissedWindow.alert_id, order_by=MissedWindow.starts_at.desc())
            .label("position"),
            func.count().over(partition_by=MissedWindow.alert_id).label("total"),
        )
        .outerjoin(Checkin, Checkin.id == MissedWindow.met_checkin_id)
        .where(MissedWindow.alert_id.in_(alert_ids))
        .subquery()
    )
    rows = db.session.execute(
        select(numbered)
        .where(numbered.c.position <= EVIDENCE_WINDOWS)
        .order_by(numbered.c.alert_id, numbered.c.position)
    ).all()
    found: dict[int, dict] = defaultdict(lambda: {"missed_windows": [], "missed_total": 0})
    for row in rows:
        window = {"start": clock.isoformat(row.starts_at), "end": clock.isoformat(row.ends_at)}
        if row.met_recorded_at is not None:
            window["met_late"] = {
                "recorded_at": clock.isoformat(row.met_recorded_at),
                "received_at": clock.isoformat(row.met_received_at),
            }
        found[row.alert_id]["missed_windows"].append(window)
        found[row.alert_id]["missed_total"] = row.total
    return dict(found)


def _missed_summary(alert, evidence: dict) -> str:
    windows = evidence.get("missed_windows") or []
    late = sum(1 for w in windows if "met_late" in w)
    sentence = ngettext(
        "Missed %(num)s check-in window.", "Missed %(num)s check-in windows.", alert.occurrences
    )
    if late:
        # The second sentence carries its own leading space: English has one, Chinese none.
        sentence += ngettext(
            " %(num)s of them was met by a check-in that arrived late.",
            " %(num)s of them were met by check-ins that arrived late.",
            late,
        )
    return sentence


def _travel_summary(alert, evidence: dict) -> str:
    return gettext(
        "Moved %(distance)s at %(kmh)s km/h between two positions.",
        distance=distance_text(evidence.get("distance_m") or 0),
        kmh=evidence.get("speed_kmh") or "∞",
    )


def _mock_summary(alert, evidence: dict) -> str:
    if evidence.get("reason") == "repeated_coordinates":
        return gettext(
            "The same coordinates exactly, %(num)s times in a row over %(minutes)s minutes: "
            "real positions always vary a little.",
            num=evidence.get("repeated_fixes", "?"),
            minutes=evidence.get("repeated_minutes", "?"),
        )
    return gettext("The phone reported a simulated (mock) location.")


def _curfew_summary(alert, evidence: dict) -> str:
    distance = distance_text(evidence.get("distance_from_home_m") or 0)
    hours = evidence.get("curfew", "")
    if evidence.get("source") == "signals":
        return gettext(
            "Tracked %(distance)s from home during the curfew hours (%(hours)s), confirmed by "
            "%(fixes)s positions in a row.",
            distance=distance,
            hours=hours,
            fixes=evidence.get("confirmed_by_fixes", "?"),
        )
    return gettext(
        "Checked in %(distance)s from home during the curfew hours (%(hours)s).",
        distance=distance,
        hours=hours,
    )


MISSED_CHECKIN = AlertKind(
    "missed_checkin",
    _l("Missed check-in"),
    escalated_when_strict("medium"),
    "medium",
    summary=_missed_summary,
    evidence=missed_windows_evidence,
    evidence_labels={
        "missed_windows": _l("Missed check-in windows"),
        "missed_total": _l("Missed windows in all"),
        "met_late": _l("Met by a check-in that arrived late"),
        "recorded_at": _l("Recorded at"),
        "received_at": _l("Received at"),
    },
    detector="missed_checkin",
)

IMPOSSIBLE_TRAVEL = AlertKind(
    "impossible_travel",
    _l("Impossible travel"),
    same("high"),
    "high",
    summary=_travel_summary,
    evidence_labels={
        **POSITION_LABELS,
        "from": _l("Previous position"),
        "to": _l("This position"),
        "distance_m": _l("Distance"),
        "distance_after_accuracy_m": _l("Distance after allowing for accuracy"),
        "seconds": _l("Time between (seconds)"),
        "speed_kmh": _l("Speed (km/h)"),
        "limit_kmh": _l("Speed limit (km/h)"),
    },
    detector="ingest",
)

MOCK_LOCATION = AlertKind(
    "mock_location",
    _l("Simulated location"),
    escalated_when_strict("high"),
    "high",
    summary=_mock_summary,
    evidence_labels={
        **POSITION_LABELS,
        "reason": _l("Reason"),
        "repeated_fixes": _l("Identical positions in a row"),
        "repeated_since": _l("Identical since"),
        "repeated_minutes": _l("Identical for (minutes)"),
        "threshold_fixes": _l("Positions needed"),
        "threshold_minutes": _l("Minutes needed"),
    },
    detector="ingest",
)

CURFEW = AlertKind(
    "curfew",
    _l("Curfew breach"),
    escalated_when_strict("high"),
    "high",
    summary=_curfew_summary,
    evidence_labels={
        **POSITION_LABELS,
        "curfew": _l("Curfew hours"),
        "night": _l("Night of"),
        "distance_from_home_m": _l("Distance from home"),
        "home_radius_m": _l("Counted as at home within"),
        "margin_m": _l("Beyond the accuracy circle by"),
        "confirmed_by_fixes": _l("Positions in a row away from home"),
        "confirm_threshold": _l("Positions needed to confirm"),
        "first_away_at": _l("First position away at"),
        "farthest_from_home_m": _l("Farthest from home"),
        "fixes": _l("Positions away from home"),
    },
    detector="ingest",
)

KINDS = (MISSED_CHECKIN, IMPOSSIBLE_TRAVEL, MOCK_LOCATION, CURFEW)
