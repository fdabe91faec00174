"""Finding alerts for the queue, within the caller's scope."""

from __future__ import annotations

from sqlalchemy import Select, case, select
from sqlalchemy.orm import joinedload

from corrections.alerts.models import UNRESOLVED, Alert
from corrections.alerts.policy import SEVERITY_RANK

SEVERITY_ORDER = case(SEVERITY_RANK, value=Alert.severity)


def alerts_query(
    scope_office_id: int | None,
    *,
    status: str | None = None,
    kind: str | None = None,
    subject_id: int | None = None,
    office_id: int | None = None,
    severity: str | None = None,
) -> Select:
    """The queue: most severe first, then oldest first; offices and owners loaded with it."""
    query = (
        select(Alert)
        .options(joinedload(Alert.office), joinedload(Alert.owner))
        .order_by(SEVERITY_ORDER, Alert.opened_at, Alert.id)
    )
    if scope_office_id is not None:
        query = query.where(Alert.office_id == scope_office_id)
    if status == "unresolved":
        query = query.where(Alert.status.in_(UNRESOLVED))
    elif status is not None:
        query = query.where(Alert.status == status)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if subject_id is not None:
        query = query.where(Alert.subject_id == subject_id)
    if office_id is not None:
        query = query.where(Alert.office_id == office_id)
    if severity is not None:
        query = query.where(Alert.severity == severity)
    return query
