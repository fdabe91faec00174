"""Writing the audit log. Services call it with the actor and the time they were given."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import bindparam, insert

from corrections.actors import Actor
from corrections.audit.models import AuditEntry, AuditSubject
from corrections.extensions import db


def _columns(action, actor: Actor, at, subject_id: int | None, detail: dict | None) -> dict:
    """An entry's columns, as record() and write() store them."""
    return {
        "at": at,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "action": action,
        "subject_id": subject_id,
        "detail": detail,
        "ip": actor.ip,
    }


def record(
    action: str,
    actor: Actor,
    at: dt.datetime,
    *,
    subject_id: int | None = None,
    shown: Iterable[int] = (),
    detail: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits). `subject_id` is the
    subject the entry is about; `shown` every other subject whose name or position it showed
    (a list), so a search for a person finds the lists they appeared in."""
    entry = AuditEntry(**_columns(action, actor, at, subject_id, detail))
    ids = set(shown)
    if subject_id is not None:
        ids.add(subject_id)
    entry.shown = [AuditSubject(subject_id=i) for i in sorted(ids)]
    db.session.add(entry)
    return entry


def write(
    action: str, actor: Actor, at: dt.datetime, *, subject_id: int, detail: dict | None = None
) -> int:
    """Write one entry about one subject at once, with two Core INSERTs built once and no unit
    of work (the ingest hot paths); in the current transaction, like record(). Its id."""
    conn = db.session.connection()
    columns = _columns(action, actor, at, subject_id, detail)
    entry_id = conn.execute(_INSERT_ENTRY, columns).scalar_one()
    conn.execute(_INSERT_LINK, {"entry_id": entry_id, "subject_id": subject_id})
    return entry_id


_ENTRY_COLUMNS = ("at", "actor_kind", "actor_id", "action", "subject_id", "detail", "ip")
_INSERT_ENTRY = (
    insert(AuditEntry)
    .values({name: bindparam(name) for name in _ENTRY_COLUMNS})
    .returning(AuditEntry.id)
)
_INSERT_LINK = insert(AuditSubject).values(
    entry_id=bindparam("entry_id"), subject_id=bindparam("subject_id")
)
