"""The migrations build exactly the schema the models describe, with one head."""

from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from config import TestingConfig
from corrections import create_app
from corrections.extensions import db
from corrections.signals.storage import include_name

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@contextmanager
def old_database(tmp_path, revision: str):
    """An app context on a SQLite database of its own, migrated up to `revision`, with one
    office (id 1) in it."""

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/old.sqlite3"

    app = create_app(Config)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision=revision)
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO offices (id, code, name, lat, lon, created_at)"
                    " VALUES (1, 'T1', 'x', 0, 0, '2026-01-01 00:00:00')"
                )
            )
        yield
        db.session.remove()
        db.engine.dispose()


def test_one_head():
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_migrated_schema_matches_models(app):
    # The session's schema was built by `flask db upgrade` (see conftest), not by create_all.
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree; run `flask db migrate`: {diff}"


def test_existing_audit_entries_are_linked_to_the_subjects_they_showed(tmp_path):
    # On a database of its own, stopped at the revision before the links existed.
    with old_database(tmp_path, "2833e126ba35"):
        with db.engine.begin() as conn:
            for subject_id in (1, 2, 3):
                conn.execute(
                    sa.text(
                        "INSERT INTO subjects (id, name, phone, pin_hash, office_id, category,"
                        " level, supervision_start, supervision_end, created_at)"
                        " VALUES (:id, 'n', :phone, 'h', 1, 'probation', 'normal',"
                        " '2026-01-01', '2027-01-01', '2026-01-01 00:00:00')"
                    ),
                    {"id": subject_id, "phone": f"+861390000000{subject_id}"},
                )
            entries = [
                (1, "subject.read", 2, None),
                (2, "subject.list", None, '{"ids": [1, 3, 99], "args": {}}'),
                (3, "alert.list", None, '{"alert_ids": [7], "subject_ids": [2], "args": {}}'),
                (4, "office.create", None, '{"office_id": 1}'),
            ]
            for entry_id, action, subject_id, detail in entries:
                conn.execute(
                    sa.text(
                        "INSERT INTO audit_log (id, at, actor_kind, action, subject_id, detail)"
                        " VALUES (:id, '2026-01-02 00:00:00', 'system', :action, :subject, :detail)"
                    ),
                    {"id": entry_id, "action": action, "subject": subject_id, "detail": detail},
                )
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            links = conn.execute(
                sa.text("SELECT entry_id, subject_id FROM audit_subjects ORDER BY 1, 2")
            ).all()
    # Subject 99 never existed (no link to nothing); the office entry showed nobody.
    assert [tuple(link) for link in links] == [(1, 2), (2, 1), (2, 3), (3, 2)]


def test_the_unique_resident_id_refuses_to_upgrade_over_duplicates_and_names_them(tmp_path, capsys):
    with old_database(tmp_path, "1322ecf6e8eb"):
        with db.engine.begin() as conn:
            for subject_id, id_number in (
                (1, "450000199001011234"),
                (2, "450000199001011234"),
                (3, None),
                (4, None),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO subjects (id, name, phone, pin_hash, office_id, category,"
                        " level, supervision_start, supervision_end, id_number, created_at)"
                        " VALUES (:id, 'n', :phone, 'h', 1, 'probation', 'normal',"
                        " '2026-01-01', '2027-01-01', :id_number, '2026-01-01 00:00:00')"
                    ),
                    {
                        "id": subject_id,
                        "phone": f"+861390000000{subject_id}",
                        "id_number": id_number,
                    },
                )
        with pytest.raises(SystemExit):
            upgrade(directory=str(MIGRATIONS))
        said = capsys.readouterr().err
        assert "4500**********1234 (2 subjects)" in said
        assert "450000199001011234" not in said
        with db.engine.connect() as conn:
            # Nothing changed: the fix is made first, then the upgrade is run again.
            columns = [c["name"] for c in sa.inspect(conn).get_columns("subjects")]
        assert "emergency_contact_phone" not in columns
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE subjects SET id_number = NULL WHERE id = 2"))
        upgrade(directory=str(MIGRATIONS))
