"""Enrolment, and the case file as the API and the pages show it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from corrections.actors import Actor
from corrections.audit.services import record as audit
from corrections.auth.access import in_scope
from corrections.auth.models import Officer
from corrections.casefile.checks import EnrolmentWarning, enrolment_warnings
from corrections.casefile.schemas import SubjectIn
from corrections.checkin import plans
from corrections.checkin.windows import day_number
from corrections.i18n import N_
from corrections.offices.services import office_by_code
from corrections.subjects import services as people
from corrections.subjects.models import Subject
from corrections.zones.services import add_zones, zones_of

EnrolmentError = people.EnrolmentError
AlreadyEnrolled = people.AlreadyEnrolled


class EnrolmentForbidden(Exception):
    """The officer may not enrol into that office (403)."""


def enrol(
    data: SubjectIn,
    officer: Officer | None,
    *,
    actor: Actor,
    now: dt.datetime,
    grace: dt.timedelta,
) -> Subject:
    """Enrol a subject with their plan and zones in the current transaction. An office officer
    enrols into their own office only (EnrolmentForbidden); `officer` None is the system (the
    demo loader). The plan takes effect at `now`: a record entered late has no past misses."""
    office = office_by_code(data.office_code)
    if office is None:
        raise EnrolmentError("office_code", N_("no office with this code"))
    if officer is not None and not in_scope(officer, office.id):
        raise EnrolmentForbidden()
    subject = people.create_subject(data.person(), office, actor=actor, now=now)
    plans.start_plan(
        subject.id,
        plans.PlanSpec.of(data.checkin),
        anchor_day=day_number(data.supervision_start),
        effective_from=now,
        now=now,
        grace=grace,
    )
    add_zones(subject.id, data.zones)
    return subject


def warnings_for(data: SubjectIn, *, office_radius_km: float) -> list[EnrolmentWarning]:
    """What the officer should look at again before this enrolment goes ahead (none for an
    unknown office: enrolling names that)."""
    office = office_by_code(data.office_code)
    if office is None:
        return []
    return enrolment_warnings(
        (data.home.lat, data.home.lon),
        data.zones,
        (office.lat, office.lon),
        radius_m=office_radius_km * 1000,
    )


def files_of(subjects: Sequence[Subject], today: dt.date, now: dt.datetime) -> list[dict]:
    """Subjects as the officer API shows them: the person, the plan in force and the zones.
    Three statements for any number of subjects."""
    ids = [s.id for s in subjects]
    versions = plans.plans_of(ids)
    zones = zones_of(ids)
    files = []
    for subject in subjects:
        data = people.person_to_dict(subject, today)
        plan = plans.plan_in_force(versions.get(subject.id, []), now)
        data["checkin"] = plan.to_dict() if plan else None
        data["zones"] = [z.to_dict() for z in zones.get(subject.id, [])]
        files.append(data)
    return files


def read_file(subject: Subject, actor: Actor, today: dt.date, now: dt.datetime) -> dict:
    """One subject's file, audited as a read."""
    audit("subject.read", actor, now, subject_id=subject.id)
    return files_of([subject], today, now)[0]


def record_shown(subject: Subject, actor: Actor, now: dt.datetime, shown: str) -> None:
    """Audit a page that shows part of the subject's record (`shown` says which)."""
    audit("subject.read", actor, now, subject_id=subject.id, detail={"shown": shown})


def read_list(subjects: Sequence[Subject], actor: Actor, now: dt.datetime, args: dict) -> None:
    """A list shows names and phone numbers: one audit row naming who was shown."""
    ids = [s.id for s in subjects]
    audit("subject.list", actor, now, shown=ids, detail={"ids": ids, "args": args})
