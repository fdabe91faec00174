"""Alert pages: the queue, one alert with its evidence and history, and the steps on it.

Every step calls corrections.alerts.services, as the JSON API does, and is audited the same way.
The two small forms live here rather than in a forms.py because each is one text box.
"""

from __future__ import annotations

import datetime as dt
import math

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from pydantic import ValidationError
from sqlalchemy.orm import selectinload
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from corrections import clock
from corrections.alerts import services
from corrections.alerts.models import KINDS, SEVERITIES, STATUSES, UNRESOLVED, Alert
from corrections.alerts.queries import alerts_query
from corrections.alerts.schemas import DismissIn, ResolveIn
from corrections.audit.services import record as audit
from corrections.auth.access import CASEWORK_ROLES, in_scope
from corrections.auth.views import page_roles
from corrections.extensions import count_rows, db
from corrections.offices.services import offices_in_scope
from corrections.subjects.services import office_by_code
from corrections.validation import field_errors

bp = Blueprint("alerts", __name__, template_folder="templates")

PER_PAGE = 50
#: The queue's status filter: the stored statuses plus "unresolved" (the default) and "all".
STATUS_FILTERS = ("unresolved", *STATUSES, "all")


class ResolveForm(FlaskForm):
    """Resolve: what was done."""

    note = TextAreaField(_l("What did you do?"), validators=[DataRequired()])


class DismissForm(FlaskForm):
    """Dismiss as a false alarm: why."""

    reason = TextAreaField(_l("Why is this a false alarm?"), validators=[DataRequired()])


def severity_labels() -> dict[str, str]:
    """Translated severities."""
    return {
        "critical": gettext("Critical"),
        "high": gettext("High"),
        "medium": gettext("Medium"),
        "low": gettext("Low"),
    }


def status_labels() -> dict[str, str]:
    """Translated alert statuses and the queue's extra filters."""
    return {
        "unresolved": gettext("Not closed yet"),
        "open": gettext("Open, nobody has taken it"),
        "acknowledged": gettext("Being handled"),
        "resolved": gettext("Resolved"),
        "dismissed": gettext("Dismissed as a false alarm"),
        "all": gettext("All"),
    }


def action_labels() -> dict[str, str]:
    """Translated steps of an alert's history."""
    return {
        "opened": gettext("Opened"),
        "repeated": gettext("Happened again"),
        "acknowledged": gettext("Taken by an officer"),
        "released": gettext("Given back to the queue"),
        "resolved": gettext("Resolved"),
        "dismissed": gettext("Dismissed as a false alarm"),
    }


@bp.app_template_global()
def severity_label(severity: str) -> str:
    """A severity in the reader's language."""
    return severity_labels().get(severity, severity)


@bp.app_template_global()
def alert_status_label(status: str) -> str:
    """An alert status in the reader's language."""
    return status_labels().get(status, status)


@bp.app_template_global()
def kind_label(kind: str) -> str:
    """An alert kind in the reader's language."""
    return services.KIND_LABELS().get(kind, kind)


@bp.app_template_global()
def alert_summary(alert: Alert) -> str:
    """The queue's one-sentence summary of an alert."""
    return services.describe(alert)


def alert_in_scope(alert_id: int) -> Alert:
    """The alert, if the officer may see it; 404 otherwise (existence never leaks)."""
    alert = db.session.get(Alert, alert_id)
    if alert is None or not in_scope(current_user, alert.office_id):
        abort(404)
    return alert


def _choice(name: str, choices, default: str | None = None) -> str | None:
    # A forgiving filter: a value the page never offers is treated as "no filter".
    value = request.args.get(name) or default
    return value if value in choices else default


@bp.get("/alerts")
@page_roles(*CASEWORK_ROLES)
def queue():
    """The queue in the officer's scope: most severe first, then oldest."""
    scope = current_user.scope_office_id
    office = None
    office_code = request.args.get("office") or None
    if office_code is not None:
        office = office_by_code(office_code)
        if office is None or not in_scope(current_user, office.id):
            abort(404)
    status = _choice("status", STATUS_FILTERS, "unresolved")
    kind = _choice("kind", KINDS)
    severity = _choice("severity", SEVERITIES)
    query = alerts_query(
        scope,
        status=None if status == "all" else status,
        kind=kind,
        severity=severity,
        office_id=office.id if office else None,
    )
    total = count_rows(query)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    alerts = db.session.scalars(
        query.options(
            selectinload(Alert.subject), selectinload(Alert.office), selectinload(Alert.owner)
        )
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    filters = {
        "office": office.code if office else "",
        "kind": kind or "",
        "severity": severity or "",
        "status": status,
    }
    return render_template(
        "alerts/queue.html",
        alerts=alerts,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        offices=offices_in_scope(scope),
        kinds=services.KIND_LABELS(),
        severities=severity_labels(),
        statuses=status_labels(),
    )


@bp.get("/alerts/<int:alert_id>")
@page_roles(*CASEWORK_ROLES)
def show(alert_id: int):
    """One alert: what was measured, every step taken, and the buttons for the next step."""
    alert = alert_in_scope(alert_id)
    audit(
        "alert.read",
        actor_kind="officer",
        actor_id=current_user.id,
        subject_id=alert.subject_id,
        detail={"alert_id": alert.id},
    )
    db.session.commit()
    return _detail(alert)


def _detail(alert: Alert, resolve_form=None, dismiss_form=None, status: int = 200):
    data = services.alert_to_dict(alert, with_history=False)
    mine = alert.owner_id == current_user.id
    unresolved = alert.status in UNRESOLVED
    free_or_mine = alert.owner_id is None or mine
    can = {
        "ack": alert.status == "open",
        "release": alert.status == "acknowledged" and (mine or current_user.role != "officer"),
        "close": unresolved and free_or_mine,
    }
    return render_template(
        "alerts/detail.html",
        alert=alert,
        evidence=evidence_rows(data["evidence"]),
        history_actions=action_labels(),
        mine=mine,
        can=can,
        resolve_form=resolve_form or ResolveForm(formdata=None),
        dismiss_form=dismiss_form or DismissForm(formdata=None),
    ), status


def _step(alert: Alert, step, done: str, **kwargs):
    officer = current_user._get_current_object()
    try:
        step(alert, officer, clock.now(), **kwargs)
    except services.AlertConflict as conflict:
        db.session.rollback()
        flash(gettext("Nothing was changed. %(reason)s", reason=str(conflict)), "error")
        return redirect(url_for(".show", alert_id=alert.id))
    db.session.commit()
    flash(done, "success")
    if alert.status in UNRESOLVED:
        return redirect(url_for(".show", alert_id=alert.id))
    return redirect(url_for(".queue"))


@bp.post("/alerts/<int:alert_id>/ack")
@page_roles(*CASEWORK_ROLES)
def acknowledge(alert_id: int):
    """Take ownership; a friendly message when another officer already has it."""
    alert = alert_in_scope(alert_id)
    return _step(
        alert,
        services.acknowledge,
        gettext("You are now handling this alert. When you are done, resolve it with a note."),
    )


@bp.post("/alerts/<int:alert_id>/release")
@page_roles(*CASEWORK_ROLES)
def release(alert_id: int):
    """Give the alert back to the open queue."""
    alert = alert_in_scope(alert_id)
    return _step(alert, services.release, gettext("The alert is back in the open queue."))


@bp.post("/alerts/<int:alert_id>/resolve")
@page_roles(*CASEWORK_ROLES)
def resolve(alert_id: int):
    """Close with a note saying what was done (the note is required)."""
    alert = alert_in_scope(alert_id)
    form = ResolveForm()
    note = _validated_text(
        form.note,
        ResolveIn,
        "note",
        gettext("Write a few words about what you did. The note is required."),
    )
    if note is None:
        return _detail(alert, resolve_form=form, status=422)
    done = gettext(
        "Alert resolved: %(kind)s, %(name)s.", kind=kind_label(alert.kind), name=alert.subject.name
    )
    return _step(alert, services.close, done, to="resolved", note=note)


@bp.post("/alerts/<int:alert_id>/dismiss")
@page_roles(*CASEWORK_ROLES)
def dismiss(alert_id: int):
    """Close as a false alarm, with the reason (required)."""
    alert = alert_in_scope(alert_id)
    form = DismissForm()
    reason = _validated_text(
        form.reason,
        DismissIn,
        "reason",
        gettext("Write why this is a false alarm. The reason is required."),
    )
    if reason is None:
        return _detail(alert, dismiss_form=form, status=422)
    done = gettext(
        "Alert dismissed as a false alarm: %(kind)s, %(name)s.",
        kind=kind_label(alert.kind),
        name=alert.subject.name,
    )
    return _step(alert, services.close, done, to="dismissed", note=reason)


def _validated_text(field, schema, key: str, required: str) -> str | None:
    """The text of `field` checked by the API's schema; None with the problem put on the field."""
    text = field.data or ""
    if not text.strip():
        field.errors = [required]
        return None
    try:
        return getattr(schema.from_plain({key: text}), key)
    except ValidationError as error:
        problem = field_errors(error).get(key) or gettext("is not valid")
        field.errors = [gettext("%(field)s: %(problem)s", field=field.label.text, problem=problem)]
        return None


#: Evidence keys in plain words; unknown keys are shown as they are.
EVIDENCE_LABELS = {
    "lat": _l("Latitude"),
    "lon": _l("Longitude"),
    "accuracy_m": _l("Accuracy (metres)"),
    "recorded_at": _l("Recorded at"),
    "nearest_zone": _l("Nearest allowed zone"),
    "distance_outside_m": _l("Distance outside the zone (metres)"),
    "margin_m": _l("Beyond the accuracy circle by (metres)"),
    "allowed_zones": _l("Allowed zones measured"),
    "zone": _l("Zone"),
    "zone_id": _l("Zone number"),
    "checkin_id": _l("Check-in number"),
    "missed_windows": _l("Missed check-in windows"),
    "from": _l("Previous position"),
    "to": _l("This position"),
    "distance_m": _l("Distance (metres)"),
    "distance_after_accuracy_m": _l("Distance after allowing for accuracy (metres)"),
    "seconds": _l("Time between (seconds)"),
    "speed_kmh": _l("Speed (km/h)"),
    "limit_kmh": _l("Speed limit (km/h)"),
}


def evidence_rows(value: dict) -> list[tuple[str, object]]:
    """Evidence as (label, node) pairs for the page, times in TIMEZONE. A node is a text, a
    {"fields": rows} for a nested record or an {"entries": nodes} for a list."""
    return [
        (str(EVIDENCE_LABELS.get(key, key)), _evidence_value(item)) for key, item in value.items()
    ]


def _evidence_value(value):
    if isinstance(value, dict):
        if set(value) == {"start", "end"}:
            return _window_text(value["start"], value["end"])
        return {"fields": evidence_rows(value)}
    if isinstance(value, list):
        return {"entries": [_evidence_value(item) for item in value]}
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, str):
        moment = _instant(value)
        if moment is not None:
            return moment.astimezone(clock.local_zone()).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _window_text(start: str, end: str) -> str:
    begin, finish = _instant(start), _instant(end)
    if begin is None or finish is None:
        return f"{start} – {end}"
    zone = clock.local_zone()
    begin, finish = begin.astimezone(zone), finish.astimezone(zone)
    tail = "%H:%M" if begin.date() == finish.date() else "%Y-%m-%d %H:%M"
    return f"{begin:%Y-%m-%d %H:%M} – {finish.strftime(tail)}"


def _instant(text: str) -> dt.datetime | None:
    if len(text) < 20 or text[4] != "-" or "T" not in text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
