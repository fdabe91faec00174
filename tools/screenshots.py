"""Take the screenshots docs/screenshots holds, from the demo county, in Chinese, at 1366×768
and 768×1024, with Debian's Chromium (needs fonts-noto-cjk for the Chinese glyphs).

    .venv/bin/python tools/screenshots.py [folder]     # default docs/screenshots

It builds a throwaway SQLite database, loads the demo county into it, serves the app on a free
port and signs in as the demo duty officer of the first office. Nothing it does touches the
development database."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
SIZES = [(1366, 768), (768, 1024)]
OFFICER, PASSWORD = "officer01", "demo-officer-2026"


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/shots.sqlite3"
        env = {**os.environ, "FLASK_APP": "wsgi"}
        flask = str(Path(sys.executable).with_name("flask"))
        subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
        subprocess.run([flask, "demo", "load"], cwd=ROOT, env=env, check=True)
        sys.path.insert(0, str(ROOT))
        from corrections import create_app

        app = create_app()
        pages = _pages(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            _shoot(f"http://127.0.0.1:{server.server_port}", pages, folder)
        finally:
            server.shutdown()


def _pages(app) -> dict[str, tuple[str, str | None]]:
    """name -> (path, the element to scroll to, if any)."""
    from sqlalchemy import select

    from corrections.alerts.models import Alert
    from corrections.auth.models import Officer
    from corrections.extensions import db

    with app.app_context():
        office_id = db.session.scalars(
            select(Officer.office_id).where(Officer.username == OFFICER)
        ).one()
        alert = db.session.scalars(
            select(Alert)
            .where(Alert.kind == "geofence_exit", Alert.office_id == office_id)
            .order_by(Alert.id)
        ).first()
        if alert is None:
            alert = db.session.scalars(select(Alert).where(Alert.office_id == office_id)).first()
        return {
            "queue": ("/alerts", None),
            "alert": (f"/alerts/{alert.id}", None),
            "alert-map": (f"/alerts/{alert.id}", "#alert-map-title"),
            "subject": (f"/subjects/{alert.subject_id}", None),
            "subject-map": (f"/subjects/{alert.subject_id}", "#map-heading"),
            "enrol": ("/subjects/new", None),
            "enrol-map": ("/subjects/new", ".map-fieldset"),
        }


def _shoot(base: str, pages: dict, folder: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for width, height in SIZES:
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="zh-CN"
            )
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("#username", OFFICER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            for name, (path, anchor) in pages.items():
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                if page.locator("[data-map]").count():
                    page.wait_for_selector("[data-map-ready]")
                if anchor:
                    page.locator(anchor).first.evaluate("e => e.scrollIntoView()")
                target = folder / f"{name}-{width}.png"
                page.screenshot(path=str(target))
                print(f"  {target}")
            context.close()
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
