"""Creating offices and finding them within a caller's scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from corrections.actors import Actor
from corrections.audit.services import record as audit
from corrections.extensions import db
from corrections.offices.models import Office


class OfficeExists(Exception):
    """An office with this code exists already (409)."""


def office_by_code(code: str) -> Office | None:
    """The office with this code, or None."""
    return db.session.scalar(select(Office).where(Office.code == code))


def offices_in_scope(scope_office_id: int | None) -> list[Office]:
    """The offices a caller limited to `scope_office_id` may see (None: every office), by code."""
    query = select(Office).order_by(Office.code)
    if scope_office_id is not None:
        query = query.where(Office.id == scope_office_id)
    return list(db.session.scalars(query))


def create_office(
    code: str, name: str, lat: float, lon: float, *, actor: Actor, now: dt.datetime
) -> Office:
    """Create an office in the current transaction; OfficeExists on a taken code."""
    if office_by_code(code) is not None:
        raise OfficeExists()
    office = Office(code=code, name=name, lat=lat, lon=lon, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(office)
            db.session.flush()
    except IntegrityError:
        # Another request created the code between our check and our insert.
        raise OfficeExists() from None
    audit("office.create", actor, now, detail={"office_id": office.id, "code": code})
    return office


def set_standard_zone(office: Office, zone: dict | None, *, actor: Actor, now: dt.datetime) -> None:
    """Set (or, with None, clear) the office's standard zone, a zone body without its kind
    validated by the caller; audited."""
    office.standard_zone = zone
    audit(
        "office.standard_zone",
        actor,
        now,
        detail={"office_id": office.id, "code": office.code, "standard_zone": zone},
    )
