"""The application factory: flat register_* calls, nothing clever."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import INSTANCE_DIR, Config, config_from_env
from corrections import pool, sqlite
from corrections.extensions import babel, csrf, db, login_manager, migrate


def create_app(config: type[Config] | None = None) -> Flask:
    """Build the web application. It never starts scheduler jobs (see `flask scheduler run`)."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.json = Utf8JSONProvider(app)
    app.config.from_object(config or config_from_env())
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in the environment outside development")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    register_proxy(app)
    register_features()
    register_extensions(app)
    register_url_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_input_rules(app)
    register_security_headers(app)
    register_commands(app)
    register_template_helpers(app)
    return app


#: The languages there are, by the codes a browser's Accept-Language names them with.
LANGUAGES = {"zh": "zh_CN", "en": "en"}


def select_locale() -> str:
    """The person's choice (the `lang` cookie set from the page footer) first; without one, the
    first of our languages their browser or client asks for (Accept-Language); Chinese else."""
    if not request:
        return "zh_CN"
    choice = request.cookies.get("lang")
    if choice in LANGUAGES.values():
        return choice
    for tag, _quality in request.accept_languages:
        language = LANGUAGES.get(tag.replace("_", "-").split("-")[0].lower())
        if language:
            return language
    return "zh_CN"


class Utf8JSONProvider(DefaultJSONProvider):
    """JSON as UTF-8 text: Chinese is sent as written (no \\u escapes), and says its charset."""

    ensure_ascii = False
    mimetype = "application/json; charset=utf-8"


def register_proxy(app: Flask) -> None:
    """Behind PROXY_COUNT reverse proxies, take the client's address and scheme from them."""
    hops = app.config["PROXY_COUNT"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_features() -> None:
    """Hand every feature's alert kinds and concerns to the queue (corrections.features)."""
    from corrections import features

    features.install()


def register_extensions(app: Flask) -> None:
    """Bind db, migrations, login, CSRF and translations."""
    db.init_app(app)
    with app.app_context():
        sqlite.configure(db.engine)
        pool.configure(db.engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )

    from corrections.auth import limiter
    from corrections.auth.access import load_session_officer

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.user_loader(load_session_officer)
    limiter.init_app(app)


class RecordIdConverter(IntegerConverter):
    """`<int:...>` limited to what an integer key column holds: a larger number is no record
    (404), where it would otherwise overflow the database driver (a 500 on SQLite). Only the
    digits 0-9 (werkzeug's own pattern also takes other scripts' digits: /subjects/٣ was subject 3),
    and at most ten of them, so no huge number is ever converted."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_url_converters(app: Flask) -> None:
    """Converters every blueprint's routes use; set before any route is added."""
    app.url_map.converters["int"] = RecordIdConverter


def register_blueprints(app: Flask) -> None:
    """Every surface: pages, /api/v1, /mobile/v1. The one place that imports mobile_api."""
    from corrections import health
    from corrections.admin import api as admin_api
    from corrections.admin import views as admin_views
    from corrections.alerts import api as alerts_api
    from corrections.alerts import views as alerts_views
    from corrections.auditlog import views as auditlog_views
    from corrections.auth import api as auth_api
    from corrections.auth import views as auth_views
    from corrections.casefile import api as casefile_api
    from corrections.casefile import views as casefile_views
    from corrections.monitoring import api as monitoring_api
    from corrections.monitoring import views as monitoring_views
    from corrections.signals import devices as signal_devices
    from corrections.signals import inbound as signal_inbound
    from mobile_api import bp as mobile_bp

    for module in (auth_api, admin_api, casefile_api, alerts_api, monitoring_api, signal_devices):
        csrf.exempt(module.bp)  # token clients; session calls are checked in api_officer()
        app.register_blueprint(module.bp)
    csrf.exempt(mobile_bp)
    app.register_blueprint(mobile_bp)
    csrf.exempt(signal_inbound.bp)  # tracking apps: no session, no form token
    app.register_blueprint(signal_inbound.bp)
    app.register_blueprint(health.bp)
    page_modules = (auth_views, casefile_views, monitoring_views, alerts_views, admin_views)
    for module in (*page_modules, auditlog_views):
        app.register_blueprint(module.bp)


def register_input_rules(app: Flask) -> None:
    """Every query argument goes through the text rule before any view sees it."""
    from corrections.validation import check_query_text

    app.before_request(check_query_text)


def register_errorhandlers(app: Flask) -> None:
    """The CONTRACT error shape on JSON paths, pages elsewhere; refusals to the audit log."""
    from corrections.auth.refusals import audit_refusals
    from corrections.errors import register_errorhandlers as register

    register(app)
    audit_refusals(app)


#: No inline script anywhere; pages may not be framed by other sites. Images may also come from
#: the configured map tile service (MAP_TILE_URL), and from nowhere else.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def register_security_headers(app: Flask) -> None:
    """CSP, nosniff and friends on every response; no-store wherever personal data may be."""

    from corrections.maps import tile_hosts

    policy = CONTENT_SECURITY_POLICY.format(tiles="".join(f" {h}" for h in tile_hosts(app.config)))

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Without a chosen language, the words follow the browser's (select_locale).
            response.vary.add("Accept-Language")
        if request.path.startswith("/mobile/"):
            # Phones: bearer tokens only, never an officer's session (not even looked up).
            response.headers.setdefault("Cache-Control", "no-store")
        elif _shows_an_officer_anything():
            # Office computers are shared: the next person must not find a subject's page in
            # the browser's cache or history, nor a proxy keep one.
            response.headers["Cache-Control"] = "no-store"
        elif request.path.startswith(("/api/", "/healthz")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _shows_an_officer_anything() -> bool:
    # The simplest honest rule: everything a signed-in officer gets, but the static files.
    if request.endpoint == "static":
        return False
    return bool(current_user) and current_user.is_authenticated


def register_commands(app: Flask) -> None:
    """`flask officers|alerts|scheduler|demo|signals ...`."""
    from corrections.auth.cli import officers_cli
    from corrections.demo.cli import demo_cli
    from corrections.scheduler import scheduler_cli
    from corrections.signals.cli import signals_cli
    from corrections.sweep import alerts_cli

    for group in (officers_cli, alerts_cli, scheduler_cli, demo_cli, signals_cli):
        app.cli.add_command(group)


def register_template_helpers(app: Flask) -> None:
    """Values every template may use."""
    from corrections import clock, phones
    from corrections.i18n import how_often, unbroken_units

    app.add_template_filter(phones.phone_text, "phone_text")
    app.add_template_filter(phones.tel_href, "tel_href")
    app.add_template_filter(how_often, "how_often")
    app.add_template_filter(unbroken_units, "unbroken_units")

    @app.context_processor
    def inject():
        return {"current_locale": str(get_locale()), "clock": clock}
