"""Officer API: enrolling and reading subjects, always within the caller's office scope."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext

from corrections import clock
from corrections.api import choice_arg, int_arg, page_args
from corrections.audit.services import record as audit
from corrections.auth.access import CASEWORK_ROLES, api_officer, api_roles, in_scope, not_found
from corrections.checkin.services import checkins_of
from corrections.errors import ApiError, validation_error
from corrections.extensions import count_rows, db
from corrections.subjects import services
from corrections.subjects.models import STATUSES, Subject
from corrections.subjects.schemas import SubjectIn
from corrections.validation import parse_json

bp = Blueprint("subjects_api", __name__, url_prefix="/api/v1")


def subject_in_scope(subject_id: int) -> Subject:
    """The subject, if the caller may see it; 404 otherwise (existence never leaks)."""
    subject = db.session.get(Subject, subject_id)
    if subject is None or not in_scope(api_officer(), subject.office_id):
        raise not_found()
    return subject


def office_filter_in_scope(code: str | None):
    """The office named by a filter; 404 when unknown or outside the caller's scope."""
    if code is None:
        return None
    office = services.office_by_code(code)
    if office is None or not in_scope(api_officer(), office.id):
        raise not_found()
    return office


@bp.post("/subjects")
@api_roles(*CASEWORK_ROLES)
def enrol():
    """Enrol a subject with their plan and zones."""
    officer = api_officer()
    data = parse_json(SubjectIn)
    office = services.office_by_code(data.office_code)
    if office is None:
        raise validation_error({"office_code": gettext("no office with this code")})
    if not in_scope(officer, office.id):
        raise ApiError(403, message=gettext("You may only enrol subjects in your own office."))
    try:
        subject = services.enrol_subject(data, office, enrolled_by=officer.id)
    except services.EnrolmentError as error:
        raise validation_error({error.field: error.translated()}) from None
    db.session.commit()
    return jsonify(services.subject_to_dict(subject, clock.local_today())), 201


@bp.get("/subjects")
@api_roles(*CASEWORK_ROLES)
def list_subjects():
    """Subjects in the caller's scope, filtered by office, status and a name or phone search."""
    officer = api_officer()
    office = office_filter_in_scope(request.args.get("office") or None)
    status = choice_arg("status", STATUSES)
    page, per_page = page_args()
    today = clock.local_today()
    query = services.subjects_query(
        officer.scope_office_id,
        office_id=office.id if office else None,
        status=status,
        q=request.args.get("q"),
        today=today,
    )
    total = count_rows(query)
    subjects = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    audit(
        "subject.list",
        actor_kind="officer",
        actor_id=officer.id,
        detail={"ids": [s.id for s in subjects], "args": request.args.to_dict()},
    )
    db.session.commit()
    return jsonify(
        items=[services.subject_to_dict(s, today) for s in subjects],
        total=total,
        page=page,
        per_page=per_page,
    )


@bp.get("/subjects/<int:subject_id>")
@api_roles(*CASEWORK_ROLES)
def show(subject_id: int):
    """One subject."""
    subject = subject_in_scope(subject_id)
    audit("subject.read", actor_kind="officer", actor_id=api_officer().id, subject_id=subject.id)
    db.session.commit()
    return jsonify(services.subject_to_dict(subject, clock.local_today()))


@bp.get("/subjects/<int:subject_id>/checkins")
@api_roles(*CASEWORK_ROLES)
def checkins(subject_id: int):
    """The subject's check-ins, newest first."""
    subject = subject_in_scope(subject_id)
    limit = int_arg("limit", 100, low=1, high=1000)
    items = checkins_of(subject.id, limit)
    audit(
        "subject.checkins.read",
        actor_kind="officer",
        actor_id=api_officer().id,
        subject_id=subject.id,
    )
    db.session.commit()
    return jsonify(items=[c.to_dict() for c in items])
