"""Pages with personal data are never kept by the browser or a proxy (shared office computers):
`Cache-Control: no-store` on every response to a signed-in officer and on the JSON surfaces.
(Every route is also checked by tests/test_audit_coverage.py.)"""

from __future__ import annotations

import pytest

from corrections import clock
from corrections.extensions import db
from tests.api_support import web_login
from tests.factories import PASSWORD, bearer, phone_login, raise_for


@pytest.fixture
def signed_in(client, world):
    world.officer("li", office_code="T01")
    subject = world.subject()
    with world.app.app_context():
        alert = raise_for(subject["id"], "geofence_exit", {"distance_outside_m": 1.0}, clock.now())
        db.session.commit()
        alert_id = alert.id
    web_login(client, "li", PASSWORD)
    return {"subject": subject, "alert": alert_id}


def test_every_page_a_signed_in_officer_sees_is_no_store(client, signed_in):
    pages = [
        "/alerts",
        f"/alerts/{signed_in['alert']}",
        "/subjects",
        f"/subjects/{signed_in['subject']['id']}",
        "/subjects/new",
        "/subjects/999999",  # the error page too: it follows a signed-in officer's request
        "/",
    ]
    stored = {}
    for page in pages:
        response = client.get(page)
        if response.headers.get("Cache-Control") != "no-store":
            stored[page] = (response.status_code, response.headers.get("Cache-Control"))
    assert stored == {}


def test_the_json_surfaces_are_no_store(client, signed_in, world):
    headers = bearer(client, "li")
    assert client.get("/api/v1/subjects", headers=headers).headers["Cache-Control"] == "no-store"
    phone = phone_login(client, signed_in["subject"]["phone"])
    assert client.get("/mobile/v1/me", headers=phone).headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable_for_a_signed_in_officer(client, signed_in):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert "no-store" not in (response.headers.get("Cache-Control") or "")
