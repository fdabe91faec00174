"""The supervision loop end to end: enrol, check in, alert, acknowledge, resolve."""

from tests.factories import bearer, phone_login, subject_body


def test_checkin_outside_zone_opens_alert_that_officer_acknowledges_and_resolves(
    client, world, admin
):
    world.officer("li", office_code="T01")
    created = client.post("/api/v1/subjects", json=subject_body(), headers=admin)
    assert created.status_code == 201
    subject = created.get_json()

    phone = phone_login(client, subject["phone"])
    response = client.post(
        "/mobile/v1/checkins",
        json={
            "client_id": "c-1",
            "lat": 25.0,
            "lon": 107.5,
            "accuracy_m": 50,
            "recorded_at": "2026-11-28T01:58:00Z",
        },
        headers=phone,
    )
    assert response.status_code == 201
    assert response.get_json()["status"] == "flagged"
    assert response.get_json()["flags"] == ["geofence_exit"]

    officer = bearer(client, "li")
    queue = client.get("/api/v1/alerts?status=open", headers=officer).get_json()["items"]
    assert [a["kind"] for a in queue] == ["geofence_exit"]
    alert_id = queue[0]["id"]
    assert queue[0]["evidence"]["distance_outside_m"] > 30000 - 5000 - 100

    ack = client.post(f"/api/v1/alerts/{alert_id}/ack", headers=officer)
    assert ack.status_code == 200
    assert ack.get_json()["owner"] == "li"
    done = client.post(
        f"/api/v1/alerts/{alert_id}/resolve", json={"note": "打电话核实,已返回"}, headers=officer
    )
    assert done.status_code == 200
    body = client.get(f"/api/v1/alerts/{alert_id}", headers=officer).get_json()
    assert body["status"] == "resolved"
    assert [h["action"] for h in body["history"]] == ["opened", "acknowledged", "resolved"]
    assert body["history"][-1]["note"] == "打电话核实,已返回"
    assert body["history"][-1]["actor"] == "li"
