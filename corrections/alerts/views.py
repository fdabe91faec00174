"""Alert pages: the queue, one alert with its evidence and history, and the steps on it.

Every step calls corrections.alerts.services, as the JSON API does, and is audited the same way.
The two small forms live here rather than in a forms.py because each is one text box.
"""

from __future__ import annotations

import datetime as dt
import math

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import select
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Optional

from corrections import clock
from corrections.alerts import catalogue, services
from corrections.alerts.catalogue import SEVERITIES
from corrections.alerts.models import STATUSES, UNRESOLVED, Alert
from corrections.alerts.policy import REASSIGNING_ROLES, allowed_steps
from corrections.alerts.queries import (
    ConcernGroup,
    alert_conditions,
    alerts_query,
    concern_groups,
    count_alerts_and_groups,
)
from corrections.alerts.schemas import DismissIn, ReassignIn, ResolveIn
from corrections.api import page_arg, query_record, text_arg
from corrections.auth.access import (
    CASEWORK_ROLES,
    api_officer,
    api_roles,
    office_in_scope,
    officer_actor,
    record_in_scope,
)
from corrections.auth.views import page_roles
from corrections.extensions import count_rows, db
from corrections.i18n import distance_text
from corrections.jobs.services import stale_after, sweep_health
from corrections.offices.services import offices_in_scope
from corrections.pages import render_and_commit
from corrections.text import is_blank, without_controls
from corrections.validation import field_errors

bp = Blueprint("alerts", __name__, template_folder="templates")

#: People (groups of alerts) on one page of the queue.
PER_PAGE = 50
#: The queue's status filter: the stored statuses plus "unresolved" (the default) and "all".
STATUS_FILTERS = ("unresolved", *STATUSES, "all")


class ResolveForm(FlaskForm):
    """Resolve: what was done."""

    note = TextAreaField(_l("What did you do?"), validators=[DataRequired()])


class DismissForm(FlaskForm):
    """Dismiss as a false alarm: why."""

    reason = TextAreaField(_l("Why is this a false alarm?"), validators=[DataRequired()])


class ReassignForm(FlaskForm):
    """Give the alert to another officer of its office, maybe saying why."""

    officer = SelectField(_l("Give it to"), validators=[DataRequired()])
    note = TextAreaField(_l("Why (optional)"), validators=[Optional()])


#: The forms of an alert's page: name -> (form class, its text field).
FORMS = {"resolve": (ResolveForm, "note"), "dismiss": (DismissForm, "reason")}


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
        "met_late": gettext("A missed window was met late"),
        "auto_resolved": gettext("Closed by the system"),
        "reassigned": gettext("Given to another officer"),
        "back_inside": gettext("Tracked back inside the allowed zone"),
        "signal_back": gettext("Positions arrive again"),
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
    try:
        return str(catalogue.kind(kind).label)
    except KeyError:
        return kind


def kind_labels() -> dict[str, str]:
    """Every declared kind's name, for the filter."""
    return {entry.code: str(entry.label) for entry in catalogue.entries()}


def alert_in_scope(alert_id: int) -> Alert:
    """The alert, if the officer may see it; 404 otherwise (existence never leaks)."""
    return record_in_scope("alert", alert_id, db.session.get(Alert, alert_id), current_user)


def _choice(name: str, choices, default: str | None = None) -> str | None:
    # A forgiving filter: a value the page never offers is treated as "no filter".
    value = text_arg(name) or default
    return value if value in choices else default


def _queue(officer) -> dict:
    """The queue page's data for `officer`: the filters (forgiving, except an office outside the
    scope: 404), a page of alerts grouped by the person they concern, the count for the tab
    title and the sweep's freshness; the read is audited. A constant number of statements."""
    scope = officer.scope_office_id
    office = office_in_scope(text_arg("office"), officer)
    status = _choice("status", STATUS_FILTERS, "unresolved")
    kind = _choice("kind", catalogue.codes())
    severity = _choice("severity", SEVERITIES)
    conditions = alert_conditions(
        scope,
        status=None if status == "all" else status,
        kind=kind,
        severity=severity,
        office_id=office.id if office else None,
    )
    now = clock.now()
    total, people = count_alerts_and_groups(conditions)
    pages = max(1, math.ceil(people / PER_PAGE))
    page = min(page_arg(), pages)
    groups = concern_groups(conditions, PER_PAGE, (page - 1) * PER_PAGE)
    alerts = [alert for group in groups for alert in group.alerts]
    views = dict(zip((a.id for a in alerts), services.present(alerts), strict=True))
    services.audit_list_read(alerts, officer_actor(officer), now, query_record())
    filters = {
        "office": office.code if office else "",
        "kind": kind or "",
        "severity": severity or "",
        "status": status,
    }
    return {
        "groups": [_group_view(group, views) for group in groups],
        "total": total,
        "people": people,
        "page": page,
        "pages": pages,
        "filters": filters,
        "open_count": count_rows(
            select(Alert.id).where(*alert_conditions(scope, status="unresolved"))
        ),
        "sweep": sweep_health(now, stale_after(current_app.config)),
        "now": now,
        "show_office": scope is None,
    }


def _group_view(group: ConcernGroup, views: dict[int, dict]) -> dict:
    """A group as the page shows it: the concern's name and link once, then its alerts."""
    rows = [(alert, views[alert.id]) for alert in group.alerts]
    first = rows[0][1] if rows else {}
    return {
        "key": "-".join(str(part) for part in group.concern),
        "name": first.get("subject_name") or (first.get("case") or {}).get("title", ""),
        "url": first.get("concern_url"),
        "office": first.get("office_name"),
        "total": group.total,
        "hidden": group.total - len(rows),
        "rows": rows,
    }


def _refresh_settings() -> dict:
    config = current_app.config
    return {
        "refresh_seconds": config["QUEUE_REFRESH_SECONDS"],
        "stale_after_seconds": config["QUEUE_STALE_AFTER_SECONDS"],
    }


@bp.get("/alerts")
@page_roles(*CASEWORK_ROLES)
def queue():
    """The queue in the officer's scope, one group per person: the most severe first, then
    the oldest. It refreshes itself through `refresh` (static queue.js) and works without it."""
    data = _queue(current_user)
    scope = current_user.scope_office_id
    return render_and_commit(
        "alerts/queue.html",
        **data,
        **_refresh_settings(),
        offices=offices_in_scope(scope),
        kinds=kind_labels(),
        severities=severity_labels(),
        statuses=status_labels(),
    )


@bp.get("/alerts/refresh")
@api_roles(*CASEWORK_ROLES)
def refresh():
    """The queue's list for the page to put in place (same filters, same page, same scope and
    audit as the page), with the count for the tab title and when it was made (JSON)."""
    data = _queue(api_officer())
    html = render_template("alerts/_queue_list.html", **data)
    sweep = data["sweep"]
    db.session.commit()
    return jsonify(
        generated_at=clock.isoformat(data["now"]),
        updated_text=updated_text(data["now"]),
        open_alerts=data["open_count"],
        total=data["total"],
        people=data["people"],
        page=data["page"],
        pages=data["pages"],
        sweep={"last_success_at": clock.isoformat(sweep.last_success_at), "stale": sweep.stale},
        html=html,
        **_refresh_settings(),
    )


@bp.app_template_global()
def updated_text(moment: dt.datetime) -> str:
    """The "Updated at 10:05" line: hh:mm in TIMEZONE, as every time on the pages is shown."""
    local = clock.as_utc(moment).astimezone(clock.local_zone())
    return gettext("Updated at %(time)s", time=local.strftime("%H:%M"))


@bp.get("/alerts/<int:alert_id>")
@page_roles(*CASEWORK_ROLES)
def show(alert_id: int):
    """One alert: who it concerns, what was measured, every step taken, and the next steps."""
    alert = alert_in_scope(alert_id)
    page = page_arg("history_page")
    now = clock.now()
    actor = officer_actor(current_user)
    view = services.alert_with_history(alert, actor, now, history_page=page)
    panel = catalogue.concern_panel(alert, actor, now)
    return _detail(alert, view, panel)


def _detail(alert: Alert, view: dict, panel, status: int = 200, **forms):
    allowed = allowed_steps(alert, current_user)
    entry = catalogue.kind(alert.kind)
    history_pages = max(1, math.ceil(view["history_total"] / view["history_per_page"]))
    reassign_form = forms.get("reassign") or ReassignForm(formdata=None)
    candidates = services.reassign_candidates(alert) if "reassign" in allowed else []
    reassign_form.officer.choices = [("", gettext("Choose an officer"))] + [
        (o.username, o.shown_name) for o in candidates if o.id != alert.owner_id
    ]
    return render_and_commit(
        "alerts/detail.html",
        status,
        canonical_url=url_for(".show", alert_id=alert.id, _anchor=f"{forms['failed']}-form")
        if forms.get("failed")
        else None,
        alert=alert,
        view=view,
        panel_html=Markup(render_template(panel.template, **panel.context)) if panel else "",
        related=_related_alerts(alert),
        evidence=evidence_rows(view["evidence"], entry.evidence_labels),
        history=[_history_row(step, view["actor_names"]) for step in view["history"]],
        history_pages=history_pages,
        mine=alert.owner_id == current_user.id,
        reader=_reader(alert, allowed),
        can={
            "ack": "ack" in allowed,
            "release": "release" in allowed,
            "close": {"resolve", "dismiss"} <= allowed,
            "reassign": "reassign" in allowed and len(reassign_form.officer.choices) > 1,
        },
        failed=forms.get("failed"),
        resolve_form=forms.get("resolve") or ResolveForm(formdata=None),
        dismiss_form=forms.get("dismiss") or DismissForm(formdata=None),
        reassign_form=reassign_form,
    )


#: How many of the person's other alerts the page lists.
RELATED_LIMIT = 8


def _related_alerts(alert: Alert) -> dict:
    """The same person's other alerts: the unresolved ones, then the latest closed ones."""
    if alert.subject_id is None:
        return {"open": [], "closed": []}
    scope = current_user.scope_office_id
    others = (
        db.session.scalars(
            alerts_query(scope, subject_id=alert.subject_id)
            .where(Alert.id != alert.id)
            .order_by(None)
            .order_by(Alert.opened_at.desc(), Alert.id.desc())
            .limit(RELATED_LIMIT)
        )
        .unique()
        .all()
    )
    return {
        "open": [a for a in others if a.status in UNRESOLVED],
        "closed": [a for a in others if a.status not in UNRESOLVED],
    }


def _reader(alert: Alert, allowed: frozenset) -> str:
    """Who reads the page, for its wording: the holder, a supervisor (who may reassign), a
    colleague (someone else holds it), or anyone when nobody does."""
    if alert.status not in UNRESOLVED:
        return "closed"
    if alert.owner_id == current_user.id:
        return "holder"
    if "reassign" in allowed:
        return "supervisor"
    return "colleague" if alert.owner_id is not None else "anyone"


def _return_with_problem(alert: Alert, name: str, form):
    """The alert's page again (422, as the CONTRACT asks of a refused form), scrolled to the
    failed form with its box focused and the problem beside it, a banner at the top and what
    was typed still in the box. The page replaces its address with the alert's own (static
    drafts.js), so F5 reloads the page instead of resending, and the language switch and a
    sign-in return to it (auth.views.safe_next)."""
    problem = next(iter(form.errors.values()))[0] if form.errors else ""
    for field in form:
        if field.type == "TextAreaField" and field.data:
            field.data = without_controls(field.data)
    flash(gettext("Nothing was saved. %(problem)s", problem=problem), "error")
    view = services.alert_with_history(alert, officer_actor(current_user), clock.now())
    panel = catalogue.concern_panel(alert, officer_actor(current_user), clock.now())
    return _detail(alert, view, panel, status=422, **{name: form, "failed": name})


def _history_row(step: dict, names: dict) -> dict:
    """A history step for the page: who, what (a repeat says how often), and its note or facts."""
    note = step["note"] or _system_note(step)
    if step["action"] == "reassigned" and step["note"]:
        note = f"{_system_note(step)}{step['note']}"
    if step.get("count", 1) > 1:
        note = gettext(
            "%(count)s times, the last at %(last)s.",
            count=step["count"],
            last=_local_text(step["last_at"]),
        )
    return {
        "at": _instant(step["at"]),
        "actor": names.get(step["actor"], step["actor"]),
        "action": action_labels().get(step["action"], step["action"]),
        "note": note,
    }


def _system_note(step: dict) -> str:
    detail = step.get("detail") or {}
    if step["action"] == "met_late" and "window" in detail:
        return gettext(
            "The window %(window)s was met: a check-in recorded at %(recorded)s arrived at "
            "%(received)s.",
            window=_window_text(detail["window"]["start"], detail["window"]["end"]),
            recorded=_local_text(detail["recorded_at"]),
            received=_local_text(detail["received_at"]),
        )
    if step["action"] == "reassigned" and "to" in detail:
        if detail.get("from"):
            return gettext("From %(old)s to %(new)s.", old=detail["from"], new=detail["to"])
        return gettext("To %(new)s.", new=detail["to"])
    if step["action"] == "auto_resolved":
        return gettext("Every missed window has since been met, so the alert closed itself.")
    return ""


def _step(alert: Alert, step: str, done: str, note: str | None = None):
    officer = current_user._get_current_object()
    try:
        services.take_step(alert, step, officer, officer_actor(officer), clock.now(), note)
    except services.AlertConflict as conflict:
        db.session.rollback()
        flash(gettext("Nothing was changed. %(reason)s", reason=str(conflict)), "error")
        return redirect(url_for(".show", alert_id=alert.id))
    db.session.commit()
    flash(done, "success")
    if alert.status in UNRESOLVED:
        return redirect(url_for(".show", alert_id=alert.id))
    return redirect(url_for(".queue"))


def _subject_name(alert: Alert) -> str:
    return services.alert_to_dict(alert)["subject_name"] or ""


@bp.post("/alerts/<int:alert_id>/ack")
@page_roles(*CASEWORK_ROLES)
def acknowledge(alert_id: int):
    """Take ownership; a friendly message when another officer already has it."""
    alert = alert_in_scope(alert_id)
    return _step(
        alert,
        "ack",
        gettext("You are now handling this alert. When you are done, resolve it with a note."),
    )


@bp.post("/alerts/<int:alert_id>/release")
@page_roles(*CASEWORK_ROLES)
def release(alert_id: int):
    """Give the alert back to the open queue."""
    alert = alert_in_scope(alert_id)
    return _step(alert, "release", gettext("The alert is back in the open queue."))


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
        return _return_with_problem(alert, "resolve", form)
    done = gettext(
        "Alert resolved: %(kind)s, %(name)s.",
        kind=kind_label(alert.kind),
        name=_subject_name(alert),
    )
    return _step(alert, "resolve", done, note)


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
        return _return_with_problem(alert, "dismiss", form)
    done = gettext(
        "Alert dismissed as a false alarm: %(kind)s, %(name)s.",
        kind=kind_label(alert.kind),
        name=_subject_name(alert),
    )
    return _step(alert, "dismiss", done, reason)


@bp.post("/alerts/<int:alert_id>/reassign")
@page_roles(*REASSIGNING_ROLES)
def reassign(alert_id: int):
    """A supervisor gives the alert to another officer of its office, with an optional note."""
    alert = alert_in_scope(alert_id)
    form = ReassignForm()
    username = form.officer.data or ""
    note_text = form.note.data or ""
    if is_blank(username):
        form.officer.errors = [gettext("Choose the officer who should handle it.")]
        return _return_with_problem(alert, "reassign", form)
    plain = {"officer": username}
    if not is_blank(note_text):
        plain["note"] = note_text
    try:
        data = ReassignIn.from_plain(plain)
    except ValidationError as error:
        problems = field_errors(error)
        for key in ("officer", "note"):
            if key in problems:
                name = gettext("Give it to") if key == "officer" else gettext("Why")
                getattr(form, key).errors = [
                    gettext("%(field)s: %(problem)s", field=name, problem=problems[key])
                ]
        return _return_with_problem(alert, "reassign", form)
    username, note = data.officer, data.note
    target = services.officer_by_username(username)
    officer = current_user._get_current_object()
    try:
        if target is None:
            raise services.ReassignTargetInvalid()
        services.reassign(alert, target, officer, officer_actor(officer), clock.now(), note)
    except services.ReassignTargetInvalid:
        db.session.rollback()
        form.officer.errors = [
            gettext("This officer does not work in the alert's office (or no longer works).")
        ]
        return _return_with_problem(alert, "reassign", form)
    except services.AlertConflict as conflict:
        db.session.rollback()
        flash(gettext("Nothing was changed. %(reason)s", reason=str(conflict)), "error")
        return redirect(url_for(".show", alert_id=alert.id))
    db.session.commit()
    flash(gettext("%(name)s now handles this alert.", name=target.shown_name), "success")
    return redirect(url_for(".show", alert_id=alert.id))


def _validated_text(
    field, schema, key: str, required: str, extra: dict | None = None
) -> str | None:
    """The text of `field` checked by the API's schema; None with the problem put on the field."""
    text = field.data or ""
    if is_blank(text):
        field.errors = [required]
        return None
    try:
        return getattr(schema.from_plain({**(extra or {}), key: text}), key)
    except ValidationError as error:
        problem = field_errors(error).get(key) or gettext("is not valid")
        name = field.label.text.rstrip("?？:： ")  # "What did you do?" -> "What did you do"
        field.errors = [gettext("%(field)s: %(problem)s", field=name, problem=problem)]
        return None


def evidence_rows(value: dict, labels) -> list[tuple[str, object]]:
    """Evidence as (label, node) pairs for the page, times in TIMEZONE. A node is a text, a
    {"fields": rows} for a nested record or an {"entries": nodes} for a list. `labels` are the
    kind's own (its catalogue entry); unknown keys are shown as they are."""
    return [
        (str(labels.get(key, key)), _evidence_value(item, labels, key))
        for key, item in value.items()
        if key not in INTERNAL_KEYS
    ]


#: Evidence keys that are the system's own record numbers, not facts for the officer.
INTERNAL_KEYS = frozenset(
    {"checkin_id", "zone_id", "alert_id", "subject_id", "window_id", "signal_id", "source"}
)


def _evidence_value(value, labels, key: str = ""):
    if isinstance(value, dict):
        if set(value) == {"start", "end"}:
            return _window_text(value["start"], value["end"])
        if set(value) == {"start", "end", "met_late"}:
            return gettext(
                "%(window)s (met late: recorded at %(recorded)s, arrived at %(received)s)",
                window=_window_text(value["start"], value["end"]),
                recorded=_local_text(value["met_late"]["recorded_at"]),
                received=_local_text(value["met_late"]["received_at"]),
            )
        return {"fields": evidence_rows(value, labels)}
    if isinstance(value, list):
        return {"entries": [_evidence_value(item, labels, key) for item in value]}
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, int | float) and key.endswith("_m"):
        return distance_text(value)
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, str):
        moment = _instant(value)
        if moment is not None:
            return moment.astimezone(clock.local_zone()).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _local_text(text: str | None) -> str:
    moment = _instant(text) if text else None
    if moment is None:
        return text or ""
    return moment.astimezone(clock.local_zone()).strftime("%Y-%m-%d %H:%M:%S")


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
