"""The monitoring-order API (CONTRACT "Supervision extras"): shapes, roles, scope, bad input."""

from __future__ import annotations

import pytest

from tests.api_support import (
    DELETE,
    assert_error,
    audit_actions_since,
    last_audit_id,
    mutate,
    row_counts,
)
from tests.factories import bearer

BODY = {
    "ground": "left_area_without_approval",
    "starts_on": "2026-11-28",
    "ends_on": "2027-02-28",
    "reason": "两次未经批准离开本县",
}


@pytest.fixture
def scene(app, world, client):
    """Officer li (T01), zhao of T02, a supervisor, a viewer; a subject in each office."""
    world.office(code="T02", name="第二司法所", lat=24.9, lon=107.8)
    for name, role, office in (
        ("li", "officer", "T01"),
        ("zhao", "officer", "T02"),
        ("boss", "supervisor", None),
        ("wall", "viewer", None),
    ):
        world.officer(name, role=role, office_code=office)
    return {
        "mine": world.subject(name="王小明", supervision_start="2026-01-01")["id"],
        "theirs": world.subject(name="欧阳建华", office_code="T02")["id"],
        "li": bearer(client, "li"),
        "zhao": bearer(client, "zhao"),
        "boss": bearer(client, "boss"),
        "wall": bearer(client, "wall"),
    }


def create(client, scene, body=None, who="li", subject=None):
    subject = subject or scene["mine"]
    return client.post(
        f"/api/v1/subjects/{subject}/monitoring-orders", json=body or BODY, headers=scene[who]
    )


def test_a_request_is_201_pending_with_its_fields(client, scene):
    response = create(client, scene)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["status"] == "pending"
    assert isinstance(order["id"], int)
    for key in ("ground", "starts_on", "ends_on", "reason"):
        assert order[key] == BODY[key]
    assert order["subject_id"] == scene["mine"]
    assert order["approved_at"] is None and order["ended_at"] is None
    assert order["created_at"].endswith("Z")


def test_approve_then_end_early(client, scene):
    order_id = create(client, scene).get_json()["id"]
    approved = client.post(f"/api/v1/monitoring-orders/{order_id}/approve", headers=scene["boss"])
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved"
    assert approved.get_json()["approved_at"] == "2026-11-28T02:00:00Z"
    ended = client.post(
        f"/api/v1/monitoring-orders/{order_id}/end",
        json={"reason": "已无必要"},
        headers=scene["li"],
    )
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["status"] == "ended"
    assert ended.get_json()["end_reason"] == "已无必要"
    again = client.post(
        f"/api/v1/monitoring-orders/{order_id}/end", json={"reason": "再次"}, headers=scene["li"]
    )
    assert_error(again, 409)


@pytest.mark.parametrize("who", ["li", "wall"])
def test_only_a_supervisor_or_admin_approves(client, scene, who):
    order_id = create(client, scene).get_json()["id"]
    before = row_counts(client.application, ignore=("audit_log", "audit_subjects"))
    response = client.post(f"/api/v1/monitoring-orders/{order_id}/approve", headers=scene[who])
    assert_error(response, 403)
    assert row_counts(client.application, ignore=("audit_log", "audit_subjects")) == before
    shown = client.get(f"/api/v1/monitoring-orders/{order_id}", headers=scene["li"]).get_json()
    assert shown["status"] == "pending"


def test_the_admin_approves_too(client, scene, admin):
    order_id = create(client, scene).get_json()["id"]
    response = client.post(f"/api/v1/monitoring-orders/{order_id}/approve", headers=admin)
    assert response.status_code == 200


def test_an_overlapping_approval_is_409_and_changes_nothing(client, scene):
    first = create(client, scene).get_json()["id"]
    assert (
        client.post(f"/api/v1/monitoring-orders/{first}/approve", headers=scene["boss"]).status_code
        == 200
    )
    renewal = create(client, scene, {**BODY, "starts_on": "2027-02-28", "ends_on": "2027-05-27"})
    renewal_id = renewal.get_json()["id"]
    response = client.post(f"/api/v1/monitoring-orders/{renewal_id}/approve", headers=scene["boss"])
    assert_error(response, 409, "conflict")
    shown = client.get(f"/api/v1/monitoring-orders/{renewal_id}", headers=scene["boss"])
    assert shown.get_json()["status"] == "pending"
    later = create(client, scene, {**BODY, "starts_on": "2027-03-01", "ends_on": "2027-05-31"})
    later_id = later.get_json()["id"]
    assert (
        client.post(
            f"/api/v1/monitoring-orders/{later_id}/approve", headers=scene["boss"]
        ).status_code
        == 200
    )


def test_the_list_shows_the_subjects_orders_newest_term_first(client, scene):
    create(client, scene)
    create(client, scene, {**BODY, "starts_on": "2027-03-01", "ends_on": "2027-05-31"})
    create(client, scene, subject=scene["theirs"], who="boss")
    response = client.get(
        f"/api/v1/subjects/{scene['mine']}/monitoring-orders", headers=scene["li"]
    )
    items = response.get_json()["items"]
    assert [i["starts_on"] for i in items] == ["2027-03-01", "2026-11-28"]
    assert {i["subject_id"] for i in items} == {scene["mine"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/subjects/{subject}/monitoring-orders"),
        ("GET", "/api/v1/subjects/{subject}/monitoring-orders"),
        ("GET", "/api/v1/monitoring-orders/{order}"),
        ("POST", "/api/v1/monitoring-orders/{order}/end"),
    ],
)
def test_another_offices_subject_and_orders_are_404(client, scene, method, path):
    order = create(client, scene, subject=scene["theirs"], who="boss").get_json()["id"]
    url = path.format(subject=scene["theirs"], order=order)
    body = {"reason": "x"} if url.endswith("/end") else BODY
    response = client.open(url, method=method, json=body, headers=scene["li"])
    assert_error(response, 404)
    # The same office's officer reaches them.
    if method == "GET":
        assert client.get(url, headers=scene["zhao"]).status_code == 200


def test_an_unknown_order_is_404(client, scene):
    assert_error(client.get("/api/v1/monitoring-orders/999999", headers=scene["li"]), 404)


def test_the_viewer_is_refused(client, scene):
    response = create(client, scene, who="wall")
    assert_error(response, 403)


def test_no_token_is_401(client, scene):
    response = client.post(f"/api/v1/subjects/{scene['mine']}/monitoring-orders", json=BODY)
    assert_error(response, 401)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ground", "curfew_breach"),
        ("ground", DELETE),
        ("ground", 3),
        ("starts_on", "2026-13-01"),
        ("starts_on", "28/11/2026"),
        ("starts_on", DELETE),
        ("ends_on", "2027-02-29"),  # no such day
        ("ends_on", "2027-03-01"),  # a day past 3 months
        ("ends_on", "2026-11-27"),  # before the first day
        ("ends_on", "9999-12-31"),
        ("ends_on", "2027-11-20"),  # after the supervision's last day
        ("starts_on", "2025-12-31"),  # before the supervision began
        ("reason", "   "),
        ("reason", "\u200b"),
        ("reason", "x\x00y"),
        ("reason", DELETE),
    ],
)
def test_bad_input_is_422_naming_the_field_and_stores_nothing(client, scene, field, value):
    before = row_counts(client.application)
    response = create(client, scene, mutate(BODY, field, value))
    assert_error(response, 422, "validation_error", field=field)
    assert row_counts(client.application) == before


def test_the_limit_is_named_in_the_error(client, scene):
    body = {**BODY, "starts_on": "2026-01-31", "ends_on": "2026-05-01"}
    error = assert_error(create(client, scene, body), 422, field="ends_on")
    assert "2026-04-30" in error["fields"]["ends_on"]
    assert create(client, scene, {**body, "ends_on": "2026-04-30"}).status_code == 201


def test_an_unknown_field_and_a_malformed_body(client, scene):
    assert_error(create(client, scene, {**BODY, "extra": 1}), 422, field="extra")
    response = client.post(
        f"/api/v1/subjects/{scene['mine']}/monitoring-orders",
        data="{",
        content_type="application/json",
        headers=scene["li"],
    )
    assert_error(response, 400)


def test_ending_needs_a_reason(client, scene):
    order_id = create(client, scene).get_json()["id"]
    response = client.post(
        f"/api/v1/monitoring-orders/{order_id}/end", json={"reason": " "}, headers=scene["li"]
    )
    assert_error(response, 422, field="reason")


def test_every_step_is_audited(client, scene, app):
    mark = last_audit_id(app)
    order_id = create(client, scene).get_json()["id"]
    client.get(f"/api/v1/subjects/{scene['mine']}/monitoring-orders", headers=scene["li"])
    client.get(f"/api/v1/monitoring-orders/{order_id}", headers=scene["li"])
    client.post(f"/api/v1/monitoring-orders/{order_id}/approve", headers=scene["boss"])
    client.post(
        f"/api/v1/monitoring-orders/{order_id}/end", json={"reason": "x"}, headers=scene["li"]
    )
    actions = [a for a in audit_actions_since(app, mark) if a.startswith("monitoring_order.")]
    assert actions == [
        "monitoring_order.create",
        "monitoring_order.list",
        "monitoring_order.read",
        "monitoring_order.approve",
        "monitoring_order.end",
    ]


def test_the_list_of_requests_waiting_for_approval_is_within_the_scope(client, scene):
    mine = create(client, scene).get_json()["id"]
    theirs = create(client, scene, subject=scene["theirs"], who="boss").get_json()["id"]
    approved = create(client, scene, {**BODY, "starts_on": "2027-03-01", "ends_on": "2027-05-31"})
    approved_id = approved.get_json()["id"]
    client.post(f"/api/v1/monitoring-orders/{approved_id}/approve", headers=scene["boss"])
    county = client.get("/api/v1/monitoring-orders?status=pending", headers=scene["boss"])
    body = county.get_json()
    assert [i["id"] for i in body["items"]] == [mine, theirs]  # oldest request first
    assert body["total"] == 2 and body["items"][0]["subject_name"] == "王小明"
    assert body["items"][1]["office_code"] == "T02"
    office = client.get("/api/v1/monitoring-orders", headers=scene["li"]).get_json()
    assert sorted(i["id"] for i in office["items"]) == sorted([mine, approved_id])
    assert_error(client.get("/api/v1/monitoring-orders?status=x", headers=scene["li"]), 422)
