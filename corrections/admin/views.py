"""Administration pages (admins only): offices and accounts, so no one needs the command line
for daily work. Every step goes through the services the API calls, and is audited there.

Each page says plainly what a step does; steps that lock someone out (deactivating, signing out
everywhere) ask for confirmation on a page of their own, with one big button.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select

from corrections import clock
from corrections.admin.api import OfficeIn
from corrections.admin.forms import (
    AccountDetailsForm,
    AccountForm,
    ConfirmForm,
    OfficeForm,
    PasswordPair,
    role_labels,
)
from corrections.auth import services as accounts
from corrections.auth import sessions
from corrections.auth.access import officer_actor
from corrections.auth.models import Officer
from corrections.auth.schemas import OfficerIn
from corrections.auth.views import page_roles
from corrections.extensions import db
from corrections.offices import services as offices
from corrections.offices.models import Office
from corrections.validation import field_errors, typed_number, typed_text

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")


_clean = typed_text
_number = typed_number


def _form_errors(form) -> dict[str, str]:
    """What the form's own validators found (the text rule), the first problem of each box; an
    expired or missing CSRF token says so in plain words."""
    if form.validate():
        return {}
    errors = {name: messages[0] for name, messages in form.errors.items() if messages}
    if "csrf_token" in errors:
        errors["csrf_token"] = gettext("The form expired. Try again.")
    return errors


def _put_errors(form, errors: dict[str, str]) -> list[tuple[str, str, str]]:
    """Each problem beside its field; (field id, label, message) for the summary at the top."""
    summary = []
    order = {name: n for n, name in enumerate(form._fields)}
    for name, message in sorted(errors.items(), key=lambda item: order.get(item[0], -1)):
        field = getattr(form, name, None) if name != "csrf_token" else None
        if field is None:
            summary.append(("", "", message))
            continue
        field.errors = [message]
        summary.append((field.id, str(field.label.text), message))
    return summary


def _all_offices() -> list[Office]:
    return offices.offices_in_scope(None)


def _account(officer_id: int) -> Officer:
    officer = db.session.get(Officer, officer_id)
    if officer is None:
        abort(404)
    return officer


def _session_settings() -> sessions.SessionSettings:
    return sessions.SessionSettings.from_config(current_app.config)


@bp.get("/")
@page_roles("admin")
def index():
    """The administration start page: the accounts."""
    return redirect(url_for(".accounts"))


@bp.get("/accounts", endpoint="accounts")
@page_roles("admin")
def accounts_page():
    """Every account: name, role, office, whether it is active and signed in."""
    officers = db.session.scalars(select(Officer).order_by(Officer.username)).all()
    signed_in = sessions.count_live(
        [o.id for o in officers], now=clock.now(), settings=_session_settings()
    )
    return render_template(
        "admin/accounts.html", officers=officers, signed_in=signed_in, roles=role_labels()
    )


@bp.route("/accounts/new", methods=["GET", "POST"])
@page_roles("admin")
def new_account():
    """Create an account."""
    form = AccountForm(offices=_all_offices())
    if request.method == "GET":
        return render_template("admin/account_new.html", form=form, summary=[])
    errors = _form_errors(form)
    errors.update(form.problems())
    body = {
        "username": _clean(form.username.data),
        "password": form.password.data or "",
        "role": form.role.data or "",
        "display_name": _clean(form.display_name.data) or None,
        "office_code": form.office_code.data or None,
    }
    officer = None
    if not errors and body["password"]:
        # The policy is asked at once, so its answer comes with the other problems.
        try:
            accounts.check_new_password(body["password"], body["username"])
        except accounts.AccountError as error:
            errors[error.field] = error.translated()
    if not errors or set(errors) == {"password"}:
        try:
            data = OfficerIn.from_plain({k: v for k, v in body.items() if v is not None})
        except ValidationError as error:
            for name, message in field_errors(error).items():
                errors.setdefault(name.split(".")[0], message)
            if "username" in errors and body["username"]:
                errors["username"] = gettext(
                    "Use 2 to 64 letters, digits, dots, dashes or underscores, with no spaces."
                )
    if not errors:
        try:
            officer = accounts.create_officer(
                data.username,
                data.password,
                data.role,
                data.office_code,
                display_name=data.display_name,
                actor=officer_actor(current_user),
                now=clock.now(),
            )
        except accounts.AccountError as error:
            db.session.rollback()
            errors[error.field] = error.translated()
    if officer is None:
        if "role" in errors and not body["role"]:
            errors["role"] = gettext("Choose a role.")
        summary = _put_errors(form, errors)
        return render_template("admin/account_new.html", form=form, summary=summary), 422
    db.session.commit()
    flash(
        gettext(
            "The account %(username)s is created. Tell its owner the password in person.",
            username=officer.username,
        ),
        "success",
    )
    return redirect(url_for(".account", officer_id=officer.id))


def _account_page(officer: Officer, *, details=None, password=None, summary=(), status=200):
    details = details or AccountDetailsForm(
        offices=_all_offices(),
        formdata=None,
        data={
            "display_name": officer.display_name or "",
            "office_code": officer.office.code if officer.office else "",
        },
    )
    live = sessions.count_live([officer.id], now=clock.now(), settings=_session_settings())
    return (
        render_template(
            "admin/account.html",
            officer=officer,
            details=details,
            password=password or PasswordPair(formdata=None),
            confirm=ConfirmForm(formdata=None),
            summary=list(summary),
            roles=role_labels(),
            signed_in=live.get(officer.id, 0),
        ),
        status,
    )


@bp.get("/accounts/<int:officer_id>")
@page_roles("admin")
def account(officer_id: int):
    """One account and what an administrator may do with it."""
    return _account_page(_account(officer_id))


@bp.post("/accounts/<int:officer_id>/details")
@page_roles("admin")
def account_details(officer_id: int):
    """Save the display name and the office."""
    officer = _account(officer_id)
    form = AccountDetailsForm(offices=_all_offices())
    errors = _form_errors(form)
    name = _clean(form.display_name.data)
    if len(name) > 64:
        errors["display_name"] = gettext("At most 64 characters.")
    if not errors:
        try:
            accounts.update_officer(
                officer,
                display_name=name or None,
                office_code=form.office_code.data or None,
                actor=officer_actor(current_user),
                now=clock.now(),
            )
        except accounts.AccountError as error:
            db.session.rollback()
            errors[error.field] = error.translated()
    if errors:
        return _account_page(officer, details=form, summary=_put_errors(form, errors), status=422)
    db.session.commit()
    flash(gettext("Saved."), "success")
    return redirect(url_for(".account", officer_id=officer.id))


@bp.post("/accounts/<int:officer_id>/password")
@page_roles("admin")
def account_password(officer_id: int):
    """Set a new password; the account is signed out everywhere."""
    officer = _account(officer_id)
    form = PasswordPair()
    errors = _form_errors(form)
    errors.update(form.problems())
    if not errors:
        try:
            ended = accounts.set_password(
                officer, form.password.data, actor=officer_actor(current_user), now=clock.now()
            )
        except accounts.AccountError as error:
            db.session.rollback()
            errors[error.field] = error.translated()
    if errors:
        return _account_page(officer, password=form, summary=_put_errors(form, errors), status=422)
    db.session.commit()
    if officer.id == current_user.id:
        flash(gettext("Your password is changed. Please sign in again."), "success")
        return redirect(url_for("auth.login"))
    flash(
        gettext(
            "New password set for %(name)s. It was signed out on %(computers)s and %(apps)s. "
            "Tell its owner the new password in person.",
            name=officer.shown_name,
            **_where_signed_out(ended),
        ),
        "success",
    )
    return redirect(url_for(".account", officer_id=officer.id))


#: Steps that need a confirmation: (page title, explanation, button), by step.
def _where_signed_out(ended) -> dict[str, str]:
    """The computers and apps an account was signed out on, each counted in words."""
    return {
        "computers": ngettext("%(num)s computer", "%(num)s computers", ended.sessions),
        "apps": ngettext("%(num)s app", "%(num)s apps", ended.tokens),
    }


def _steps(officer: Officer) -> dict[str, tuple[str, str, str]]:
    name = officer.shown_name
    return {
        "deactivate": (
            gettext("Deactivate %(name)s?", name=name),
            gettext(
                "%(name)s is signed out at once on every computer and app, and can no longer "
                "sign in. Nothing they entered is deleted. You can reactivate the account later.",
                name=name,
            ),
            gettext("Yes, deactivate the account"),
        ),
        "reactivate": (
            gettext("Reactivate %(name)s?", name=name),
            gettext("%(name)s can sign in again with their password.", name=name),
            gettext("Yes, reactivate the account"),
        ),
        "sign-out": (
            gettext("Sign %(name)s out everywhere?", name=name),
            gettext(
                "Every computer and app signed in with this account is signed out at once "
                "(for example when a password may have been seen by someone else, or a "
                "computer was left signed in). The password stays the same.",
            ),
            gettext("Yes, sign out everywhere"),
        ),
    }


@bp.route(
    "/accounts/<int:officer_id>/<any(deactivate, reactivate, 'sign-out'):step>",
    methods=["GET", "POST"],
)
@page_roles("admin")
def account_step(officer_id: int, step: str):
    """Confirm, then deactivate, reactivate or sign out everywhere."""
    officer = _account(officer_id)
    title, explanation, button = _steps(officer)[step]
    form = ConfirmForm()
    error = None
    if request.method == "POST" and form.validate():
        actor, now = officer_actor(current_user), clock.now()
        try:
            if step == "sign-out":
                ended = accounts.sign_out_everywhere(officer, actor=actor, now=now)
                message = gettext(
                    "%(name)s was signed out on %(computers)s and %(apps)s.",
                    name=officer.shown_name,
                    **_where_signed_out(ended),
                )
            else:
                accounts.set_active(officer, step == "reactivate", actor=actor, now=now)
                message = (
                    gettext("%(name)s is deactivated and signed out.", name=officer.shown_name)
                    if step == "deactivate"
                    else gettext("%(name)s can sign in again.", name=officer.shown_name)
                )
        except accounts.AccountError as refused:
            db.session.rollback()
            error = refused.translated()
        else:
            db.session.commit()
            flash(message, "success")
            if officer.id == current_user.id and step == "sign-out":
                return redirect(url_for("auth.login"))
            return redirect(url_for(".account", officer_id=officer.id))
    elif request.method == "POST":
        error = gettext("The form expired. Try again.")
    return (
        render_template(
            "admin/confirm.html",
            officer=officer,
            step=step,
            title=title,
            explanation=explanation,
            button=button,
            form=form,
            error=error,
        ),
        200 if error is None else 409,
    )


@bp.route("/offices", methods=["GET", "POST"])
@page_roles("admin")
def offices_page():
    """Every office, and a form for a new one."""
    form = OfficeForm()
    summary: list = []
    status = 200
    if request.method == "POST":
        errors = _form_errors(form)
        body = {
            "code": _clean(form.code.data).upper(),
            "name": _clean(form.name.data),
            "lat": _number(form.lat.data),
            "lon": _number(form.lon.data),
        }
        office = None
        if not errors:
            try:
                data = OfficeIn.from_plain({k: v for k, v in body.items() if v not in (None, "")})
            except ValidationError as error:
                errors = {
                    name.split(".")[0]: message for name, message in field_errors(error).items()
                }
            else:
                try:
                    office = offices.create_office(
                        data.code,
                        data.name,
                        data.lat,
                        data.lon,
                        actor=officer_actor(current_user),
                        now=clock.now(),
                    )
                except offices.OfficeExists:
                    db.session.rollback()
                    errors["code"] = gettext("An office with this code already exists.")
        if office is not None:
            db.session.commit()
            flash(gettext("The office %(name)s is created.", name=office.name), "success")
            return redirect(url_for(".offices_page"))
        summary = _put_errors(form, errors)
        status = 422
    return (
        render_template("admin/offices.html", offices=_all_offices(), form=form, summary=summary),
        status,
    )
