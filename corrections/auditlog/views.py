"""The audit page for the bureau (admins and supervisors): who saw or changed whose record, who
signed in, who was refused what; searched by officer, person, action and day; exported as CSV.

Supervisors are the bureau's own people (all offices, approvals above the office): looking
into an office's use of the records is theirs to do, as accounts are the admin's. An office
officer does not see the log: it names the people of every office.
"""

from __future__ import annotations

import datetime as dt
import math

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    stream_with_context,
)
from flask_babel import gettext, ngettext
from flask_login import current_user

from corrections import clock
from corrections.api import page_arg, text_arg, whole_number
from corrections.auditlog import services
from corrections.auditlog.services import AuditFilters, Row
from corrections.auth.access import officer_actor
from corrections.auth.views import page_roles
from corrections.extensions import count_rows, db

bp = Blueprint("auditlog", __name__, template_folder="templates", url_prefix="/admin/audit")

#: Who may open the audit page.
AUDIT_ROLES = ("admin", "supervisor")
PER_PAGE = 50


def action_labels() -> dict[str, str]:
    """What each known action means, in the reader's language."""
    return {
        "subject.list": gettext("Looked at a list of subjects"),
        "subject.read": gettext("Opened a subject's file"),
        "subject.checkins.read": gettext("Looked at check-ins (positions)"),
        "subject.create": gettext("Enrolled a subject"),
        "subject.login": gettext("Subject's phone signed in"),
        "plan.change": gettext("Changed a check-in plan"),
        "checkin.create": gettext("Check-in received"),
        "signals.prune": gettext("Deleted old signals (retention)"),
        "alert.list": gettext("Looked at the alert queue"),
        "alert.read": gettext("Opened an alert"),
        "alert.ack": gettext("Took an alert"),
        "alert.release": gettext("Gave an alert back"),
        "alert.resolve": gettext("Resolved an alert"),
        "alert.dismiss": gettext("Dismissed an alert as a false alarm"),
        "office.create": gettext("Created an office"),
        "access.refused": gettext("Was refused"),
        "audit.read": gettext("Searched the audit log"),
        "audit.export": gettext("Exported the audit log"),
    }


@bp.app_template_global()
def audit_action_label(action: str) -> str:
    """An action's meaning, or its code when it has no label yet."""
    return action_labels().get(action, action)


def _filters() -> tuple[AuditFilters, dict[str, str], dict[str, str]]:
    """The filters from the query string, what to put back in the form, and the problems."""
    form = {k: (text_arg(k) or "")[:64] for k in ("officer", "subject", "action", "from", "to")}
    problems: dict[str, str] = {}
    officer_id = whole_number(form["officer"]) if form["officer"] else None
    if officer_id is not None and not 1 <= officer_id <= 2**31 - 1:
        officer_id = None
    days = {}
    for key in ("from", "to"):
        days[key] = None
        if form[key]:
            try:
                days[key] = dt.date.fromisoformat(form[key])
            except ValueError:
                problems[key] = gettext("Write the day as YYYY-MM-DD, for example 2026-11-28.")
    if days["from"] and days["to"] and days["from"] > days["to"]:
        problems["to"] = gettext("The last day must not be before the first day.")
        days["to"] = None
    filters = AuditFilters(
        officer_id=officer_id,
        subject=form["subject"] or None,
        action=form["action"] or None,
        day_from=days["from"],
        day_to=days["to"],
    )
    return filters, form, problems


@bp.get("")
@page_roles(*AUDIT_ROLES)
def index():
    """Search the audit log, newest first."""
    filters, form, problems = _filters()
    zone = clock.local_zone()
    query = services.search(filters, zone)
    total = count_rows(query)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(page_arg(), pages)
    entries = db.session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    rows = services.rows_of(entries)
    services.audit_search(filters, page, rows, officer_actor(current_user), clock.now())
    db.session.commit()
    labels = action_labels()
    actions = sorted(set(labels) | set(services.actions_in_use()))
    return render_template(
        "auditlog/index.html",
        rows=[(row, describe(row)) for row in rows],
        total=total,
        page=page,
        pages=pages,
        form=form,
        problems=problems,
        actions=[(a, labels.get(a, a)) for a in actions],
        officers=[(str(o.id), _officer_choice(o)) for o in services.officers_for_filter()],
        timezone=current_app.config["TIMEZONE"],
        pager_args={k: v for k, v in form.items() if v},
    )


@bp.get("/export.csv")
@page_roles(*AUDIT_ROLES)
def export():
    """The entries matching the filters as CSV, streamed (a year's log is large); audited."""
    filters, _form, _problems = _filters()
    zone = clock.local_zone()
    query = services.search(filters, zone)
    now = clock.now()
    services.audit_export(filters, count_rows(query), officer_actor(current_user), now)
    db.session.commit()
    stamp = now.astimezone(zone).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(services.export_lines(query, zone)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-log-{stamp}.csv"'},
    )


def _officer_choice(officer) -> str:
    where = officer.office.name if officer.office else _role_label(officer.role)
    return gettext("%(username)s (%(where)s)", username=officer.username, where=where)


def _role_label(role: str) -> str:
    return {
        "admin": gettext("administrator"),
        "supervisor": gettext("bureau supervisor"),
        "officer": gettext("office officer"),
        "viewer": gettext("wall display"),
    }.get(role, role)


def describe(row: Row) -> str:
    """What an entry saw or did, in a sentence for the page."""
    entry = row.entry
    detail = entry.detail or {}
    action = entry.action
    if action == "subject.list":
        text = ngettext("%(num)s person shown", "%(num)s people shown", len(detail.get("ids", [])))
        return _with_search(text, detail.get("args"))
    if action == "alert.list":
        count = len(detail.get("alert_ids", []))
        return _with_search(
            ngettext("%(num)s alert shown", "%(num)s alerts shown", count), detail.get("args")
        )
    if action == "subject.checkins.read":
        count = len(detail.get("checkin_ids", []))
        return ngettext("%(num)s check-in shown", "%(num)s check-ins shown", count)
    if action.startswith("alert.") and "alert_id" in detail:
        return gettext("Alert no. %(id)s", id=detail["alert_id"])
    if action == "access.refused":
        return _refusal(detail)
    if action == "audit.read":
        return _with_search(gettext("The audit log"), detail.get("filters"))
    if action == "audit.export":
        count = detail.get("entries", 0)
        text = ngettext("%(num)s entry exported", "%(num)s entries exported", count)
        return _with_search(text, detail.get("filters"))
    return _plain(detail)


def _refusal(detail: dict) -> str:
    reasons = {
        "outside_scope": gettext("outside the officer's own office"),
        "no_such_record": gettext("no such record"),
    }
    if detail.get("status") == 403 and "reason" not in detail:
        reason = gettext("the role may not do this")
    else:
        reason = reasons.get(detail.get("reason"), "")
    asked = f"{detail.get('method', '')} {detail.get('path', '')}".strip()
    if reason:
        return gettext("%(asked)s: %(reason)s", asked=asked, reason=reason)
    return asked


def filter_labels() -> dict[str, str]:
    """The names of the filters a list or a search was asked with (the rest show as typed)."""
    return {
        "q": gettext("Name or phone number"),
        "office": gettext("Office"),
        "status": gettext("Status"),
        "kind": gettext("Kind"),
        "severity": gettext("Severity"),
        "subject_id": gettext("Subject no."),
        "subject": gettext("Subject"),
        "officer_id": gettext("Officer no."),
        "action": gettext("What was done"),
        "day_from": gettext("From day"),
        "day_to": gettext("To day"),
        "page": gettext("Page"),
    }


def _with_search(text: str, args: dict | None) -> str:
    terms = {k: v for k, v in (args or {}).items() if v not in (None, "")}
    if not terms:
        return text
    labels = filter_labels()
    shown = gettext(", ").join(
        gettext("%(name)s: %(value)s", name=labels.get(k, k), value=v) for k, v in terms.items()
    )
    return gettext("%(text)s (searched: %(terms)s)", text=text, terms=shown)


def _plain(detail: dict) -> str:
    parts = [f"{k}={v}" for k, v in detail.items() if not isinstance(v, (dict, list))]
    return ", ".join(parts)[:200]
