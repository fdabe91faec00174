"""Enrolling subjects and finding them, always within the caller's office scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError

from corrections.audit.services import record as audit
from corrections.auth.services import hash_secret
from corrections.checkin.windows import day_number, parse_hhmm
from corrections.extensions import db
from corrections.i18n import N_, FieldProblem
from corrections.masking import mask_id_number
from corrections.offices.models import Office
from corrections.subjects.models import CheckinPlan, Subject, Zone
from corrections.subjects.schemas import PolygonZoneIn, SubjectIn


class EnrolmentError(FieldProblem):
    """The enrolment cannot go ahead; `field` names what to fix."""


def office_by_code(code: str) -> Office | None:
    """The office with this code, or None."""
    return db.session.scalar(select(Office).where(Office.code == code))


def enrol_subject(data: SubjectIn, office: Office, enrolled_by: int | None = None) -> Subject:
    """Create the subject, their plan and zones in the current transaction, and audit it
    (`enrolled_by` is the officer's id; None means the system, e.g. the demo loader)."""
    if _phone_taken(data.phone):
        raise EnrolmentError("phone", PHONE_TAKEN)
    subject = Subject(
        name=data.name,
        phone=data.phone,
        pin_hash=hash_secret(data.pin),
        office=office,
        category=data.category,
        level=data.level,
        supervision_start=data.supervision_start,
        supervision_end=data.supervision_end,
        id_number=data.id_number,
        home_lat=data.home.lat,
        home_lon=data.home.lon,
    )
    subject.plan = CheckinPlan(
        every_days=data.checkin.every_days,
        window_start_min=parse_hhmm(data.checkin.window_start),
        window_end_min=parse_hhmm(data.checkin.window_end),
        video_every_days=data.checkin.video_every_days,
        anchor_day=day_number(data.supervision_start),
    )
    subject.zones = [_zone(z) for z in data.zones]
    try:
        with db.session.begin_nested():
            db.session.add(subject)
            db.session.flush()
    except IntegrityError:
        # Another enrolment took the number between our check and our insert.
        if _phone_taken(data.phone):
            raise EnrolmentError("phone", PHONE_TAKEN) from None
        raise
    audit(
        "subject.create",
        actor_kind="officer" if enrolled_by is not None else "system",
        actor_id=enrolled_by,
        subject_id=subject.id,
    )
    return subject


PHONE_TAKEN = N_("this phone number is already registered to a subject")


def _phone_taken(phone: str) -> bool:
    return db.session.scalar(select(Subject.id).where(Subject.phone == phone)) is not None


def _zone(z) -> Zone:
    if isinstance(z, PolygonZoneIn):
        corners = [[lat, lon] for lat, lon in z.polygon]
        return Zone(
            kind=z.kind,
            name=z.name,
            polygon=corners,
            lat=sum(c[0] for c in corners) / len(corners),
            lon=sum(c[1] for c in corners) / len(corners),
        )
    return Zone(kind=z.kind, name=z.name, lat=z.lat, lon=z.lon, radius_m=z.radius_m)


def subjects_query(
    scope_office_id: int | None,
    *,
    office_id: int | None = None,
    status: str | None = None,
    q: str | None = None,
    today: dt.date,
) -> Select:
    """Subjects visible to a caller limited to `scope_office_id` (None: all), filtered."""
    query = select(Subject).order_by(Subject.id)
    if scope_office_id is not None:
        query = query.where(Subject.office_id == scope_office_id)
    if office_id is not None:
        query = query.where(Subject.office_id == office_id)
    if status == "active":
        query = query.where(Subject.supervision_start <= today, Subject.supervision_end >= today)
    elif status == "pending":
        query = query.where(Subject.supervision_start > today)
    elif status == "ended":
        query = query.where(Subject.supervision_end < today)
    if q and q.strip():
        # What the person typed is text to find, not a LIKE pattern: % and _ match themselves.
        text = q.strip()
        query = query.where(
            or_(
                Subject.name.contains(text, autoescape=True),
                Subject.phone.contains(text, autoescape=True),
            )
        )
    return query


def subject_to_dict(subject: Subject, today: dt.date) -> dict:
    """A subject as the officer API shows it: resident ID masked, PIN never."""
    return {
        "id": subject.id,
        "name": subject.name,
        "phone": subject.phone,
        "office_code": subject.office.code,
        "category": subject.category,
        "level": subject.level,
        "status": subject.status_on(today),
        "supervision_start": subject.supervision_start.isoformat(),
        "supervision_end": subject.supervision_end.isoformat(),
        "id_number": mask_id_number(subject.id_number),
        "home": {"lat": subject.home_lat, "lon": subject.home_lon}
        if subject.home_lat is not None
        else None,
        "checkin": subject.plan.to_dict() if subject.plan else None,
        "zones": [zone.to_dict() for zone in subject.zones],
        "device_bound": subject.device_id is not None,
    }
