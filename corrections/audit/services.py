"""Writing the audit log. Services call it with the actor and the time they were given."""

from __future__ import annotations

import datetime as dt

from corrections.actors import Actor
from corrections.audit.models import AuditEntry
from corrections.extensions import db


def record(
    action: str,
    actor: Actor,
    at: dt.datetime,
    *,
    subject_id: int | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits)."""
    entry = AuditEntry(
        at=at,
        actor_kind=actor.kind,
        actor_id=actor.id,
        action=action,
        subject_id=subject_id,
        detail=detail,
        ip=actor.ip,
    )
    db.session.add(entry)
    return entry
