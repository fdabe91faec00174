"""Officer API: enrolling and reading subjects, always within the caller's office scope."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask_babel import gettext

from corrections import clock
from corrections.api import choice_arg, int_arg, page_args, query_record, text_arg
from corrections.auth.access import (
    CASEWORK_ROLES,
    api_officer,
    api_roles,
    office_in_scope,
    record_in_scope,
    request_actor,
)
from corrections.casefile import services
from corrections.casefile.schemas import SubjectIn
from corrections.checkin import plans
from corrections.checkin.schemas import PlanChangeIn
from corrections.checkin.services import read_checkins
from corrections.checkin.settings import current as checkin_settings
from corrections.errors import ApiError, validation_error
from corrections.extensions import count_rows, db
from corrections.subjects.models import STATUSES, Subject
from corrections.subjects.services import subjects_query
from corrections.validation import parse_json

bp = Blueprint("subjects_api", __name__, url_prefix="/api/v1")


def subject_in_scope(subject_id: int) -> Subject:
    """The subject, if the caller may see it; 404 otherwise (existence never leaks)."""
    return record_in_scope(
        "subject", subject_id, db.session.get(Subject, subject_id), api_officer()
    )


@bp.post("/subjects")
@api_roles(*CASEWORK_ROLES)
def enrol():
    """Enrol a subject with their plan and zones."""
    data = parse_json(SubjectIn)
    now = clock.now()
    try:
        subject = services.enrol(
            data,
            api_officer(),
            actor=request_actor(),
            now=now,
            grace=checkin_settings().grace,
        )
    except services.EnrolmentForbidden:
        db.session.rollback()
        error = ApiError(403, message=gettext("You may only enrol subjects in your own office."))
        error.refusal = {
            "record": "office",
            "record_id": data.office_code,
            "reason": "outside_scope",
        }
        raise error from None
    except services.AlreadyEnrolled as error:
        db.session.rollback()
        raise ApiError(
            409,
            "duplicate",
            gettext("This person is already enrolled."),
            {error.field: error.translated()},
        ) from None
    except services.EnrolmentError as error:
        db.session.rollback()
        raise validation_error({error.field: error.translated()}) from None
    warnings = services.warnings_for(
        data, office_radius_km=current_app.config["ENROL_OFFICE_RADIUS_KM"]
    )
    db.session.commit()
    created = services.files_of([subject], clock.local_today(), now)[0]
    created["warnings"] = [w.to_dict() for w in warnings]
    return jsonify(created), 201


@bp.get("/subjects")
@api_roles(*CASEWORK_ROLES)
def list_subjects():
    """Subjects in the caller's scope, filtered by office, status and a name or phone search."""
    officer = api_officer()
    office = office_in_scope(text_arg("office", 32), officer)
    status = choice_arg("status", STATUSES)
    page, per_page = page_args()
    today, now = clock.local_today(), clock.now()
    query = subjects_query(
        officer.scope_office_id,
        office_id=office.id if office else None,
        status=status,
        q=text_arg("q", 64),
        today=today,
    )
    total = count_rows(query)
    subjects = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    services.read_list(subjects, request_actor(), now, query_record())
    db.session.commit()
    return jsonify(
        items=services.files_of(subjects, today, now),
        total=total,
        page=page,
        per_page=per_page,
    )


@bp.get("/subjects/<int:subject_id>")
@api_roles(*CASEWORK_ROLES)
def show(subject_id: int):
    """One subject."""
    subject = subject_in_scope(subject_id)
    data = services.read_file(subject, request_actor(), clock.local_today(), clock.now())
    db.session.commit()
    return jsonify(data)


@bp.get("/subjects/<int:subject_id>/checkins")
@api_roles(*CASEWORK_ROLES)
def checkins(subject_id: int):
    """The subject's check-ins, newest first."""
    subject = subject_in_scope(subject_id)
    limit = int_arg("limit", 100, low=1, high=1000)
    items = read_checkins(subject.id, limit, request_actor(), clock.now())
    db.session.commit()
    return jsonify(items=[c.to_dict() for c in items])


@bp.put("/subjects/<int:subject_id>/checkin-plan")
@api_roles(*CASEWORK_ROLES)
def change_plan(subject_id: int):
    """Replace the subject's check-in plan from a day on (today or later)."""
    subject = subject_in_scope(subject_id)
    data = parse_json(PlanChangeIn)
    now = clock.now()
    try:
        plan = plans.change_plan(
            subject.id,
            plans.PlanSpec.of(data),
            data.effective_on,
            actor=request_actor(),
            now=now,
            grace=checkin_settings().grace,
        )
    except plans.PlanError as error:
        db.session.rollback()
        raise validation_error({error.field: error.translated()}) from None
    db.session.commit()
    return jsonify(plan.to_dict())
