"""Finding alerts for the queue, within the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import joinedload

from corrections.alerts.models import UNRESOLVED, Alert
from corrections.alerts.policy import SEVERITY_RANK
from corrections.extensions import db

SEVERITY_ORDER = case(SEVERITY_RANK, value=Alert.severity)
#: An alert's concern: its subject, or its case record (type and id). GROUP BY takes the NULLs
#: of the other half as equal, so each concern is one group.
CONCERN = (Alert.subject_id, Alert.case_type, Alert.case_id)


def alert_conditions(
    scope_office_id: int | None,
    *,
    status: str | None = None,
    kind: str | None = None,
    subject_id: int | None = None,
    office_id: int | None = None,
    severity: str | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of the queue's filters, the caller's office scope first."""
    conditions = []
    if scope_office_id is not None:
        conditions.append(Alert.office_id == scope_office_id)
    if status == "unresolved":
        conditions.append(Alert.status.in_(UNRESOLVED))
    elif status is not None:
        conditions.append(Alert.status == status)
    if kind is not None:
        conditions.append(Alert.kind == kind)
    if subject_id is not None:
        conditions.append(Alert.subject_id == subject_id)
    if office_id is not None:
        conditions.append(Alert.office_id == office_id)
    if severity is not None:
        conditions.append(Alert.severity == severity)
    return conditions


def alerts_query(scope_office_id: int | None, **filters) -> Select:
    """The queue: most severe first, then oldest first; offices and owners loaded with it."""
    return (
        select(Alert)
        .options(joinedload(Alert.office), joinedload(Alert.owner))
        .where(*alert_conditions(scope_office_id, **filters))
        .order_by(SEVERITY_ORDER, Alert.opened_at, Alert.id)
    )


@dataclass(frozen=True)
class ConcernGroup:
    """One person's (or case record's) alerts in the queue: the key, how many match, and the
    first `GROUP_LIMIT` of them, most severe and newest first."""

    concern: tuple[str, int]
    total: int
    alerts: list[Alert]


#: How many of one concern's alerts a page lists (a person's closed alerts can be many).
GROUP_LIMIT = 10


def concern_groups_query(conditions: list[ColumnElement[bool]]) -> Select:
    """One row per concern with matching alerts: its key, how many, its worst severity rank and
    its oldest alert; ordered as the queue is (most severe, then oldest)."""
    worst = func.min(SEVERITY_ORDER).label("worst")
    oldest = func.min(Alert.opened_at).label("oldest")
    return (
        select(*CONCERN, func.count().label("alerts"), worst, oldest)
        .where(*conditions)
        .group_by(*CONCERN)
        .order_by(worst, oldest, *CONCERN)
    )


def count_alerts_and_groups(conditions: list[ColumnElement[bool]]) -> tuple[int, int]:
    """How many alerts match, and how many concerns they belong to (one statement)."""
    grouped = (
        select(func.count().label("alerts"))
        .select_from(Alert)
        .where(*conditions)
        .group_by(*CONCERN)
        .subquery()
    )
    alerts, groups = db.session.execute(
        select(func.coalesce(func.sum(grouped.c.alerts), 0), func.count()).select_from(grouped)
    ).one()
    return int(alerts), int(groups)


def concern_groups(
    conditions: list[ColumnElement[bool]], limit: int, offset: int
) -> list[ConcernGroup]:
    """A page of the queue grouped by concern, in two statements whatever its size: the page's
    groups, then up to GROUP_LIMIT alerts of each (a window function numbers them)."""
    rows = db.session.execute(concern_groups_query(conditions).limit(limit).offset(offset)).all()
    if not rows:
        return []
    subject_ids = [r.subject_id for r in rows if r.subject_id is not None]
    cases: dict[str, list[int]] = {}
    for r in rows:
        if r.subject_id is None:
            cases.setdefault(r.case_type, []).append(r.case_id)
    in_page = or_(
        Alert.subject_id.in_(subject_ids) if subject_ids else false(),
        *(and_(Alert.case_type == t, Alert.case_id.in_(ids)) for t, ids in cases.items()),
    )
    place = (
        func.row_number()
        .over(partition_by=CONCERN, order_by=(SEVERITY_ORDER, Alert.opened_at.desc(), Alert.id))
        .label("place")
    )
    numbered = select(Alert.id, place).where(*conditions, in_page).subquery()
    alerts = db.session.scalars(
        select(Alert)
        .join(numbered, numbered.c.id == Alert.id)
        .where(numbered.c.place <= GROUP_LIMIT)
        .options(joinedload(Alert.office), joinedload(Alert.owner))
        .order_by(numbered.c.place)
    ).unique()
    by_concern: dict[tuple[str, int], list[Alert]] = {}
    for alert in alerts:
        by_concern.setdefault(alert.concern, []).append(alert)
    groups = []
    for r in rows:
        key = ("subject", r.subject_id) if r.subject_id is not None else (r.case_type, r.case_id)
        groups.append(ConcernGroup(key, r.alerts, by_concern.get(key, [])))
    return groups
