"""The one path by which alerts open or repeat.

`raise_alerts(kind, source, at)` is set-based: `source` is a select with one row per concern,
labelled `subject_id` (or `case_type` and `case_id`), `office_id`, `level`, `occurrences` and
`evidence`. One UPDATE bumps the unresolved alert of every concern that has one, one INSERT ...
SELECT opens an alert for the others (severity from the kind's catalogue entry, in SQL), and
the history gets one step per alert: "opened", or "repeated" collapsed into the alert's last
step when that was a repeat too. A sweep raises thousands of alerts with a handful of
statements; `raise_alert` and `raise_case_alert` are its one-row calls for ingest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import JSON, Integer, String, and_, exists, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from corrections.alerts import catalogue
from corrections.alerts.models import UNRESOLVED, UNRESOLVED_SQL, Alert, AlertEvent
from corrections.extensions import db
from corrections.types import UtcDateTime


@dataclass(frozen=True)
class Raised:
    """Ids of the alerts a raise opened and of those it bumped."""

    opened: tuple[int, ...] = ()
    bumped: tuple[int, ...] = ()

    @property
    def ids(self) -> tuple[int, ...]:
        return self.opened + self.bumped


def raise_alerts(kind: str, source, at: dt.datetime, *, within: tuple = ()) -> Raised:
    """Open or bump alerts of `kind` for every row of `source` (see the module's docstring).
    `within` narrows the alerts looked at to those `source` can concern (a sweep's batch of
    subjects), which keeps the join small whatever the size of the queue."""
    entry = catalogue.kind(kind)
    src = source.subquery("src")
    for_cases = "case_type" in src.c
    if for_cases:
        same_concern = and_(Alert.case_type == src.c.case_type, Alert.case_id == src.c.case_id)
        concern_columns = ["case_type", "case_id"]
        concern_values = [src.c.case_type, src.c.case_id]
    else:
        same_concern = Alert.subject_id == src.c.subject_id
        concern_columns = ["subject_id"]
        concern_values = [src.c.subject_id]
    unresolved = and_(Alert.kind == kind, Alert.status.in_(UNRESOLVED), *within)

    bumped = db.session.scalars(
        update(Alert)
        .where(unresolved, same_concern)
        .values(
            occurrences=Alert.occurrences + src.c.occurrences,
            last_seen_at=at,
            evidence=src.c.evidence,
        )
        .returning(Alert.id)
        .execution_options(synchronize_session=False)
    ).all()

    new_rows = select(
        *concern_values,
        src.c.office_id,
        literal(kind, String),
        entry.severity_sql(src.c.level),
        literal("open", String),
        literal(at, UtcDateTime),
        literal(at, UtcDateTime),
        src.c.occurrences,
        src.c.evidence,
    ).where(~exists().where(unresolved, same_concern))
    columns = [*concern_columns, "office_id", "kind", "severity", "status", "opened_at"]
    columns += ["last_seen_at", "occurrences", "evidence"]
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    opened = db.session.scalars(
        dialect.insert(Alert)
        .from_select(columns, new_rows)
        # Another request may open the same alert between our UPDATE and INSERT: the partial
        # unique index decides, and the loser's row is left out (the one-row call then bumps).
        .on_conflict_do_nothing(
            index_elements=[*concern_columns, "kind"], index_where=db.text(UNRESOLVED_SQL)
        )
        .returning(Alert.id)
    ).all()

    _record_repeats(bumped, at)
    _add_steps(opened, "opened", at)
    return Raised(tuple(opened), tuple(bumped))


#: Alert ids per statement when steps are added for many alerts at once (well under SQLite's
#: limit of bound parameters).
STEP_CHUNK = 5000


def _add_steps(alert_ids, action: str, at: dt.datetime) -> None:
    """One history step per alert, with one INSERT ... SELECT per chunk of alerts."""
    for first in range(0, len(alert_ids), STEP_CHUNK):
        chunk = alert_ids[first : first + STEP_CHUNK]
        db.session.execute(
            insert(AlertEvent).from_select(
                ["alert_id", "at", "action", "count"],
                select(
                    Alert.id, literal(at, UtcDateTime), literal(action, String), literal(1)
                ).where(Alert.id.in_(chunk)),
            )
        )


def _record_repeats(alert_ids, at: dt.datetime) -> None:
    """A "repeated" step per bumped alert, folded into its last step when that was a repeat."""
    folded: set[int] = set()
    for first in range(0, len(alert_ids), STEP_CHUNK):
        chunk = alert_ids[first : first + STEP_CHUNK]
        last_step = (
            select(func.max(AlertEvent.id))
            .where(AlertEvent.alert_id.in_(chunk))
            .group_by(AlertEvent.alert_id)
        )
        folded.update(
            db.session.scalars(
                update(AlertEvent)
                .where(AlertEvent.id.in_(last_step), AlertEvent.action == "repeated")
                .values(count=AlertEvent.count + 1, last_at=at)
                .returning(AlertEvent.alert_id)
                .execution_options(synchronize_session=False)
            ).all()
        )
    fresh = [{"alert_id": i, "at": at, "action": "repeated"} for i in alert_ids if i not in folded]
    if fresh:
        db.session.execute(insert(AlertEvent), fresh)


def _one_row(
    concern: dict, office_id: int, level: str | None, evidence: dict, occurrences: int = 1
):
    return select(
        *(literal(value, type_).label(name) for name, (value, type_) in concern.items()),
        literal(office_id, Integer).label("office_id"),
        literal(level, String).label("level"),
        literal(occurrences, Integer).label("occurrences"),
        literal(evidence, JSON).label("evidence"),
    )


def _raise_one(kind: str, source, at: dt.datetime) -> int:
    raised = raise_alerts(kind, source, at)
    if not raised.ids:
        # We lost the race to open it: the winner's alert is unresolved now; bump it.
        raised = raise_alerts(kind, source, at)
    return raised.ids[0]


def raise_alert(
    kind: str,
    *,
    subject_id: int,
    office_id: int,
    level: str,
    evidence: dict,
    at: dt.datetime,
    occurrences: int = 1,
) -> int:
    """Open an alert of `kind` about a subject, or bump the unresolved one; its id.
    `occurrences` counts what one call found (a batch of positions outside, say)."""
    concern = {"subject_id": (subject_id, Integer)}
    return _raise_one(kind, _one_row(concern, office_id, level, evidence, occurrences), at)


def raise_case_alert(
    kind: str, *, case_type: str, case_id: int, office_id: int, evidence: dict, at: dt.datetime
) -> int:
    """Open an alert of `kind` about a case record (no supervision level), or bump it; its id."""
    concern = {"case_type": (case_type, String), "case_id": (case_id, Integer)}
    return _raise_one(kind, _one_row(concern, office_id, None, evidence), at)
