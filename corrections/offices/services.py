"""Finding offices within a caller's scope."""

from __future__ import annotations

from sqlalchemy import select

from corrections.extensions import db
from corrections.offices.models import Office


def offices_in_scope(scope_office_id: int | None) -> list[Office]:
    """The offices a caller limited to `scope_office_id` may see (None: every office), by code."""
    query = select(Office).order_by(Office.code)
    if scope_office_id is not None:
        query = query.where(Office.id == scope_office_id)
    return list(db.session.scalars(query))
