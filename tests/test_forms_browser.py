"""Forms that forgive, in a real browser (headless Chromium): a refused note shows its problem
in view and focused at both screen sizes, F5 afterwards reloads instead of resending, and what
was typed survives a language switch and a sign-in after the session ended."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.test_alert_page import take
from tests.test_browser import CHROMIUM
from tests.test_pages import open_alert

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)

SIZES = [(1366, 768), (768, 1024)]


@pytest.fixture(scope="module")
def chromium_browser():
    """One headless Chromium for the module; each test opens its own context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            headless=True,
        )
        yield browser
        browser.close()


def refusal(message) -> bool:
    """A console error, other than the browser noting a refused form's 422 status."""
    return message.type == "error" and "status of 422" not in message.text


@pytest.fixture
def open_page(chromium_browser):
    """Opens a page of the given size that records console errors and the requests it sends."""
    contexts = []

    def open_(width: int, height: int):
        # An office computer in China asks for Chinese (headless Chromium would ask for en-US).
        context = chromium_browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN"
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.errors = []
        page.requests = []
        page.on("console", lambda m: page.errors.append(m.text) if refusal(m) else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("request", lambda r: page.requests.append((r.method, r.url)))
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def alert(app, world):
    """An open geofence alert of 王小明 (office T01), taken by officer li."""
    world.officer("li", office_code="T01")
    subject_id = world.subject(name="王小明")["id"]
    alert_id = open_alert(app, subject_id)
    take(app, alert_id, "li")
    return alert_id


def sign_in(page, base: str, next_path: str) -> None:
    page.goto(f"{base}/lang/en?next={next_path}")
    page.get_by_label("Username").fill("li")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{next_path}")


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= size["width"]
    )


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_an_empty_resolve_note_shows_its_problem_in_view(
    alert, live_server, open_page, width, height
):
    page = open_page(width, height)
    sign_in(page, live_server, f"/alerts/{alert}")
    page.get_by_role("button", name="Resolve the alert").click()
    page.wait_for_load_state()

    problem = page.locator("#resolve-form .field-error").first
    assert "write" in problem.inner_text().lower() or "required" in problem.inner_text().lower()
    assert in_view(page, problem), page.screenshot(path=f"/tmp/refused-{width}.png")
    expect(page.locator("#resolve-form textarea[name=note]")).to_be_focused()
    banner = page.locator(".flash").first
    assert banner.is_visible()

    # The refused page took the alert's own address: F5 asks the server for the page (a GET),
    # not to resend the form.
    assert page.url.split("#")[0] == f"{live_server}/alerts/{alert}"
    page.requests.clear()
    page.reload()
    assert ("GET", f"{live_server}/alerts/{alert}") in page.requests
    assert not [r for r in page.requests if r[0] == "POST"]
    assert page.errors == []


def test_a_language_switch_keeps_the_note_being_typed(alert, live_server, open_page):
    page = open_page(1366, 768)
    sign_in(page, live_server, f"/alerts/{alert}")
    page.get_by_label("What did you do?").fill("电话联系本人，已返回县城")
    page.get_by_role("link", name="中文").click()
    page.wait_for_url(f"{live_server}/alerts/{alert}")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    note = page.locator("#resolve-form textarea[name=note]")
    assert note.input_value() == "电话联系本人，已返回县城"
    assert page.locator(".draft-restored").is_visible()
    assert page.errors == []


def test_a_note_typed_when_the_session_ended_comes_back_after_signing_in(
    alert, live_server, open_page
):
    page = open_page(1366, 768)
    sign_in(page, live_server, f"/alerts/{alert}")
    page.get_by_label("What did you do?").fill("已电话核实")
    page.context.clear_cookies()  # the session has expired (or was signed out elsewhere)
    page.get_by_role("button", name="Resolve the alert").click()

    page.wait_for_url(f"{live_server}/login**")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/alerts/{alert}")
    assert page.locator("#resolve-form textarea[name=note]").input_value() == "已电话核实"
    assert page.errors == []


def test_a_note_sent_with_success_is_dropped_from_the_drafts(alert, live_server, open_page):
    page = open_page(1366, 768)
    sign_in(page, live_server, f"/alerts/{alert}")
    page.get_by_label("What did you do?").fill("已处理")
    drafts = "Object.keys(sessionStorage).filter(k => k.startsWith('draft:'))"
    assert page.evaluate(drafts) != []
    page.get_by_role("button", name="Resolve the alert").click()
    page.wait_for_url(f"{live_server}/alerts")
    assert page.locator(".flash-success").is_visible()
    assert page.evaluate(drafts) == []
    assert page.errors == []
