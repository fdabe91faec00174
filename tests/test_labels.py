"""Every name the pages show for a code (severities, statuses, history steps, kinds) exists in
Chinese and in English, and no two codes share one: an officer can always tell them apart."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from corrections.alerts import catalogue
from corrections.alerts import views as alert_views
from corrections.alerts.catalogue import SEVERITIES
from corrections.alerts.models import OFFICER_ACTIONS, STATUSES, SYSTEM_ACTIONS
from corrections.casefile import views as casefile_views
from corrections.checkin.models import KINDS as CHECKIN_KINDS
from corrections.subjects.models import STATUSES as SUBJECT_STATUSES

HAN = re.compile(r"[\u4e00-\u9fff]")

LABELS = {
    "severity": (alert_views.severity_labels, set(SEVERITIES)),
    "alert status": (alert_views.status_labels, {*STATUSES, "unresolved", "all"}),
    "history step": (alert_views.action_labels, {*SYSTEM_ACTIONS, *OFFICER_ACTIONS}),
    "subject status": (casefile_views.subject_status_labels, set(SUBJECT_STATUSES)),
    "check-in kind": (casefile_views.checkin_kind_labels, set(CHECKIN_KINDS)),
    "alert kind": (
        lambda: {entry.code: str(entry.label) for entry in catalogue.entries()},
        set(catalogue.CONTRACT_ORDER),
    ),
}


@pytest.mark.parametrize("what", sorted(LABELS))
def test_every_code_has_a_chinese_and_an_english_name_of_its_own(app, what):
    labels, codes = LABELS[what]
    with app.test_request_context():
        with force_locale("zh_CN"):
            chinese = labels()
        with force_locale("en"):
            english = labels()
    assert set(chinese) == set(english) == codes
    assert all(HAN.search(name) for name in chinese.values()), chinese
    assert not any(HAN.search(name) for name in english.values()), english
    assert all(name.strip() and "XX" not in name for name in english.values()), english
    assert len(set(chinese.values())) == len(codes), f"two {what}s share a Chinese name"
    assert len(set(english.values())) == len(codes), f"two {what}s share an English name"


def test_the_english_names_read_as_the_contract_means_them(app):
    with app.test_request_context(), force_locale("en"):
        assert alert_views.severity_labels() == {
            "critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"
        }  # fmt: skip
        assert alert_views.status_labels()["open"] == "Open, nobody has taken it"
        assert alert_views.status_labels()["acknowledged"] == "Being handled"
        assert alert_views.action_labels()["met_late"] == "A missed window was met late"
        assert alert_views.action_labels()["auto_resolved"] == "Closed by the system"
        assert alert_views.kind_label("geofence_exit") == "Left the allowed zone"
        assert alert_views.kind_label("no_such_kind") == "no_such_kind"
