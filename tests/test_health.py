"""/healthz for operators and load balancers, and the sweep's freshness shown to officers."""

from __future__ import annotations

from corrections.scheduler import SchedulerState, heartbeat_job, sweep_job
from tests.api_support import web_login
from tests.factories import PASSWORD, bearer


def test_healthz_is_public_and_says_degraded_until_the_scheduler_has_run(app, client, world):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"]) == ("degraded", "ok")
    assert body["sweep"]["last_success_at"] is None and body["sweep"]["stale"] is True
    assert body["scheduler"] == {"last_beat_at": None, "stale": True, "stale_after_seconds": 120}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_ok_while_the_scheduler_beats_and_sweeps(app, client, world, at):
    state = SchedulerState(5)
    heartbeat_job(app, state)
    sweep_job(app, state)
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["sweep"]["last_success_at"] == "2026-11-28T02:00:00Z"
    at("2026-11-28T10:03:00+08:00")
    assert client.get("/healthz").get_json()["scheduler"]["stale"] is True  # 3 minutes silent
    assert client.get("/healthz").get_json()["sweep"]["stale"] is False  # under 5 minutes


def test_the_queue_warns_officers_when_the_sweep_has_not_run(app, client, world, at):
    client.set_cookie("lang", "en")
    web_login(client, "admin", PASSWORD)
    page = client.get("/alerts").get_data(as_text=True)
    assert "the automatic check has never run" in page
    sweep_job(app, SchedulerState(5))
    page = client.get("/alerts").get_data(as_text=True)
    assert "has never run" not in page and "has not run since" not in page
    assert "Last automatic check: 10:00." in page
    at("2026-11-28T10:06:00+08:00")
    page = client.get("/alerts").get_data(as_text=True)
    assert "the automatic check has not run since 2026-11-28 10:00" in page


def test_the_alert_list_says_how_fresh_the_sweep_is(app, client, world, at):
    sweep_job(app, SchedulerState(5))
    at("2026-11-28T10:06:00+08:00")
    sweep = client.get("/api/v1/alerts", headers=bearer(client, "admin")).get_json()["sweep"]
    assert sweep == {
        "last_success_at": "2026-11-28T02:00:00Z",
        "last_failure_at": None,
        "stale": True,
        "stale_after_seconds": 300,
    }
