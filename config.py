"""Configuration classes, driven by the environment."""

import json
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _persistent_dev_secret() -> str:
    """A development secret kept in instance/ so sessions survive restarts."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(value: str) -> str:
    """Name the psycopg (3) driver when a PostgreSQL URL names none: plain postgresql:// and
    postgres:// would otherwise ask SQLAlchemy for psycopg2, which is not installed."""
    for prefix in ("postgresql://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    """Settings shared by every environment; each may be overridden from the environment."""

    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'corrections.sqlite3'}")
    )
    #: hide_parameters: a failed statement's error (and so any log of it) shows the SQL but
    #: never its values (names, phone numbers, resident IDs, PIN hashes).
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
    #: A pooled connection idle longer than this is checked before use (corrections/pool.py);
    #: one in steady use is not (no pool_pre_ping: a round trip per request).
    DATABASE_PING_AFTER_IDLE_SECONDS = float(os.environ.get("DATABASE_PING_AFTER_IDLE_SECONDS", 10))
    SECRET_KEY = os.environ.get("SECRET_KEY")
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("zh_CN", "en")

    # A JSON body over 1 MB is refused with 413.
    MAX_CONTENT_LENGTH = 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    #: A web session ends after this long without a request...
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 60)
    #: ...and this long after its login, whatever happens (the server decides, not the cookie).
    SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
    # The signed cookie itself is refused past the same age.
    PERMANENT_SESSION_LIFETIME = SESSION_MAX_HOURS * 3600
    #: A form's CSRF token expires after this many minutes (a new one comes with every page,
    #: and a login starts a new one).
    WTF_CSRF_TIME_LIMIT = _int("CSRF_TOKEN_MINUTES", 120) * 60

    API_TOKEN_HOURS = _int("API_TOKEN_HOURS", 12)
    MOBILE_TOKEN_DAYS = _int("MOBILE_TOKEN_DAYS", 30)
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 10)
    LOGIN_FAILURE_WINDOW_MINUTES = _int("LOGIN_FAILURE_WINDOW_MINUTES", 15)
    #: Failed logins from one client address (any account or phone) in the same window; only
    #: failures count, so many phones behind one carrier address still log in.
    CLIENT_LOGIN_MAX_FAILURES = _int("CLIENT_LOGIN_MAX_FAILURES", 50)
    #: Check-ins one subject may send per minute (a phone sends a few; a flood, thousands).
    CHECKIN_MAX_PER_MINUTE = _int("CHECKIN_MAX_PER_MINUTE", 120)
    #: Where the rate limits keep their counts: Redis when set (redis://host:6379/0, needs the
    #: `redis` extra), else this database. Never process memory.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    PASSWORD_MIN_LENGTH = _int("PASSWORD_MIN_LENGTH", 10)
    #: werkzeug hash method for passwords and PINs.
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")

    # recorded_at may run ahead of the server clock by this much (phone clocks drift)...
    CHECKIN_MAX_FUTURE_SECONDS = _int("CHECKIN_MAX_FUTURE_SECONDS", 300)
    # ...and may lag behind by this much (a phone offline for a few days uploads later).
    CHECKIN_MAX_AGE_HOURS = _int("CHECKIN_MAX_AGE_HOURS", 7 * 24)

    IMPOSSIBLE_TRAVEL_KMH = float(os.environ.get("IMPOSSIBLE_TRAVEL_KMH", 300))
    #: A claimed accuracy above this (metres) counts as this in the zone and travel rules: a
    #: phone cannot switch the geofence off by claiming a huge circle. 2 km is coarser than any
    #: fix a phone reports from satellites, Wi-Fi or a cell tower in a town.
    ACCURACY_CEILING_M = float(os.environ.get("ACCURACY_CEILING_M", 2000))
    #: A window is judged this long after it ends, so a check-in sent at the last minute over a
    #: slow network is in before the sweep looks.
    CHECKIN_GRACE_MINUTES = _int("CHECKIN_GRACE_MINUTES", 15)
    #: Background signals: a geofence exit is confirmed by this many consecutive fixes wholly
    #: outside every allowed zone (one bad fix is not an escape)...
    GEOFENCE_CONFIRM_FIXES = _int("GEOFENCE_CONFIRM_FIXES", 3)
    #: ...and, once confirmed, clears after this many consecutive fixes back inside, so a
    #: subject walking along the boundary does not open and clear it over and over.
    GEOFENCE_CLEAR_FIXES = _int("GEOFENCE_CLEAR_FIXES", 3)
    #: This many consecutive fixes at exactly the same coordinates over at least this many
    #: minutes is a spoofing sign: a real receiver's fixes differ in the last decimals even
    #: when the phone lies still.
    REPEATED_FIX_COUNT = _int("REPEATED_FIX_COUNT", 20)
    REPEATED_FIX_MINUTES = _int("REPEATED_FIX_MINUTES", 30)
    #: Curfew (the plan's hours at home): a fix is away from home when its whole accuracy circle
    #: lies farther than this many metres from the home: a house, its yard and the lane outside.
    #: One distance for every level (home is a place, not a degree of trust).
    CURFEW_HOME_RADIUS_M = float(os.environ.get("CURFEW_HOME_RADIUS_M", 200))
    #: From background signals, a curfew breach is confirmed by this many consecutive fixes
    #: away from home inside the curfew hours (per level: SIGNAL_THRESHOLDS); one a night.
    CURFEW_CONFIRM_FIXES = _int("CURFEW_CONFIRM_FIXES", 3)
    #: Per supervision level, thresholds set apart from the defaults above, as JSON:
    #: {"strict": {"signal_lost_hours": 2}} (names: exit_confirm_fixes, exit_clear_fixes,
    #: signal_lost_hours, impossible_travel_kmh, repeat_fixes, repeat_minutes,
    #: curfew_confirm_fixes).
    SIGNAL_THRESHOLDS = json.loads(os.environ.get("SIGNAL_THRESHOLDS") or "{}")
    #: Enrolment warns (the officer confirms) when a zone lies farther than this from the
    #: office, or a home this far off would be near the office with latitude and longitude
    #: swapped: a township's area is a few kilometres across, a county a few tens.
    ENROL_OFFICE_RADIUS_KM = float(os.environ.get("ENROL_OFFICE_RADIUS_KM", 30))
    #: signal_lost when no position has been recorded for this many hours while a monitoring
    #: order is in force (per level: SIGNAL_THRESHOLDS).
    SIGNAL_LOST_HOURS = _int("SIGNAL_LOST_HOURS", 6)
    #: Signals older than this many days are deleted (whole partitions on PostgreSQL; the
    #: deletion is logged). Tracking data serves corrections only and is not kept for ever.
    SIGNAL_RETENTION_DAYS = _int("SIGNAL_RETENTION_DAYS", 180)
    #: On PostgreSQL the storage job keeps a daily partition of signals made this many days
    #: ahead (a point of a day without one waits in the default partition; docs/storage.md).
    SIGNAL_PARTITIONS_AHEAD_DAYS = _int("SIGNAL_PARTITIONS_AHEAD_DAYS", 7)
    #: An approved monitoring order raises `monitoring_order_expiring` this many days before
    #: its last day, so the office renews it in time (a new approval) or lets it end.
    MONITORING_EXPIRY_WARNING_DAYS = _int("MONITORING_EXPIRY_WARNING_DAYS", 7)
    #: An intranet map tile service, as a Leaflet URL template ({z}/{x}/{y}, {s} for the
    #: subdomains); empty draws maps on a plain background with office and zone names
    #: (docs/maps.md: 天地图, a local tile server). MAP_LABEL_TILE_URL is an optional second
    #: layer of labels drawn over the first (天地图 serves its place names apart).
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
    MAP_LABEL_TILE_URL = os.environ.get("MAP_LABEL_TILE_URL", "")
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
    MAP_TILE_SUBDOMAINS = os.environ.get("MAP_TILE_SUBDOMAINS", "abc")
    MAP_TILE_MAX_ZOOM = _int("MAP_TILE_MAX_ZOOM", 18)
    SWEEP_INTERVAL_SECONDS = _int("SWEEP_INTERVAL_SECONDS", 60)
    #: How many subjects' windows one transaction of the sweep judges.
    SWEEP_BATCH_SIZE = _int("SWEEP_BATCH_SIZE", 50_000)
    #: Officers are warned when the last successful sweep is older than this.
    SWEEP_STALE_AFTER_SECONDS = _int("SWEEP_STALE_AFTER_SECONDS", 300)
    #: How often the open queue page asks for new alerts (static/queue.js), and when it warns
    #: that what it shows may be out of date (no successful refresh for that long).
    QUEUE_REFRESH_SECONDS = _int("QUEUE_REFRESH_SECONDS", 30)
    QUEUE_STALE_AFTER_SECONDS = _int("QUEUE_STALE_AFTER_SECONDS", 120)
    #: After this many sweeps in a row fail, the scheduler process exits non-zero (so systemd
    #: restarts it and the operator's monitoring sees it).
    SCHEDULER_MAX_FAILURES = _int("SCHEDULER_MAX_FAILURES", 5)
    #: How often the scheduler records that it is alive, and when /healthz calls it silent.
    SCHEDULER_HEARTBEAT_SECONDS = _int("SCHEDULER_HEARTBEAT_SECONDS", 30)
    SCHEDULER_STALE_AFTER_SECONDS = _int("SCHEDULER_STALE_AFTER_SECONDS", 120)
    #: Records of job runs are kept this many days.
    JOB_RUN_RETENTION_DAYS = _int("JOB_RUN_RETENTION_DAYS", 30)

    #: How many reverse proxies stand in front (X-Forwarded-For/-Proto/-Host are trusted from
    #: that many hops). 0: none trusted, so a client cannot forge its address in the audit log.
    PROXY_COUNT = _int("PROXY_COUNT", 0)

    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN")
    TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")


class DevelopmentConfig(Config):
    """Local development: embedded SQLite, a secret kept under instance/."""

    APP_ENV = "development"
    SECRET_KEY = Config.SECRET_KEY or _persistent_dev_secret()


class TestingConfig(Config):
    """The test suite: TEST_DATABASE_URL selects PostgreSQL, else a throwaway SQLite file."""

    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    WTF_CSRF_ENABLED = True
    # The hashing cost is not what the tests test (cf. cookiecutter-flask's BCRYPT_LOG_ROUNDS = 4).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    """Production: PostgreSQL via DATABASE_URL; SECRET_KEY must come from the environment."""

    APP_ENV = "production"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The config class named by APP_ENV (default: development)."""
    return CONFIGS[os.environ.get("APP_ENV", "development")]
