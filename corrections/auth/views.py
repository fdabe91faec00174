"""Officer login and logout pages, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from corrections import clock
from corrections.auth import services, throttle
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
        wait = throttle.throttled_for(key, now)
        if wait is not None:
            raise ApiError(
                429,
                message=gettext("Too many failed attempts. Try again in %(minutes)s minute(s).", minutes=-(-wait // 60)),
                headers={"Retry-After": str(wait)},
            )
        officer = services.authenticate_officer(form.username.data, form.password.data)
        if officer is None:
            throttle.note_failure(key, now)
            error = gettext("Wrong username or password.")
            status = 401
        else:
            services.clear_failures(key)
            db.session.commit()
            login_user(officer)
            return redirect(next_url or url_for("alerts.queue"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    logout_user()
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the page language (zh_CN or en) and go back."""
    response = redirect(safe_next(request.args.get("next")) or url_for("alerts.queue"))
    if code in ("zh_CN", "en"):
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/")
def home():
    """The start page is the alert queue."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("alerts.queue"))
