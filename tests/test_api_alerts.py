"""The alert queue through /api/v1: filters, order, ownership, transitions, history, repeats."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from corrections.alerts.models import Alert, AlertEvent
from corrections.extensions import db
from tests.api_support import AUDIT_TABLES, assert_error, row_counts
from tests.factories import SEAT, bearer, phone_login, raise_for

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # conftest.DEFAULT_NOW
ALERT_KEYS = {
    "id", "kind", "severity", "status", "subject_id", "office_code", "opened_at",
    "last_seen_at", "occurrences", "owner", "summary", "evidence",
}  # fmt: skip


@pytest.fixture
def county(world):
    """Offices T01 and T02; officers li and zhou in T01, wang in T02; a supervisor."""
    world.office(code="T02", name="第二司法所", lat=24.9, lon=107.8)
    for name, office in (("li", "T01"), ("zhou", "T01"), ("wang", "T02")):
        world.officer(name, office_code=office)
    world.officer("boss", role="supervisor")
    client = world.app.test_client()
    return {name: bearer(client, name) for name in ("admin", "li", "zhou", "wang", "boss")}


def raise_(app, subject_id: int, kind: str, at: dt.datetime | None = None) -> int:
    """Open (or bump) an alert the way the rules and the sweep do."""
    with app.app_context():
        alert = raise_for(subject_id, kind, {"test": True}, at or NOW)
        db.session.commit()
        return alert.id


def get(client, headers, alert_id) -> dict:
    response = client.get(f"/api/v1/alerts/{alert_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def items(response) -> list[dict]:
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def checkin_far(client, phone, client_id: str, minutes_ago: int = 1):
    recorded = NOW - dt.timedelta(minutes=minutes_ago)
    body = {
        "client_id": client_id,
        "lat": SEAT[0] + 0.1,  # 11 km north of a 5 km zone
        "lon": SEAT[1],
        "accuracy_m": 30,
        "recorded_at": recorded.isoformat(),
    }
    response = client.post("/mobile/v1/checkins", json=body, headers=phone)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- the queue ------------------------------------------------------------------------------


@pytest.fixture
def queue(app, world, county):
    """Six alerts over two offices at different ages and severities; returns {label: id}."""
    strict = world.subject(level="strict")["id"]
    normal = world.subject()["id"]
    elsewhere = world.subject(office_code="T02")["id"]
    hour = dt.timedelta(hours=1)
    return {
        "strict_geofence": raise_(app, strict, "geofence_exit", NOW - 1 * hour),  # critical
        "normal_geofence_old": raise_(app, normal, "geofence_exit", NOW - 5 * hour),  # high
        "normal_mock": raise_(app, normal, "mock_location", NOW - 2 * hour),  # high
        "normal_missed": raise_(app, normal, "missed_checkin", NOW - 9 * hour),  # medium
        "normal_device": raise_(app, normal, "device_change", NOW - 30 * hour),  # low
        "elsewhere_geofence": raise_(app, elsewhere, "geofence_exit", NOW - 3 * hour),  # high
        "_subjects": {"strict": strict, "normal": normal, "elsewhere": elsewhere},
    }


def labels(queue, response) -> list[str]:
    by_id = {v: k for k, v in queue.items() if not k.startswith("_")}
    return [by_id[a["id"]] for a in items(response)]


def test_the_queue_is_ordered_by_severity_then_age(client, county, queue):
    assert labels(queue, client.get("/api/v1/alerts", headers=county["boss"])) == [
        "strict_geofence",
        "normal_geofence_old",
        "elsewhere_geofence",
        "normal_mock",
        "normal_missed",
        "normal_device",
    ]
    severities = [
        a["severity"] for a in items(client.get("/api/v1/alerts", headers=county["boss"]))
    ]
    assert severities == ["critical", "high", "high", "high", "medium", "low"]


def test_an_officer_sees_only_their_offices_alerts(client, county, queue):
    assert "elsewhere_geofence" not in labels(
        queue, client.get("/api/v1/alerts", headers=county["li"])
    )
    assert labels(queue, client.get("/api/v1/alerts", headers=county["wang"])) == [
        "elsewhere_geofence"
    ]
    assert_error(
        client.get(f"/api/v1/alerts/{queue['elsewhere_geofence']}", headers=county["li"]), 404
    )
    ack = client.post(f"/api/v1/alerts/{queue['elsewhere_geofence']}/ack", headers=county["li"])
    assert_error(ack, 404)
    # The scope is judged before the body: a bad body does not reveal that the alert exists.
    for step in ("resolve", "dismiss"):
        path = f"/api/v1/alerts/{queue['elsewhere_geofence']}/{step}"
        assert_error(client.post(path, json={}, headers=county["li"]), 404)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("kind=geofence_exit", ["strict_geofence", "normal_geofence_old", "elsewhere_geofence"]),
        ("severity=high", ["normal_geofence_old", "elsewhere_geofence", "normal_mock"]),
        ("severity=low", ["normal_device"]),
        ("office=T02", ["elsewhere_geofence"]),
        ("office=T01&kind=geofence_exit", ["strict_geofence", "normal_geofence_old"]),
        ("subject_id={strict}", ["strict_geofence"]),
        ("subject_id={normal}&severity=high", ["normal_geofence_old", "normal_mock"]),
        ("status=acknowledged", []),
        ("kind=curfew", []),
    ],
)
def test_filters(client, county, queue, query, expected):
    query = query.format(**queue["_subjects"])
    assert labels(queue, client.get(f"/api/v1/alerts?{query}", headers=county["admin"])) == expected


def test_status_filters_follow_the_transitions(client, county, queue):
    li = county["li"]
    client.post(f"/api/v1/alerts/{queue['normal_mock']}/ack", headers=li)
    client.post(
        f"/api/v1/alerts/{queue['normal_device']}/dismiss",
        json={"reason": "换新手机,已核实"},
        headers=li,
    )
    client.post(
        f"/api/v1/alerts/{queue['normal_missed']}/resolve", json={"note": "补签"}, headers=li
    )

    def status(value):
        return labels(queue, client.get(f"/api/v1/alerts?office=T01&status={value}", headers=li))

    assert status("acknowledged") == ["normal_mock"]
    assert status("dismissed") == ["normal_device"]
    assert status("resolved") == ["normal_missed"]
    assert status("open") == ["strict_geofence", "normal_geofence_old"]
    assert status("unresolved") == ["strict_geofence", "normal_geofence_old", "normal_mock"]


def test_filters_outside_the_scope_are_404(client, county, queue):
    li = county["li"]
    assert_error(client.get("/api/v1/alerts?office=T02", headers=li), 404)
    assert_error(client.get("/api/v1/alerts?office=NOPE", headers=county["admin"]), 404)
    elsewhere = queue["_subjects"]["elsewhere"]
    assert_error(client.get(f"/api/v1/alerts?subject_id={elsewhere}", headers=li), 404)
    assert_error(client.get("/api/v1/alerts?subject_id=999999", headers=li), 404)


def test_an_alert_has_the_contract_shape(client, county, queue):
    alert = get(client, county["li"], queue["strict_geofence"])
    assert set(alert) >= ALERT_KEYS
    assert alert["status"] == "open" and alert["owner"] is None
    assert alert["office_code"] == "T01"
    assert alert["subject_id"] == queue["_subjects"]["strict"]
    assert alert["opened_at"] == alert["last_seen_at"] == "2026-11-28T01:00:00Z"
    assert alert["occurrences"] == 1
    assert isinstance(alert["summary"], str) and alert["summary"]
    assert alert["history"] == [
        {"at": "2026-11-28T01:00:00Z", "actor": None, "action": "opened", "note": None}
    ]


# --- transitions ----------------------------------------------------------------------------


def post(client, headers, alert_id, step, body=None):
    if body is None:
        return client.post(f"/api/v1/alerts/{alert_id}/{step}", headers=headers)
    return client.post(f"/api/v1/alerts/{alert_id}/{step}", json=body, headers=headers)


def test_acknowledge_release_and_resolve_are_each_in_the_history(client, county, queue, at):
    li, zhou = county["li"], county["zhou"]
    alert_id = queue["normal_mock"]
    at(NOW + dt.timedelta(minutes=1))
    acked = post(client, li, alert_id, "ack")
    assert acked.status_code == 200
    assert (acked.get_json()["status"], acked.get_json()["owner"]) == ("acknowledged", "li")
    at(NOW + dt.timedelta(minutes=2))
    released = post(client, li, alert_id, "release")
    assert (released.get_json()["status"], released.get_json()["owner"]) == ("open", None)
    at(NOW + dt.timedelta(minutes=3))
    assert post(client, zhou, alert_id, "ack").get_json()["owner"] == "zhou"
    at(NOW + dt.timedelta(minutes=4))
    done = post(client, zhou, alert_id, "resolve", {"note": "  上门核实,系模拟定位软件误开  "})
    assert done.status_code == 200
    assert (done.get_json()["status"], done.get_json()["owner"]) == ("resolved", "zhou")
    assert get(client, li, alert_id)["history"] == [
        {"at": "2026-11-28T00:00:00Z", "actor": None, "action": "opened", "note": None},
        {"at": "2026-11-28T02:01:00Z", "actor": "li", "action": "acknowledged", "note": None},
        {"at": "2026-11-28T02:02:00Z", "actor": "li", "action": "released", "note": None},
        {"at": "2026-11-28T02:03:00Z", "actor": "zhou", "action": "acknowledged", "note": None},
        {
            "at": "2026-11-28T02:04:00Z",
            "actor": "zhou",
            "action": "resolved",
            "note": "上门核实,系模拟定位软件误开",
        },
    ]


def test_dismiss_records_the_reason(client, county, queue):
    alert_id = queue["normal_device"]
    dismissed = post(client, county["li"], alert_id, "dismiss", {"reason": "本人换手机,已电话确认"})
    assert dismissed.status_code == 200
    body = get(client, county["li"], alert_id)
    assert body["status"] == "dismissed"
    assert body["history"][-1] == {
        "at": "2026-11-28T02:00:00Z",
        "actor": "li",
        "action": "dismissed",
        "note": "本人换手机,已电话确认",
    }


@pytest.mark.parametrize(
    "step, body, field",
    [
        ("resolve", {}, "note"),
        ("resolve", {"note": ""}, "note"),
        ("resolve", {"note": "   "}, "note"),
        ("resolve", {"reason": "wrong key"}, "note"),
        ("dismiss", {}, "reason"),
        ("dismiss", {"reason": "\n"}, "reason"),
        ("dismiss", {"note": "wrong key"}, "reason"),
    ],
)
def test_closing_needs_a_note_or_reason(app, client, county, queue, step, body, field):
    alert_id = queue["normal_mock"]
    assert post(client, county["li"], alert_id, "ack").status_code == 200
    before = row_counts(app)
    assert_error(post(client, county["li"], alert_id, step, body), 422, field=field)
    assert row_counts(app) == before
    assert get(client, county["li"], alert_id)["status"] == "acknowledged"


def test_another_officers_alert_cannot_be_taken_released_or_closed(app, client, county, queue):
    li, zhou = county["li"], county["zhou"]
    alert_id = queue["normal_mock"]
    assert post(client, li, alert_id, "ack").status_code == 200
    before = row_counts(app)
    for step, body in (
        ("ack", None),
        ("release", None),
        ("resolve", {"note": "x"}),
        ("dismiss", {"reason": "x"}),
    ):
        error = assert_error(post(client, zhou, alert_id, step, body), 409)
        assert error["code"] == "conflict"
    assert row_counts(app) == before
    assert get(client, zhou, alert_id)["owner"] == "li"


def test_acknowledging_ones_own_alert_again_is_harmless(client, county, queue):
    alert_id = queue["normal_mock"]
    assert post(client, county["li"], alert_id, "ack").status_code == 200
    again = post(client, county["li"], alert_id, "ack")
    assert again.status_code == 200
    assert (again.get_json()["status"], again.get_json()["owner"]) == ("acknowledged", "li")


def test_an_unowned_open_alert_may_be_closed_directly(client, county, queue):
    resolved = post(client, county["li"], queue["normal_mock"], "resolve", {"note": "已处理"})
    assert resolved.status_code == 200
    assert resolved.get_json()["owner"] == "li"


@pytest.mark.parametrize("closing", [("resolve", {"note": "done"}), ("dismiss", {"reason": "no"})])
def test_a_closed_alert_allows_no_further_step(app, client, county, queue, closing):
    li = county["li"]
    alert_id = queue["normal_mock"]
    assert post(client, li, alert_id, *closing).status_code == 200
    before = row_counts(app)
    for step, body in (
        ("ack", None),
        ("release", None),
        ("resolve", {"note": "again"}),
        ("dismiss", {"reason": "again"}),
    ):
        for who in ("li", "zhou", "admin"):
            assert_error(post(client, county[who], alert_id, step, body), 409)
    assert row_counts(app) == before


def test_releasing_an_alert_nobody_owns_is_a_conflict(client, county, queue):
    assert_error(post(client, county["li"], queue["normal_mock"], "release"), 409)


# --- two officers at the same moment --------------------------------------------------------


def test_of_two_officers_acknowledging_at_once_exactly_one_wins(app, county, queue):
    alert_ids = [queue[k] for k in ("strict_geofence", "normal_geofence_old", "normal_mock")]
    for alert_id in alert_ids:
        barrier = threading.Barrier(2)
        results: dict[str, int] = {}

        def acknowledge(name, alert_id=alert_id, barrier=barrier, results=results):
            client = app.test_client()
            barrier.wait()
            response = client.post(f"/api/v1/alerts/{alert_id}/ack", headers=county[name])
            results[name] = response.status_code
            if response.status_code != 200:
                assert_error(response, 409)

        threads = [threading.Thread(target=acknowledge, args=(n,)) for n in ("li", "zhou")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results.values()) == [200, 409], results
        winner = next(name for name, status in results.items() if status == 200)
        with app.app_context():
            alert = db.session.get(Alert, alert_id)
            assert alert.owner.username == winner
            acks = db.session.scalar(
                select(func.count()).where(
                    AlertEvent.alert_id == alert_id, AlertEvent.action == "acknowledged"
                )
            )
            assert acks == 1


# --- one unresolved alert per subject and kind ----------------------------------------------


def test_a_repeat_bumps_the_unresolved_alert_and_after_closing_opens_a_new_one(
    client, county, world, at
):
    subject = world.subject()
    phone = phone_login(client, subject["phone"])
    li = county["li"]

    checkin_far(client, phone, "a", minutes_ago=30)
    [first] = items(client.get("/api/v1/alerts?kind=geofence_exit", headers=li))
    assert first["occurrences"] == 1 and first["opened_at"] == "2026-11-28T02:00:00Z"

    at(NOW + dt.timedelta(minutes=20))
    checkin_far(client, phone, "b", minutes_ago=1)
    [bumped] = items(client.get("/api/v1/alerts?kind=geofence_exit", headers=li))
    assert bumped["id"] == first["id"]
    assert bumped["occurrences"] == 2
    assert bumped["opened_at"] == "2026-11-28T02:00:00Z"
    assert bumped["last_seen_at"] == "2026-11-28T02:20:00Z"
    assert [h["action"] for h in get(client, li, first["id"])["history"]] == ["opened", "repeated"]

    # Acknowledged is still unresolved: a repeat bumps it and the owner keeps it.
    assert post(client, li, first["id"], "ack").status_code == 200
    at(NOW + dt.timedelta(minutes=40))
    checkin_far(client, phone, "c", minutes_ago=1)
    [bumped] = items(client.get("/api/v1/alerts?kind=geofence_exit", headers=li))
    assert (bumped["id"], bumped["occurrences"], bumped["owner"]) == (first["id"], 3, "li")

    assert post(client, li, first["id"], "resolve", {"note": "已返回"}).status_code == 200
    at(NOW + dt.timedelta(minutes=60))
    checkin_far(client, phone, "d", minutes_ago=1)
    alerts = items(client.get("/api/v1/alerts?kind=geofence_exit", headers=li))
    assert len(alerts) == 2
    fresh = next(a for a in alerts if a["id"] != first["id"])
    assert (fresh["status"], fresh["occurrences"], fresh["owner"]) == ("open", 1, None)
    assert fresh["opened_at"] == "2026-11-28T03:00:00Z"
    old = get(client, li, first["id"])
    assert (old["status"], old["occurrences"]) == ("resolved", 3)


def test_a_dismissed_alert_is_not_bumped_either(app, client, county, world):
    subject = world.subject()["id"]
    first = raise_(app, subject, "device_change")
    assert post(client, county["li"], first, "dismiss", {"reason": "换机"}).status_code == 200
    second = raise_(app, subject, "device_change", NOW + dt.timedelta(hours=1))
    assert second != first
    assert get(client, county["li"], first)["occurrences"] == 1
    assert get(client, county["li"], second)["status"] == "open"


def test_each_kind_has_its_own_alert(app, client, county, world):
    subject = world.subject()["id"]
    kinds = ["geofence_exit", "mock_location", "geofence_exit", "device_change", "mock_location"]
    for kind in kinds:
        raise_(app, subject, kind)
    alerts = items(client.get(f"/api/v1/alerts?subject_id={subject}", headers=county["li"]))
    assert sorted((a["kind"], a["occurrences"]) for a in alerts) == [
        ("device_change", 1),
        ("geofence_exit", 2),
        ("mock_location", 2),
    ]


# --- a supervisor gives an alert to another officer of its office ---------------------------


def test_a_supervisor_reassigns_an_alert_and_the_history_names_both(client, county, queue, at):
    alert_id = queue["normal_mock"]
    assert post(client, county["li"], alert_id, "ack").status_code == 200
    at(NOW + dt.timedelta(minutes=5))
    moved = post(
        client, county["boss"], alert_id, "reassign", {"officer": "zhou", "note": "李休假"}
    )
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["status"], moved.get_json()["owner"]) == ("acknowledged", "zhou")
    step = get(client, county["zhou"], alert_id)["history"][-1]
    assert step["action"] == "reassigned" and step["actor"] == "boss" and step["note"] == "李休假"
    assert step["detail"] == {"from": "li", "to": "zhou"}
    # The new holder can now close it; the old one cannot.
    assert post(client, county["li"], alert_id, "resolve", {"note": "x"}).status_code == 409
    assert post(client, county["zhou"], alert_id, "resolve", {"note": "已核实"}).status_code == 200


def test_an_unowned_alert_may_be_given_and_giving_it_to_its_holder_changes_nothing(
    app, client, county, queue
):
    alert_id = queue["normal_geofence_old"]
    given = post(client, county["admin"], alert_id, "reassign", {"officer": "li"})
    assert given.get_json()["owner"] == "li"
    again = post(client, county["boss"], alert_id, "reassign", {"officer": "li"})
    assert again.status_code == 200
    with app.app_context():
        steps = db.session.scalars(
            select(AlertEvent.action).where(AlertEvent.alert_id == alert_id)
        ).all()
    assert steps == ["opened", "reassigned"]


def test_reassigning_is_for_supervisors_and_admins(client, county, queue):
    refused = post(client, county["li"], queue["normal_mock"], "reassign", {"officer": "zhou"})
    assert_error(refused, 403, "forbidden")


@pytest.mark.parametrize("username", ["wang", "boss", "nobody", "admin"])
def test_the_new_holder_must_be_an_officer_of_the_alerts_office(
    app, client, county, queue, username
):
    alert_id = queue["normal_mock"]  # office T01; wang is in T02
    before = row_counts(app, ignore=AUDIT_TABLES)
    refused = post(client, county["boss"], alert_id, "reassign", {"officer": username})
    assert_error(refused, 422, "validation_error", field="officer")
    assert row_counts(app, ignore=AUDIT_TABLES) == before


def test_a_deactivated_officer_cannot_be_given_an_alert(app, client, county, queue):
    from corrections.auth.models import Officer

    with app.app_context():
        db.session.execute(
            Officer.__table__.update().where(Officer.username == "zhou").values(active=False)
        )
        db.session.commit()
    refused = post(client, county["boss"], queue["normal_mock"], "reassign", {"officer": "zhou"})
    assert_error(refused, 422, "validation_error", field="officer")


def test_a_closed_alert_cannot_be_reassigned(client, county, queue):
    alert_id = queue["normal_mock"]
    post(client, county["li"], alert_id, "resolve", {"note": "已处理"})
    refused = post(client, county["boss"], alert_id, "reassign", {"officer": "zhou"})
    assert_error(refused, 409, "conflict")
