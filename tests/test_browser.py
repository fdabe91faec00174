"""The officer's path in a real browser (Debian's headless Chromium driven by Playwright):
sign in, open the queue, take an alert and resolve it.

The app runs in a thread on 127.0.0.1 with a free port, on the same test database (a file on
SQLite, so the server thread sees what the test wrote) and the same frozen clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from corrections import clock
from corrections.alerts.models import Alert, AlertEvent
from corrections.extensions import db
from tests.factories import raise_for

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)


@pytest.fixture
def chromium(chromium_browser):
    """A headless Chromium page that fails the test on any console error (a CSP violation
    from an inline script or style shows up there)."""
    # An office computer in China asks for Chinese (headless Chromium would ask for en-US).
    context = chromium_browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page, errors
    context.close()


def test_officer_signs_in_takes_and_resolves_an_alert(app, world, live_server, chromium):
    page, errors = chromium
    world.officer("li", office_code="T01")
    subject_id = world.subject(name="王小明")["id"]
    with app.app_context():
        evidence = {"nearest_zone": "县城", "distance_outside_m": 2400.0, "accuracy_m": 25.0}
        alert_id = raise_for(subject_id, "geofence_exit", evidence, clock.now()).id
        db.session.commit()

    # English pages, so the words below stay the same whatever the Chinese catalogue says.
    page.goto(f"{live_server}/lang/en?next=/alerts")
    assert page.url.startswith(f"{live_server}/login?next=")
    page.get_by_label("Username").fill("li")
    page.get_by_label("Password").fill("correct-horse-1")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server}/alerts")
    row = page.locator("tbody.group", has_text="王小明")
    assert "Left the allowed zone" in row.inner_text()
    assert "2.4\u00a0km outside the allowed zone 县城" in row.inner_text()
    row.get_by_role("link", name=f"Open alert {alert_id}").click()

    page.wait_for_url(f"{live_server}/alerts/{alert_id}")
    page.get_by_role("button", name="Take this alert").click()
    page.wait_for_url(f"{live_server}/alerts/{alert_id}")
    assert "You are now handling this alert" in page.locator("main").inner_text()
    assert "li (you)" in page.locator("main").inner_text()

    page.get_by_label("What did you do?").fill("电话联系本人,已返回县城")
    page.get_by_role("button", name="Resolve the alert").click()

    page.wait_for_url(f"{live_server}/alerts")
    main = page.locator("main").inner_text()
    assert "Alert resolved" in main
    assert "No alerts match these filters." in main  # the queue of unresolved alerts is empty

    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.id == alert_id))
        assert alert.status == "resolved"
        assert alert.owner.username == "li"
        history = db.session.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
        ).all()
        assert [e.action for e in history] == ["opened", "acknowledged", "resolved"]
        assert history[-1].note == "电话联系本人,已返回县城"
        db.session.remove()
    assert errors == []
