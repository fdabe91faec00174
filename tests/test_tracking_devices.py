"""Binding a tracking app's device id to its subject: PUT /api/v1/subjects/{id}/tracking-device."""

from __future__ import annotations

from sqlalchemy import select

from corrections.audit.models import AuditEntry
from corrections.extensions import db
from corrections.signals.devices import subject_for_device
from tests.api_support import assert_error
from tests.factories import bearer


def put(client, headers, subject_id, body):
    return client.put(f"/api/v1/subjects/{subject_id}/tracking-device", json=body, headers=headers)


def test_an_officer_binds_a_device_and_binding_again_moves_it(app, client, world):
    world.officer("li", office_code="T01")
    first, second = world.subject()["id"], world.subject()["id"]
    token = bearer(client, "li")
    answer = put(client, token, first, {"device_id": " 865432 "})
    assert answer.status_code == 200
    assert answer.get_json()["device_id"] == "865432"
    assert put(client, token, first, {"device_id": "865433"}).status_code == 200
    # The phone passes to the second person: it now stands for them only.
    assert put(client, token, second, {"device_id": "865433"}).status_code == 200
    with app.app_context():
        assert subject_for_device("865433") == second
        assert subject_for_device("865432") is None  # replaced by the first rebinding
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "subject.tracking_device.bind")
            .order_by(AuditEntry.id)
        ).all()
        assert [e.subject_id for e in entries] == [first, first, second]
        assert entries[-1].detail["moved_from_subject"] == first


def test_another_offices_subject_is_not_found_and_bad_input_stores_nothing(app, client, world):
    world.office(code="T02", name="北山司法所")
    world.officer("li", office_code="T01")
    theirs = world.subject(office_code="T02")["id"]
    mine = world.subject()["id"]
    token = bearer(client, "li")
    assert put(client, token, theirs, {"device_id": "1"}).status_code == 404
    for body in ({}, {"device_id": ""}, {"device_id": "x" * 129}, {"device_id": 5}):
        assert_error(put(client, token, mine, body), 422)
    assert_error(put(client, token, mine, ["865432"]), 400, "malformed_request")
    with app.app_context():
        assert subject_for_device("1") is None
