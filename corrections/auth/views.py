"""Officer login and logout pages, the language switch, and what every page shares: the role
check for pages and the filters that show times in TIMEZONE."""

from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta, gettext
from flask_login import current_user, login_required, login_user, logout_user

from corrections import clock
from corrections.auth import services, throttle
from corrections.auth.access import CASEWORK_ROLES
from corrections.auth.forms import LoginForm
from corrections.errors import ApiError
from corrections.extensions import db

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
        throttle.attempt(key, now)
        officer = services.authenticate_officer(form.username.data, form.password.data)
        if officer is None:
            error = gettext(
                "Wrong username or password. Check the spelling and whether Caps Lock is on."
            )
            status = 401
        else:
            throttle.succeeded(key)
            db.session.commit()
            login_user(officer)
            return redirect(next_url or url_for("auth.home"))
    elif request.method == "POST":
        status = 422  # the CSRF check passed (else CSRFProtect answered 400): a field is wrong
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    logout_user()
    flash(gettext("You have signed out."), "info")
    return redirect(url_for("auth.login"))


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
    return " ".join(
        format_timedelta(
            dt.timedelta(**{unit + "s": amount}),
            granularity=unit,
            threshold=10**6,
            add_direction=False,
        )
        for amount, unit in parts
    )
