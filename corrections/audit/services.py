"""Writing the audit log."""

from __future__ import annotations

from flask import has_request_context, request

from corrections import clock
from corrections.audit.models import AuditEntry
from corrections.extensions import db


def record(
    action: str,
    *,
    actor_kind: str,
    actor_id: int | None,
    subject_id: int | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits)."""
    entry = AuditEntry(
        at=clock.now(),
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action,
        subject_id=subject_id,
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
