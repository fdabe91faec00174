"""Enrolling and reading subjects through /api/v1, within each caller's office scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from corrections.audit.models import AuditEntry
from corrections.extensions import db
from tests.api_support import AUDIT_TABLES, assert_error, row_counts
from tests.factories import SEAT, bearer, phone_login, subject_body

MASKED = "4500**********1234"
RAW_ID = "450000199001011234"


@pytest.fixture
def county(world):
    """Two offices, an officer in each, a supervisor; returns {name: headers}."""
    world.office(code="T02", name="第二司法所", lat=24.9, lon=107.8)
    world.officer("li", office_code="T01")
    world.officer("wang", office_code="T02")
    world.officer("boss", role="supervisor")
    client = world.app.test_client()
    return {name: bearer(client, name) for name in ("admin", "li", "wang", "boss")}


def enrol(client, headers, **overrides):
    return client.post("/api/v1/subjects", json=subject_body(**overrides), headers=headers)


def audit_rows(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )
        db.session.expunge_all()
        return rows


# --- enrolment ------------------------------------------------------------------------------


@pytest.mark.parametrize("who, office", [("admin", "T02"), ("boss", "T02"), ("li", "T01")])
def test_admin_supervisor_and_the_offices_own_officer_may_enrol(client, county, who, office):
    response = enrol(client, county[who], office_code=office)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["office_code"] == office
    shown = client.get(f"/api/v1/subjects/{created['id']}", headers=county[who])
    assert shown.status_code == 200


def test_an_officer_may_not_enrol_into_another_office(client, county, world):
    before = row_counts(world.app, ignore=AUDIT_TABLES)
    assert_error(enrol(client, county["li"], office_code="T02"), 403)
    assert row_counts(world.app, ignore=AUDIT_TABLES) == before
    [refusal] = audit_rows(world.app, "access.refused")
    assert refusal.detail["record"] == "office" and refusal.detail["record_id"] == "T02"


def test_enrolment_answers_with_the_record_as_stored(client, county):
    polygon = [[24.69, 107.49], [24.71, 107.49], [24.71, 107.51], [24.69, 107.51]]
    body = subject_body(
        phone="139 1234 5678",
        name="  欧阳小华 ",
        zones=[
            {"kind": "allowed", "name": "县城", "lat": SEAT[0], "lon": SEAT[1], "radius_m": 5000},
            {"kind": "exclusion", "name": "网吧", "polygon": polygon},
        ],
        checkin={"every_days": 2, "window_start": "22:00", "window_end": "02:00"},
    )
    response = client.post("/api/v1/subjects", json=body, headers=county["li"])
    assert response.status_code == 201
    created = response.get_json()
    assert isinstance(created["id"], int)
    assert created["name"] == "欧阳小华"
    assert created["phone"] == "+8613912345678"
    assert (created["category"], created["level"]) == ("probation", "normal")
    assert (created["supervision_start"], created["supervision_end"]) == (
        "2026-11-20",
        "2027-11-19",
    )
    assert created["home"] == {"lat": SEAT[0], "lon": SEAT[1]}
    assert created["checkin"] == {
        "every_days": 2,
        "window_start": "22:00",
        "window_end": "02:00",
        "video_every_days": None,
        "curfew_start": None,
        "curfew_end": None,
        # The plan takes effect when the record is entered (conftest's DEFAULT_NOW).
        "effective_from": "2026-11-28T02:00:00Z",
    }
    circle, drawn = created["zones"]
    assert (circle["kind"], circle["radius_m"], circle["lat"]) == ("allowed", 5000, SEAT[0])
    assert (drawn["kind"], drawn["polygon"]) == ("exclusion", polygon)
    text = response.get_data(as_text=True)
    assert "2468" not in text and "pin" not in created


def test_the_resident_id_is_masked_in_every_response(client, county):
    created = enrol(client, county["li"], id_number=RAW_ID).get_json()
    lower_x = enrol(client, county["li"], id_number="45000019900101123x").get_json()
    without = subject_body()
    del without["id_number"]
    plain = client.post("/api/v1/subjects", json=without, headers=county["li"]).get_json()

    assert created["id_number"] == MASKED
    assert lower_x["id_number"] == "4500**********123X"
    assert plain["id_number"] is None
    responses = [
        client.get(f"/api/v1/subjects/{created['id']}", headers=county["li"]),
        client.get("/api/v1/subjects", headers=county["li"]),
        client.get(f"/api/v1/subjects?q={created['phone'][-4:]}", headers=county["admin"]),
    ]
    for response in responses:
        assert response.status_code == 200
        assert RAW_ID not in response.get_data(as_text=True)
        assert "199001011234" not in response.get_data(as_text=True)
    assert responses[0].get_json()["id_number"] == MASKED
    listed = {s["id"]: s["id_number"] for s in responses[1].get_json()["items"]}
    assert listed[created["id"]] == MASKED


@pytest.mark.parametrize(
    "start, end, status",
    [
        ("2020-01-01", "2021-06-30", "ended"),  # entered late, already released
        ("2026-06-01", "2026-11-27", "ended"),
        ("2026-11-28", "2026-11-28", "active"),  # one day, today
        ("2025-01-01", "2028-12-31", "active"),
        ("2026-11-29", "2027-11-28", "pending"),  # enrolled ahead
        ("2030-01-01", "2031-01-01", "pending"),
    ],
)
def test_supervision_may_lie_in_the_past_or_the_future(client, county, start, end, status):
    response = enrol(client, county["li"], supervision_start=start, supervision_end=end)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["status"] == status
    listed = client.get(f"/api/v1/subjects?status={status}", headers=county["li"]).get_json()
    assert [s["id"] for s in listed["items"]] == [created["id"]]


def test_status_follows_the_local_day_not_the_utc_day(client, county, at):
    created = enrol(client, county["li"], supervision_start="2026-11-29").get_json()
    path = f"/api/v1/subjects/{created['id']}"
    at("2026-11-28T15:59:59+00:00")  # 23:59:59 in Asia/Shanghai
    assert client.get(path, headers=bearer(client, "li")).get_json()["status"] == "pending"
    at("2026-11-28T16:00:00+00:00")  # midnight in Asia/Shanghai: the 29th has begun
    assert client.get(path, headers=bearer(client, "li")).get_json()["status"] == "active"


# --- lists and filters ----------------------------------------------------------------------


@pytest.fixture
def roster(client, county):
    """Subjects in two offices; returns {label: id}."""
    specs = {
        "zhang": dict(name="张伟", office_code="T01"),
        "ouyang": dict(
            name="欧阳明华",
            office_code="T01",
            supervision_start="2027-01-01",
            supervision_end="2027-12-31",
        ),
        "chen": dict(
            name="陈静",
            office_code="T01",
            supervision_start="2025-01-01",
            supervision_end="2025-12-31",
        ),
        "zhao": dict(name="赵伟", office_code="T02"),
    }
    return {
        label: enrol(client, county["admin"], **spec).get_json()["id"]
        for label, spec in specs.items()
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [s["id"] for s in response.get_json()["items"]]


def test_an_officer_lists_only_their_office(client, county, roster):
    assert ids(client.get("/api/v1/subjects", headers=county["li"])) == [
        roster["zhang"],
        roster["ouyang"],
        roster["chen"],
    ]
    assert ids(client.get("/api/v1/subjects", headers=county["wang"])) == [roster["zhao"]]
    assert len(ids(client.get("/api/v1/subjects", headers=county["boss"]))) == 4


@pytest.mark.parametrize(
    "query, expected",
    [
        ("office=T02", ["zhao"]),
        ("office=T01&status=active", ["zhang"]),
        ("status=pending", ["ouyang"]),
        ("status=ended", ["chen"]),
        ("status=active", ["zhang", "zhao"]),
        ("q=伟", ["zhang", "zhao"]),
        ("q=欧阳", ["ouyang"]),
        ("q=伟&office=T02", ["zhao"]),
        ("q=%25", []),  # a literal %, not a wildcard
        ("q=_", []),
        ("q=nobody", []),
    ],
)
def test_filters(client, county, roster, query, expected):
    response = client.get(f"/api/v1/subjects?{query}", headers=county["admin"])
    assert ids(response) == [roster[label] for label in expected]
    assert response.get_json()["total"] == len(expected)


def test_search_by_phone(client, county, roster):
    phone = client.get(f"/api/v1/subjects/{roster['chen']}", headers=county["admin"]).get_json()[
        "phone"
    ]
    assert ids(client.get(f"/api/v1/subjects?q={phone[-8:]}", headers=county["admin"])) == [
        roster["chen"]
    ]


def test_pages(client, county, roster):
    first = client.get("/api/v1/subjects?per_page=3", headers=county["admin"]).get_json()
    second = client.get("/api/v1/subjects?per_page=3&page=2", headers=county["admin"]).get_json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (4, 3, 1)
    assert {s["id"] for s in first["items"] + second["items"]} == set(roster.values())


def test_an_office_filter_outside_the_scope_is_404_like_an_unknown_office(client, county, roster):
    outside = client.get("/api/v1/subjects?office=T02", headers=county["li"])
    unknown = client.get("/api/v1/subjects?office=NOPE", headers=county["li"])
    assert assert_error(outside, 404) == assert_error(unknown, 404)
    assert_error(client.get("/api/v1/subjects?office=NOPE", headers=county["admin"]), 404)


def test_another_offices_subject_is_404_like_a_missing_one(client, county, roster):
    other = roster["zhao"]
    for path in (f"/api/v1/subjects/{other}", f"/api/v1/subjects/{other}/checkins"):
        outside = assert_error(client.get(path, headers=county["li"]), 404)
        missing = assert_error(
            client.get(path.replace(str(other), "999999"), headers=county["li"]), 404
        )
        assert outside == missing
        assert client.get(path, headers=county["wang"]).status_code == 200
        assert client.get(path, headers=county["boss"]).status_code == 200


# --- a subject's check-ins ------------------------------------------------------------------


def test_a_subjects_checkins_newest_first(client, county, at):
    created = enrol(client, county["li"]).get_json()
    phone = phone_login(client, created["phone"])
    for n, minutes_ago in enumerate([30, 10, 20]):
        body = {
            "client_id": f"c{n}",
            "lat": SEAT[0],
            "lon": SEAT[1],
            "accuracy_m": 15,
            "recorded_at": f"2026-11-28T01:{60 - minutes_ago:02d}:00Z",
        }
        if n == 2:
            body["lat"] = SEAT[0] + 0.06  # 6.7 km north: outside the 5 km zone
        assert client.post("/mobile/v1/checkins", json=body, headers=phone).status_code == 201
    response = client.get(f"/api/v1/subjects/{created['id']}/checkins", headers=county["li"])
    items = response.get_json()["items"]
    assert [c["client_id"] for c in items] == ["c1", "c2", "c0"]
    assert [c["status"] for c in items] == ["accepted", "flagged", "accepted"]
    assert items[1]["flags"] == ["geofence_exit"]
    assert {c["kind"] for c in items} == {"location"}
    assert items[0]["recorded_at"] == "2026-11-28T01:50:00Z"
    limited = client.get(f"/api/v1/subjects/{created['id']}/checkins?limit=1", headers=county["li"])
    assert [c["client_id"] for c in limited.get_json()["items"]] == ["c1"]


# --- the audit log --------------------------------------------------------------------------


def test_reading_listing_and_enrolling_are_audited(app, client, county, world):
    with app.app_context():
        from corrections.auth.models import Officer

        li_id = db.session.scalar(select(Officer.id).where(Officer.username == "li"))
    created = enrol(client, county["li"]).get_json()
    [entry] = audit_rows(app, "subject.create")
    assert (entry.actor_kind, entry.actor_id, entry.subject_id) == ("officer", li_id, created["id"])
    assert entry.at == dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)

    client.get("/api/v1/subjects?q=王", headers=county["li"])
    [entry] = audit_rows(app, "subject.list")
    assert entry.actor_id == li_id
    assert entry.detail["ids"] == [created["id"]]
    assert entry.detail["args"] == {"q": "王"}

    client.get(f"/api/v1/subjects/{created['id']}", headers=county["li"])
    [entry] = audit_rows(app, "subject.read")
    assert (entry.actor_id, entry.subject_id) == (li_id, created["id"])

    client.get(f"/api/v1/subjects/{created['id']}/checkins", headers=county["li"])
    [entry] = audit_rows(app, "subject.checkins.read")
    assert (entry.actor_id, entry.subject_id) == (li_id, created["id"])


def test_a_refused_read_or_enrolment_is_audited_as_a_refusal_not_as_a_read(
    app, client, county, roster
):
    created_before = len(audit_rows(app, "subject.create"))
    assert_error(client.get(f"/api/v1/subjects/{roster['zhao']}", headers=county["li"]), 404)
    assert_error(enrol(client, county["li"], office_code="T02"), 403)
    assert audit_rows(app, "subject.read") == []
    assert len(audit_rows(app, "subject.create")) == created_before
    read, enrolment = audit_rows(app, "access.refused")
    assert (read.subject_id, read.detail["reason"]) == (roster["zhao"], "outside_scope")
    assert (enrolment.detail["status"], enrolment.detail["record_id"]) == (403, "T02")


@pytest.mark.parametrize("phone", ["+15555550100", "+8614000000000", "020-12345678"])
def test_reserved_and_landline_numbers_enrol(client, admin, phone):
    response = client.post("/api/v1/subjects", json=subject_body(phone=phone), headers=admin)
    assert response.status_code == 201, response.get_json()
