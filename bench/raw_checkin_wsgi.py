"""Experiment (not the product): the check-in's own two PostgreSQL statements sent by raw
psycopg in pipeline mode, without SQLAlchemy, the app's hooks or its error handling; the same
rules judge the report. It answers one question for docs/performance.md: how much of a check-in's
cost is this application's Python, and how much the database work itself.

    bench/raw_checkin_bench.py drives it; RAW_DSN names the database (libpq form).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from psycopg.rows import namedtuple_row  # noqa: E402
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect  # noqa: E402

from config import ProductionConfig  # noqa: E402
from corrections import clock, create_app  # noqa: E402
from corrections.actors import Actor  # noqa: E402

_real = create_app(ProductionConfig)
with _real.app_context():
    from corrections.auth import limiter
    from corrections.checkin import services, store
    from corrections.checkin.settings import current
    from mobile_api.api import checkin_limit
    from mobile_api.schemas import CheckinIn

    _dialect = psycopg_dialect.dialect()
    _read = store._pg_context(True, True).compile(dialect=_dialect)
    _write = store._pg_write(True).compile(dialect=_dialect)
    SETTINGS = current()
    FOLDED = limiter.Folded(checkin_limit(), services.SUBJECT_KEY)
    LOCK = FOLDED.lock_params()
    ZONE = clock.local_zone()
READ_SQL, WRITE_SQL = str(_read), str(_write)
READ_FIXED = {k: v for k, v in _read.params.items() if v is not None}
WRITE_FIXED = {k: v for k, v in _write.params.items() if v is not None}

app = Flask(__name__)
app.config["TIMEZONE"] = _real.config["TIMEZONE"]  # the rules read the zone from the app
_connection = None


@app.post("/mobile/v1/checkins")
def checkin():
    global _connection
    if _connection is None:
        _connection = psycopg.connect(os.environ["RAW_DSN"], row_factory=namedtuple_row)
    conn = _connection
    data = CheckinIn.model_validate_json(request.get_data())
    now = dt.datetime.now(dt.UTC)
    report = services.LocationReport(**data.model_dump())
    digest = hashlib.sha256(request.headers["Authorization"][7:].encode()).hexdigest()
    read = {
        **READ_FIXED,
        **LOCK,
        "digest": digest,
        "now": now,
        "judgement": store.JUDGEMENT_LOCK_ID,
        "day": report.recorded_at.astimezone(ZONE).date(),
        "before": report.recorded_at,
    }
    with conn.pipeline():  # BEGIN and the read in one round trip
        row = conn.execute(READ_SQL, read, prepare=True).fetchone()
    subject = SimpleNamespace(id=row[2], office_id=row[3], home_lat=row[7], home_lon=row[8])
    findings = services.judge(subject, report, SETTINGS, store._context_of(row))
    values = services.stored_values(subject.id, report, findings, "location", row[1], now)
    actor = Actor.subject(subject.id, request.remote_addr)
    audit = {"action": "checkin.create", "actor": actor, "at": now}
    params = store.pg_write_params(values, audit, FOLDED.params(subject.id))
    write = {**WRITE_FIXED, **params}
    with conn.pipeline():  # the write and COMMIT in one round trip
        written = conn.execute(WRITE_SQL, write, prepare=True).fetchone()
        conn.commit()
    return jsonify(id=written[1], status=values["status"], flags=values["flags"], window=None), 201
