"""The alert kind monitoring orders raise: an approved term about to end."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from corrections.alerts.catalogue import AlertKind, same
from corrections.monitoring.grounds import ground_label


def _expiring_summary(alert, evidence: dict) -> str:
    if not evidence.get("ends_on"):
        return gettext("An electronic-monitoring order is about to end.")
    return gettext(
        "The electronic-monitoring order (%(ground)s) ends on %(ends_on)s: renew it with a new "
        "approval if monitoring is still needed.",
        ground=ground_label(evidence.get("ground")),
        ends_on=evidence["ends_on"],
    )


MONITORING_ORDER_EXPIRING = AlertKind(
    "monitoring_order_expiring",
    _l("Monitoring order expiring"),
    same("low"),
    "low",
    summary=_expiring_summary,
    evidence_labels={
        "order_id": _l("Order number"),
        "ground": _l("Ground"),
        "starts_on": _l("First day"),
        "ends_on": _l("Last day"),
    },
    detector="monitoring_order_expiring",
)

KINDS = (MONITORING_ORDER_EXPIRING,)
