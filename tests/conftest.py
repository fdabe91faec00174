"""Fixtures: one schema per session (built by the migrations), emptied after every test.

TEST_DATABASE_URL selects PostgreSQL; without it the suite runs on a throwaway SQLite file
(a file, not :memory:, so a live server thread and several connections see the same data).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import make_server

import config
from config import TestingConfig
from corrections import clock, create_app
from corrections.extensions import db

ROOT = Path(__file__).resolve().parent.parent
#: A Saturday morning in the county: 10:00 in Asia/Shanghai.
DEFAULT_NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


def _database_url(tmp_dir: str) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return config.database_url(url)
    return f"sqlite:///{tmp_dir}/test.sqlite3"


@pytest.fixture(scope="session")
def database_url():
    with tempfile.TemporaryDirectory() as tmp_dir:
        yield _database_url(tmp_dir)


def _reset_database(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(database_url):
    """The application on the test database, schema built by `flask db upgrade`."""
    _reset_database(database_url)

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    application = create_app(Config)
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return application


@pytest.fixture(autouse=True)
def _clean(request):
    """Every test starts at DEFAULT_NOW on empty tables."""
    clock.set_now(DEFAULT_NOW)
    yield
    clock.set_now(None)
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def at():
    """Move the one clock: at("2026-11-28T10:00:00+08:00")."""

    def move(value: str | dt.datetime) -> dt.datetime:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        clock.set_now(value)
        return value

    return move


@pytest.fixture
def browser(client):
    """A test client reading the English pages (the default is Chinese; English is stable here
    whatever the translators change)."""
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def live_server(app):
    """The app served over HTTP in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Chromium for the run (Debian's, at /usr/bin/chromium); each test opens its
    own context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
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


from tests.factories import *  # noqa: E402,F403 - fixtures built on the ones above
