"""Every route in the app's URL map, pages and API, with bad text in every body field, form box,
query argument and path argument: never a 5xx, the CONTRACT error shape from JSON endpoints and
a page (no trace) from the others, nothing stored by a refused request, and nothing refused
stored by any request.

A route without a recipe below fails `test_every_route_has_a_recipe`: a new endpoint is fuzzed
from the day it exists. Runs on SQLite and PostgreSQL (TEST_DATABASE_URL), where a NUL that
got past the validation would be a driver error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from collections.abc import Callable
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from corrections import clock
from corrections import text as rules
from corrections.extensions import db
from tests.api_support import AUDIT_TABLES, assert_error, csrf_token_of, web_login
from tests.factories import PASSWORD, SEAT, bearer, phone_login, raise_for, subject_body

#: What a probe sends: label → value.
BAD = {
    "NUL": "\x00",
    "NUL inside": "王\x00明",
    "bell": "\x07",
    "escape": "\x1b[2J",
    "C1": "\x85",
    "RTL override": "王\u202e明",
    "isolate": "\u2067x\u2069",
    "zero-width only": "\u200b",
    "soft hyphen only": "\u00ad",
    "marks and BOM only": "\u200e\u200f\ufeff",
    "Arabic-Indic digits": "٢٤٦٨",
    "full-width digits": "２４６８",
    "huge number": "9" * 5000,
    "huge negative number": "-" + "9" * 5000,
}
#: Values no text field takes, anywhere: refused with 422 (400 for a CSRF token, 404 in a path).
REFUSED = ("NUL", "NUL inside", "bell", "escape", "C1", "RTL override", "isolate")
_ids = itertools.count(1)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to make a good request to one route; the fuzz breaks one part of it at a time."""

    path: str  #: with {subject} and {alert} for the records the environment made
    auth: str | None = None  #: "token" (admin), "session" (admin, web), "phone" (the subject)
    body: Callable[[Env], dict] | None = None  #: a fresh good body or form
    form: bool = False  #: the body is a web form (with the session's CSRF token)
    args: tuple[str, ...] = ()  #: the query arguments the route reads
    relogin: bool = False  #: the request ends the session: sign in again before each case
    before: Callable[[Env], None] | None = None  #: puts the records in shape before each case
    query: Callable[[Env], dict] | None = None  #: good query arguments (each one is broken too)


class Env:
    """An office, an admin (token and web session), a subject with a phone and an open alert."""

    def __init__(self, app, world):
        self.app = app
        self.subject = world.subject(name="王小明")
        #: An account for the administration routes to change, sign out and deactivate.
        self.officer = world.officer("target", office_code="T01")
        with app.app_context():
            alert = raise_for(self.subject["id"], "geofence_exit", {"d": 900.0}, clock.now())
            self.alert = alert.id
            self.order = _pending_order(self.subject["id"])
            db.session.commit()
        self.api = app.test_client()
        self.token = bearer(self.api, "admin")
        self.phone = phone_login(self.api, self.subject["phone"])
        self.web = app.test_client()
        self.sign_in()
        self.anonymous = app.test_client()

    def sign_in(self) -> None:
        assert web_login(self.web, "admin", PASSWORD).status_code == 302
        self.csrf = csrf_token_of(self.web.get("/subjects/new"))

    def client_for(self, recipe: Recipe):
        return self.web if recipe.auth == "session" else self.api

    def headers_for(self, recipe: Recipe) -> dict:
        return {"token": self.token, "phone": self.phone}.get(recipe.auth, {})


def _n() -> int:
    return next(_ids)


def _pending_order(subject_id: int) -> int:
    """A monitoring order of the subject waiting for approval (inside an app context)."""
    from corrections.actors import Actor
    from corrections.auth.models import Officer
    from corrections.monitoring.schemas import OrderIn
    from corrections.monitoring.services import request_order
    from corrections.subjects.models import Subject

    admin = db.session.scalar(sa.select(Officer).where(Officer.username == "admin"))
    body = OrderIn.from_plain(order_body(None))
    subject = db.session.get(Subject, subject_id)
    return request_order(subject, body, admin, actor=Actor.system(), now=clock.now()).id


def fresh_token(env):
    """A new admin token (a step of the route may have revoked the last one)."""
    env.token = bearer(env.api, "admin")


def admin_password_as_before(env):
    """The admin's password back to PASSWORD and a fresh sign-in (the route changes it)."""
    from corrections.auth.models import Officer
    from corrections.auth.services import hash_secret

    with env.app.app_context():
        admin = db.session.scalar(sa.select(Officer).where(Officer.username == "admin"))
        admin.password_hash = hash_secret(PASSWORD)
        db.session.commit()
    env.sign_in()
    fresh_token(env)


def fresh_phone(env):
    """A new phone token (the phone's logout revokes the last one)."""
    env.phone = phone_login(env.api, env.subject["phone"])


NEW_PASSWORD = "Another-long-passphrase-7"


def account_form(env):
    return {"username": f"fuzz{_n()}", "display_name": "李建国", "role": "officer",
            "office_code": "T01", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}  # fmt: skip


def office_form(env):
    return {"code": f"F{_n()}", "name": "新设司法所", "lat": "24.5", "lon": "107.1"}


def no_fields(env):
    return {}


def acknowledged(env):
    """The alert in the admin's hands, so that it can be given back."""
    env.api.post(f"/api/v1/alerts/{env.alert}/ack", headers=env.token)


def officer_body(env):
    return {"username": f"fuzz{_n()}", "password": "long-enough", "role": "officer",
            "office_code": "T01"}  # fmt: skip


def office_body(env):
    return {"code": f"F{_n()}", "name": "新设司法所", "lat": 24.5, "lon": 107.1}


def standard_zone_body(env):
    return {"zone": {"kind": "allowed", "name": "辖区", "lat": SEAT[0], "lon": SEAT[1],
                     "radius_m": 5000}}  # fmt: skip


def enrol_body(env):
    polygon = [[24.6, 107.4], [24.8, 107.6], [24.6, 107.6]]
    zones = [
        {"kind": "allowed", "name": "县城", "lat": SEAT[0], "lon": SEAT[1], "radius_m": 5000},
        {"kind": "exclusion", "name": "网吧", "polygon": polygon},
    ]
    body = subject_body(zones=zones)
    body["checkin"]["video_every_days"] = 7
    return body


def plan_body(env):
    return {"every_days": 2, "window_start": "09:00", "window_end": "18:00",
            "effective_on": "2026-11-29"}  # fmt: skip


def checkin_body(env):
    recorded = (clock.now() - dt.timedelta(minutes=1)).isoformat()
    return {"client_id": f"fuzz-{_n()}", "lat": SEAT[0], "lon": SEAT[1], "accuracy_m": 20,
            "recorded_at": recorded, "mock_location": False, "battery_pct": 80}  # fmt: skip


def signals_body(env):
    recorded = clock.now() - dt.timedelta(minutes=1)
    return [
        {"client_id": f"fuzz-{_n()}", "lat": SEAT[0], "lon": SEAT[1], "accuracy_m": 20,
         "recorded_at": (recorded - dt.timedelta(seconds=30 * i)).isoformat(),
         "mock_location": False, "battery_pct": 80.0, "speed_kmh": 3.5}
        for i in range(2)
    ]  # fmt: skip


def osmand_query(env):
    when = int((clock.now() - dt.timedelta(seconds=_n())).timestamp())
    return {"id": "865432", "lat": str(SEAT[0]), "lon": str(SEAT[1]), "timestamp": str(when),
            "accuracy": "12.5", "batt": "80", "speed": "1.2"}  # fmt: skip


def osmand_json(env):
    when = (clock.now() - dt.timedelta(seconds=_n())).isoformat()
    coords = {"latitude": SEAT[0], "longitude": SEAT[1], "accuracy": 12, "speed": 1.0}
    return {"device_id": "865432", "location": {
        "timestamp": when, "mock": False, "battery": {"level": 0.8}, "coords": coords}}  # fmt: skip


def tracked(env):
    """The subject under an approved monitoring order, carrying tracking device 865432."""
    from corrections.actors import Actor
    from corrections.auth.models import Officer
    from corrections.monitoring.models import MonitoringOrder
    from corrections.monitoring.services import approve
    from corrections.signals.devices import bind_device
    from corrections.subjects.models import Subject

    with env.app.app_context():
        order = db.session.get(MonitoringOrder, env.order)
        if order.status == "pending":
            admin = db.session.scalar(sa.select(Officer).where(Officer.username == "admin"))
            approve(order, admin, actor=Actor.system(), now=clock.now())
            subject = db.session.get(Subject, env.subject["id"])
            bind_device(subject, "865432", actor=Actor.system(), now=clock.now())
            db.session.commit()


def order_body(env):
    return {"ground": "left_area_without_approval", "starts_on": "2026-11-28",
            "ends_on": "2027-02-28", "reason": "两次未经批准离开本县"}  # fmt: skip


def end_body(env):
    return {"reason": "已无必要"}


def device_body(env):
    return {"device_id": "865432"}


def refusal_body(env):
    return {"device_id": "phone-9", "reason": "不是本人的手机"}


def phone_body(env):
    return {"phone": env.subject["phone"], "pin": "2468", "device_id": "phone-1"}


def enrol_form(env):
    return {
        "name": "陈大文", "phone": f"139{_n():08d}", "pin": "2468", "office_code": "T01",
        "category": "parole", "level": "strict", "supervision_start": "2026-11-20",
        "supervision_end": "2027-11-19", "id_number": "45000019900101123X",
        "home_lat": "24.70", "home_lon": "107.50", "every_days": "2", "window_start": "08:00",
        "window_end": "20:00", "video_every_days": "7",
        "zones-0-kind": "allowed", "zones-0-name": "县城", "zones-0-lat": "24.70",
        "zones-0-lon": "107.50", "zones-0-radius_m": "5000",
        "polygon_kind": "exclusion", "polygon_name": "网吧一条街",
        "polygon": "24.705, 107.505\n24.705, 107.512\n24.71, 107.512",
    }  # fmt: skip


SUBJECT_ARGS = ("office", "status", "q", "page", "per_page")
ALERT_ARGS = ("status", "kind", "severity", "subject_id", "office", "page", "per_page")

RECIPES: dict[tuple[str, str], Recipe] = {
    # --- pages
    ("auth.home", "GET"): Recipe("/", "session"),
    ("auth.login", "GET"): Recipe("/login", args=("next",)),
    ("auth.login", "POST"): Recipe(
        "/login", body=lambda e: {"username": "admin", "password": PASSWORD}, form=True,
        args=("next",),
    ),  # fmt: skip
    ("auth.logout", "POST"): Recipe("/logout", "session", no_fields, form=True, relogin=True),
    ("auth.set_language", "GET"): Recipe("/lang/en", args=("next",)),
    ("alerts.queue", "GET"): Recipe("/alerts", "session", args=("office", "status", "kind",
                                                                "severity", "page")),  # fmt: skip
    ("alerts.refresh", "GET"): Recipe(
        "/alerts/refresh", "session", args=("office", "status", "kind", "severity", "page")
    ),
    ("alerts.show", "GET"): Recipe("/alerts/{alert}", "session", args=("history_page",)),
    ("alerts.acknowledge", "POST"): Recipe("/alerts/{alert}/ack", "session", no_fields, form=True),
    ("alerts.release", "POST"): Recipe(
        "/alerts/{alert}/release", "session", no_fields, form=True, before=acknowledged
    ),
    ("subjects.approve_device", "POST"): Recipe(
        "/subjects/{subject}/device/approve", "session", device_body, form=True
    ),
    ("subjects.refuse_device", "POST"): Recipe(
        "/subjects/{subject}/device/refuse", "session", refusal_body, form=True
    ),
    ("alerts.resolve", "POST"): Recipe(
        "/alerts/{alert}/resolve", "session", lambda e: {"note": "电话核实"}, form=True
    ),
    ("alerts.dismiss", "POST"): Recipe(
        "/alerts/{alert}/dismiss", "session", lambda e: {"reason": "定位漂移"}, form=True
    ),
    ("alerts.reassign", "POST"): Recipe(
        "/alerts/{alert}/reassign", "session", lambda e: {"officer": "target", "note": "转交"},
        form=True,
    ),
    ("subjects.index", "GET"): Recipe("/subjects", "session", args=("office", "status", "q",
                                                                    "page")),  # fmt: skip
    ("subjects.show", "GET"): Recipe("/subjects/{subject}", "session"),
    ("subjects.new", "GET"): Recipe("/subjects/new", "session"),
    ("subjects.new", "POST"): Recipe("/subjects/new", "session", enrol_form, form=True),
    ("monitoring.index", "GET"): Recipe("/monitoring-orders", "session", args=("status", "page")),
    ("monitoring.orders", "GET"): Recipe("/subjects/{subject}/monitoring-orders", "session"),
    ("monitoring.request_order", "POST"): Recipe(
        "/subjects/{subject}/monitoring-orders", "session", order_body, form=True
    ),
    ("monitoring.approve", "POST"): Recipe(
        "/monitoring-orders/{order}/approve", "session", no_fields, form=True
    ),
    ("monitoring.end", "POST"): Recipe(
        "/monitoring-orders/{order}/end", "session", end_body, form=True
    ),
    ("static", "GET"): Recipe("/static/app.css"),
    ("health.healthz", "GET"): Recipe("/healthz"),
    ("auditlog.index", "GET"): Recipe(
        "/admin/audit", "session", args=("officer", "subject", "action", "from", "to", "page")
    ),
    ("auditlog.export", "GET"): Recipe(
        "/admin/audit/export.csv", "session", args=("officer", "subject", "action", "from", "to")
    ),
    ("auth.own_password", "GET"): Recipe("/account/password", "session"),
    ("auth.own_password", "POST"): Recipe(
        "/account/password", "session",
        lambda e: {"current_password": PASSWORD, "password": NEW_PASSWORD,
                   "confirm": NEW_PASSWORD},
        form=True, before=admin_password_as_before,
    ),  # fmt: skip
    ("admin.index", "GET"): Recipe("/admin/", "session"),
    ("admin.accounts", "GET"): Recipe("/admin/accounts", "session"),
    ("admin.account", "GET"): Recipe("/admin/accounts/{officer}", "session"),
    ("admin.account_step", "GET"): Recipe("/admin/accounts/{officer}/sign-out", "session"),
    ("admin.account_step", "POST"): Recipe(
        "/admin/accounts/{officer}/sign-out", "session", no_fields, form=True
    ),
    ("admin.account_details", "POST"): Recipe(
        "/admin/accounts/{officer}/details", "session",
        lambda e: {"display_name": "李建国", "office_code": "T01"}, form=True,
    ),  # fmt: skip
    ("admin.account_password", "POST"): Recipe(
        "/admin/accounts/{officer}/password", "session",
        lambda e: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, form=True,
    ),  # fmt: skip
    ("admin.new_account", "GET"): Recipe("/admin/accounts/new", "session"),
    ("admin.new_account", "POST"): Recipe(
        "/admin/accounts/new", "session", account_form, form=True
    ),
    ("admin.offices_page", "GET"): Recipe("/admin/offices", "session"),
    ("admin.offices_page", "POST"): Recipe("/admin/offices", "session", office_form, form=True),
    # --- officer API
    ("auth_api.logout", "POST"): Recipe("/api/v1/auth/logout", "token", before=fresh_token),
    ("auth_api.change_password", "POST"): Recipe(
        "/api/v1/auth/password", "token",
        lambda e: {"current_password": PASSWORD, "password": NEW_PASSWORD},
        before=admin_password_as_before,
    ),  # fmt: skip
    ("admin_api.list_officers", "GET"): Recipe("/api/v1/officers", "token"),
    ("admin_api.change_officer", "PATCH"): Recipe(
        "/api/v1/officers/{officer}", "token",
        lambda e: {"display_name": "李建国", "office_code": "T01"},
    ),  # fmt: skip
    ("admin_api.reset_password", "POST"): Recipe(
        "/api/v1/officers/{officer}/password", "token", lambda e: {"password": NEW_PASSWORD}
    ),
    ("admin_api.revoke_officer_tokens", "POST"): Recipe(
        "/api/v1/officers/{officer}/revoke-tokens", "token"
    ),
    ("admin_api.revoke_subject_tokens", "POST"): Recipe(
        "/api/v1/subjects/{subject}/revoke-tokens", "token"
    ),
    ("auth_api.issue_token", "POST"): Recipe(
        "/api/v1/auth/token", body=lambda e: {"username": "admin", "password": PASSWORD}
    ),
    ("auth_api.create_officer", "POST"): Recipe("/api/v1/officers", "token", officer_body),
    ("admin_api.create_office", "POST"): Recipe("/api/v1/offices", "token", office_body),
    ("admin_api.list_offices", "GET"): Recipe("/api/v1/offices", "token"),
    ("admin_api.set_standard_zone", "PUT"): Recipe(
        "/api/v1/offices/T01/standard-zone", "token", standard_zone_body
    ),
    ("subjects_api.enrol", "POST"): Recipe("/api/v1/subjects", "token", enrol_body),
    ("subjects_api.list_subjects", "GET"): Recipe("/api/v1/subjects", "token", args=SUBJECT_ARGS),
    ("subjects_api.show", "GET"): Recipe("/api/v1/subjects/{subject}", "token"),
    ("subjects_api.change_plan", "PUT"): Recipe(
        "/api/v1/subjects/{subject}/checkin-plan", "token", plan_body
    ),
    ("subjects_api.checkins", "GET"): Recipe(
        "/api/v1/subjects/{subject}/checkins", "token", args=("limit",)
    ),
    ("monitoring_api.request_order", "POST"): Recipe(
        "/api/v1/subjects/{subject}/monitoring-orders", "token", order_body
    ),
    ("monitoring_api.list_orders", "GET"): Recipe(
        "/api/v1/subjects/{subject}/monitoring-orders", "token"
    ),
    ("monitoring_api.list_all", "GET"): Recipe(
        "/api/v1/monitoring-orders", "token", args=("status", "page", "per_page")
    ),
    ("monitoring_api.show", "GET"): Recipe("/api/v1/monitoring-orders/{order}", "token"),
    ("monitoring_api.approve", "POST"): Recipe(
        "/api/v1/monitoring-orders/{order}/approve", "token"
    ),
    ("monitoring_api.end", "POST"): Recipe(
        "/api/v1/monitoring-orders/{order}/end", "token", end_body
    ),
    ("admin_api.refuse_subject_device", "POST"): Recipe(
        "/api/v1/subjects/{subject}/device/refuse", "token", refusal_body
    ),
    ("admin_api.approve_subject_device", "POST"): Recipe(
        "/api/v1/subjects/{subject}/device/approve", "token", device_body
    ),
    ("tracking_devices_api.put_tracking_device", "PUT"): Recipe(
        "/api/v1/subjects/{subject}/tracking-device", "token", device_body
    ),
    ("alerts_api.list_alerts", "GET"): Recipe("/api/v1/alerts", "token", args=ALERT_ARGS),
    ("alerts_api.show", "GET"): Recipe("/api/v1/alerts/{alert}", "token", args=("history_page",)),
    ("alerts_api.acknowledge", "POST"): Recipe("/api/v1/alerts/{alert}/ack", "token"),
    ("alerts_api.release", "POST"): Recipe(
        "/api/v1/alerts/{alert}/release", "token", before=acknowledged
    ),
    ("alerts_api.resolve", "POST"): Recipe(
        "/api/v1/alerts/{alert}/resolve", "token", lambda e: {"note": "电话核实"}
    ),
    ("alerts_api.dismiss", "POST"): Recipe(
        "/api/v1/alerts/{alert}/dismiss", "token", lambda e: {"reason": "定位漂移"}
    ),
    ("alerts_api.reassign", "POST"): Recipe(
        "/api/v1/alerts/{alert}/reassign", "token", lambda e: {"officer": "target", "note": "转交"}
    ),
    # --- phone API
    ("mobile_api.login", "POST"): Recipe("/mobile/v1/auth/login", body=phone_body),
    ("mobile_api.logout", "POST"): Recipe("/mobile/v1/auth/logout", "phone", before=fresh_phone),
    ("mobile_api.me", "GET"): Recipe("/mobile/v1/me", "phone"),
    ("mobile_api.post_checkin", "POST"): Recipe("/mobile/v1/checkins", "phone", checkin_body),
    ("mobile_api.list_checkins", "GET"): Recipe("/mobile/v1/checkins", "phone", args=("limit",)),
    ("mobile_api.openapi", "GET"): Recipe("/mobile/v1/openapi.json"),
    ("mobile_api.post_signals", "POST"): Recipe(
        "/mobile/v1/signals", "phone", signals_body, before=tracked
    ),
    # --- tracking apps
    ("osmand.report_position", "GET"): Recipe("/osmand", query=osmand_query, before=tracked),
    ("osmand.report_position", "POST"): Recipe("/osmand", body=osmand_json, before=tracked),
}  # fmt: skip


def _routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_recipe(app):
    assert _routes(app) == set(RECIPES)


# --- checking one response -----------------------------------------------------------------


def _is_json_endpoint(path: str) -> bool:
    # /alerts/refresh: the queue page's poll answers JSON (corrections.errors.JSON_ENDPOINTS).
    # /osmand: the tracking apps' endpoint, JSON like the APIs.
    return path.startswith(("/api/", "/mobile/v1", "/healthz", "/alerts/refresh", "/osmand"))


def _row_counts(app) -> tuple:
    """Rows in every table, in one statement (the fuzz asks thousands of times)."""
    tables = db.metadata.sorted_tables
    with app.app_context():
        counts = sa.select(
            *[sa.select(sa.func.count()).select_from(t).scalar_subquery() for t in tables]
        )
        row = db.session.execute(counts).one()
        db.session.remove()
    return dict(zip([t.name for t in tables], row, strict=True))


def _shape(response, path: str) -> None:
    """Never a 5xx; JSON endpoints answer in the CONTRACT shape, pages with a page."""
    status = response.status_code
    shown = response.get_data(as_text=True)[:300]
    assert status < 500, (status, shown)
    if 300 <= status < 400 or status == 204:  # a redirect, or nothing to say
        return
    if _is_json_endpoint(path):
        assert response.is_json, shown
        if status >= 400:
            assert_error(response, status)
    elif path.endswith(".csv") and status < 400:
        assert response.mimetype == "text/csv", (response.mimetype, shown)
    elif not path.startswith("/static/"):
        assert response.mimetype == "text/html", (response.mimetype, shown)
        assert "Traceback" not in response.get_data(as_text=True)


@dataclasses.dataclass
class Case:
    """One request with one part broken."""

    where: str  #: "body", "query" or "path"
    name: str  #: the field (dotted), argument or path argument broken
    label: str  #: the key of BAD

    @property
    def refused(self) -> bool:
        return self.label in REFUSED


def _send(env: Env, recipe: Recipe, method: str, case: Case | None, rule_path: str):
    path = recipe.path.format(
        subject=env.subject["id"], alert=env.alert, officer=env.officer, order=env.order
    )
    if case is not None and case.where == "path":
        path = _path_with(rule_path, case.name, BAD[case.label], env)
    body = recipe.body(env) if recipe.body is not None else None
    query = dict(recipe.query(env)) if recipe.query is not None else {}
    if case is not None and case.where == "body":
        body = _mutate(body, case.name, BAD[case.label])
    if case is not None and case.where == "query":
        query[case.name] = BAD[case.label]
    client = env.client_for(recipe)
    if recipe.auth is None and recipe.form:
        client = env.anonymous
        csrf = csrf_token_of(client.get("/login"))
    else:
        csrf = env.csrf
    kwargs: dict = {"query_string": query, "headers": env.headers_for(recipe)}
    if recipe.form:
        kwargs["data"] = {"csrf_token": csrf, **(body or {})}
        if case is not None and case.where == "body" and case.name == "csrf_token":
            kwargs["data"]["csrf_token"] = BAD[case.label]
    elif body is not None:
        kwargs["data"] = json.dumps(body, ensure_ascii=False)
        kwargs["content_type"] = "application/json"
    return path, client.open(path, method=method, **kwargs)


def _prepare(env: Env, recipe: Recipe) -> None:
    if recipe.relogin:
        env.sign_in()
    if recipe.before is not None:
        recipe.before(env)


def _path_with(rule_path: str, argument: str, value: str, env: Env) -> str:
    good = {"subject_id": env.subject["id"], "alert_id": env.alert, "code": "en",
            "filename": "app.css", "officer_id": env.officer, "step": "sign-out",
            "order_id": env.order}  # fmt: skip
    path = rule_path
    for name, converter in (("subject_id", "int"), ("alert_id", "int"), ("code", None),
                            ("order_id", "int"),
                            ("filename", "path"), ("officer_id", "int"),
                            ("step", "any(deactivate, reactivate, 'sign-out')")):  # fmt: skip
        token = f"<{converter}:{name}>" if converter else f"<{name}>"
        replacement = quote(value, safe="") if name == argument else str(good[name])
        path = path.replace(token, replacement)
    return path


def _mutate(body: dict, dotted: str, value):
    node = body
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return body


def _leaves(value, prefix: str = "") -> list[str]:
    """Dotted paths of every leaf of a JSON body (each polygon corner's numbers too)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return [prefix]
    return [leaf for key, item in items for leaf in _leaves(item, f"{prefix}{key}.")] or [prefix]


def _cases(recipe: Recipe, rule) -> list[Case]:
    parts: list[tuple[str, str]] = []
    if recipe.body is not None:
        sample = recipe.body(_SAMPLE_ENV)
        fields = list(sample) if recipe.form else [leaf.rstrip(".") for leaf in _leaves(sample)]
        parts += [("body", field) for field in fields if field]
        if recipe.form:
            parts.append(("body", "csrf_token"))
    good_query = list(recipe.query(_SAMPLE_ENV)) if recipe.query is not None else []
    parts += [("query", arg) for arg in (*recipe.args, *good_query, "zz")]
    parts += [("path", arg) for arg in rule.arguments]
    return [Case(where, name, label) for where, name in parts for label in BAD]


class _SampleEnv:
    """Enough of an Env to list a body's fields before any database exists."""

    subject = {"id": 1, "phone": "+8613900000001"}
    alert = 1


_SAMPLE_ENV = _SampleEnv()


#: What a refused request may write in the audit log, and nothing else.
REFUSAL_AUDIT = {
    "access.refused",
    "officer.login_failed",
    "subject.login_failed",
    "alert.read",
    "subject.read",
    # An alert's page shown again with the problem reads the week's track for its map.
    "subject.checkins.read",
    "subject.signals.read",
    "monitoring_order.list",
}


def _audit_actions_after(app, entry_id: int) -> list[str]:
    from corrections.audit.models import AuditEntry

    with app.app_context():
        actions = list(
            db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.id > entry_id))
        )
        db.session.remove()
    return actions


def _last_audit_id(app) -> int:
    from corrections.audit.models import AuditEntry

    with app.app_context():
        value = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
        db.session.remove()
    return value


def _expect(case: Case, response, path: str, before: dict, after: dict, audited: list[str]) -> None:
    status = response.status_code
    if case.where == "path" and case.name.endswith("_id"):
        assert status == 404, (case, status)  # no value here is a record id
    elif case.refused:
        if case.where == "path":
            pass  # a language code or a file name that is no such thing: never stored
        elif case.name == "csrf_token":
            assert status == 400, (case, status)
        elif path == "/osmand":
            # The tracking apps' protocol answers a request it cannot read with 400 (CONTRACT),
            # naming the part at fault; a query argument with control characters is refused
            # before any route reads it (422, as everywhere).
            assert status in (400, 422), (case, status, response.get_data(as_text=True)[:300])
            assert assert_error(response, status).get("fields"), case
        else:
            assert status == 422, (case, status, response.get_data(as_text=True)[:300])
            if _is_json_endpoint(path):
                assert_error(response, 422, "validation_error", field=case.name)
    if status >= 400:
        before, after = dict(before), dict(after)
        # Every login try and check-in counts against its limit, refused or not.
        before.pop("rate_limit_hits"), after.pop("rate_limit_hits")
        # A failed sign-in, a refused record or role, and a form shown again with its problem
        # (a read of what it shows) are audited themselves: the one thing such a request stores.
        # The audit rows it wrote must say so (tests/test_audit_coverage.py checks them).
        for table in AUDIT_TABLES:
            before.pop(table), after.pop(table)
        assert after == before, (case, status, "a refused request stored something")
        assert set(audited) <= REFUSAL_AUDIT, (case, status, audited)


# --- nothing refused is ever stored --------------------------------------------------------


def _stored_text_problems(app) -> list[str]:
    """Every text in every table (JSON documents walked): none holds a refused character, none
    is made of invisible characters only."""
    problems = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [
                c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.JSON)
            ]
            if not columns:
                continue
            for row in db.session.execute(sa.select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    for text in _texts(value):
                        try:
                            rules.check(text, multiline=True)
                        except rules.TextRefused:
                            problems.append(f"{table.name}.{column.name}: {text!r}")
                        if text and rules.is_blank(text):
                            problems.append(f"{table.name}.{column.name} blank: {text!r}")
        db.session.remove()
    return problems


def _texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


# --- the fuzz ------------------------------------------------------------------------------


@pytest.fixture
def env(app, world) -> Env:
    return Env(app, world)


def _rules_by_route(app) -> dict[tuple[str, str], object]:
    return {
        (rule.endpoint, method): rule
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


@pytest.mark.parametrize("route", sorted(RECIPES), ids=lambda r: f"{r[1]} {r[0]}")
def test_bad_text_anywhere_in_a_request(app, env, route):
    recipe = RECIPES[route]
    rule = _rules_by_route(app)[route]
    method = route[1]
    _prepare(env, recipe)
    path, good = _send(env, recipe, method, None, rule.rule)
    _shape(good, path)
    assert good.status_code < 400, (good.status_code, good.get_data(as_text=True)[:300])
    for case in _cases(recipe, rule):
        _prepare(env, recipe)
        before, mark = _row_counts(app), _last_audit_id(app)
        path, response = _send(env, recipe, method, case, rule.rule)
        _shape(response, path)
        audited = _audit_actions_after(app, mark)
        _expect(case, response, rule.rule, before, _row_counts(app), audited)
    assert not _stored_text_problems(app)
