"""PUT /api/v1/subjects/{id}/checkin-plan: an effective-dated change of the check-in plan."""

from __future__ import annotations

from sqlalchemy import select

from corrections.audit.models import AuditEntry
from corrections.checkin.models import CheckinPlan
from corrections.extensions import db
from tests.api_support import AUDIT_TABLES, assert_error, row_counts
from tests.factories import bearer, phone_login

CHANGE = {
    "every_days": 2,
    "window_start": "09:00",
    "window_end": "11:30",
    "effective_on": "2026-11-30",
}


def put(client, headers, subject_id, body):
    return client.put(f"/api/v1/subjects/{subject_id}/checkin-plan", json=body, headers=headers)


def versions(app, subject_id):
    with app.app_context():
        rows = db.session.scalars(
            select(CheckinPlan).where(CheckinPlan.subject_id == subject_id).order_by(CheckinPlan.id)
        ).all()
        return [
            (p.every_days, p.window_start, p.window_end, p.first_day, p.last_day, p.effective_to)
            for p in rows
        ]


def test_a_plan_change_sets_a_curfew_and_the_next_change_can_lift_it(app, client, world):
    world.officer("li", office_code="T01")
    subject = world.subject(enrolled_at="2026-11-19T12:00:00+08:00", supervision_start="2026-11-20")
    headers = bearer(client, "li")
    body = {**CHANGE, "curfew_start": "22:00", "curfew_end": "06:00"}
    answer = put(client, headers, subject["id"], body).get_json()
    assert (answer["curfew_start"], answer["curfew_end"]) == ("22:00", "06:00")
    with app.app_context():
        newest = db.session.scalars(
            select(CheckinPlan).where(CheckinPlan.subject_id == subject["id"])
        ).all()[-1]
        assert (newest.curfew_start_min, newest.curfew_end_min) == (22 * 60, 6 * 60)
    lifted = put(client, headers, subject["id"], {**CHANGE, "effective_on": "2026-12-01"})
    assert lifted.get_json()["curfew_start"] is None


def test_a_plan_change_from_a_later_day(app, client, world):
    world.officer("li", office_code="T01")
    subject = world.subject(enrolled_at="2026-11-19T12:00:00+08:00", supervision_start="2026-11-20")
    response = put(client, bearer(client, "li"), subject["id"], CHANGE)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "every_days": 2,
        "window_start": "09:00",
        "window_end": "11:30",
        "video_every_days": None,
        "curfew_start": None,
        "curfew_end": None,
        "effective_from": "2026-11-29T16:00:00Z",  # midnight of the 30th in Shanghai
    }
    old, new = versions(app, subject["id"])
    assert old[:3] == (1, "08:00", "20:00") and old[4] == 20786  # the 29th is its last window
    assert new[:4] == (2, "09:00", "11:30", 20787) and new[4] is None  # from the 30th
    # The subject's file and the phone show the plan in force now, and the next window by it.
    shown = client.get(f"/api/v1/subjects/{subject['id']}", headers=bearer(client, "li")).get_json()
    assert shown["checkin"]["window_start"] == "08:00"
    me = client.get("/mobile/v1/me", headers=phone_login(client, subject["phone"])).get_json()
    assert me["next_window"] == {"start": "2026-11-28T00:00:00Z", "end": "2026-11-28T12:00:00Z"}
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.change"))
        assert (entry.actor_kind, entry.subject_id) == ("officer", subject["id"])
        assert entry.detail["effective_on"] == "2026-11-30"


def test_a_change_named_for_today_takes_effect_now(app, client, world):
    subject = world.subject(enrolled_at="2026-11-19T12:00:00+08:00", supervision_start="2026-11-20")
    today = {**CHANGE, "effective_on": "2026-11-28"}
    response = put(client, bearer(client, "admin"), subject["id"], today)
    assert response.get_json()["effective_from"] == "2026-11-28T02:00:00Z"  # now, not midnight
    old, new = versions(app, subject["id"])
    assert old[4] == 20785  # today's 08:00 window had begun: the old version still judges it
    # Every 2 days from today: today's 09:00 window has passed already, so the 30th's is first.
    assert new[3] == 20787


def test_a_change_may_not_reach_into_the_past(app, client, world):
    subject = world.subject()
    admin = bearer(client, "admin")
    before = row_counts(app)
    response = put(client, admin, subject["id"], {**CHANGE, "effective_on": "2026-11-27"})
    assert_error(response, 422, "validation_error", field="effective_on")
    assert row_counts(app) == before


def test_a_plan_change_is_validated_like_the_enrolment(app, client, world):
    subject = world.subject()
    admin = bearer(client, "admin")
    before = row_counts(app)
    for field, value in (
        ("every_days", 0),
        ("every_days", 91),
        ("window_start", "25:00"),
        ("window_end", "09:00"),  # the same as the start
        ("effective_on", "tomorrow"),
    ):
        assert_error(put(client, admin, subject["id"], {**CHANGE, field: value}), 422, field=field)
    body = dict(CHANGE)
    del body["effective_on"]
    assert_error(put(client, admin, subject["id"], body), 422, field="effective_on")
    assert row_counts(app) == before


def test_another_offices_subject_is_404_and_a_viewer_403(app, client, world):
    world.office(code="T02", name="第二司法所")
    world.officer("wang", office_code="T02")
    world.officer("screen", role="viewer")
    subject = world.subject()
    wang, screen, admin = (bearer(client, n) for n in ("wang", "screen", "admin"))
    before = row_counts(app, ignore=AUDIT_TABLES)
    assert_error(put(client, wang, subject["id"], CHANGE), 404)
    assert_error(put(client, screen, subject["id"], CHANGE), 403)
    assert_error(put(client, admin, 99999, CHANGE), 404)
    # Each refusal is recorded (access.refused); nothing else is stored.
    assert row_counts(app, ignore=AUDIT_TABLES) == before
