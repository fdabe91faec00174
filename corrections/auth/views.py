"""Officer login and logout pages, the language switch, and what every page shares: the role
check for pages and the filters that show times in TIMEZONE."""

from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_timedelta, get_locale, gettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from corrections import clock
from corrections.auth import services, sessions, throttle
from corrections.auth.access import CASEWORK_ROLES, SESSION_TOKEN, officer_actor
from corrections.auth.forms import LoginForm, OwnPasswordForm
from corrections.auth.models import Officer
from corrections.errors import ApiError
from corrections.extensions import db
from corrections.i18n import distance_text, unbroken_units

bp = Blueprint("auth", __name__, template_folder="templates")


def safe_next(target: str | None) -> str | None:
    """`next` only to a local path (no scheme, no host, no protocol-relative //)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return _answering_get(target)


def _answering_get(target: str) -> str:
    """`target`, or the page a form on it was posted from when `target` takes only POST (a
    sign-in after the session expired mid-submit, a language switch after a failed submit):
    /alerts/7/resolve → /alerts/7, never a 405."""
    path = urlsplit(target).path
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except MethodNotAllowed:
        parent = path.rstrip("/").rsplit("/", 1)[0] or "/"
        try:
            adapter.match(parent, method="GET")
        except HTTPException:
            return "/"
        return parent
    except HTTPException:
        return target
    return target


def page_roles(*roles: str):
    """A page for signed-in officers holding one of `roles`: others are sent to /login?next=...,
    a signed-in account with another role gets 403."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                raise ApiError(403, message=gettext("Your account may not open this page."))
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password."""
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    error = None
    status = 200
    if form.validate_on_submit():
        now = clock.now()
        key = f"officer:{form.username.data}"
        throttle.attempt(key, request.remote_addr)
        officer = services.officer_login(
            form.username.data, form.password.data, via="web", ip=request.remote_addr, now=now
        )
        if officer is None:
            throttle.failed(request.remote_addr)
            db.session.commit()
            error = gettext(
                "Wrong username or password. Check the spelling and whether Caps Lock is on."
            )
            status = 401
        else:
            throttle.succeeded(key)
            start_session(officer, now)
            db.session.commit()
            return redirect(next_url or url_for("auth.home"))
    elif request.method == "POST":
        status = 422  # the CSRF check passed (else CSRFProtect answered 400): a field is wrong
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), status


def start_session(officer: Officer, now: dt.datetime) -> None:
    """Sign `officer` in with a new server-side session. Whatever the cookie held before (a CSRF
    token, an earlier session, which ends) is dropped first, so nothing from before the login
    carries over."""
    earlier = session.get(SESSION_TOKEN)
    if isinstance(earlier, str):
        sessions.end(earlier, now=now)
    session.clear()
    token = sessions.start(officer.id, now=now, ip=request.remote_addr)
    login_user(officer)
    session[SESSION_TOKEN] = token


@bp.post("/logout")
@login_required
def logout():
    """Sign out: the session ends on the server, so a copy of the cookie stops working too."""
    now = clock.now()
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str):
        sessions.end(token, now=now)
    services.officer_logout(current_user.id, via="web", ip=request.remote_addr, now=now)
    db.session.commit()
    logout_user()
    session.clear()
    flash(gettext("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def own_password():
    """Change one's own password. Every session and token of the account ends (a copied cookie
    too); this browser goes on in a new session."""
    form = OwnPasswordForm()
    status = 200
    if form.validate_on_submit():
        now = clock.now()
        officer = current_user._get_current_object()
        key = f"officer:{officer.username}"
        throttle.attempt(key, request.remote_addr)
        try:
            services.change_own_password(
                officer,
                form.current_password.data,
                form.password.data,
                actor=officer_actor(officer),
                now=now,
            )
        except services.AccountError as error:
            db.session.rollback()
            throttle.checked(key, request.remote_addr, right=error.field != "current_password")
            db.session.commit()
            getattr(form, error.field).errors = [error.translated()]
            status = 422
        else:
            throttle.succeeded(key)
            start_session(officer, now)
            db.session.commit()
            flash(
                gettext(
                    "Your password is changed. Every other computer and app signed in with "
                    "this account has been signed out."
                ),
                "success",
            )
            return redirect(url_for("auth.home"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/password.html", form=form), status


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the page language (zh_CN or en) and go back."""
    response = redirect(safe_next(request.args.get("next")) or url_for("auth.home"))
    if code in ("zh_CN", "en"):
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/")
def home():
    """The start page: the alert queue for casework, a short notice for wall viewers."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role in CASEWORK_ROLES:
        return redirect(url_for("alerts.queue"))
    return render_template("auth/viewer_home.html")


@bp.app_template_filter("localtime")
def localtime(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC instant as wall-clock time in TIMEZONE."""
    value = clock.as_utc(value)
    if value is None:
        return ""
    return value.astimezone(clock.local_zone()).strftime(fmt)


@bp.app_template_filter("age")
def age(value: dt.datetime | None) -> str:
    """How long ago `value` was, in the reader's language: "2 days 3 hours", "40 minutes"."""
    value = clock.as_utc(value)
    if value is None:
        return ""
    return duration(clock.now() - value)


@bp.app_template_filter("ago")
def ago(value: dt.datetime | None) -> str:
    """How long ago `value` was, as a phrase: "刚刚" under a minute, else "5分钟前"."""
    value = clock.as_utc(value)
    if value is None:
        return ""
    delta = clock.now() - value
    if delta < dt.timedelta(minutes=1):
        return gettext("just now")
    return gettext("%(age)s ago", age=duration(delta))


@bp.app_template_filter("distance")
def distance(meters: float | None) -> str:
    """A distance as a person says it (see corrections.i18n.distance_text), never split
    across lines on a page."""
    return unbroken_units(distance_text(meters))


def duration(delta: dt.timedelta) -> str:
    """A span in at most two units, largest first, never rounded up."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    parts = []
    for amount, unit in units:
        if amount or parts:
            parts.append((amount, unit))
        if len(parts) == 2:
            break
    parts = [(amount, unit) for amount, unit in parts if amount] or [(0, "minute")]
    # Chinese writes its units together ("2小时30分钟"), English with a space.
    joiner = "" if get_locale().language == "zh" else " "
    return joiner.join(
        format_timedelta(
            dt.timedelta(**{unit + "s": amount}),
            granularity=unit,
            threshold=10**6,
            add_direction=False,
        )
        for amount, unit in parts
    )
