"""The person record: entering it, finding it within a caller's scope, the phone's login."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from corrections.actors import Actor
from corrections.alerts.catalogue import ConcernInfo
from corrections.alerts.raising import raise_alert
from corrections.audit.services import record as audit
from corrections.auth import services as accounts
from corrections.auth.models import ApiToken
from corrections.extensions import db
from corrections.i18n import N_, FieldProblem
from corrections.masking import mask_id_number
from corrections.offices.models import Office
from corrections.phones import normalize_phone
from corrections.subjects.models import RefusedDevice, Subject, SubjectFacts

PHONE_TAKEN = N_("this phone number is already registered to a subject")
ID_NUMBER_TAKEN = N_("a subject with this resident ID number is already enrolled")


class EnrolmentError(FieldProblem):
    """The enrolment cannot go ahead; `field` names what to fix."""


class AlreadyEnrolled(EnrolmentError):
    """The person is already enrolled: their resident ID is on another record (409)."""


@dataclass(frozen=True)
class Person:
    """The person's part of an enrolment."""

    name: str
    phone: str
    pin: str
    category: str
    level: str
    supervision_start: dt.date
    supervision_end: dt.date
    id_number: str | None
    home_lat: float
    home_lon: float
    emergency_contact_name: str | None = None
    emergency_contact_phone: str | None = None


def create_subject(person: Person, office: Office, *, actor: Actor, now: dt.datetime) -> Subject:
    """Enter the person record in the current transaction and audit it; EnrolmentError when the
    phone number is taken, AlreadyEnrolled when the resident ID is."""
    _refuse_taken(person)
    subject = Subject(
        name=person.name,
        phone=person.phone,
        pin_hash=accounts.hash_secret(person.pin),
        office=office,
        category=person.category,
        level=person.level,
        supervision_start=person.supervision_start,
        supervision_end=person.supervision_end,
        id_number=person.id_number,
        home_lat=person.home_lat,
        home_lon=person.home_lon,
        emergency_contact_name=person.emergency_contact_name,
        emergency_contact_phone=person.emergency_contact_phone,
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(subject)
            db.session.flush()
    except IntegrityError:
        # Another enrolment took the number or the ID between our check and our insert.
        _refuse_taken(person)
        raise
    audit("subject.create", actor, now, subject_id=subject.id)
    return subject


def _refuse_taken(person: Person) -> None:
    if _taken(Subject.phone, person.phone):
        raise EnrolmentError("phone", PHONE_TAKEN)
    if person.id_number and _taken(Subject.id_number, person.id_number):
        raise AlreadyEnrolled("id_number", ID_NUMBER_TAKEN)


def _taken(column, value: str) -> bool:
    return db.session.scalar(select(Subject.id).where(column == value)) is not None


#: A search that looks like (part of) a phone number: digits and the separators people type.
_PHONE_LIKE = re.compile(r"[+(]?[0-9][0-9 ()\-.]*")


def _phone_matches(text: str) -> list:
    """Conditions that find a registered number however it was typed: 139 0000 0001,
    139-0000-0001, +86 139..., 0086139..., 86139..., or a run of its digits."""
    if not _PHONE_LIKE.fullmatch(text):
        return []
    digits = re.sub(r"[^0-9]", "", text)
    if digits.startswith("00"):
        # 00 is the international prefix dialled from China; the stored form has +.
        digits = digits[2:]
    conditions = [Subject.phone.contains(digits, autoescape=True)] if len(digits) >= 3 else []
    whole = normalize_phone(text, strict=True)
    if whole is not None:
        conditions.append(Subject.phone == whole)
    return conditions


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
                *_phone_matches(text),
            )
        )
    return query


def person_to_dict(subject: Subject, today: dt.date) -> dict:
    """The person as the officer API shows them: resident ID masked, PIN never."""
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
        "emergency_contact": {
            "name": subject.emergency_contact_name,
            "phone": subject.emergency_contact_phone,
        }
        if subject.emergency_contact_phone
        else None,
        "device_bound": subject.device_id is not None,
    }


def describe_subjects(ids: Sequence[int]) -> dict[int, ConcernInfo]:
    """Names of subjects for the alert queue (one statement for a page of alerts)."""
    from flask import url_for

    rows = db.session.execute(
        select(Subject.id, Subject.name, Subject.phone, Subject.office_id).where(
            Subject.id.in_(ids)
        )
    ).all()
    return {
        row.id: ConcernInfo(
            row.name, url_for("subjects.show", subject_id=row.id), row.phone, row.office_id
        )
        for row in rows
    }


# --- the phone's login ----------------------------------------------------------------------


class WrongSecret(Exception):
    """No subject with this phone number and PIN (401)."""


class NotInSupervision(Exception):
    """The subject's supervision has ended (403 not_in_supervision)."""


class DeviceRefused(Exception):
    """An officer refused this phone for the subject (403 device_refused)."""


@dataclass(frozen=True)
class PhoneSession:
    """A phone logged in: its token (shown once), when it expires, and whose it is."""

    token: str
    expires_at: dt.datetime
    subject: Subject


def find_by_phone(phone: str) -> Subject | None:
    """The subject whose registered number is `phone` in any common spelling."""
    number = normalize_phone(phone) or phone
    return db.session.scalar(select(Subject).where(Subject.phone == number))


def phone_login(
    phone: str,
    pin: str,
    device_id: str,
    *,
    now: dt.datetime,
    today: dt.date,
    ip: str | None,
    lifetime: dt.timedelta,
) -> PhoneSession:
    """Log a phone in. One phone at a time: a login from another device than the last one
    revokes the subject's other tokens and raises `device_change` (the phone may have been left
    with someone else). WrongSecret or NotInSupervision when refused."""
    subject = find_by_phone(phone)
    if not accounts.check_secret(subject.pin_hash if subject else None, pin):
        # Audited against the record the number names (if any); the caller commits it.
        audit(
            "subject.login_failed",
            Actor.anonymous(ip),
            now,
            subject_id=subject.id if subject else None,
            detail={"phone": (normalize_phone(phone) or phone)[:32], "device_id": device_id},
        )
        raise WrongSecret()
    if subject.status_on(today) == "ended":
        raise NotInSupervision()
    actor = Actor.subject(subject.id, ip)
    if db.session.get(RefusedDevice, (subject.id, device_id)) is not None:
        audit(
            "subject.login_refused_device",
            actor,
            now,
            subject_id=subject.id,
            detail={"device_id": device_id},
        )
        raise DeviceRefused()
    if subject.device_id is not None and subject.device_id != device_id:
        raise_alert(
            "device_change",
            subject_id=subject.id,
            office_id=subject.office_id,
            level=subject.level,
            evidence={"previous_device_id": subject.device_id, "device_id": device_id},
            at=now,
        )
        revoked = accounts.revoke_tokens(subject_id=subject.id, now=now)
        audit(
            "subject.device_change",
            actor,
            now,
            subject_id=subject.id,
            detail={"previous_device_id": subject.device_id, "tokens_revoked": revoked},
        )
    subject.device_id = device_id
    token, row = accounts.issue_token(
        now=now, lifetime=lifetime, subject_id=subject.id, device_id=device_id
    )
    audit("subject.login", actor, now, subject_id=subject.id, detail={"device_id": device_id})
    return PhoneSession(token, row.expires_at, subject)


def refuse_device(
    subject: Subject,
    device_id: str,
    reason: str,
    *,
    officer_id: int | None,
    actor: Actor,
    now: dt.datetime,
) -> int:
    """Refuse a phone for the subject: its logins are turned away from now on, and if it is the
    phone signed in now, every token is revoked (the person signs in again on their own
    phone). How many tokens were revoked. Audited."""
    refusal = db.session.get(RefusedDevice, (subject.id, device_id))
    if refusal is None:
        refusal = RefusedDevice(subject_id=subject.id, device_id=device_id)
        db.session.add(refusal)
    refusal.refused_at, refusal.refused_by, refusal.reason = now, officer_id, reason
    revoked = 0
    if subject.device_id == device_id:
        revoked = accounts.revoke_tokens(subject_id=subject.id, now=now)
        subject.device_id = None  # the next login, from the person's own phone, is no change
    audit(
        "subject.device_refused",
        actor,
        now,
        subject_id=subject.id,
        detail={"device_id": device_id, "tokens_revoked": revoked},
    )
    return revoked


def approve_device(subject: Subject, device_id: str, *, actor: Actor, now: dt.datetime) -> bool:
    """Approve a phone for the subject (a new phone that is really theirs, or one refused
    before): it may sign in. True if a refusal was lifted. Audited."""
    refusal = db.session.get(RefusedDevice, (subject.id, device_id))
    if refusal is not None:
        db.session.delete(refusal)
    audit(
        "subject.device_approved",
        actor,
        now,
        subject_id=subject.id,
        detail={"device_id": device_id, "refusal_lifted": refusal is not None},
    )
    return refusal is not None


def refused_devices(subject_id: int) -> list[RefusedDevice]:
    """The phones refused for the subject, newest refusal first."""
    return list(
        db.session.scalars(
            select(RefusedDevice)
            .where(RefusedDevice.subject_id == subject_id)
            .order_by(RefusedDevice.refused_at.desc())
        )
    )


def sign_out_phone(subject: Subject, *, actor: Actor, now: dt.datetime) -> int:
    """Revoke every token of the subject's phone (lost, stolen or shared); how many. The phone
    must log in again with the PIN."""
    revoked = accounts.revoke_tokens(subject_id=subject.id, now=now)
    audit("subject.tokens_revoked", actor, now, subject_id=subject.id, detail={"tokens": revoked})
    return revoked


@dataclass(frozen=True)
class PhoneToken:
    """A live phone token: its row id, the device it was issued to, and its subject."""

    token_id: int
    device_id: str | None
    subject: SubjectFacts


#: The columns of a live phone token and its subject's facts (SubjectFacts' fields in order).
PHONE_TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.device_id,
    Subject.id,
    Subject.office_id,
    Subject.level,
    Subject.supervision_start,
    Subject.supervision_end,
    Subject.home_lat,
    Subject.home_lon,
)


def phone_token_of(row) -> PhoneToken:
    """A row of PHONE_TOKEN_COLUMNS as a PhoneToken."""
    return PhoneToken(row[0], row[1], SubjectFacts(*row[2:9]))


def live_phone_token(token: str, now: dt.datetime) -> PhoneToken | None:
    """The live (not revoked, not expired) phone token presented, with its subject's facts, in
    one Core statement built once (the first of every phone request)."""
    row = db.session.connection().execute(LIVE_PHONE_TOKEN, phone_token_params(token, now)).first()
    return None if row is None else phone_token_of(row)


def phone_token_params(token: str, now: dt.datetime) -> dict:
    """The parameters of LIVE_PHONE_TOKEN (and of a statement built on it)."""
    return {"digest": accounts.token_digest(token), "now": now}


#: The live phone token of the digest `digest` at `now` and its subject: PHONE_TOKEN_COLUMNS
#: from api_tokens joined to subjects (a statement may add columns of the subject to it).
LIVE_PHONE_TOKEN = (
    select(*PHONE_TOKEN_COLUMNS)
    .join(Subject, Subject.id == ApiToken.subject_id)
    .where(
        ApiToken.token_hash == bindparam("digest"),
        ApiToken.revoked.is_(False),
        ApiToken.expires_at > bindparam("now"),
    )
)
