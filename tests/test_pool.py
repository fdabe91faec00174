"""A connection that died under the pool (a database restart) costs at most one request, which
is answered 503 with Retry-After; after an idle spell it costs nothing (corrections/pool.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from corrections.extensions import db
from tests.api_support import assert_error
from tests.factories import bearer


@pytest.fixture(autouse=True)
def _postgresql_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("an embedded SQLite database cannot be restarted under the app")


def restart_server_side(app):
    """End every other connection to the test database, as a restart of the server would."""
    with app.app_context():
        url = db.engine.url
    killer = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with killer.connect() as conn:
        ended = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    killer.dispose()
    assert ended >= 1


def test_a_connection_lost_in_steady_use_costs_one_request_answered_503(app, client, admin):
    headers = admin
    assert client.get("/api/v1/offices", headers=headers).status_code == 200
    restart_server_side(app)
    lost = client.get("/api/v1/offices", headers=headers)
    assert_error(lost, 503, code="unavailable")
    assert lost.headers["Retry-After"] == "2"
    assert client.get("/api/v1/offices", headers=headers).status_code == 200


def test_a_connection_lost_while_idle_is_replaced_before_use(app, world):
    from config import TestingConfig
    from corrections import create_app

    class Pinging(TestingConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        DATABASE_PING_AFTER_IDLE_SECONDS = 0.0

    pinging = create_app(Pinging)
    client = pinging.test_client()
    headers = bearer(client, "admin")
    assert client.get("/api/v1/offices", headers=headers).status_code == 200
    restart_server_side(pinging)
    assert client.get("/api/v1/offices", headers=headers).status_code == 200
    for each in (pinging, app):  # the fixture's own app lost its connections too
        with each.app_context():
            db.engine.dispose()
