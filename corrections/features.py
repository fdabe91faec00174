"""The composition root's list of features: the alert kinds each declares, the records alerts
may concern, and the detectors a sweep runs. The only module, with the app factory and the
scheduler, that knows every feature; a new feature adds its entries here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from corrections.alerts import catalogue
from corrections.casefile import alertpanel
from corrections.checkin import detector as checkin_detector
from corrections.checkin import kinds as checkin_kinds
from corrections.checkin.settings import CheckinSettings
from corrections.monitoring import detector as monitoring_detector
from corrections.monitoring import kinds as monitoring_kinds
from corrections.signals import detector as signal_detector
from corrections.signals import kinds as signal_kinds
from corrections.subjects import kinds as subject_kinds
from corrections.subjects import services as subject_services
from corrections.zones import kinds as zone_kinds

#: Every feature's alert kinds (the rest of the CONTRACT's kinds are reserved in the catalogue).
ALERT_KINDS = (
    *checkin_kinds.KINDS,
    *zone_kinds.KINDS,
    *subject_kinds.KINDS,
    *monitoring_kinds.KINDS,
    *signal_kinds.KINDS,
)


@dataclass(frozen=True)
class Detector:
    """A scheduled detector: its name (the key of its counts in a sweep's result) and a function
    of the instant to judge as of and the app's config."""

    name: str
    run: Callable[[dt.datetime, Mapping], dict]


def _missed_checkins(now: dt.datetime, config: Mapping) -> dict:
    return checkin_detector.detect_missed_checkins(now, CheckinSettings.from_config(config))


#: The detectors one sweep runs, in order.
DETECTORS = (
    Detector("missed_checkin", _missed_checkins),
    Detector("monitoring_order_expiring", monitoring_detector.detect_expiring_orders),
    Detector("signal_lost", signal_detector.detect_signal_lost),
)


def install() -> None:
    """Hand every feature's entries to the alert queue (safe to repeat)."""
    catalogue.register(*ALERT_KINDS)
    catalogue.register_concern(
        "subject", subject_services.describe_subjects, panel=alertpanel.subject_panel
    )
