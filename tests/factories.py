"""Building blocks for tests: offices, accounts, subjects and authenticated clients."""

from __future__ import annotations

import copy
import datetime as dt
import itertools

import pytest

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.models import Alert
from corrections.alerts.raising import raise_alert
from corrections.auth.services import create_officer
from corrections.casefile.schemas import SubjectIn
from corrections.casefile.services import enrol
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.subjects.models import Subject

PASSWORD = "correct-horse-1"
_phones = itertools.count(13900000001)
#: Resident IDs are unique too: 4500, a running number, 1234 (masked: 4500**********1234).
_id_numbers = itertools.count(1990010100)

#: County seat of the fictional test county.
SEAT = (24.70, 107.50)

SUBJECT_BODY = {
    "name": "王小明",
    "pin": "2468",
    "office_code": "T01",
    "category": "probation",
    "level": "normal",
    "supervision_start": "2026-11-20",
    "supervision_end": "2027-11-19",
    "id_number": "450000199001011234",
    "home": {"lat": SEAT[0], "lon": SEAT[1]},
    "zones": [
        {"kind": "allowed", "name": "县城", "lat": SEAT[0], "lon": SEAT[1], "radius_m": 5000},
    ],
    "checkin": {"every_days": 1, "window_start": "08:00", "window_end": "20:00"},
}


def subject_body(**overrides) -> dict:
    """A valid POST /subjects body with a fresh phone number and resident ID; keys in
    `overrides` replace them."""
    body = copy.deepcopy(SUBJECT_BODY)
    body["phone"] = str(next(_phones))
    body["id_number"] = f"4500{next(_id_numbers):010d}1234"
    body.update(overrides)
    return body


class World:
    """Creates records straight through the services, inside an app context."""

    def __init__(self, app):
        self.app = app

    def office(self, code="T01", name="测试乡司法所", lat=SEAT[0], lon=SEAT[1]) -> int:
        with self.app.app_context():
            office = Office(code=code, name=name, lat=lat, lon=lon)
            db.session.add(office)
            db.session.commit()
            return office.id

    def officer(self, username, role="officer", office_code="T01", password=PASSWORD) -> int:
        with self.app.app_context():
            officer = create_officer(
                username, password, role, office_code if role == "officer" else None
            )
            db.session.commit()
            return officer.id

    def subject(self, enrolled_at: str | dt.datetime | None = None, **overrides) -> dict:
        """Enrol a subject (as the system); returns the body used (with its id under "id").

        The plan takes effect when the record is entered: `enrolled_at` (an ISO 8601 string or
        an aware datetime) enters it then, so windows from that moment on are due; the clock is
        moved back to where it was afterwards. By default the record is entered now."""
        body = subject_body(**overrides)
        before = clock.now()
        if isinstance(enrolled_at, str):
            enrolled_at = dt.datetime.fromisoformat(enrolled_at)
        moment = enrolled_at or before
        try:
            clock.set_now(moment)
            with self.app.app_context():
                data = SubjectIn.from_plain(body)
                grace = dt.timedelta(minutes=self.app.config["CHECKIN_GRACE_MINUTES"])
                subject = enrol(data, None, actor=Actor.system(), now=moment, grace=grace)
                db.session.commit()
                body["id"] = subject.id
                body["phone"] = subject.phone
        finally:
            clock.set_now(before)
        return body


@pytest.fixture
def world(app):
    """A World on the test database with one office (T01) and an admin account."""
    w = World(app)
    w.office()
    w.officer("admin", role="admin")
    return w


def raise_for(subject_id: int, kind: str, evidence: dict, at: dt.datetime) -> Alert:
    """Open (or bump) an alert about a subject the way the rules do (inside an app context);
    the alert."""
    subject = db.session.get(Subject, subject_id)
    alert_id = raise_alert(
        kind,
        subject_id=subject.id,
        office_id=subject.office_id,
        level=subject.level,
        evidence=evidence,
        at=at,
    )
    return db.session.get(Alert, alert_id)


def bearer(client, username: str, password: str = PASSWORD) -> dict:
    """Headers carrying an officer's API token."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def phone_login(client, phone: str, pin: str = "2468", device_id: str = "phone-1") -> dict:
    """Headers carrying a subject's phone token."""
    response = client.post(
        "/mobile/v1/auth/login", json={"phone": phone, "pin": pin, "device_id": device_id}
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


@pytest.fixture
def admin(client, world) -> dict:
    """API headers of the admin account."""
    return bearer(client, "admin")


__all__ = [
    "world",
    "admin",
    "bearer",
    "phone_login",
    "raise_for",
    "subject_body",
    "World",
    "PASSWORD",
    "SEAT",
]


def record_checkin(app, subject_id: int, report) -> None:
    """Store a location check-in `report` (a checkin.services.LocationReport) from the
    subject's phone, through the service the mobile API calls, and commit."""
    from corrections.checkin.services import record_location_checkin
    from corrections.checkin.settings import CheckinSettings

    with app.app_context():
        subject = db.session.get(Subject, subject_id)
        record_location_checkin(
            subject,
            report,
            kind="location",
            device_id=None,
            actor=Actor.subject(subject.id, None),
            now=clock.now(),
            settings=CheckinSettings.from_config(app.config),
        )
        db.session.commit()
