"""The audit coverage table: every route of the app, and the audit row each writes, or why none.

The tests walk `app.url_map`: a route added without an entry here fails, and so does an entry
whose route is gone. Each entry is called as the table says, and must write the actions it names
(each naming the caller, the time, the client address and, where it shows a person, that
person), or none at all. The same calls check that every response to a signed-in officer, and
every JSON surface, says `Cache-Control: no-store`. Two more walks check refusals: every route
taking a record id refuses another office's record (404) and audits it; every role-limited
route refuses the wall viewer (403) and audits it.

Sign-ins (officer web login, API token, phone login; success and failure), sign-outs and
account changes are audited by the accounts services; a failed sign-in's actor is `anonymous`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from corrections import clock
from corrections.actors import Actor
from corrections.alerts.services import acknowledge
from corrections.audit.models import AuditEntry, AuditSubject
from corrections.auth.models import Officer
from corrections.extensions import db
from tests.api_support import csrf_token_of, web_login
from tests.factories import PASSWORD, bearer, phone_login, raise_for

#: The client address every call comes from (so the test sees it recorded, not a default).
ADDRESS = "192.0.2.44"
#: A new password for the account administration calls (the policy takes it).
NEW_PASSWORD = "Another-long-passphrase-7"
OWN_PASSWORD = {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


@dataclass(frozen=True)
class Call:
    """One request against a route, and what the audit log must show for it.

    `who`: "page" (officer li's web session), "boss" (the supervisor's session), "api" (li's
    token), "admin-api" (the admin's token), "phone" (the subject's token) or "nobody". `path`
    is formatted with the world's ids ({subject}, {alert}). `body` is JSON for the APIs and
    form fields for pages (the CSRF token is added). `audited` lists the actions written;
    `why_not` says why a call writes none. `about_subject`: the rows name the subject.
    """

    endpoint: str
    method: str
    path: str
    who: str
    audited: tuple[str, ...] = ()
    why_not: str = ""
    about_subject: bool = False
    body: dict | None = None
    status: int = 200
    #: A step taken first, through the services (e.g. the alert acknowledged before a release).
    prepare: str | None = None
    #: Limited to some roles: the wall viewer must be refused (403, audited).
    role_limited: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        label = self.audited[0] if self.audited else "none"
        return f"{self.method} {self.path} [{self.who}] {label}"


ENROL_FORM = {
    "name": "陈大文",
    "phone": "13900000123",
    "pin": "2468",
    "office_code": "T01",
    "category": "parole",
    "level": "strict",
    "supervision_start": "2026-11-20",
    "supervision_end": "2027-11-19",
    "home_lat": "24.70",
    "home_lon": "107.50",
    "every_days": "1",
    "window_start": "08:00",
    "window_end": "20:00",
    "zones-0-kind": "allowed",
    "zones-0-name": "县城",
    "zones-0-radius_m": "5000",
}
ENROL_JSON = {
    "name": "陈大文",
    "phone": "13900000124",
    "pin": "2468",
    "office_code": "T01",
    "category": "parole",
    "level": "strict",
    "supervision_start": "2026-11-20",
    "supervision_end": "2027-11-19",
    "home": {"lat": 24.70, "lon": 107.50},
    "zones": [{"kind": "allowed", "name": "县城", "lat": 24.70, "lon": 107.50, "radius_m": 5000}],
    "checkin": {"every_days": 1, "window_start": "08:00", "window_end": "20:00"},
}
CHECKIN = {
    "client_id": "c-1",
    "lat": 24.70,
    "lon": 107.50,
    "accuracy_m": 20,
    "recorded_at": "2026-11-28T01:59:00Z",
}
SIGNALS = [
    {"lat": 24.70, "lon": 107.50, "accuracy_m": 15, "recorded_at": "2026-11-28T01:50:00Z"},
    {"lat": 24.701, "lon": 107.50, "accuracy_m": 15, "recorded_at": "2026-11-28T01:55:00Z"},
]
ORDER = {
    "ground": "police_penalty",
    "starts_on": "2026-11-28",
    "ends_on": "2027-02-27",
    "reason": "违反监督管理规定受到治安管理处罚",
}
PLAN = {
    "every_days": 2,
    "window_start": "09:00",
    "window_end": "18:00",
    "effective_on": "2026-11-29",
}

# The table, one call a line or two (kept as a table: not reformatted).
# fmt: off
COVERAGE: tuple[Call, ...] = (
    # --- pages -----------------------------------------------------------------------------
    Call("auth.home", "GET", "/", "page", status=302, role_limited=False,
         why_not="redirects to the queue"),
    Call("auth.login", "GET", "/login", "nobody", role_limited=False, why_not="the sign-in form"),
    Call("auth.login", "POST", "/login", "nobody", status=302, role_limited=False,
         body={"username": "li", "password": PASSWORD}, audited=("officer.login",)),
    Call("auth.login", "POST", "/login", "nobody", status=401, role_limited=False,
         body={"username": "li", "password": "wrong-password"}, audited=("officer.login_failed",)),
    Call("auth.logout", "POST", "/logout", "page", status=302, role_limited=False,
         audited=("officer.logout",)),
    Call("auth.own_password", "GET", "/account/password", "page", role_limited=False,
         why_not="the form to change one's own password"),
    Call("auth.own_password", "POST", "/account/password", "page", status=302,
         role_limited=False, body=OWN_PASSWORD, audited=("officer.password_set",)),
    Call("admin.index", "GET", "/admin/", "admin-page", status=302,
         why_not="redirects to the accounts"),
    Call("admin.accounts", "GET", "/admin/accounts", "admin-page",
         why_not="the staff accounts: no subject's data"),
    Call("admin.account", "GET", "/admin/accounts/{target}", "admin-page",
         why_not="one staff account: no subject's data"),
    Call("admin.account_step", "GET", "/admin/accounts/{target}/sign-out", "admin-page",
         why_not="the confirmation page"),
    Call("admin.account_step", "POST", "/admin/accounts/{target}/sign-out", "admin-page",
         status=302, audited=("officer.signed_out",)),
    Call("admin.account_details", "POST", "/admin/accounts/{target}/details", "admin-page",
         status=302, body={"display_name": "李建国", "office_code": "T01"},
         audited=("officer.update",)),
    Call("admin.account_password", "POST", "/admin/accounts/{target}/password", "admin-page",
         status=302, body={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
         audited=("officer.password_set",)),
    Call("admin.new_account", "GET", "/admin/accounts/new", "admin-page",
         why_not="the empty form for a new account"),
    Call("admin.new_account", "POST", "/admin/accounts/new", "admin-page", status=302,
         body={"username": "newcomer", "display_name": "新同事", "role": "officer",
               "office_code": "T01", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
         audited=("officer.create",)),
    Call("admin.offices_page", "GET", "/admin/offices", "admin-page",
         why_not="office names and places are not personal data"),
    Call("admin.offices_page", "POST", "/admin/offices", "admin-page", status=302,
         body={"code": "T08", "name": "新设司法所", "lat": "24.5", "lon": "107.1"},
         audited=("office.create",)),
    Call("auth.set_language", "GET", "/lang/en", "nobody", status=302, role_limited=False,
         why_not="sets the language cookie"),
    Call("static", "GET", "/static/app.css", "page", role_limited=False,
         why_not="the style sheet: no data"),
    Call("alerts.queue", "GET", "/alerts", "page", audited=("alert.list",), about_subject=True),
    Call("alerts.refresh", "GET", "/alerts/refresh", "page", audited=("alert.list",),
         about_subject=True),
    Call("alerts.show", "GET", "/alerts/{alert}", "page",
         audited=("alert.read", "subject.read", "subject.checkins.read", "subject.signals.read"),
         about_subject=True),
    Call("alerts.acknowledge", "POST", "/alerts/{alert}/ack", "page", status=302,
         audited=("alert.ack",), about_subject=True),
    Call("alerts.release", "POST", "/alerts/{alert}/release", "page", status=302,
         prepare="ack", audited=("alert.release",), about_subject=True),
    Call("subjects.approve_device", "POST", "/subjects/{subject}/device/approve", "page",
         status=302, body={"device_id": "phone-9"}, audited=("subject.device_approved",),
         about_subject=True),
    Call("subjects.refuse_device", "POST", "/subjects/{subject}/device/refuse", "page",
         status=302, body={"device_id": "phone-9", "reason": "不是本人的手机"},
         audited=("subject.device_refused",), about_subject=True),
    # A refusal without its reason stores nothing: the form again with the problem (a read).
    Call("subjects.refuse_device", "POST", "/subjects/{subject}/device/refuse", "page",
         status=422, body={"device_id": "phone-9", "reason": " "}, audited=("subject.read",),
         about_subject=True),
    Call("alerts.resolve", "POST", "/alerts/{alert}/resolve", "page", status=302,
         body={"note": "电话核实，已返回"}, audited=("alert.resolve",), about_subject=True),
    Call("alerts.dismiss", "POST", "/alerts/{alert}/dismiss", "page", status=302,
         body={"reason": "定位漂移"}, audited=("alert.dismiss",), about_subject=True),
    # A form sent without its note shows the alert again (evidence, name) with the problem.
    Call("alerts.resolve", "POST", "/alerts/{alert}/resolve", "page", status=422,
         body={"note": " "}, audited=("alert.read", "subject.read", "subject.checkins.read"),
         about_subject=True),
    Call("alerts.dismiss", "POST", "/alerts/{alert}/dismiss", "page", status=422,
         body={"reason": ""}, audited=("alert.read", "subject.read"), about_subject=True),
    Call("alerts.reassign", "POST", "/alerts/{alert}/reassign", "boss", status=302,
         body={"officer": "li", "note": "李熟悉情况"}, audited=("alert.reassign",),
         about_subject=True),
    Call("subjects.index", "GET", "/subjects", "page", audited=("subject.list",),
         about_subject=True),
    Call("subjects.show", "GET", "/subjects/{subject}", "page",
         audited=("subject.read", "subject.checkins.read", "subject.signals.read",
                  "monitoring_order.list"),
         about_subject=True),
    Call("monitoring.index", "GET", "/monitoring-orders?status=all", "page",
         audited=("monitoring_order.list",), about_subject=True),
    Call("monitoring.orders", "GET", "/subjects/{subject}/monitoring-orders", "page",
         audited=("monitoring_order.list",), about_subject=True),
    Call("monitoring.request_order", "POST", "/subjects/{subject}/monitoring-orders", "page",
         status=302, body=ORDER, audited=("monitoring_order.create",), about_subject=True),
    # A refused request shows the orders again with the problem.
    Call("monitoring.request_order", "POST", "/subjects/{subject}/monitoring-orders", "page",
         status=422, body={**ORDER, "ends_on": "2027-03-01"},
         audited=("monitoring_order.list",), about_subject=True),
    Call("monitoring.approve", "POST", "/monitoring-orders/{order}/approve", "boss",
         status=302, audited=("monitoring_order.approve",), about_subject=True),
    Call("monitoring.end", "POST", "/monitoring-orders/{order}/end", "page", status=302,
         body={"reason": "已无必要"}, audited=("monitoring_order.end",), about_subject=True),
    Call("subjects.new", "GET", "/subjects/new", "page",
         why_not="the empty enrolment form (office names only)"),
    Call("subjects.new", "POST", "/subjects/new", "page", status=302, body=ENROL_FORM,
         audited=("subject.create",)),
    Call("auditlog.index", "GET", "/admin/audit", "boss", audited=("audit.read",)),
    Call("auditlog.export", "GET", "/admin/audit/export.csv", "boss", audited=("audit.export",)),
    # --- officer API -----------------------------------------------------------------------
    Call("auth_api.issue_token", "POST", "/api/v1/auth/token", "nobody", role_limited=False,
         body={"username": "li", "password": PASSWORD}, audited=("officer.login",)),
    Call("auth_api.issue_token", "POST", "/api/v1/auth/token", "nobody", status=401,
         role_limited=False, body={"username": "li", "password": "wrong-password"},
         audited=("officer.login_failed",)),
    Call("auth_api.logout", "POST", "/api/v1/auth/logout", "api", status=204,
         role_limited=False, audited=("officer.logout",)),
    Call("auth_api.change_password", "POST", "/api/v1/auth/password", "api",
         role_limited=False, body={"current_password": PASSWORD, "password": NEW_PASSWORD},
         audited=("officer.password_set",)),
    Call("auth_api.create_officer", "POST", "/api/v1/officers", "admin-api", status=201,
         body={"username": "newbie", "password": NEW_PASSWORD, "role": "supervisor"},
         audited=("officer.create",)),
    Call("admin_api.list_officers", "GET", "/api/v1/officers", "admin-api",
         why_not="the staff accounts: no subject's data"),
    Call("admin_api.change_officer", "PATCH", "/api/v1/officers/{target}", "admin-api",
         body={"display_name": "李建国"}, audited=("officer.update",)),
    Call("admin_api.reset_password", "POST", "/api/v1/officers/{target}/password", "admin-api",
         body={"password": NEW_PASSWORD}, audited=("officer.password_set",)),
    Call("admin_api.revoke_officer_tokens", "POST", "/api/v1/officers/{target}/revoke-tokens",
         "admin-api", audited=("officer.signed_out",)),
    Call("admin_api.revoke_subject_tokens", "POST", "/api/v1/subjects/{subject}/revoke-tokens",
         "api", audited=("subject.tokens_revoked",), about_subject=True),
    Call("admin_api.create_office", "POST", "/api/v1/offices", "admin-api", status=201,
         body={"code": "T09", "name": "新所", "lat": 24.1, "lon": 107.1},
         audited=("office.create",)),
    Call("admin_api.set_standard_zone", "PUT", "/api/v1/offices/T01/standard-zone", "admin-api",
         body={"zone": {"kind": "allowed", "name": "辖区", "lat": 24.7, "lon": 107.5,
                        "radius_m": 5000}},
         audited=("office.standard_zone",)),
    Call("admin_api.list_offices", "GET", "/api/v1/offices", "api",
         why_not="office names and places are not personal data"),
    Call("alerts_api.list_alerts", "GET", "/api/v1/alerts", "api", audited=("alert.list",),
         about_subject=True),
    Call("alerts_api.show", "GET", "/api/v1/alerts/{alert}", "api", audited=("alert.read",),
         about_subject=True),
    Call("alerts_api.acknowledge", "POST", "/api/v1/alerts/{alert}/ack", "api",
         audited=("alert.ack",), about_subject=True),
    Call("alerts_api.release", "POST", "/api/v1/alerts/{alert}/release", "api", prepare="ack",
         audited=("alert.release",), about_subject=True),
    Call("alerts_api.resolve", "POST", "/api/v1/alerts/{alert}/resolve", "api",
         body={"note": "电话核实"}, audited=("alert.resolve",), about_subject=True),
    Call("alerts_api.dismiss", "POST", "/api/v1/alerts/{alert}/dismiss", "api",
         body={"reason": "定位漂移"}, audited=("alert.dismiss",), about_subject=True),
    Call("alerts_api.reassign", "POST", "/api/v1/alerts/{alert}/reassign", "boss-api",
         body={"officer": "target"}, audited=("alert.reassign",), about_subject=True),
    Call("subjects_api.enrol", "POST", "/api/v1/subjects", "api", status=201, body=ENROL_JSON,
         audited=("subject.create",)),
    Call("subjects_api.list_subjects", "GET", "/api/v1/subjects", "api",
         audited=("subject.list",), about_subject=True),
    Call("subjects_api.show", "GET", "/api/v1/subjects/{subject}", "api",
         audited=("subject.read",), about_subject=True),
    Call("subjects_api.checkins", "GET", "/api/v1/subjects/{subject}/checkins", "api",
         audited=("subject.checkins.read",), about_subject=True),
    Call("subjects_api.change_plan", "PUT", "/api/v1/subjects/{subject}/checkin-plan", "api",
         body=PLAN, audited=("plan.change",), about_subject=True),
    Call("monitoring_api.request_order", "POST", "/api/v1/subjects/{subject}/monitoring-orders",
         "api", status=201, body=ORDER, audited=("monitoring_order.create",),
         about_subject=True),
    Call("admin_api.refuse_subject_device", "POST", "/api/v1/subjects/{subject}/device/refuse",
         "api", body={"device_id": "phone-9", "reason": "不是本人的手机"},
         audited=("subject.device_refused",), about_subject=True),
    Call("admin_api.approve_subject_device", "POST", "/api/v1/subjects/{subject}/device/approve",
         "api", body={"device_id": "phone-9"}, audited=("subject.device_approved",),
         about_subject=True),
    Call("tracking_devices_api.put_tracking_device", "PUT",
         "/api/v1/subjects/{subject}/tracking-device", "api", body={"device_id": "865432"},
         audited=("subject.tracking_device.bind",), about_subject=True),
    Call("monitoring_api.list_orders", "GET", "/api/v1/subjects/{subject}/monitoring-orders",
         "api", audited=("monitoring_order.list",), about_subject=True),
    Call("monitoring_api.list_all", "GET", "/api/v1/monitoring-orders", "api",
         audited=("monitoring_order.list",), about_subject=True),
    Call("monitoring_api.show", "GET", "/api/v1/monitoring-orders/{order}", "api",
         audited=("monitoring_order.read",), about_subject=True),
    Call("monitoring_api.approve", "POST", "/api/v1/monitoring-orders/{order}/approve",
         "boss-api", audited=("monitoring_order.approve",), about_subject=True),
    Call("monitoring_api.end", "POST", "/api/v1/monitoring-orders/{order}/end", "api",
         body={"reason": "已无必要"}, audited=("monitoring_order.end",), about_subject=True),
    Call("health.healthz", "GET", "/healthz", "nobody", role_limited=False,
         why_not="public health check: no personal data"),
    # --- the phone -------------------------------------------------------------------------
    Call("mobile_api.login", "POST", "/mobile/v1/auth/login", "nobody", role_limited=False,
         body={"phone": "{phone}", "pin": "2468", "device_id": "phone-2"},
         audited=("subject.login",), about_subject=True),
    Call("mobile_api.login", "POST", "/mobile/v1/auth/login", "nobody", status=401,
         role_limited=False, body={"phone": "{phone}", "pin": "0000", "device_id": "phone-2"},
         audited=("subject.login_failed",)),
    Call("mobile_api.logout", "POST", "/mobile/v1/auth/logout", "phone", status=204,
         role_limited=False, audited=("subject.logout",), about_subject=True),
    Call("mobile_api.me", "GET", "/mobile/v1/me", "phone", role_limited=False,
         audited=("subject.read",), about_subject=True),
    Call("mobile_api.post_checkin", "POST", "/mobile/v1/checkins", "phone", status=201,
         role_limited=False, body=CHECKIN, audited=("checkin.create",), about_subject=True),
    # Audited although the subject reads their own positions: whoever holds the phone's token
    # (a lost phone, someone looking over the subject's shoulder) reads where they were.
    Call("mobile_api.list_checkins", "GET", "/mobile/v1/checkins", "phone", role_limited=False,
         audited=("subject.checkins.read",), about_subject=True),
    Call("mobile_api.openapi", "GET", "/mobile/v1/openapi.json", "nobody", role_limited=False,
         why_not="the public OpenAPI document"),
    Call("mobile_api.post_signals", "POST", "/mobile/v1/signals", "phone", prepare="tracked",
         role_limited=False, body=SIGNALS, audited=("signals.create",), about_subject=True),
    # --- tracking apps: the device id stands for the subject ---------------------------------
    Call("osmand.report_position", "GET", "/osmand?id=865432&lat=24.7&lon=107.5", "nobody",
         prepare="tracked", role_limited=False, audited=("signals.create",), about_subject=True),
    Call("osmand.report_position", "POST", "/osmand", "nobody", prepare="tracked",
         role_limited=False, body={"id": "865432", "lat": "24.7", "lon": "107.5"},
         audited=("signals.create",), about_subject=True),
)
# fmt: on


def test_every_entry_says_what_it_writes_or_why_not():
    vague = [c.id for c in COVERAGE if bool(c.audited) == bool(c.why_not)]
    assert vague == [], "each entry names its audit actions or says why it writes none"


def test_every_route_of_the_app_is_in_the_table(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    table = {(c.endpoint, c.method) for c in COVERAGE}
    assert routes - table == set(), "add these routes to COVERAGE in tests/test_audit_coverage.py"
    assert table - routes == set(), "these COVERAGE entries name no route any more"


# --- the calls -------------------------------------------------------------------------------


@pytest.fixture
def scene(app, world):
    """Officer li (T01), a supervisor, a wall viewer; a subject of T01 with an open alert and a
    check-in; another office (T02) with its own subject and alert."""
    world.office(code="T02", name="第二司法所", lat=24.9, lon=107.8)
    world.officer("li", office_code="T01")
    world.officer("zhao", office_code="T02")
    world.officer("boss", role="supervisor")
    world.officer("wall", role="viewer")
    world.officer("target", office_code="T01")
    mine = world.subject(name="王小明")
    theirs = world.subject(name="欧阳建华", office_code="T02")
    with app.app_context():
        ids = {
            "alert": raise_for(mine["id"], "geofence_exit", {"m": 1}, clock.now()).id,
            "their_alert": raise_for(theirs["id"], "geofence_exit", {"m": 1}, clock.now()).id,
            "order": _order_for(mine["id"]),
            "their_order": _order_for(theirs["id"]),
        }
        db.session.commit()
        officers = {o.username: o for o in db.session.scalars(select(Officer))}
        officer_ids = {name: o.id for name, o in officers.items()}
        db.session.remove()
    return {
        "subject": mine["id"],
        "phone": mine["phone"],
        "their_subject": theirs["id"],
        **ids,
        "officers": officer_ids,
        "target": officer_ids["target"],
    }


def _order_for(subject_id: int) -> int:
    """A pending monitoring order of the subject, requested by the admin (inside a context)."""
    from corrections.monitoring.schemas import OrderIn
    from corrections.monitoring.services import request_order
    from corrections.subjects.models import Subject

    admin = db.session.scalar(select(Officer).where(Officer.username == "admin"))
    subject = db.session.get(Subject, subject_id)
    order = request_order(
        subject, OrderIn.from_plain(ORDER), admin, actor=Actor.system(), now=clock.now()
    )
    return order.id


def client_for(app, who: str, scene: dict):
    """A test client calling from ADDRESS as `who`; (client, headers, actor kind and id)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    headers: dict = {}
    actor = None
    if who in ("page", "boss", "wall-page", "admin-page"):
        username = {"page": "li", "boss": "boss", "wall-page": "wall", "admin-page": "admin"}[who]
        web_login(client, username, PASSWORD)
        actor = ("officer", scene["officers"][username])
    elif who in ("api", "admin-api", "wall-api", "boss-api"):
        username = {"api": "li", "admin-api": "admin", "wall-api": "wall", "boss-api": "boss"}[who]
        headers = bearer(client, username)
        actor = ("officer", scene["officers"][username])
    elif who == "phone":
        headers = phone_login(client, scene["phone"])
        actor = ("subject", scene["subject"])
    return client, headers, actor


def fill(value, scene: dict):
    """The call's path or body with the scene's ids put in."""
    if isinstance(value, str):
        return value.format(**scene) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, scene) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, scene) for v in value]
    return value


#: Pages that carry a CSRF token and write no audit row, for each kind of caller.
TOKEN_SOURCES = {"nobody": "/login", "wall-page": "/"}


def form_token(client, c: Call, who: str) -> str | None:
    """The CSRF token a browser would send with the call's form (fetched before the call, so
    the page it comes from does not count)."""
    if c.method == "GET" or c.path.startswith(("/api/", "/mobile/")):
        return None
    return csrf_token_of(client.get(TOKEN_SOURCES.get(who, "/subjects/new")))


def call(client, headers: dict, c: Call, scene: dict, token=None, *, path: str | None = None):
    """Make the call as a browser or an API client would."""
    path = path or fill(c.path, scene)
    body = fill(c.body, scene) if c.body is not None else None
    if c.method == "GET":
        return client.get(path, headers=headers)
    if path.startswith(("/api/", "/mobile/")):
        return client.open(path, method=c.method, json=body or {}, headers=headers)
    form = {**(body or {}), "csrf_token": token}
    return client.open(path, method=c.method, data=form, headers=headers)


def prepare(app, c: Call, scene: dict) -> None:
    if c.prepare == "tracked":
        from corrections.monitoring.models import MonitoringOrder
        from corrections.monitoring.services import approve
        from corrections.signals.devices import bind_device
        from corrections.subjects.models import Subject

        with app.app_context():
            boss = db.session.get(Officer, scene["officers"]["boss"])
            approve(db.session.get(MonitoringOrder, scene["order"]), boss, actor=Actor.system(),
                    now=clock.now())  # fmt: skip
            subject = db.session.get(Subject, scene["subject"])
            bind_device(subject, "865432", actor=Actor.system(), now=clock.now())
            db.session.commit()
    if c.prepare == "ack":
        with app.app_context():
            from corrections.alerts.models import Alert

            alert = db.session.get(Alert, scene["alert"])
            li = db.session.get(Officer, scene["officers"]["li"])
            acknowledge(alert, li, Actor.officer(li.id, None), clock.now())
            db.session.commit()


def last_entry_id(app) -> int:
    with app.app_context():
        value = db.session.scalar(select(func.max(AuditEntry.id))) or 0
        db.session.remove()
        return value


def entries_after(app, entry_id: int) -> list[tuple[AuditEntry, set[int]]]:
    """The audit entries written after `entry_id`, each with the subjects it names."""
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.id > entry_id).order_by(AuditEntry.id)
            )
        )
        found = []
        for row in rows:
            shown = set(
                db.session.scalars(
                    select(AuditSubject.subject_id).where(AuditSubject.entry_id == row.id)
                )
            )
            db.session.expunge(row)
            found.append((row, shown))
        db.session.remove()
        return found


@pytest.mark.parametrize("c", [c for c in COVERAGE if c.audited], ids=lambda c: c.id)
def test_the_call_writes_its_audit_rows_naming_who_when_where_and_whom(app, scene, c):
    client, headers, actor = client_for(app, c.who, scene)
    prepare(app, c, scene)
    token = form_token(client, c, c.who)
    before = last_entry_id(app)
    response = call(client, headers, c, scene, token)
    assert response.status_code == c.status, response.get_data(as_text=True)[:300]
    written = entries_after(app, before)
    actions = [entry.action for entry, _ in written]
    for action in c.audited:
        assert action in actions, f"{c.id}: wrote {actions}"
    for entry, shown in written:
        if entry.action not in c.audited:
            continue
        if c.status == 401:
            assert entry.actor_kind == "anonymous"  # a failed sign-in: nobody proved who
        elif actor is not None:
            assert (entry.actor_kind, entry.actor_id) == actor
        elif c.endpoint == "mobile_api.login":
            assert (entry.actor_kind, entry.actor_id) == ("subject", scene["subject"])
        elif c.endpoint in ("auth.login", "auth_api.issue_token"):
            assert (entry.actor_kind, entry.actor_id) == ("officer", scene["officers"]["li"])
        assert entry.ip == ADDRESS
        assert entry.at == clock.now()
        if c.about_subject:
            assert scene["subject"] in shown, f"{entry.action} does not name the subject"


@pytest.mark.parametrize("c", [c for c in COVERAGE if c.why_not], ids=lambda c: c.id)
def test_the_call_said_to_write_nothing_writes_nothing(app, scene, c):
    client, headers, _ = client_for(app, c.who, scene)
    token = form_token(client, c, c.who)
    before = last_entry_id(app)
    response = call(client, headers, c, scene, token)
    assert response.status_code == c.status
    assert [e.action for e, _ in entries_after(app, before)] == [], c.why_not


@pytest.mark.parametrize("c", COVERAGE, ids=lambda c: c.id)
def test_personal_data_is_never_cached(app, scene, c):
    client, headers, actor = client_for(app, c.who, scene)
    prepare(app, c, scene)
    response = call(client, headers, c, scene, form_token(client, c, c.who))
    # (Signing out answers someone no longer signed in, with nothing but a redirect.)
    signed_in = c.who in ("page", "boss") and c.endpoint not in ("static", "auth.logout")
    json_surface = c.path.startswith(("/api/", "/mobile/", "/healthz"))
    if signed_in or json_surface:
        assert response.headers.get("Cache-Control") == "no-store", c.id
    if c.endpoint == "static":
        assert "no-store" not in (response.headers.get("Cache-Control") or "")


# --- refusals, walked over the URL map ---------------------------------------------------------

#: How a route's record argument is filled with the other office's record.
OTHER_OFFICE = {
    "subject_id": "their_subject",
    "alert_id": "their_alert",
    "order_id": "their_order",
}


def record_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every route taking a record id."""
    return sorted(
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        if set(rule.arguments) & set(OTHER_OFFICE)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


#: Callers who see every office: no other office's record exists for them.
COUNTY_WIDE = ("boss", "boss-api")


def test_every_route_with_a_record_id_refuses_another_offices_record_and_audits_it(app, scene):
    by_route = {(c.endpoint, c.method): c for c in COVERAGE}
    problems = {}
    for endpoint, method, rule in record_routes(app):
        c = by_route[(endpoint, method)]
        if c.who in COUNTY_WIDE:
            continue  # every office is theirs: their scope is the role check (tested below)
        client, headers, _ = client_for(app, c.who, scene)
        path = rule
        for argument, key in OTHER_OFFICE.items():
            path = path.replace(f"<int:{argument}>", str(scene[key]))
        token = form_token(client, c, c.who)
        before = last_entry_id(app)
        response = call(client, headers, c, scene, token, path=path)
        written = entries_after(app, before)
        refusals = [(e, shown) for e, shown in written if e.action == "access.refused"]
        others = [e.action for e, _ in written if e.action != "access.refused"]
        if response.status_code != 404 or len(refusals) != 1 or others:
            problems[f"{method} {rule}"] = (response.status_code, [e.action for e, _ in written])
            continue
        entry, shown = refusals[0]
        if scene["their_subject"] not in shown or entry.ip != ADDRESS:
            problems[f"{method} {rule}"] = ("the refusal does not name whose record", shown)
    assert len(record_routes(app)) >= 10
    assert problems == {}


def test_every_role_limited_route_refuses_the_wall_viewer_and_audits_it(app, scene):
    problems = {}
    for c in COVERAGE:
        if not c.role_limited:
            continue
        who = "wall-page" if c.who in ("page", "boss", "admin-page") else "wall-api"
        client, headers, _ = client_for(app, who, scene)
        token = form_token(client, c, who)
        before = last_entry_id(app)
        response = call(client, headers, c, scene, token)
        actions = [e.action for e, _ in entries_after(app, before)]
        if response.status_code != 403 or actions != ["access.refused"]:
            problems[c.id] = (response.status_code, actions)
    assert problems == {}
