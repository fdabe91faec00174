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
