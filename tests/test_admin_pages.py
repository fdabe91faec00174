"""The administration pages: offices and accounts without the command line (admins only)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from corrections.audit.models import AuditEntry
from corrections.auth.models import Officer
from corrections.extensions import db
from corrections.offices.models import Office
from tests.api_support import csrf_token_of, row_counts, web_login
from tests.factories import PASSWORD, bearer

NEW_PASSWORD = "a-brand-new-secret-7"


@pytest.fixture
def admin_browser(client, world):
    client.set_cookie("lang", "en")
    assert web_login(client, "admin", PASSWORD).status_code == 302
    return client


def officer(app, username: str) -> Officer:
    with app.app_context():
        row = db.session.scalar(select(Officer).where(Officer.username == username))
        row.office  # noqa: B018 - load before the session closes
        db.session.expunge_all()
        return row


def submit(client, page: str, action: str | None = None, **fields):
    """Open `page` and post its form (the first CSRF token on it) to `action`."""
    token = csrf_token_of(client.get(page))
    return client.post(action or page, data={"csrf_token": token, **fields})


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', html)
    assert match, f"no error beside {field}"
    return match.group(1)


def test_the_administration_link_is_for_admins_only(app, client, world):
    world.officer("li")
    web_login(client, "admin", PASSWORD)
    assert "管理" in client.get("/alerts").text  # Chinese by default
    assert 'href="/admin/accounts"' in client.get("/alerts").text
    other = app.test_client()
    web_login(other, "li", PASSWORD)
    assert 'href="/admin/accounts"' not in other.get("/alerts").text


@pytest.mark.parametrize("role", ["supervisor", "officer", "viewer"])
@pytest.mark.parametrize("path", ["/admin/accounts", "/admin/accounts/new", "/admin/offices"])
def test_other_roles_get_403(app, client, world, role, path):
    world.officer("someone", role=role)
    web_login(client, "someone", PASSWORD)
    assert client.get(path).status_code == 403


def test_without_login_the_pages_send_to_the_login(client, world):
    response = client.get("/admin/accounts")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_every_administration_page_is_chinese_by_default(app, client, world):
    web_login(client, "admin", PASSWORD)
    admin_id = officer(app, "admin").id
    for path in [
        "/admin/accounts",
        "/admin/accounts/new",
        "/admin/offices",
        f"/admin/accounts/{admin_id}",
        f"/admin/accounts/{admin_id}/sign-out",
    ]:
        page = client.get(path)
        assert page.status_code == 200, path
        assert '<html lang="zh-CN">' in page.text


def test_create_an_account(app, admin_browser):
    response = submit(
        admin_browser,
        "/admin/accounts/new",
        display_name="李建国",
        username="lijianguo",
        role="officer",
        office_code="T01",
        password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert response.status_code == 302
    page = admin_browser.get(response.headers["Location"])
    assert "李建国" in page.text and "is created" in page.text
    created = officer(app, "lijianguo")
    assert (created.display_name, created.role, created.office.code) == ("李建国", "officer", "T01")
    assert bearer(app.test_client(), "lijianguo", NEW_PASSWORD)
    assert "李建国" in admin_browser.get("/admin/accounts").text


def test_mistakes_are_named_beside_each_field_and_nothing_is_stored(app, admin_browser):
    before = row_counts(app)
    response = submit(
        admin_browser,
        "/admin/accounts/new",
        username="li jianguo",
        role="officer",
        office_code="",
        password=" " * 8,
        confirm=" " * 8,
    )
    assert response.status_code == 422
    assert field_error(response.text, "username")
    assert "Nothing was saved" in response.text
    response = submit(
        admin_browser,
        "/admin/accounts/new",
        username="lijianguo",
        role="officer",
        office_code="",
        password="1234567890",
        confirm="1234567890",
    )
    assert response.status_code == 422
    assert "common" in field_error(response.text, "password")
    response = submit(
        admin_browser,
        "/admin/accounts/new",
        username="lijianguo",
        role="officer",
        office_code="",
        password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert "office" in field_error(response.text, "office_code")
    response = submit(
        admin_browser,
        "/admin/accounts/new",
        username="lijianguo",
        role="",
        password=NEW_PASSWORD,
        confirm="something-else-entirely",
    )
    assert field_error(response.text, "confirm")
    response = submit(
        admin_browser,
        "/admin/accounts/new",
        username="admin",
        role="admin",
        password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert "already exists" in field_error(response.text, "username")
    assert row_counts(app) == before


def test_set_display_name_and_office(app, admin_browser, world):
    world.office(code="T02", name="金谷乡司法所")
    world.officer("li")
    li = officer(app, "li")
    page = f"/admin/accounts/{li.id}"
    response = submit(
        admin_browser, page, f"{page}/details", display_name="李建国", office_code="T02"
    )
    assert response.status_code == 302
    changed = officer(app, "li")
    assert (changed.display_name, changed.office.code) == ("李建国", "T02")
    response = submit(admin_browser, page, f"{page}/details", display_name="", office_code="")
    assert response.status_code == 422
    assert field_error(response.text, "office_code")


def test_reset_a_password_signs_the_account_out(app, admin_browser, world):
    world.officer("li")
    li = officer(app, "li")
    elsewhere = app.test_client()
    web_login(elsewhere, "li", PASSWORD)
    page = f"/admin/accounts/{li.id}"
    response = submit(admin_browser, page, f"{page}/password", password="li-123", confirm="li-123")
    assert response.status_code == 422
    assert field_error(response.text, "password")
    assert elsewhere.get("/alerts").status_code == 200
    response = submit(
        admin_browser, page, f"{page}/password", password=NEW_PASSWORD, confirm=NEW_PASSWORD
    )
    assert response.status_code == 302
    assert (
        "signed out on 1 computer and 0 apps."
        in admin_browser.get(response.headers["Location"]).text
    )
    assert elsewhere.get("/alerts").status_code == 302
    assert web_login(app.test_client(), "li", NEW_PASSWORD).status_code == 302


def test_deactivate_asks_first_then_signs_out_and_locks(app, admin_browser, world):
    world.officer("li")
    li = officer(app, "li")
    elsewhere = app.test_client()
    web_login(elsewhere, "li", PASSWORD)
    confirm = admin_browser.get(f"/admin/accounts/{li.id}/deactivate")
    assert confirm.status_code == 200
    assert "Deactivate li?" in confirm.text and "Yes, deactivate the account" in confirm.text
    assert officer(app, "li").active  # asking changes nothing
    response = submit(admin_browser, f"/admin/accounts/{li.id}/deactivate")
    assert response.status_code == 302
    assert not officer(app, "li").active
    assert elsewhere.get("/alerts").status_code == 302
    assert web_login(app.test_client(), "li", PASSWORD).status_code == 401
    assert "Deactivated" in admin_browser.get("/admin/accounts").text
    submit(admin_browser, f"/admin/accounts/{li.id}/reactivate")
    assert web_login(app.test_client(), "li", PASSWORD).status_code == 302


def test_sign_out_everywhere(app, admin_browser, world):
    world.officer("li")
    li = officer(app, "li")
    token = bearer(app.test_client(), "li")
    elsewhere = app.test_client()
    web_login(elsewhere, "li", PASSWORD)
    response = submit(admin_browser, f"/admin/accounts/{li.id}/sign-out")
    assert response.status_code == 302
    assert elsewhere.get("/alerts").status_code == 302
    assert app.test_client().get("/api/v1/alerts", headers=token).status_code == 401
    with app.app_context():
        assert db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "officer.signed_out")
        )


def test_an_admin_cannot_deactivate_themselves_on_the_page(app, admin_browser):
    me = officer(app, "admin")
    response = submit(admin_browser, f"/admin/accounts/{me.id}/deactivate")
    assert response.status_code == 409
    assert "your own account" in response.text
    assert officer(app, "admin").active


def test_a_step_without_its_csrf_token_changes_nothing(app, admin_browser, world):
    world.officer("li")
    li = officer(app, "li")
    response = admin_browser.post(f"/admin/accounts/{li.id}/deactivate", data={})
    assert response.status_code in (400, 409)
    assert officer(app, "li").active


def test_add_an_office(app, admin_browser):
    response = submit(
        admin_browser,
        "/admin/offices",
        code="jg01",
        name="金谷乡司法所",
        lat="24.9",
        lon="１０７.７",
    )
    assert response.status_code == 302
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "JG01"))
        assert (office.name, office.lat, office.lon) == ("金谷乡司法所", 24.9, 107.7)
    assert "金谷乡司法所" in admin_browser.get("/admin/offices").text


def test_office_mistakes_are_named_beside_each_field(app, admin_browser):
    before = row_counts(app)
    response = submit(admin_browser, "/admin/offices", code="T01", name="", lat="north", lon="200")
    assert response.status_code == 422
    for name in ("name", "lat", "lon"):
        assert field_error(response.text, name)
    response = submit(
        admin_browser, "/admin/offices", code="T01", name="又一个", lat="24", lon="107"
    )
    assert "already exists" in field_error(response.text, "code")
    assert row_counts(app) == before
