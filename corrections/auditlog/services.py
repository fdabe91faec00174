"""Searching the audit log for the bureau: by officer, by person, by action, by day; paged for
the page and streamed for the export. Reading the log shows names, so it is audited too."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import Select, and_, select

from corrections.actors import Actor
from corrections.audit.models import AuditEntry, AuditSubject
from corrections.audit.services import record
from corrections.auth.models import Officer
from corrections.extensions import db
from corrections.subjects.models import Subject
from corrections.subjects.services import subjects_query

#: Rows fetched at a time while exporting (the export never holds the whole log in memory).
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class AuditFilters:
    """What the bureau searches for. `subject` is a subject's number or part of a name or phone
    number; `day_from` and `day_to` are local days in TIMEZONE, both included."""

    officer_id: int | None = None
    subject: str | None = None
    action: str | None = None
    day_from: dt.date | None = None
    day_to: dt.date | None = None

    def to_dict(self) -> dict:
        """The filters as the audit row of a search records them."""
        data = asdict(self)
        for key in ("day_from", "day_to"):
            data[key] = data[key].isoformat() if data[key] else None
        return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True)
class Row:
    """One entry as the page and the export show it: who (officer, phone or system), the subject
    it is about and the others it showed."""

    entry: AuditEntry
    officer: Officer | None
    phone_of: Subject | None
    subject: Subject | None
    #: (id, name) of the first few others it showed, and the ids of all of them.
    shown: tuple[tuple[int, str], ...] = ()
    shown_ids: tuple[int, ...] = ()


def search(filters: AuditFilters, zone: dt.tzinfo) -> Select:
    """The entries matching `filters`, newest first."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if filters.officer_id is not None:
        query = query.where(
            AuditEntry.actor_kind == "officer", AuditEntry.actor_id == filters.officer_id
        )
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.day_from is not None:
        query = query.where(AuditEntry.at >= _local_midnight(filters.day_from, zone))
    if filters.day_to is not None:
        query = query.where(
            AuditEntry.at < _local_midnight(filters.day_to + dt.timedelta(days=1), zone)
        )
    if filters.subject:
        people = _subjects_named(filters.subject)
        # The entries about the person, those that showed them (lists), and what their own
        # phone did.
        query = query.where(
            AuditEntry.id.in_(
                select(AuditSubject.entry_id).where(AuditSubject.subject_id.in_(people))
            )
            | and_(AuditEntry.actor_kind == "subject", AuditEntry.actor_id.in_(people))
        )
    return query


#: The largest record id (the database's integer); a longer number is a phone or nothing.
MAX_RECORD_ID = 2**31 - 1


def _subjects_named(text: str):
    text = text.strip()
    if re.fullmatch(r"[0-9]{1,10}", text) and int(text) <= MAX_RECORD_ID:
        return select(Subject.id).where(Subject.id == int(text))
    return subjects_query(None, q=text, today=dt.date.min).with_only_columns(Subject.id)


def _local_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def rows_of(entries: Sequence[AuditEntry], *, names_per_entry: int = 3) -> list[Row]:
    """The entries with the accounts and people they name: four statements for any number."""
    officer_ids = {e.actor_id for e in entries if e.actor_kind == "officer" and e.actor_id}
    officers = _by_id(Officer, officer_ids)
    links: dict[int, list[int]] = defaultdict(list)
    if entries:
        for entry_id, subject_id in db.session.execute(
            select(AuditSubject.entry_id, AuditSubject.subject_id)
            .where(AuditSubject.entry_id.in_([e.id for e in entries]))
            .order_by(AuditSubject.entry_id, AuditSubject.subject_id)
        ):
            links[entry_id].append(subject_id)
    wanted = {e.subject_id for e in entries if e.subject_id}
    wanted |= {e.actor_id for e in entries if e.actor_kind == "subject" and e.actor_id}
    for entry in entries:
        wanted |= set(_others(entry, links)[:names_per_entry])
    people = _by_id(Subject, wanted)
    rows = []
    for entry in entries:
        others = _others(entry, links)
        rows.append(
            Row(
                entry=entry,
                officer=officers.get(entry.actor_id) if entry.actor_kind == "officer" else None,
                phone_of=people.get(entry.actor_id) if entry.actor_kind == "subject" else None,
                subject=people.get(entry.subject_id),
                shown=tuple((i, people[i].name) for i in others[:names_per_entry] if i in people),
                shown_ids=tuple(others),
            )
        )
    return rows


def _others(entry: AuditEntry, links: dict[int, list[int]]) -> list[int]:
    return [i for i in links.get(entry.id, []) if i != entry.subject_id]


def _by_id(model, ids) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def shown_on(rows: Sequence[Row]) -> list[int]:
    """The subjects whose names a page of rows shows (for the audit row of the search)."""
    ids = {r.subject.id for r in rows if r.subject} | {r.phone_of.id for r in rows if r.phone_of}
    for row in rows:
        ids |= {i for i, _ in row.shown}
    return sorted(ids)


def actions_in_use() -> list[str]:
    """Every action the log holds (the search offers these besides the known ones)."""
    return list(
        db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )


def officers_for_filter() -> list[Officer]:
    """Every account, for the "which officer" filter."""
    return list(db.session.scalars(select(Officer).order_by(Officer.username)))


def audit_search(
    filters: AuditFilters, page: int, rows: Sequence[Row], actor: Actor, now: dt.datetime
) -> None:
    """Reading the log shows who saw whom: audited like any other list."""
    record(
        "audit.read",
        actor,
        now,
        shown=shown_on(rows),
        detail={
            "filters": filters.to_dict(),
            "page": page,
            "entry_ids": [r.entry.id for r in rows],
        },
    )


def audit_export(filters: AuditFilters, total: int, actor: Actor, now: dt.datetime) -> None:
    """An export is audited with what it asked for and how many entries it holds."""
    record("audit.export", actor, now, detail={"filters": filters.to_dict(), "entries": total})


#: The export's columns (the header row, machine-readable; the page is for people).
CSV_COLUMNS = (
    "id",
    "at_utc",
    "at_local",
    "actor_kind",
    "actor_id",
    "actor",
    "action",
    "subject_id",
    "subject_name",
    "shown_subject_ids",
    "ip",
    "detail",
)


def export_lines(query: Select, zone: dt.tzinfo) -> Iterator[str]:
    """The entries of `query` as CSV text, a batch of rows at a time: a UTF-8 byte order mark
    first (so Excel opens the Chinese right), then the header, then the entries."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(CSV_COLUMNS)
    last = None
    while True:
        batch = query
        if last is not None:
            # Keyset paging on (at, id), newest first: stable while new entries are written.
            batch = batch.where(
                (AuditEntry.at < last.at) | and_(AuditEntry.at == last.at, AuditEntry.id < last.id)
            )
        entries = db.session.scalars(batch.limit(EXPORT_BATCH)).all()
        if not entries:
            break
        for row in rows_of(entries, names_per_entry=0):
            writer.writerow([_cell(v) for v in _csv_values(row, zone)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        last = entries[-1]
        db.session.expunge_all()
    yield buffer.getvalue()


def _csv_values(row: Row, zone: dt.tzinfo) -> list:
    entry = row.entry
    if row.officer is not None:
        actor = row.officer.username
    elif row.phone_of is not None:
        actor = row.phone_of.name
    else:
        actor = ""
    return [
        entry.id,
        entry.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        entry.actor_kind,
        entry.actor_id if entry.actor_id is not None else "",
        actor,
        entry.action,
        entry.subject_id if entry.subject_id is not None else "",
        row.subject.name if row.subject else "",
        " ".join(str(i) for i in row.shown_ids),
        entry.ip or "",
        json.dumps(entry.detail, ensure_ascii=False, sort_keys=True) if entry.detail else "",
    ]


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection): names and
#: query arguments are typed by people, so such a cell is written with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
