"""The alert kinds the person record raises: a phone that changed hands."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from corrections.alerts.catalogue import AlertKind, same


def _device_summary(alert, evidence: dict) -> str:
    return gettext("Logged in from a different phone than last time.")


DEVICE_CHANGE = AlertKind(
    "device_change",
    _l("New phone"),
    same("low"),
    "low",
    summary=_device_summary,
    evidence_labels={
        "previous_device_id": _l("Previous phone"),
        "device_id": _l("New phone"),
    },
    detector="ingest",
)

KINDS = (DEVICE_CHANGE,)
