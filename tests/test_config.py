"""Configuration read from the environment."""

import pytest

from config import database_url


@pytest.mark.parametrize(
    "given, used",
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_postgresql_urls_use_the_installed_driver(given, used):
    assert database_url(given) == used


def test_production_refuses_to_start_without_a_secret(monkeypatch):
    from config import ProductionConfig
    from corrections import create_app

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_forwarded_address_is_used_only_behind_a_configured_proxy(app):
    from flask import request

    from config import TestingConfig
    from corrections import create_app

    class Behind(TestingConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        PROXY_COUNT = 1

    class Direct(TestingConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    seen = {}
    for name, config_class in (("behind", Behind), ("direct", Direct)):
        application = create_app(config_class)

        @application.get("/_ip")
        def ip():
            return request.remote_addr or ""

        seen[name] = application.test_client().get("/_ip", headers=forwarded).get_data(as_text=True)
    assert seen == {"behind": "203.0.113.7", "direct": "127.0.0.1"}
