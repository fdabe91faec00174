"""The catalogue's severity policy and concerns, and the queue's system steps and conflict
messages, each checked directly (the kinds' own entries are checked in test_alert_path.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from corrections.alerts import catalogue
from corrections.alerts.catalogue import AlertKind, ConcernInfo
from corrections.alerts.models import Alert, AlertEvent
from corrections.alerts.services import close_by_system
from corrections.extensions import db
from tests.api_support import assert_error
from tests.factories import bearer, raise_for

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


# --- severity by supervision level ----------------------------------------------------------


def test_same_gives_one_severity_at_every_level():
    assert catalogue.same("low") == {"strict": "low", "normal": "low", "lenient": "low"}


@pytest.mark.parametrize(
    ("severity", "strict"),
    [("critical", "critical"), ("high", "critical"), ("medium", "high"), ("low", "medium")],
)
def test_strict_supervision_is_one_step_more_severe_and_critical_is_the_top(severity, strict):
    assert catalogue.escalated_when_strict(severity) == {
        "strict": strict,
        "normal": severity,
        "lenient": severity,
    }


def test_a_level_the_mapping_does_not_name_and_a_case_record_take_the_default():
    entry = AlertKind("x", "x", {"strict": "critical"}, "low")
    assert entry.severity_for("strict") == "critical"
    assert entry.severity_for("normal") == "low"
    assert entry.severity_for(None) == "low"
    assert entry.severity_for("") == "low"


@pytest.mark.parametrize(
    ("severity", "default", "problem"),
    [
        ({"strictest": "high"}, "high", "bad severity 'strictest'"),
        ({"strict": "urgent"}, "high", "bad severity 'strict' -> 'urgent'"),
        ({"strict": "high"}, "urgent", "bad default severity 'urgent'"),
    ],
)
def test_an_entry_with_an_unknown_level_or_severity_is_refused(severity, default, problem):
    with pytest.raises(ValueError, match=f"^bad_kind: {problem}"):
        AlertKind("bad_kind", "x", severity, default)


def test_every_known_level_and_severity_is_accepted():
    for level in catalogue.LEVELS:
        for severity in catalogue.SEVERITIES:
            assert AlertKind("ok", "x", {level: severity}, severity).severity_for(level) == severity


def test_the_deadline_summary_names_what_is_due_and_when(app):
    entry = catalogue.kind("deadline")
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        full = {"what": "Legal aid review", "due_on": "2026-12-02"}
        assert entry.describe(None, full) == "Legal aid review is due on 2026-12-02."
        for partial in ({"what": "Legal aid review"}, {"due_on": "2026-12-02"}, {}):
            assert entry.describe(None, partial) == "A deadline is near or past."


# --- concerns --------------------------------------------------------------------------------


def test_a_registered_concern_type_names_its_records_a_page_at_a_time():
    asked: list[list[int]] = []

    def describe(ids):
        asked.append(list(ids))
        return {i: ConcernInfo(f"案件{i}", url=f"/cases/{i}") for i in ids}

    catalogue.register_concern("test_case", describe)
    try:
        assert catalogue.describe_concerns("test_case", [3, 4]) == {
            3: ConcernInfo("案件3", url="/cases/3"),
            4: ConcernInfo("案件4", url="/cases/4"),
        }
        assert catalogue.describe_concerns("test_case", []) == {}
        assert asked == [[3, 4]]  # no call for an empty page
    finally:
        catalogue._describers.pop("test_case")
    assert catalogue.describe_concerns("test_case", [5]) == {5: ConcernInfo("test_case 5")}


# --- the system closing an alert ------------------------------------------------------------


def test_the_system_closes_only_the_alert_it_names_and_says_so(app, world):
    first, second = world.subject()["id"], world.subject()["id"]
    with app.app_context():
        closing = raise_for(first, "missed_checkin", {}, NOW).id
        staying = raise_for(second, "missed_checkin", {}, NOW).id
        later = NOW + dt.timedelta(hours=1)
        assert close_by_system(closing, later, {"windows_met": 1}) is True
        assert close_by_system(closing, later, {"windows_met": 1}) is False  # already closed
        db.session.commit()
        statuses = dict(db.session.execute(select(Alert.id, Alert.status)).all())
        assert statuses == {closing: "resolved", staying: "open"}
        steps = db.session.execute(
            select(AlertEvent.alert_id, AlertEvent.action, AlertEvent.detail).where(
                AlertEvent.action == "auto_resolved"
            )
        ).all()
        assert [tuple(step) for step in steps] == [(closing, "auto_resolved", {"windows_met": 1})]
        assert db.session.get(Alert, closing).closed_at is not None


# --- why a step was refused -----------------------------------------------------------------


def test_a_refused_step_says_why_in_the_readers_language(app, client, world):
    world.officer("li", office_code="T01")
    world.officer("zhou", office_code="T01")
    subject = world.subject()["id"]
    with app.app_context():
        alert_id = raise_for(subject, "geofence_exit", {}, NOW).id
        db.session.commit()
    li, zhou = bearer(client, "li"), bearer(client, "zhou")
    client.set_cookie("lang", "en")

    def refused(headers, step, body=None):
        url = f"/api/v1/alerts/{alert_id}/{step}"
        return assert_error(client.post(url, json=body, headers=headers), 409, code="conflict")

    assert refused(li, "release")["message"] == "This alert is not acknowledged."
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=li).status_code == 200
    taken = refused(zhou, "dismiss", {"reason": "误报"})
    assert taken["message"] == "Another officer (li) has taken this alert."
    assert (
        client.post(
            f"/api/v1/alerts/{alert_id}/dismiss", json={"reason": "定位漂移"}, headers=li
        ).get_json()["status"]
        == "dismissed"
    )
    assert refused(li, "resolve", {"note": "x"})["message"] == "This alert is already closed."
    client.set_cookie("lang", "zh_CN")
    assert refused(li, "ack")["message"] != "This alert is already closed."
